// The export benchmark's floor (export.ts): a bare Deno process that does the least an export
// of `rows` rows must — build each row group's rows (16,384 at a time), encode them as JSONL in
// chunks of 1,024 and throw them away, keeping nothing — while the bench samples its RSS like
// the server's. What it grows by is what the runtime's default heap sizing takes for that
// allocation rate, not anything retained. It starts on a line on stdin (after the bench took
// its baseline) and prints `done <bytes>` at the end.

const GROUP = 16_384;
const CHUNK = 1024;

async function run(rows: number): Promise<number> {
  const enc = new TextEncoder();
  let bytes = 0;
  for (let g = 0; g * GROUP < rows; g++) {
    const group: unknown[][] = [];
    for (let id = g * GROUP; id < Math.min(rows, (g + 1) * GROUP); id++) {
      group.push([
        BigInt(id),
        `title ${id}`,
        id / 3,
        1767225600000000000n,
        id % 2 === 0,
        BigInt(id) << 22n,
        false,
      ]);
    }
    for (let a = 0; a < group.length; a += CHUNK) {
      let text = "";
      for (const r of group.slice(a, a + CHUNK)) {
        text += JSON.stringify({
          id: String(r[0]),
          title: r[1],
          score: r[2],
          at: String(r[3]),
          done: r[4],
          _seq: String(r[5]),
          _deleted: r[6],
        }) + "\n";
      }
      bytes += enc.encode(text).length;
      await new Promise((resolve) => setTimeout(resolve, 0)); // as a streamed writer yields
    }
  }
  return bytes;
}

if (import.meta.main) {
  const rows = Number(Deno.args[0] ?? "1000000");
  console.log("ready");
  const reader = Deno.stdin.readable.getReader();
  await reader.read(); // go
  console.log(`done ${await run(rows)}`);
}
