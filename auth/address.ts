// Which address a request comes from, and whether it is loopback. `X-Forwarded-For` is believed
// only when the TCP peer is a configured trusted proxy; then the client is the rightmost entry
// that is not itself a trusted proxy (entries further left are client-supplied and forgeable).

const LOOPBACK_CACHE = new Map<string, boolean>();

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback (::ffff:127.x.x.x). */
export function isLoopback(ip: string): boolean {
  let hit = LOOPBACK_CACHE.get(ip);
  if (hit === undefined) {
    if (LOOPBACK_CACHE.size >= 4096) LOOPBACK_CACHE.clear();
    LOOPBACK_CACHE.set(ip, hit = checkLoopback(ip));
  }
  return hit;
}

function checkLoopback(ip: string): boolean {
  const a = ip.toLowerCase().replace(/^\[|\]$/g, "");
  if (a === "::1" || a === "0:0:0:0:0:0:0:1") return true;
  const v4 = a.startsWith("::ffff:") ? a.slice(7) : a;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/**
 * The client's address as far as it can be trusted.
 *
 * @example
 * clientAddress("10.0.0.1", "203.0.113.9", ["10.0.0.1"]); // "203.0.113.9"
 * clientAddress("198.51.100.7", "127.0.0.1", ["10.0.0.1"]); // "198.51.100.7" (peer not trusted)
 */
export function clientAddress(
  peer: string,
  forwardedFor: string | null,
  trustedProxies: readonly string[],
): string {
  if (!forwardedFor || !trustedProxies.includes(peer)) return peer;
  const hops = forwardedFor.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (let i = hops.length - 1; i >= 0; i--) {
    if (!trustedProxies.includes(hops[i])) return hops[i];
  }
  return hops[0] ?? peer;
}
