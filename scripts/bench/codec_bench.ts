// Protobuf codec cost per request-path message: encode+decode through the reflective codec
// (codec.ts walking the schema) and through the specialised one (hot.generated.ts).
// deno run -A scripts/bench/codec_bench.ts [milliseconds per case=400]

import { compileSchema, makeCodec, type MessageCodec } from "../../src/pb/codec.ts";
import { schema } from "../../src/pb/generated.ts";
import { hotCodecs } from "../../src/pb/hot.generated.ts";

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

/** Nanoseconds per encode+decode: the best of five rounds (the machine is shared) of BUDGET_MS. */
function measure(codec: Codec, msg: Record<string, unknown>): number {
  const run = (n: number) => {
    const t = performance.now();
    for (let i = 0; i < n; i++) sink += codec.decode(codec.encode(msg)) ? 1 : 0;
    return performance.now() - t;
  };
  let n = 1000;
  while (run(n) < 20) n *= 2; // warms up as well
  const reps = Math.max(n, Math.round(n * BUDGET_MS / 5 / run(n)));
  let best = Infinity;
  for (let i = 0; i < 5; i++) best = Math.min(best, run(reps));
  return (best * 1e6) / reps;
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
if (sink < 0) console.log(sink);
