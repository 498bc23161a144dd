// NATS JetStream as a topics-benchmark queue (see _topics_queues.ts for the interface): a stream
// `<name>` on subjects `<name>.<key>` with file storage, a durable pull consumer per group with
// explicit acks (ack wait 30 s, like the KalamDB-TS topic's visibility timeout) shared by the
// group's consumers; publishing awaits the PubAck. Each consumer uses `consume()` (pull
// batches of 100, re-pulled as they drain) on its own connection and acks each message with
// `ack()` (no reply awaited; the run's end checks the server's ack floor instead).
//
// Only _topics_client.ts loads this file, and only for `--system=nats`, so that the npm package
// is fetched only when NATS runs (the client runs with --no-lock: deno.lock stays as it is).

import { AckPolicy, connect, type ConsumerMessages, type NatsConnection, StorageType } from "nats";
import { body, type Queue } from "./_topics_queues.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

export async function natsQueue(port: number, name: string): Promise<Queue> {
  const conns: NatsConnection[] = [];
  const open = async () => {
    const nc = await connect({ servers: `127.0.0.1:${port}`, maxReconnectAttempts: 0 });
    conns.push(nc);
    return nc;
  };
  const admin = await open();
  const jsm = await admin.jetstreamManager();
  await jsm.streams.add({ name, subjects: [`${name}.>`], storage: StorageType.File });
  const iters: ConsumerMessages[] = [];
  return {
    async group(group) {
      await jsm.consumers.add(name, {
        durable_name: group,
        ack_policy: AckPolicy.Explicit,
        ack_wait: 30_000_000_000, // ns
        max_ack_pending: 20_000,
      });
    },
    async publisher() {
      const js = (await open()).jetstream();
      return async (i, key) => {
        await js.publish(`${name}.${key ?? "none"}`, enc.encode(body(i)));
      };
    },
    async consume(group, _consumer, h, waitMs) {
      const js = (await open()).jetstream();
      const c = await js.consumers.get(name, group);
      const msgs = await c.consume({ max_messages: 100, expires: Math.max(1000, waitMs) });
      iters.push(msgs);
      if (h.stopped()) msgs.stop();
      for await (const m of msgs) {
        const at = performance.timeOrigin + performance.now();
        const p = JSON.parse(dec.decode(m.data));
        h.got([p], at);
        m.ack();
        h.acked([p]);
        if (h.stopped()) break;
      }
    },
    interrupt() {
      for (const it of iters.splice(0)) it.stop();
    },
    async unacked(group) {
      const info = await jsm.consumers.info(name, group);
      return info.num_ack_pending + info.num_pending;
    },
    async close() {
      await jsm.streams.delete(name).catch(() => {});
      for (const nc of conns) await nc.close().catch(() => {});
    },
  };
}
