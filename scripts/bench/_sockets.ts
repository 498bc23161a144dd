// Memory per live-query socket (issue 5): opens N authenticated WebSockets to a running server,
// each with one subscription, and reports the server's RSS growth per connection and the time
// to subscribe them all. Loopback only; every socket is closed at the end.
//
//   deno run -A scripts/bench/_sockets.ts <server url> <server pid> <count>

const [url, pidText, countText] = Deno.args;
const pid = Number(pidText), count = Number(countText);
if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error("loopback server URL only");

function rssKb(): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
}

const before = rssKb();
const t0 = performance.now();
const sockets: WebSocket[] = [];
const BATCH = 500;
for (let i = 0; i < count; i += BATCH) {
  await Promise.all(
    Array.from(
      { length: Math.min(BATCH, count - i) },
      () =>
        new Promise<void>((resolve, reject) => {
          const ws = new WebSocket(url.replace("http", "ws") + "/v1/ws");
          sockets.push(ws);
          ws.onopen = () => {
            ws.send(JSON.stringify({ type: "authenticate" }));
            ws.send(JSON.stringify({ type: "subscribe", id: "s", sql: "SELECT id FROM bench.ev" }));
          };
          ws.onmessage = (e) => {
            if (String(e.data).includes("subscription_ack")) resolve();
            else if (String(e.data).includes('"error"')) reject(new Error(String(e.data)));
          };
          ws.onerror = () => reject(new Error("socket failed"));
        }),
    ),
  );
}
const seconds = (performance.now() - t0) / 1000;
const after = rssKb();
console.log(JSON.stringify({
  sockets: count,
  subscribe_s: Math.round(seconds * 100) / 100,
  rss_before_mb: Math.round(before / 1024),
  rss_after_mb: Math.round(after / 1024),
  kb_per_connection: Math.round((after - before) / count * 10) / 10,
}));
for (const ws of sockets) ws.close();
