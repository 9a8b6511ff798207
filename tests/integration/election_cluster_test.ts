// The Election and Lock services in a three-member etcd-ts cluster with JWT tokens: campaigns,
// observers and locks spread over members (a follower's recipes run on its own KV, lease and
// watch, writes through Raft); etcdctl's client-side `elect` and `lock` recipes meet the
// server-side ones on the same keys; a JWT from one member is good on the others.
// Address block 127.0.162.x.
import assert from "node:assert/strict";
import { makeCluster } from "../helpers/cluster.ts";
import { itest, spawn } from "../helpers/process.ts";
import { etcdctl } from "../helpers/etcdctl.ts";
import { GrpcMember, until } from "../helpers/grpc_member.ts";
import { makeJwtKeys } from "../helpers/jwt_keys.ts";

const ELECTION = "v3electionpb.Election";
const LOCK = "v3lockpb.Lock";
const LEASE = "etcdserverpb.Lease";
const AUTH = "etcdserverpb.Auth";
const KV = "etcdserverpb.KV";

const b = (s: string) => new TextEncoder().encode(s);
const text = (v: Uint8Array) => new TextDecoder().decode(v);

function ok<T>(a: { ok: T } | { error: unknown }): T {
  if (!("ok" in a)) throw new Error(JSON.stringify(a));
  return a.ok;
}

itest("election and lock across members, with etcdctl's recipes and JWT tokens", async () => {
  const keys = await makeJwtKeys();
  const c = await makeCluster("127.0.162", 3);
  const option = `jwt,sign-method=ES256,priv-key=${keys.path("ec256.pem")},pub-key=${
    keys.path("ec256.pub")
  }`;
  for (let i = 0; i < 3; i++) c.start(i, ["--auth-token", option]);
  const m = c.members.map((x) => new GrpcMember(`${x.ip}:2379`));
  const ep = c.members.map((x) => x.clientURL);
  try {
    await Promise.all(c.members.map((x) => x.proc!.waitFor("ready to serve client requests")));
    const lease = async (i: number) => ok(await m[i].call(LEASE, "LeaseGrant", { TTL: 60 })).ID;
    const [l0, l2] = [await lease(0), await lease(2)];

    // A campaign on member 0 leads; one on member 2 waits; member 1 observes both.
    const first = ok(
      await m[0].call(ELECTION, "Campaign", { name: b("e"), lease: l0, value: b("a") }),
    );
    const observe = m[1].stream(ELECTION, "Observe", { name: b("e") });
    await observe.received(1);
    const second = m[2].call(ELECTION, "Campaign", { name: b("e"), lease: l2, value: b("z") });
    await until(
      async () => ok(await m[1].call(KV, "Range", { key: b("e/"), rangeEnd: b("e0") })).count === 2,
      "two candidates",
    );
    ok(await m[1].call(ELECTION, "Resign", { leader: first.leader }));
    const won = ok(await second);
    assert.equal(won.leader.lease, l2);
    await observe.received(2);
    observe.cancel();
    assert.deepEqual(observe.messages.map((r) => text(r.kv.value)), ["a", "z"]);
    const leader = ok(await m[0].call(ELECTION, "Leader", { name: b("e") }));
    assert.equal(text(leader.kv.key), `e/${l2.toString(16)}`);

    // A follower's lock is released by an unlock on another member.
    const held = ok(await m[2].call(LOCK, "Lock", { name: b("lk"), lease: l2 }));
    const waiting = m[1].call(LOCK, "Lock", { name: b("lk"), lease: l0 });
    await until(
      async () =>
        ok(await m[0].call(KV, "Range", { key: b("lk/"), rangeEnd: b("lk0") })).count === 2,
      "two waiters",
    );
    ok(await m[0].call(LOCK, "Unlock", { key: held.key }));
    assert.equal(text(ok(await waiting).key), `lk/${l0.toString(16)}`);

    // etcdctl's client-side mutex waits on the service's lock, and gets it on unlock.
    const mx = ok(await m[0].call(LOCK, "Lock", { name: b("mx"), lease: l0 }));
    const locker = spawn("etcdctl", [
      `--endpoints=${ep[1]}`,
      "lock",
      "mx",
      "--",
      "sh",
      "-c",
      "echo got $ETCD_LOCK_KEY",
    ]);
    await until(
      async () =>
        ok(await m[0].call(KV, "Range", { key: b("mx/"), rangeEnd: b("mx0") })).count === 2,
      "etcdctl waits",
    );
    ok(await m[2].call(LOCK, "Unlock", { key: mx.key }));
    assert.match(await locker.waitFor(/^got /), /^got mx\/[0-9a-f]+$/);
    assert.equal((await locker.status).code, 0);

    // etcdctl elect -l observes a leader the service elects; the service sees etcdctl's.
    const listener = spawn("etcdctl", [`--endpoints=${ep[2]}`, "elect", "-l", "svc"]);
    ok(await m[0].call(ELECTION, "Campaign", { name: b("svc"), lease: l0, value: b("from-grpc") }));
    await listener.waitFor(/^from-grpc$/);
    listener.kill("SIGINT");
    await listener.status;
    const candidate = spawn("etcdctl", [`--endpoints=${ep[0]}`, "elect", "cli", "p1"]);
    await candidate.waitFor(/^p1$/);
    assert.equal(text(ok(await m[1].call(ELECTION, "Leader", { name: b("cli") })).kv.value), "p1");
    candidate.kill("SIGINT"); // etcdctl resigns: no leader is left
    await until(
      async () => "error" in await m[1].call(ELECTION, "Leader", { name: b("cli") }),
      "no leader",
    );

    // JWT: a token from member 0 is good on the others, for the services too.
    assert.equal((await etcdctl(ep[0], "user", "add", "root:pw")).code, 0);
    assert.equal((await etcdctl(ep[0], "auth", "enable")).code, 0);
    const { token } = ok(await m[0].call(AUTH, "Authenticate", { name: "root", password: "pw" }));
    assert.equal(token.split(".").length, 3);
    assert.equal(JSON.parse(atob(token.split(".")[0])).alg, "ES256");
    const got = ok(await m[2].call(ELECTION, "Leader", { name: b("e") }, { token }));
    assert.equal(text(got.kv.value), "z");
    ok(await m[1].call(KV, "Put", { key: b("k"), value: b("v") }, { token }));
    const refused = await m[1].call(KV, "Put", { key: b("k"), value: b("v") });
    assert.deepEqual(refused, { error: { code: 3, details: "etcdserver: user name is empty" } });
  } finally {
    m.forEach((x) => x.close());
    await c.stopAll();
  }
});
