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

/**
 * The network a client address stands for when counting failures: an IPv6 address's /64 (one
 * host usually holds a whole /64, so its 2^64 addresses are one client), an IPv4 address (also
 * IPv4-mapped IPv6) as itself. Anything that does not parse is kept as it is.
 *
 * @example
 * networkKey("2001:db8:1:2:aaaa::1"); // "2001:db8:1:2::/64"
 * networkKey("::ffff:203.0.113.9");   // "203.0.113.9"
 */
export function networkKey(address: string): string {
  if (!address.includes(":")) return address; // IPv4 (the hot path: no string work)
  const a = address.toLowerCase().replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  if (!a.includes(":")) return a;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(a);
  if (mapped) return mapped[1];
  const halves = a.split("::");
  if (halves.length > 2) return a;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const fill = 8 - head.length - tail.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return a;
  const groups = [...head, ...Array(fill).fill("0"), ...tail];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return a;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}
