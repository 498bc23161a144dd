// Id generators behind UUID_V7() and ULID(): time-ordered ids from the statement's clock plus
// crypto randomness, so ids sort by creation time.

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** RFC 9562 UUID version 7: 48-bit Unix ms, version, 74 random bits. */
export function uuidV7(nowMs: number): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  let ms = nowMs;
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  b[6] = 0x70 | (b[6] & 0x0f);
  b[8] = 0x80 | (b[8] & 0x3f);
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** ULID: 10 chars of ms timestamp + 16 chars of randomness, Crockford base32. */
export function ulid(nowMs: number): string {
  let time = "";
  let ms = nowMs;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[ms % 32] + time;
    ms = Math.floor(ms / 32);
  }
  const r = crypto.getRandomValues(new Uint8Array(16));
  let rand = "";
  for (let i = 0; i < 16; i++) rand += CROCKFORD[r[i] & 31];
  return time + rand;
}
