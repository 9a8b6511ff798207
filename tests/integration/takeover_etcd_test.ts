// etcd-ts started on a data dir etcd 3.4 wrote takes it over in place. etcd runs with
// --snapshot-count 100 and a backend that commits only when it snapshots, gets users, roles,
// leases and more than 100 writes (so a snap file exists and the backend is committed at it),
// then more writes (put, txn, delete, lease grant and revoke, compaction) that reach only its
// WAL, and is killed. etcd-ts then serves the same keys at every revision, leases, members and
// IDs; etcd's files are left byte for byte where its log says; a restart imports nothing again.
// A data dir whose unapplied tail etcd-ts cannot apply is refused and left as it was.
// Address block 127.0.131.x.
import assert from "node:assert/strict";
import { messages } from "../../src/pb/mod.ts";
import { GrpcClient } from "../../src/snapshot/grpc_client.ts";
import {
  itest,
  type Proc,
  singleMemberFlags,
  spawn,
  startEtcdTs,
  stop,
} from "../helpers/process.ts";
import { assertPortsFree } from "../helpers/ports.ts";
import { etcdctl } from "../helpers/etcdctl.ts";
import { fileHashes, tempDir } from "../helpers/tmp.ts";

const IP = "127.0.131.1";
const EP = `http://${IP}:2379`;
// Nothing reaches etcd's backend but what a raft snapshot commits.
const LAZY_BACKEND = ["--backend-batch-interval=1h", "--backend-batch-limit=1000000"];

async function ok(...args: string[]): Promise<string> {
  const r = await etcdctl(EP, "--user=root:pw", ...args);
  assert.equal(r.code, 0, `etcdctl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** Many puts, one raft entry each, without an etcdctl process per put. */
async function puts(n: number): Promise<void> {
  const client = await GrpcClient.connect({ url: EP }, 5000);
  try {
    const auth = messages["etcdserverpb.AuthenticateRequest"].encode({
      name: "root",
      password: "pw",
    });
    const res = await client.unary("/etcdserverpb.Auth/Authenticate", auth);
    const token = messages["etcdserverpb.AuthenticateResponse"].decode(res).token;
    for (let i = 0; i < n; i++) {
      const put = {
        key: new TextEncoder().encode(`bulk-${i % 40}`),
        value: new TextEncoder().encode(`v${i}`),
      };
      await client.unary("/etcdserverpb.KV/Put", messages["etcdserverpb.PutRequest"].encode(put), {
        token,
      });
    }
  } finally {
    client.close();
  }
}

/** Everything a client sees, IDs included. */
async function state() {
  const get = async (rev: number) =>
    await ok("get", "", "--from-key", `--rev=${rev}`, "-w", "json");
  const head = await get(0);
  const current = JSON.parse(head).header.revision as number;
  const compacted = Number(
    /"compact_revision":(\d+)/.exec(await ok("endpoint", "hashkv", "-w", "json"))![1],
  );
  const history = [];
  for (let rev = compacted; rev <= current; rev++) history.push(JSON.parse(await get(rev)).kvs);
  const leases = (await ok("lease", "list")).split("\n").slice(1).filter(Boolean).sort();
  const granted = await Promise.all(leases.map(async (id) => {
    const t = JSON.parse(await ok("lease", "timetolive", id, "--keys", "-w", "json"));
    return [id, t["granted-ttl"], (t.keys ?? []).sort()]; // etcd's order is a Go map's
  }));
  return {
    ids: /"cluster_id":\d+,"member_id":\d+/.exec(head)![0],
    current,
    compacted,
    history,
    granted,
    members: await ok("member", "list"),
    users: await ok("user", "list"),
    roles: await ok("role", "get", "r1"),
    hashkv: /"hash":\d+/.exec(await ok("endpoint", "hashkv", "-w", "json"))![0],
  };
}

async function killed(p: Proc): Promise<void> {
  p.kill("SIGKILL");
  await p.status;
}

itest("takeover: etcd-ts serves an etcd 3.4 data dir in place, keeping etcd's files", async () => {
  await assertPortsFree(IP, [2379, 2380]);
  const dir = tempDir().path;
  const dataDir = `${dir}/data`;
  const flags = singleMemberFlags("m1", IP, dataDir);
  const procs: Proc[] = [];
  try {
    const etcd = spawn("etcd", [...flags, "--snapshot-count=100", ...LAZY_BACKEND]);
    procs.push(etcd);
    await etcd.waitFor("ready to serve client requests", 30_000);
    for (
      const args of [["user", "add", "root:pw"], ["role", "add", "r1"], [
        "user",
        "grant-role",
        "root",
        "root",
      ]]
    ) {
      assert.equal((await etcdctl(EP, ...args)).code, 0);
    }
    await ok("auth", "enable");
    await ok("role", "grant-permission", "r1", "read", "bulk-", "--prefix");
    const kept = /lease ([0-9a-f]+) granted/.exec(await ok("lease", "grant", "900"))![1];
    await ok("put", "leased", "x", `--lease=${kept}`);
    await puts(110);
    await etcd.waitFor("saved snapshot at index");
    // Only in the WAL from here on.
    const gone = /lease ([0-9a-f]+) granted/.exec(await ok("lease", "grant", "60"))![1];
    await ok("put", "doomed", "y", `--lease=${gone}`);
    await ok("lease", "revoke", gone);
    await ok("lease", "grant", "120");
    await ok("put", "bulk-1", "after the snapshot");
    await ok("del", "bulk-2");
    const rev = JSON.parse(await ok("get", "last", "-w", "json")).header.revision;
    await ok("compact", String(rev - 3));
    await ok("put", "last", "z");
    const want = await state();
    await killed(etcd);
    const before = await fileHashes(`${dataDir}/member`);

    const ts = startEtcdTs(flags);
    procs.push(ts);
    const line = await ts.waitFor("took over etcd 3.4's data dir", 30_000);
    const toApply = Number(/, (\d+) entries from etcd's WAL to apply/.exec(line)![1]);
    assert.ok(toApply >= 8, `etcd's unapplied writes are replayed (${line})`);
    assert.match(line, new RegExp(`kept unchanged in ${dataDir}/member\\.etcd-3\\.4$`));
    await ts.waitFor("ready to serve client requests", 30_000);
    assert.deepEqual(await state(), want);
    assert.deepEqual(await fileHashes(`${dataDir}/member.etcd-3.4`), before);
    await ok("put", "written", "by etcd-ts");
    await stop(ts);

    const again = startEtcdTs(flags);
    procs.push(again);
    await again.waitFor("ready to serve client requests", 30_000);
    assert.ok(!again.lines.some((l) => l.includes("took over")), "nothing imported twice");
    assert.match(await ok("get", "written"), /by etcd-ts/);
    assert.equal((await state()).history.length, want.history.length + 1);
  } finally {
    await Promise.all(procs.map((p) => stop(p)));
    await Deno.remove(dir, { recursive: true });
  }
});

itest(
  "takeover: an unapplied tail etcd-ts cannot apply is refused, the data dir untouched",
  async () => {
    await assertPortsFree(IP, [2379, 2380]);
    const dir = tempDir().path;
    const flags = singleMemberFlags("m1", IP, `${dir}/data`);
    try {
      const etcd = spawn("etcd", [...flags, ...LAZY_BACKEND]);
      await etcd.waitFor("ready to serve client requests", 30_000);
      assert.equal((await etcdctl(EP, "user", "add", "alice:pw")).code, 0);
      await killed(etcd);
      const before = await fileHashes(dir);
      const ts = startEtcdTs(flags);
      const status = await ts.status;
      assert.notEqual(status.code, 0);
      assert.ok(
        ts.lines.some((l) =>
          /cannot take over etcd's data dir .*: etcd's WAL holds entry \d+ \(authUserAdd\) after the backend's consistent index/
            .test(l) && l.includes("stop it cleanly, then start etcd-ts")
        ),
        ts.lines.slice(-5).join("\n"),
      );
      assert.deepEqual(await fileHashes(dir), before);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
