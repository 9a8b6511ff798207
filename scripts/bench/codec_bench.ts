// Protobuf codec cost per request-path message: encode+decode through the reflective codec
// (codec.ts walking the schema) and through the specialised one (hot.generated.ts); then the
// raftpb codec on what the peer path carries (entry batches, appends, heartbeats).
// deno run -A scripts/bench/codec_bench.ts [milliseconds per case=400]

import { compileSchema, makeCodec, type MessageCodec } from "../../src/pb/codec.ts";
import { schema } from "../../src/pb/generated.ts";
import { hotCodecs } from "../../src/pb/hot.generated.ts";
import {
  decodeEntry,
  decodeHardState,
  decodeMessage,
  encodeEntry,
  encodeHardState,
  encodeMessage,
  type Entry,
  type Message,
  MessageType,
} from "../../src/raft/mod.ts";

// deno-lint-ignore no-explicit-any
type Codec = MessageCodec<any>;

const BUDGET_MS = Number(Deno.args[0] ?? 400);
const compiled = compileSchema(schema);
const enc = new TextEncoder();
const key = enc.encode("key-00001234");
const value = new Uint8Array(256).fill(7);
const header = {
  clusterId: 0xcdef0123456789abn,
  memberId: 0x8e9e05c52164694dn,
  revision: 123456,
  raftTerm: 7,
};
const kv = (i: number) => ({
  key: enc.encode(`key-${String(i).padStart(8, "0")}`),
  createRevision: 1000 + i,
  modRevision: 120000 + i,
  version: 3,
  value,
  lease: i % 2 ? 0x694d8e9e05c52164n : 0n,
});
const put = { key, value, lease: 0x694d8e9e05c52164n };

// Shapes the server handles for every put, get, txn, watch event and keepalive.
const cases: [string, Record<string, unknown>][] = [
  ["etcdserverpb.PutRequest", put],
  ["etcdserverpb.PutResponse", { header }],
  ["etcdserverpb.RangeRequest", { key, serializable: false, limit: 0 }],
  ["etcdserverpb.RangeResponse", { header, kvs: [kv(1)], count: 1 }],
  ["etcdserverpb.RangeResponse", {
    header,
    kvs: Array.from({ length: 10 }, (_, i) => kv(i)),
    count: 10,
    more: true,
  }],
  ["etcdserverpb.DeleteRangeRequest", { key, rangeEnd: enc.encode("key-1"), prevKv: true }],
  ["etcdserverpb.DeleteRangeResponse", { header, deleted: 3 }],
  [
    "etcdserverpb.TxnRequest",
    {
      compare: [{ result: 0, target: 2, key, modRevision: 1234 }],
      success: [{ requestPut: put }],
      failure: [{ requestRange: { key } }],
    },
  ],
  ["etcdserverpb.TxnResponse", {
    header,
    succeeded: true,
    responses: [{ responsePut: { header } }],
  }],
  ["etcdserverpb.WatchRequest", {
    createRequest: { key, rangeEnd: enc.encode("l"), prevKv: true },
  }],
  [
    "etcdserverpb.WatchResponse",
    { header, watchId: 3, events: [{ type: 0, kv: kv(1), prevKv: kv(2) }, { type: 1, kv: kv(3) }] },
  ],
  ["etcdserverpb.LeaseGrantRequest", { TTL: 60 }],
  ["etcdserverpb.LeaseKeepAliveRequest", { ID: 0x694d8e9e05c52164n }],
  ["etcdserverpb.LeaseKeepAliveResponse", { header, ID: 0x694d8e9e05c52164n, TTL: 60 }],
];

let sink = 0;

/** Nanoseconds per call: the best of five rounds (the machine is shared) of BUDGET_MS. */
function measureCall(roundTrip: () => unknown): number {
  const run = (n: number) => {
    const t = performance.now();
    for (let i = 0; i < n; i++) sink += roundTrip() ? 1 : 0;
    return performance.now() - t;
  };
  let n = 1000;
  while (run(n) < 20) n *= 2; // warms up as well
  const reps = Math.max(n, Math.round(n * BUDGET_MS / 5 / run(n)));
  let best = Infinity;
  for (let i = 0; i < 5; i++) best = Math.min(best, run(reps));
  return (best * 1e6) / reps;
}

/** Nanoseconds per encode+decode of one message. */
function measure<T>(codec: { encode(m: T): Uint8Array; decode(b: Uint8Array): unknown }, msg: T) {
  return measureCall(() => codec.decode(codec.encode(msg)));
}

const hot = hotCodecs as unknown as Record<string, Codec>;
console.log(
  `${"message".padEnd(34)} ${"bytes".padStart(5)} ${"reflective".padStart(11)} ` +
    `${"specialised".padStart(11)} ${"speed-up".padStart(8)}   (ns per encode+decode)`,
);
let totalSlow = 0;
let totalFast = 0;
for (const [name, msg] of cases) {
  const slow = measure(makeCodec(compiled.get(name)!), msg);
  const fast = measure(hot[name], msg);
  totalSlow += slow;
  totalFast += fast;
  const size = hot[name].encode(msg).length;
  const label = name.replace("etcdserverpb.", "") +
    (Array.isArray(msg.kvs) ? ` (${msg.kvs.length} kv)` : "");
  console.log(
    `${label.padEnd(34)} ${String(size).padStart(5)} ${slow.toFixed(0).padStart(11)} ` +
      `${fast.toFixed(0).padStart(11)} ${(slow / fast).toFixed(2).padStart(7)}x`,
  );
}
console.log(
  `${"all cases".padEnd(40)} ${totalSlow.toFixed(0).padStart(11)} ` +
    `${totalFast.toFixed(0).padStart(11)} ${(totalSlow / totalFast).toFixed(2).padStart(7)}x`,
);

// A proposal's entry as the leader appends it: a put of a 256-byte value.
const entry = (i: number): Entry => ({ term: 7, index: 120000 + i, type: 0, data: value });
const batch = (n: number) => Array.from({ length: n }, (_, i) => entry(i));
const message = (type: MessageType, entries: Entry[]): Message => ({
  type,
  to: 0x8e9e05c52164694dn,
  from: 0xa3323a824b0b624bn,
  term: 7,
  logTerm: 7,
  index: 119999,
  entries,
  commit: 119990,
  reject: false,
  rejectHint: 0,
  context: new Uint8Array(0),
});
const raftMessage = { encode: encodeMessage, decode: decodeMessage };
const raftCases: [string, number, () => unknown][] = [];
const raftCase = <T>(
  label: string,
  c: { encode(m: T): Uint8Array; decode(b: Uint8Array): unknown },
  m: T,
) => raftCases.push([label, c.encode(m).length, () => c.decode(c.encode(m))]);
const entries100 = batch(100);
raftCases.push([
  "Entry x100, one record each",
  entries100.reduce((n, e) => n + encodeEntry(e).length, 0),
  () => entries100.map((e) => decodeEntry(encodeEntry(e))),
]);
raftCase("MsgApp (1 entry)", raftMessage, message(MessageType.MsgApp, batch(1)));
raftCase("MsgApp (10 entries)", raftMessage, message(MessageType.MsgApp, batch(10)));
raftCase("MsgApp (100 entries)", raftMessage, message(MessageType.MsgApp, entries100));
raftCase("MsgAppResp", raftMessage, message(MessageType.MsgAppResp, []));
raftCase("MsgHeartbeat", raftMessage, message(MessageType.MsgHeartbeat, []));
raftCase("HardState", { encode: encodeHardState, decode: decodeHardState }, {
  term: 7,
  vote: 0x8e9e05c52164694dn,
  commit: 119990,
});
console.log(`\n${"raftpb".padEnd(34)} ${"bytes".padStart(5)} ${"ns".padStart(11)}`);
for (const [label, size, roundTrip] of raftCases) {
  const ns = measureCall(roundTrip);
  console.log(`${label.padEnd(34)} ${String(size).padStart(5)} ${ns.toFixed(0).padStart(11)}`);
}
if (sink < 0) console.log(sink);
