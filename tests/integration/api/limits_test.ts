// etcd 3.4's request limits side by side: the same requests go to a real etcd and to etcd-ts
// through etcdctl, the /v3 JSON gateway and gRPC, and what each answers (etcdctl's error line,
// the gateway's status and body, the watch's fragments) must be the same, with nothing stored
// from a refused request. Address block 127.0.170.x.
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { Etcd3 } from "etcd3";
import { ETCD_TS, itest, run } from "../../helpers/process.ts";
import { type PairMember, startPair } from "../../helpers/pair.ts";
import { etcdctl, etcdctlWith } from "../../helpers/etcdctl.ts";
import { type Answer, GrpcMember } from "../../helpers/grpc_member.ts";
import { deserializer, serializer } from "../../helpers/grpc.ts";

const enc = new TextEncoder();
const b64 = (s: string) => btoa(s);

type Member = PairMember;

/** etcdctl's exit code and the error line it ends with (retry warnings before it dropped). */
async function ctl(m: Member, stdin: string | undefined, ...args: string[]) {
  const r = await etcdctlWith({ stdin })(m.url, ...args);
  const lines = r.stderr.trim().split("\n").filter((l) => !l.startsWith("{"));
  return { code: r.code, stdout: r.stdout, error: lines.at(-1) ?? "" };
}

/** A POST to the gateway: status and body. */
async function gateway(m: Member, path: string, body: unknown) {
  const res = await fetch(`${m.url}/v3/${path}`, { method: "POST", body: JSON.stringify(body) });
  return { status: res.status, body: await res.text() };
}

const putBody = (key: string, size: number) => ({
  key: b64(key),
  value: btoa("a".repeat(size)),
});

/** How many keys `key` (or keys under it) there are: a refused request must have stored none. */
async function count(m: Member, key: string, prefixed = false): Promise<number> {
  const r = await etcdctl(m.url, "get", key, "-w", "json", ...(prefixed ? ["--prefix"] : []));
  assert.equal(r.code, 0, r.stderr);
  return Number(/"count":(\d+)/.exec(r.stdout)?.[1] ?? 0);
}

/** The same two sizes through the `etcd3` client: the error class it picks and its message. */
async function throughEtcd3(m: Member): Promise<unknown[]> {
  const client = new Etcd3({ hosts: m.url });
  const refusal = async (size: number) => {
    try {
      await client.put("e3big").value("v".repeat(size)).exec();
      return "stored";
    } catch (e) {
      return `${(e as Error).constructor.name}: ${(e as Error).message}`;
    }
  };
  try {
    return [["etcd3 1.7 MB", await refusal(1_700_000)], ["etcd3 2.2 MB", await refusal(2_200_000)]];
  } finally {
    client.close();
  }
}

/** The default limits, every way in: what one member answers, in order. */
async function defaultLimits(m: Member): Promise<unknown[]> {
  const out: unknown[] = [];
  const value = (n: number) => "v".repeat(n);
  // --max-request-bytes (1.5 MiB): the raft proposal's size, checked after gRPC let it in.
  out.push(["put 1.7 MB", await ctl(m, value(1_700_000), "put", "big")]);
  out.push(["put just under", await ctl(m, value(1_572_830), "put", "edge")]);
  out.push(["put just over", await ctl(m, value(1_572_850), "put", "edge2")]);
  out.push(["gateway 1.7 MB", await gateway(m, "kv/put", putBody("gbig", 1_700_000))]);
  // Above gRPC's receive limit (max-request-bytes + 512 KiB) the message itself is refused.
  out.push(["gateway 2.2 MB", await gateway(m, "kv/put", putBody("gbig", 2_200_000))]);
  out.push(...await throughEtcd3(m));
  out.push(["stored", await count(m, "big"), await count(m, "edge2"), await count(m, "gbig")]);
  out.push(["stored", await count(m, "e3big")]);
  // --max-txn-ops (128).
  const txn = (n: number) =>
    `\n${Array.from({ length: n }, (_, i) => `put t${i} x`).join("\n")}\n\n\n`;
  out.push(["txn 129 ops", await ctl(m, txn(129), "txn")]);
  const ops = Array.from({ length: 129 }, (_, i) => ({ request_put: putBody(`g${i}`, 1) }));
  out.push(["gateway txn 129 ops", await gateway(m, "kv/txn", { success: ops })]);
  out.push(["stored", await count(m, "t", true), await count(m, "g", true)]);
  const ok = await ctl(m, txn(128), "txn");
  out.push(["txn 128 ops", ok.code, ok.stdout.split("\n").length]);
  // Lease TTLs above etcd's MaxLeaseTTL.
  out.push(["lease 9000000001 s", await ctl(m, undefined, "lease", "grant", "9000000001")]);
  out.push(["gateway lease", await gateway(m, "lease/grant", { TTL: "9000000001" })]);
  out.push(["leases", (await ctl(m, undefined, "lease", "list")).stdout]);
  // Auth requests are sized as etcd's messages too: a permission's key is its bulk.
  out.push(["role add", (await gateway(m, "auth/role/add", { name: "r" })).status]);
  for (const size of [1_200_000, 1_600_000]) {
    const perm = { permType: "READ", key: btoa("k".repeat(size)), range_end: "" };
    const r = await gateway(m, "auth/role/grant", { name: "r", perm });
    out.push([`grant ${size}`, r.status, r.status === 200 ? "granted" : r.body]);
  }
  // One learner at a time.
  const learner = (n: number) =>
    ctl(
      m,
      undefined,
      "member",
      "add",
      `l${n}`,
      `--peer-urls=http://${m.ip}:${2390 + n}`,
      "--learner",
    );
  out.push(["first learner", (await learner(1)).code]);
  out.push(["second learner", await learner(2)]);
  return out;
}

itest("limits: --max-request-bytes, --max-txn-ops, lease TTL, learners as etcd 3.4", async () => {
  const pair = await startPair("127.0.170.1", "127.0.170.2");
  try {
    const [etcd, ts] = await Promise.all(pair.members.map(defaultLimits));
    assert.deepEqual(ts, etcd);
    // The transcript says what it should: refusals in etcd's words.
    const said = JSON.stringify(etcd);
    assert.ok(said.includes("Error: etcdserver: request is too large"), said);
    assert.ok(said.includes("grpc: received message larger than max (2200011 vs. 2097152)"), said);
    assert.ok(said.includes("etcdserver: too many operations in txn request"), said);
    assert.ok(said.includes("too large lease TTL"), said);
    assert.ok(said.includes('["grant 1200000",200,"granted"]'), said);
    assert.ok(said.includes('["grant 1600000",400,'), said);
    assert.ok(said.includes("Error: etcdserver: too many learner members in cluster"), said);
  } finally {
    await pair.stop();
  }
});

/** A watch from `rev` asking for fragments: each response's event count and fragment flag. */
async function fragments(target: string, rev: number, events: number): Promise<unknown[]> {
  const client = new grpc.Client(target, grpc.credentials.createInsecure());
  const call = client.makeBidiStreamRequest(
    "/etcdserverpb.Watch/Watch",
    serializer("etcdserverpb.WatchRequest"),
    deserializer("etcdserverpb.WatchResponse"),
  );
  const got: [number, boolean][] = [];
  let seen = 0;
  const done = Promise.withResolvers<void>();
  call.on("data", (r) => {
    if (r.created) return;
    got.push([r.events.length, r.fragment]);
    if ((seen += r.events.length) >= events) done.resolve();
  });
  call.on("error", (e: Error) => done.reject(e));
  call.write({
    createRequest: {
      key: enc.encode("w"),
      rangeEnd: enc.encode("x"),
      startRevision: rev,
      fragment: true,
    },
  });
  await done.promise;
  call.cancel();
  client.close();
  return got;
}

itest("limits: watch responses are fragmented at --max-request-bytes + 512 KiB", async () => {
  const pair = await startPair("127.0.170.3", "127.0.170.4");
  try {
    const results = await Promise.all(pair.members.map(async (m) => {
      const g = new GrpcMember(`${m.ip}:2379`);
      // Three revisions of 100 keys of 10 kB: 3 MB of events for one watcher catching up.
      let first = 0;
      for (let t = 0; t < 3; t++) {
        const success = Array.from({ length: 100 }, (_, i) => ({
          requestPut: { key: enc.encode(`w${t}-${i}`), value: new Uint8Array(10_000) },
        }));
        const r: Answer = await g.call("etcdserverpb.KV", "Txn", { success });
        assert.ok("ok" in r, "error" in r ? r.error.details : "");
        first ||= Number(r.ok.header.revision);
      }
      g.close();
      return await fragments(`${m.ip}:2379`, first, 300);
    }));
    assert.deepEqual(results[1], results[0]);
    assert.ok(results[0].length > 1, `etcd fragmented: ${JSON.stringify(results[0])}`);
  } finally {
    await pair.stop();
  }
});

/** A smaller --max-request-bytes: gRPC's receive limit moves with it. */
async function smallerLimit(m: Member): Promise<unknown[]> {
  return [
    await ctl(m, "v".repeat(1_700_000), "put", "big"),
    await ctl(m, "v".repeat(1_200_000), "put", "mid"),
    await gateway(m, "kv/put", putBody("gbig", 1_700_000)),
    await gateway(m, "kv/put", putBody("gmid", 1_200_000)),
    await count(m, "big"),
    await count(m, "mid"),
    await count(m, "gbig"),
    await count(m, "gmid"),
  ];
}

itest("limits: --max-request-bytes=1048576 moves both checks", async () => {
  const pair = await startPair("127.0.170.5", "127.0.170.6", () => ["--max-request-bytes=1048576"]);
  try {
    const [etcd, ts] = await Promise.all(pair.members.map(smallerLimit));
    assert.deepEqual(ts, etcd);
    assert.ok(JSON.stringify(etcd).includes("(1700009 vs. 1572864)"), JSON.stringify(etcd));
  } finally {
    await pair.stop();
  }
});

itest("limits: bad values of the limit flags exit as etcd's do", async () => {
  const flags = [
    "--max-request-bytes=abc",
    "--max-request-bytes=-1",
    "--max-txn-ops=1.5",
    "--max-txn-ops=-3",
    "--quota-backend-bytes=x",
  ];
  for (const flag of flags) {
    const [etcd, ts] = await Promise.all([run("etcd", [flag]), run(ETCD_TS, [flag])]);
    const first = (r: { stderr: string }) => r.stderr.split("\n")[0];
    assert.equal(ts.code, etcd.code, flag);
    assert.equal(first(ts), first(etcd), flag);
    assert.match(first(etcd), /^invalid value /, flag);
  }
});
