// Reading a secret from the terminal without echo (`--user` without `--password` on a TTY).

const encoder = new TextEncoder();

/** Prompts on stderr and reads one line from a TTY stdin with echo off; Ctrl-C aborts. */
export async function promptSecret(label: string): Promise<string> {
  Deno.stdin.setRaw(true); // echo off before the label shows: nothing typed early is echoed
  await Deno.stderr.write(encoder.encode(label));
  const chars: string[] = [];
  const buf = new Uint8Array(64);
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const n = await Deno.stdin.read(buf);
      if (n === null) break;
      for (const ch of decoder.decode(buf.subarray(0, n), { stream: true })) {
        if (ch === "\r" || ch === "\n") return chars.join("");
        if (ch === "\u0003") {
          // Ctrl-C at the prompt ends the command, as it would in any shell.
          Deno.stdin.setRaw(false);
          await Deno.stderr.write(encoder.encode("^C\n"));
          Deno.exit(130);
        }
        if (ch === "\u0004" && chars.length === 0) return "";
        if (ch === "\u007f" || ch === "\b") chars.pop();
        else chars.push(ch);
      }
    }
    return chars.join("");
  } finally {
    Deno.stdin.setRaw(false);
    await Deno.stderr.write(encoder.encode("\n"));
  }
}
