// The one logger: what the server cannot answer a client with (an internal error, a failed
// background flush, a listener that threw) goes to stderr as one line with its time and where it
// came from, then the error with its stack. Clients never see these; operators read them.

/** Logs an unexpected error raised in `where` (a short name of the code path). */
export function logError(where: string, err: unknown): void {
  console.error(`${new Date().toISOString()} error in ${where}:`, err);
}

/** Logs something an operator should know that is not an error of the code (data dropped by policy). */
export function logWarn(message: string): void {
  console.error(`${new Date().toISOString()} warning: ${message}`);
}
