// The Election and Lock services side by side with etcd 3.4: one scenario of gRPC calls (and a
// few through the /v3 gateway with curl) runs against a real etcd and against etcd-ts, and the
// two transcripts (answers, headers, keys, errors with their codes) must be equal once cluster,
// member and randomly granted lease IDs are masked. Address block 127.0.160.x.
import assert from "node:assert/strict";
import {
  itest,
  type Proc,
  run,
  singleMemberFlags,
  spawn,
  startReady,
  startReadyEtcd,
  stop,
} from "../helpers/process.ts";
import { assertPortsFree } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tmp.ts";
import { type Answer, type CallOptions, GrpcMember, until } from "../helpers/grpc_member.ts";

const ELECTION = "v3electionpb.Election";
const LOCK = "v3lockpb.Lock";
const KV = "etcdserverpb.KV";
const LEASE = "etcdserverpb.Lease";
const AUTH = "etcdserverpb.Auth";

const b = (s: string) => new TextEncoder().encode(s);
const b64 = (s: string) => btoa(s);

/** Steps and their answers; IDs that differ between runs are masked when it is rendered. */
class Transcript {
  readonly steps: [string, unknown][] = [];
  readonly #ids: string[] = [];

  add(step: string, value: unknown): void {
    this.steps.push([step, value]);
  }

  /** A lease ID the member chose: masked with its hex form (it is in keys). */
  id(value: bigint): void {
    this.#ids.push(value.toString(), value.toString(16));
  }

  rendered(): [string, string][] {
    return this.steps.map(([step, value]) => {
      let text = JSON.stringify(value, (k, v) => {
        if (/^(clusterId|memberId|cluster_id|member_id)$/.test(k)) return "<id>";
        if (typeof v === "bigint") return v.toString();
        if (v instanceof Uint8Array) return new TextDecoder().decode(v);
        return v;
      });
      for (const [i, id] of this.#ids.entries()) text = text.replaceAll(id, `<lease${i >> 1}>`);
      return [step, text];
    });
  }
}

const show = (v: unknown) => JSON.stringify(v, (_k, x) => typeof x === "bigint" ? x.toString() : x);

/** Only the status of a call that ran out of time: its text is the client's own. */
const codeOf = (a: Answer) => "error" in a ? { code: a.error.code } : a;

function member(m: GrpcMember) {
  const count = async (prefix: string) => {
    const r = await m.call(KV, "Range", { key: b(prefix), rangeEnd: b(prefix.slice(0, -1) + "0") });
    assert.ok("ok" in r, show(r));
    return r.ok.count as number;
  };
  return {
    count,
    /** Waits until `n` keys are under the prefix (a waiter's key has been put). */
    keys: (prefix: string, n: number) => until(async () => await count(prefix) === n, `${n} keys`),
    campaign: (lease: bigint, value: string, name = "el", opts: CallOptions = {}) =>
      m.call(ELECTION, "Campaign", { name: b(name), lease, value: b(value) }, opts),
    lock: (name: string, lease: bigint, opts: CallOptions = {}) =>
      m.call(LOCK, "Lock", { name: b(name), lease }, opts),
  };
}

async function election(m: GrpcMember, t: Transcript) {
  const r = member(m);
  for (const ID of [100n, 101n, 102n]) await m.call(LEASE, "LeaseGrant", { ID, TTL: 60 });
  const first = await r.campaign(100n, "v1");
  assert.ok("ok" in first, show(first));
  const leader = first.ok.leader;
  t.add("campaign", first);
  t.add("campaign again with a new value", await r.campaign(100n, "v2"));
  t.add("leader", await m.call(ELECTION, "Leader", { name: b("el") }));
  t.add("leader of no election", await m.call(ELECTION, "Leader", { name: b("none") }));
  t.add("campaign on an unknown lease", await r.campaign(999n, "x"));
  t.add("proclaim without leader", await m.call(ELECTION, "Proclaim", { value: b("x") }));
  t.add("resign without leader", await m.call(ELECTION, "Resign", {}));

  const observe = m.stream(ELECTION, "Observe", { name: b("el") });
  await observe.received(1);
  const second = r.campaign(101n, "b");
  await r.keys("el/", 2);
  const stale = { ...leader, rev: leader.rev + 1 };
  t.add("proclaim", await m.call(ELECTION, "Proclaim", { leader, value: b("v3") }));
  t.add("proclaim as a stale leader", await m.call(ELECTION, "Proclaim", { leader: stale }));
  t.add("put on the leader key", await m.call(KV, "Put", { key: leader.key, value: b("put") }));
  await observe.received(3);
  t.add("resign as a stale leader", await m.call(ELECTION, "Resign", { leader: stale }));
  t.add("resign", await m.call(ELECTION, "Resign", { leader }));
  t.add("the waiting campaign leads", await second);
  await observe.received(4);
  observe.cancel();
  t.add("observed", observe.messages);

  // A campaign whose caller gives up withdraws its key.
  t.add(
    "campaign past its deadline",
    codeOf(await r.campaign(102n, "c", "el", { deadlineMs: 1000 })),
  );
  await r.keys("el/", 1);
  // Lease 0: the service grants a lease of its own (etcd's session TTL, 60 s).
  const z = await r.campaign(0n, "z", "zz");
  assert.ok("ok" in z, show(z));
  t.id(z.ok.leader.lease);
  t.add("campaign with lease 0", z);
  const ttl = await m.call(LEASE, "LeaseTimeToLive", { ID: z.ok.leader.lease, keys: true });
  t.add("its lease", "ok" in ttl ? [ttl.ok.grantedTTL, ttl.ok.keys] : ttl);
}

async function lock(m: GrpcMember, t: Transcript) {
  const r = member(m);
  const held = await r.lock("lk", 100n);
  assert.ok("ok" in held, show(held));
  t.add("lock", held);
  t.add("lock again on the same lease", await r.lock("lk", 100n));
  t.add("lock on an unknown lease", await r.lock("lk", 999n));
  const waiting = r.lock("lk", 101n);
  await r.keys("lk/", 2);
  t.add("unlock", await m.call(LOCK, "Unlock", { key: held.ok.key }));
  t.add("the waiter holds the lock", await waiting);
  t.add("lock past its deadline", codeOf(await r.lock("lk", 102n, { deadlineMs: 1000 })));
  await r.keys("lk/", 1);
  t.add("unlock a key that is not there", await m.call(LOCK, "Unlock", { key: b("nope") }));
  t.add("unlock without a key", await m.call(LOCK, "Unlock", {}));
  // Revoking the holder's lease deletes its key: the next waiter holds the lock.
  t.add("lock on lease 100", await r.lock("lk2", 100n));
  const next = r.lock("lk2", 102n);
  await r.keys("lk2/", 2);
  t.add("revoke the holder's lease", await m.call(LEASE, "LeaseRevoke", { ID: 100n }));
  t.add("the next waiter holds it", await next);
}

async function gateway(ep: string, t: Transcript) {
  const post = async (path: string, body: unknown) => {
    const out = await run("curl", [
      "-s",
      "-X",
      "POST",
      `${ep}/v3/${path}`,
      "-d",
      JSON.stringify(body),
    ]);
    return JSON.parse(out.stdout);
  };
  t.add("gateway: leader", await post("election/leader", { name: b64("el") }));
  t.add("gateway: unlock {}", await post("lock/unlock", {}));
  t.add("gateway: proclaim {}", await post("election/proclaim", {}));
  const observe = spawn("curl", [
    "-s",
    "-N",
    "-X",
    "POST",
    `${ep}/v3/election/observe`,
    "-d",
    JSON.stringify({ name: b64("gw") }),
  ]);
  try {
    const campaign = await post("election/campaign", {
      name: b64("gw"),
      lease: "101",
      value: b64("g"),
    });
    t.add("gateway: campaign", campaign);
    t.add("gateway: observed", JSON.parse(await observe.waitFor(/"result"/)));
    t.add("gateway: lock", await post("lock/lock", { name: b64("glk"), lease: "101" }));
    t.add("gateway: resign", await post("election/resign", { leader: campaign.leader }));
  } finally {
    observe.kill();
  }
}

async function withAuth(m: GrpcMember, t: Transcript) {
  const r = member(m);
  const perm = { permType: 0, key: b("el/"), rangeEnd: b("el0") };
  for (
    const [method, req] of [
      ["UserAdd", { name: "root", password: "pw" }],
      ["UserGrantRole", { user: "root", role: "root" }],
      ["RoleAdd", { name: "reader" }],
      ["RoleGrantPermission", { name: "reader", perm }],
      ["UserAdd", { name: "u", password: "pw" }],
      ["UserGrantRole", { user: "u", role: "reader" }],
      ["AuthEnable", {}],
    ] as const
  ) {
    const res = await m.call(AUTH, method, req);
    assert.ok("ok" in res, `${method}: ${show(res)}`);
  }
  const login = await m.call(AUTH, "Authenticate", { name: "u", password: "pw" });
  assert.ok("ok" in login, show(login));
  const token = login.ok.token;
  t.add("auth: leader without a token", await m.call(ELECTION, "Leader", { name: b("el") }));
  t.add("auth: leader as a reader", await m.call(ELECTION, "Leader", { name: b("el") }, { token }));
  t.add("auth: campaign as a reader", await r.campaign(101n, "u", "el", { token }));
  t.add("auth: lock as a reader", await r.lock("lk", 101n, { token }));
  t.add("auth: bad token", await r.lock("lk", 101n, { token: "bad.1" }));
  // etcd's observer ends the stream quietly when its own read is refused.
  const observe = m.stream(ELECTION, "Observe", { name: b("el") });
  t.add("auth: observe without a token", { status: await observe.ended, got: observe.messages });
}

async function scenario(ip: string): Promise<Transcript> {
  const m = new GrpcMember(`${ip}:2379`);
  const t = new Transcript();
  try {
    await election(m, t);
    await lock(m, t);
    await gateway(`http://${ip}:2379`, t);
    await withAuth(m, t);
  } finally {
    m.close();
  }
  return t;
}

itest("election and lock: etcd-ts answers as etcd 3.4, over gRPC and the gateway", async () => {
  const [etcdIp, tsIp] = ["127.0.160.10", "127.0.160.11"];
  for (const ip of [etcdIp, tsIp]) await assertPortsFree(ip, [2379, 2380]);
  const dir = tempDir().path;
  const procs: Proc[] = [];
  try {
    procs.push(
      ...await Promise.all([
        startReadyEtcd(singleMemberFlags("s1", etcdIp, `${dir}/etcd`)),
        startReady(singleMemberFlags("s1", tsIp, `${dir}/ts`)),
      ]),
    );
    const [etcd, ts] = await Promise.all([scenario(etcdIp), scenario(tsIp)]);
    const [want, got] = [etcd.rendered(), ts.rendered()];
    assert.deepEqual(got.map(([s]) => s), want.map(([s]) => s));
    for (const [i, [step, text]] of want.entries()) assert.equal(got[i][1], text, step);
    // The reference said what this test is about (not two empty transcripts).
    const said = new Map(want);
    assert.match(
      said.get("proclaim as a stale leader")!,
      /"code":2,"details":"election: not leader"/,
    );
    assert.match(said.get("leader of no election")!, /"code":2,"details":"election: no leader"/);
    assert.equal(JSON.parse(said.get("observed")!).length, 4);
    assert.match(said.get("campaign past its deadline")!, /"code":4/);
  } finally {
    await Promise.all(procs.map((p) => stop(p)));
  }
});
