// The peer paths a follower forwards to the leader (/leases, /leases/internal,
// /members/promote/<id>, /members/hashkv): a leader's listener with a stub lessor and
// membership, reached by the follower's client and by raw requests (statuses and bodies as
// etcd 3.4 writes them).
import assert from "node:assert/strict";
import {
  createLeaderClient,
  type PeerLeaderApi,
  type PeerListener,
  type PeerMember,
  servePeer,
  type ServePeerOptions,
} from "../../../src/peer/mod.ts";
import { request } from "../../../src/peer/http1.ts";
import {
  decodeLeaseInternalResponse,
  encodeLeaseInternalRequest,
  formatHashKVJSON,
  parseHashKVJSON,
  parseHashKVRequest,
} from "../../../src/peer/leader_wire.ts";
import { messages } from "../../../src/pb/mod.ts";
import { Errors, EtcdError, GrpcCode } from "../../../src/errors/mod.ts";
import { LeaseError } from "../../../src/lease/mod.ts";
import { MvccError } from "../../../src/mvcc/mod.ts";
import { testLog } from "../../helpers/log.ts";
import { idleReceiver } from "../../helpers/peer.ts";

const LEADER_HOST = "127.0.52.10";
const LEADER = 0x8e9e05c52164694dn;
const LEARNER = 0x91bc3c398fb3c146n;
const CID = 0xcdf818194e3a8c32n;
const LEASE = 0x694d7ad1d1c6b40bn;
const utf8 = new TextEncoder();
const text = (b: Uint8Array) => new TextDecoder().decode(b);

const learner: PeerMember = {
  id: LEARNER,
  name: "",
  peerURLs: ["http://127.0.52.12:2380"],
  clientURLs: [],
  isLearner: true,
};
const leaderMember: PeerMember = {
  id: LEADER,
  name: "infra0",
  peerURLs: [`http://${LEADER_HOST}:2380`],
  clientURLs: [`http://${LEADER_HOST}:2379`],
  isLearner: false,
};

/** A leader whose lessor holds LEASE (TTL 60, 42 s left, one key) and a learner in sync. */
function stubLeader(): PeerLeaderApi & { primary: boolean; ready: boolean; renewed: bigint[] } {
  const api = {
    primary: true,
    ready: true,
    renewed: [] as bigint[],
    renewLease(id: bigint) {
      if (!api.primary) return Promise.reject(new LeaseError("notPrimary"));
      if (id !== LEASE) return Promise.reject(new LeaseError("notFound"));
      api.renewed.push(id);
      return Promise.resolve(60);
    },
    leaseTimeToLive(id: bigint, keys: boolean) {
      if (!api.primary) return Promise.reject(new LeaseError("notPrimary"));
      if (id === 7n) return Promise.reject(Errors.timeoutWaitAppliedIndex());
      if (id !== LEASE) return Promise.reject(new LeaseError("notFound"));
      return Promise.resolve({
        ID: id,
        TTL: 42,
        grantedTTL: 60,
        keys: keys ? [utf8.encode("foo")] : [],
      });
    },
    promoteMember(id: bigint) {
      if (!api.primary) return Promise.reject(Errors.notLeader());
      if (id === LEADER) return Promise.reject(Errors.memberNotLearner());
      if (id !== LEARNER) return Promise.reject(Errors.memberNotFound());
      if (!api.ready) return Promise.reject(Errors.learnerNotReady());
      return Promise.resolve([leaderMember, { ...learner, isLearner: false }]);
    },
    hashKV(revision: number) {
      if (revision > 9) throw new MvccError("futureRev");
      return { revision: 9, hash: revision === 0 ? 3628877040 : 1084519789, compactRevision: -1 };
    },
  };
  return api;
}

async function withLeader(
  fn: (url: string, api: ReturnType<typeof stubLeader>, lines: string[]) => Promise<void>,
  overrides: Partial<ServePeerOptions> = {},
) {
  const { log: logger, lines } = testLog("debug");
  const api = stubLeader();
  const listener: PeerListener = await servePeer(new URL(`http://${LEADER_HOST}:0`), {
    localId: LEADER,
    clusterId: () => CID,
    members: () => [leaderMember, learner],
    isRemoved: () => false,
    version: () => ({ etcdserver: "3.4.23", etcdcluster: "3.4.0" }),
    transport: idleReceiver(),
    leader: api,
    logger,
    ...overrides,
  });
  try {
    await fn(`http://${LEADER_HOST}:${listener.address.port}`, api, lines);
  } finally {
    await listener.close();
  }
}

const client = createLeaderClient();

async function rejectsWith(p: Promise<unknown>, check: (err: unknown) => boolean | void) {
  await assert.rejects(p, (err) => {
    const ok = check(err);
    return ok === undefined ? true : ok;
  });
}

const isEtcd = (make: () => EtcdError) => (err: unknown) =>
  err instanceof EtcdError && err.message === make().message && err.code === make().code;
const leaseNotFound = (err: unknown) => err instanceof LeaseError && err.reason === "notFound";

Deno.test("keep-alive through /leases: the leader's TTL; unknown lease final; follower refused", async () => {
  await withLeader(async (url, api) => {
    assert.equal(await client.renewLease(url, LEASE, 2000), 60);
    assert.deepEqual(api.renewed, [LEASE]);
    await rejectsWith(client.renewLease(url, 1234n, 2000), leaseNotFound);
    api.primary = false;
    // Not a final answer: a plain error the forwarding member retries.
    await rejectsWith(client.renewLease(url, LEASE, 2000), (err) => {
      assert.ok(!(err instanceof EtcdError));
      assert.equal((err as Error).message, "lease: unknown error(not a primary lessor)");
    });
  });
});

Deno.test("time-to-live through /leases/internal: remaining TTL, granted TTL and keys", async () => {
  await withLeader(async (url) => {
    const t = await client.leaseTimeToLive(url, LEASE, true, 2000);
    assert.equal(t.ID, LEASE);
    assert.equal(t.TTL, 42);
    assert.equal(t.grantedTTL, 60);
    assert.deepEqual(t.keys.map(text), ["foo"]);
    assert.deepEqual((await client.leaseTimeToLive(url, LEASE, false, 2000)).keys, []);
    await rejectsWith(client.leaseTimeToLive(url, 99n, false, 2000), leaseNotFound);
    await rejectsWith(client.leaseTimeToLive(url, 7n, false, 2000), (err) => {
      assert.match(String(err), /waiting for node to catch up its applied index has timed out/);
    });
  });
});

Deno.test("lease paths on the wire: protobuf in and out, etcd's statuses and texts", async () => {
  await withLeader(async (url) => {
    const post = (path: string, body?: Uint8Array, method = "POST") =>
      request(new URL(url), { method, path, body: body ? [body] : [], timeoutMs: 2000 });
    const keepAlive = messages["etcdserverpb.LeaseKeepAliveRequest"].encode({ ID: LEASE });
    const ok = await post("/leases", keepAlive);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("content-type"), "application/protobuf");
    assert.deepEqual(messages["etcdserverpb.LeaseKeepAliveResponse"].decode(ok.body), {
      ID: LEASE,
      TTL: 60,
    });

    const missing = await post(
      "/leases",
      messages["etcdserverpb.LeaseKeepAliveRequest"].encode({ ID: 5n }),
    );
    assert.equal(missing.status, 404);
    assert.equal(text(missing.body), "lease not found\n");

    const internal = await post("/leases/internal", encodeLeaseInternalRequest({ ID: LEASE }));
    assert.equal(internal.status, 200);
    const ttl = decodeLeaseInternalResponse(internal.body);
    assert.equal(ttl.TTL, 42);
    assert.ok(ttl.header, "etcd sends an empty header");

    const garbage = await post("/leases", new Uint8Array([0xff, 0xff]));
    assert.equal(garbage.status, 400);
    assert.equal(text(garbage.body), "error unmarshalling request\n");
    const empty = await post("/leases/internal", new Uint8Array(0));
    assert.equal(empty.status, 400);

    const get = await post("/leases", undefined, "GET");
    assert.equal(get.status, 405);
    assert.equal(text(get.body), "Method Not Allowed\n");
    assert.equal((await post("/leases/other", keepAlive)).status, 404);
  });
});

Deno.test("promote through /members/promote/<id>: the members after, or etcd's refusals", async () => {
  await withLeader(async (url, api, lines) => {
    const members = await client.promoteMember(url, LEARNER, 2000);
    assert.deepEqual(members.map((m) => [m.id, m.isLearner]), [[LEADER, false], [LEARNER, false]]);
    await rejectsWith(client.promoteMember(url, 5n, 2000), isEtcd(Errors.memberNotFound));
    await rejectsWith(client.promoteMember(url, LEADER, 2000), isEtcd(Errors.memberNotLearner));
    api.ready = false;
    await rejectsWith(client.promoteMember(url, LEARNER, 2000), isEtcd(Errors.learnerNotReady));
    api.primary = false;
    await rejectsWith(client.promoteMember(url, LEARNER, 2000), (err) => {
      assert.ok(!(err instanceof EtcdError), "not final: the sender retries");
    });
    assert.ok(lines.some((l) => l.includes("error promoting member 5 (membership: ID not found)")));
    api.primary = true;

    const raw = (path: string, method = "POST") =>
      request(new URL(url), { method, path, timeoutMs: 2000 });
    const notFound = await raw("/members/promote/5");
    assert.equal(notFound.status, 404);
    assert.equal(text(notFound.body), "membership: ID not found\n");
    assert.equal(notFound.headers.get("x-etcd-cluster-id"), CID.toString(16));
    const bad = await raw("/members/promote/abc");
    assert.equal(bad.status, 404);
    assert.equal(text(bad.body), "member abc not found in cluster\n");
    const voter = await raw(`/members/promote/${LEADER}`);
    assert.equal(voter.status, 412);
    assert.equal(text(voter.body), "membership: can only promote a learner member\n");
    const get = await raw(`/members/promote/${LEARNER}`, "GET");
    assert.equal(get.status, 405);
    assert.equal(get.headers.get("allow"), "POST");
  });
});

Deno.test("GET /members/hashkv: Go's JSON of HashKVResponse for the requested revision", async () => {
  await withLeader(async (url) => {
    assert.deepEqual(await client.hashKV(url, 0, 2000), {
      revision: 9,
      hash: 3628877040,
      compactRevision: -1,
    });
    const raw = (body: string | undefined, method = "GET") =>
      request(new URL(url), {
        method,
        path: "/members/hashkv",
        body: body === undefined ? undefined : [utf8.encode(body)],
        timeoutMs: 2000,
      });
    const ok = await raw('{"revision":3}');
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("content-type"), "application/json");
    assert.equal(
      text(ok.body),
      '{"header":{"revision":9},"hash":1084519789,"compact_revision":-1}',
    );
    assert.equal((await raw("{}")).status, 200);
    const empty = await raw(undefined);
    assert.equal(empty.status, 400);
    assert.equal(text(empty.body), "error unmarshalling request\n");
    const future = await raw('{"revision":10}');
    assert.equal(future.status, 400);
    assert.equal(text(future.body), "mvcc: required revision is a future revision\n");
    const post = await raw("{}", "POST");
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET");
  });
});

Deno.test("a listener without leader answers does not serve the forwarded paths", async () => {
  await withLeader(async (url) => {
    const r = await request(new URL(url), { method: "POST", path: "/leases", timeoutMs: 2000 });
    assert.equal(r.status, 404);
    assert.equal(text(r.body), "404 page not found\n");
  }, { leader: undefined });
});

Deno.test("an aborted client drops its request; an unreachable leader is a retryable error", async () => {
  const controller = new AbortController();
  const aborting = createLeaderClient({ signal: controller.signal });
  await withLeader(async (url) => {
    controller.abort();
    await assert.rejects(aborting.renewLease(url, LEASE, 2000));
  });
  await rejectsWith(client.renewLease(`http://${LEADER_HOST}:1`, LEASE, 500), (err) => {
    assert.ok(!(err instanceof EtcdError));
  });
});

Deno.test("HashKV JSON: zero fields omitted; request bodies read as Go's Unmarshal would", () => {
  assert.equal(formatHashKVJSON({ revision: 0, hash: 0, compactRevision: 0 }), '{"header":{}}');
  assert.equal(
    formatHashKVJSON({ revision: 4, hash: 1, compactRevision: 3 }),
    '{"header":{"revision":4},"hash":1,"compact_revision":3}',
  );
  assert.deepEqual(parseHashKVJSON('{"header":{}}'), { revision: 0, hash: 0, compactRevision: 0 });
  assert.equal(parseHashKVRequest('{"Revision":5}'), 5);
  assert.equal(parseHashKVRequest("null"), 0);
  assert.equal(parseHashKVRequest('{"revision":null,"other":"x"}'), 0);
  assert.throws(() => parseHashKVRequest('{"revision":"5"}'));
  assert.throws(() => parseHashKVRequest("[]"));
  assert.throws(() => parseHashKVRequest(""));
  assert.equal(GrpcCode.NotFound, Errors.leaseNotFound().code);
});
