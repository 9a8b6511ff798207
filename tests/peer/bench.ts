// Micro-benchmark of the peer transport on loopback (not a test):
//   deno run -A tests/peer/bench.ts
// 1. round trip: one message each way between two members, one at a time (p50/p99);
// 2. replication round: a leader sends MsgApp to two followers which answer MsgAppResp at once,
//    with 1 and 32 rounds in flight (the write path minus fsync);
// 3. throughput: one member streams small MsgApp (one 100-byte entry) to another, windowed so
//    that nothing is dropped.
// A raw TCP echo gives the floor that Deno's sockets set on the same machine.
import net from "node:net";
import { type Message, MessageType } from "../../src/raft/mod.ts";
import { message, startMember, type TestMember } from "../helpers/peer.ts";

const cluster = { clusterId: 0x1234n, urls: new Map<bigint, string>(), removed: new Set<bigint>() };
const handlers = new Map<bigint, (m: Message) => void>();
const start = (id: bigint, host: string) =>
  startMember(cluster, id, host, {
    transport: { onMessage: (m) => handlers.get(id)?.(m) },
  });

function pct(xs: number[], p: number): string {
  const s = [...xs].sort((a, b) => a - b);
  return (s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] * 1000).toFixed(0);
}

async function rawEcho(n: number): Promise<number[]> {
  const server = net.createServer((s) => s.on("data", (d: Uint8Array) => s.write(d)));
  await new Promise<void>((r) => server.listen(0, "127.0.50.40", () => r()));
  const c = net.connect((server.address() as net.AddressInfo).port, "127.0.50.40");
  c.setNoDelay(true);
  await new Promise((r) => c.once("connect", r));
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await new Promise<void>((r) => {
      c.once("data", () => r());
      c.write(new Uint8Array(64));
    });
    times.push(performance.now() - t);
  }
  c.destroy();
  server.close();
  return times;
}

async function roundTrip(a: TestMember, b: TestMember, n: number): Promise<number[]> {
  handlers.set(
    b.id,
    (m) => b.transport.send([message(b.id, a.id, m.index, { type: MessageType.MsgAppResp })]),
  );
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await new Promise<void>((resolve) => {
      handlers.set(a.id, () => resolve());
      a.transport.send([message(a.id, b.id, i, { type: MessageType.MsgHeartbeat })]);
    });
    times.push(performance.now() - t);
  }
  return times;
}

async function replication(
  leader: TestMember,
  followers: TestMember[],
  rounds: number,
  inFlight: number,
): Promise<{ times: number[]; perSec: number }> {
  const entry = { term: 1, index: 0, type: 0, data: new Uint8Array(256) };
  for (const f of followers) {
    handlers.set(
      f.id,
      (m) =>
        f.transport.send([message(f.id, leader.id, m.index, { type: MessageType.MsgAppResp })]),
    );
  }
  const sentAt = new Map<number, number>();
  const acks = new Map<number, number>();
  const times: number[] = [];
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  await new Promise<void>((finish) => {
    const sendOne = () => {
      const index = next++;
      sentAt.set(index, performance.now());
      leader.transport.send(
        followers.map((f) => message(leader.id, f.id, index, { entries: [entry] })),
      );
    };
    handlers.set(leader.id, (m) => {
      const n = (acks.get(m.index) ?? 0) + 1;
      acks.set(m.index, n);
      if (n < followers.length) return;
      times.push(performance.now() - sentAt.get(m.index)!);
      if (++done === rounds) return finish();
      if (next < rounds) sendOne();
    });
    for (let i = 0; i < inFlight; i++) sendOne();
  });
  return { times, perSec: rounds / ((performance.now() - t0) / 1000) };
}

async function throughput(a: TestMember, b: TestMember, total: number): Promise<number> {
  const entry = { term: 1, index: 0, type: 0, data: new Uint8Array(100) };
  let received = 0;
  let wake: (() => void) | undefined;
  handlers.set(b.id, () => {
    received++;
    if (wake && received % 256 === 0) wake();
  });
  const t0 = performance.now();
  for (let sent = 0; sent < total; sent += 256) {
    a.transport.send(
      Array.from({ length: 256 }, (_, i) => message(a.id, b.id, sent + i, { entries: [entry] })),
    );
    while (sent + 256 - received > 2048) await new Promise<void>((r) => (wake = r));
  }
  while (received < total) await new Promise<void>((r) => (wake = r));
  if (a.unreachable.length > 0) console.log("  (messages were dropped)");
  return total / ((performance.now() - t0) / 1000);
}

const a = await start(1n, "127.0.50.41");
const b = await start(2n, "127.0.50.42");
const c = await start(3n, "127.0.50.43");
for (const m of [a, b, c]) for (const p of [1n, 2n, 3n]) m.transport.addPeer(p);
while (
  [a, b, c].some((m) => [1n, 2n, 3n].some((p) => p !== m.id && m.transport.activeSince(p) === 0))
) {
  await new Promise((r) => setTimeout(r, 10));
}

await roundTrip(a, b, 2000); // warm-up
const echo = await rawEcho(5000);
console.log(`raw TCP echo (floor):          p50 ${pct(echo, 50)} us  p99 ${pct(echo, 99)} us`);
const rt = await roundTrip(a, b, 10000);
console.log(`round trip, one message:       p50 ${pct(rt, 50)} us  p99 ${pct(rt, 99)} us`);
for (const inFlight of [1, 32]) {
  const r = await replication(a, [b, c], 20000, inFlight);
  console.log(
    `replication round, ${String(inFlight).padStart(2)} in flight: p50 ${
      pct(r.times, 50)
    } us  p99 ${pct(r.times, 99)} us  ${r.perSec.toFixed(0)} rounds/s`,
  );
}
console.log(
  `throughput (100-byte entries): ${(await throughput(a, b, 200_000)).toFixed(0)} msgs/s`,
);
await Promise.all([a.close(), b.close(), c.close()]);
