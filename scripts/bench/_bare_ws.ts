// The live benchmark's floor: a bare `Deno.serve` WebSocket broadcaster. `GET /ws` upgrades; a
// socket that sends any text message is answered `{"type":"ready"}` once the server holds it (so
// the client knows it will get every broadcast after that). `POST /publish` takes a body (the
// writer's JSON row) and sends it unchanged as one text frame to every open socket, then answers
// 200. No auth, no SQL, no storage, no per-subscriber encoding: the ceiling of fan-out in Deno.
//
//   deno run -A scripts/bench/_bare_ws.ts [port|0]
//
// Prints `listening on http://127.0.0.1:<port>` once ready; stops on SIGTERM/SIGINT.

const port = Number(Deno.args[0] ?? "0");
const sockets = new Set<WebSocket>();
let published = 0;

function handle(req: Request): Response | Promise<Response> {
  const url = new URL(req.url);
  if (url.pathname === "/ws") {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("WebSocket only", { status: 426 });
    }
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onopen = () => sockets.add(socket);
    socket.onmessage = () => socket.send('{"type":"ready"}');
    socket.onclose = () => sockets.delete(socket);
    socket.onerror = () => sockets.delete(socket);
    return response;
  }
  if (url.pathname === "/publish" && req.method === "POST") {
    return req.text().then((body) => {
      for (const s of sockets) {
        if (s.readyState === WebSocket.OPEN) s.send(body);
      }
      published++;
      return new Response("ok");
    });
  }
  if (url.pathname === "/stats") {
    return Response.json({ sockets: sockets.size, published });
  }
  return new Response("not found", { status: 404 });
}

const server = Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen: (addr) => console.log(`bare ws listening on http://127.0.0.1:${addr.port}`),
}, handle);

const { promise: stop, resolve } = Promise.withResolvers<void>();
for (const signal of ["SIGTERM", "SIGINT"] as const) Deno.addSignalListener(signal, resolve);
await stop;
for (const s of sockets) {
  try {
    s.close(1001, "shutting down");
  } catch { /* closed */ }
}
await server.shutdown();
