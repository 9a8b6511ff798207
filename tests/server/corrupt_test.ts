// The leader's periodic corruption check (etcd's checkHashKV) on fake peers: each of etcd's
// three rules for a follower's answer, the leader's own hash changing under a read barrier,
// peers that cannot answer, and one CORRUPT alarm per check however many rules broke.
import assert from "node:assert/strict";
import { CorruptionChecker, type PeerHashKV } from "../../src/server/corrupt.ts";
import { testLog } from "../helpers/log.ts";

const LOCAL: PeerHashKV = { revision: 10, hash: 111, compactRevision: 4 };

function checker(answers: Record<string, PeerHashKV | Error>, locals = [LOCAL, LOCAL]) {
  const tl = testLog();
  let alarms = 0;
  let reads = 0;
  const c = new CorruptionChecker({
    log: tl.log,
    memberId: 0x1fn,
    localHash: () => locals[Math.min(reads, locals.length - 1)],
    peers: () => Object.keys(answers).map((url, i) => ({ id: BigInt(0xb + i), peerURLs: [url] })),
    peerHashKV: (url) => {
      const a = answers[url];
      return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
    },
    requestTimeoutMs: 7000,
    isLeader: () => true,
    linearizableRead: () => {
      reads++;
      return Promise.resolve();
    },
    raiseCorruptAlarm: () => {
      alarms++;
      return Promise.resolve();
    },
  });
  return { c, lines: tl.lines, alarms: () => alarms };
}

const text = (lines: string[]) => lines.map((l) => l.replace(/^\S+ \S+ /, ""));

Deno.test("followers that agree: no warning, no alarm", async () => {
  const { c, lines, alarms } = checker({
    "http://b": { revision: 10, hash: 111, compactRevision: 4 },
    // Behind on compaction: its hash is not comparable.
    "http://c": { revision: 9, hash: 999, compactRevision: 3 },
  });
  await c.checkPeers();
  assert.equal(alarms(), 0);
  assert.deepEqual(text(lines), ["I | etcdserver: finished peer corruption check"]);
});

Deno.test("each broken rule is logged as etcd does; one alarm for the check", async () => {
  const { c, lines, alarms } = checker({
    "http://b": { revision: 11, hash: 111, compactRevision: 4 },
    "http://c": { revision: 10, hash: 111, compactRevision: 5 },
    "http://d": { revision: 10, hash: 222, compactRevision: 4 },
    "http://e": new Error("hashkv: connection refused"),
  });
  await c.checkPeers();
  assert.equal(alarms(), 1);
  assert.deepEqual(text(lines), [
    'W | etcdserver: 1f hash-kv error "hashkv: connection refused" on peer "http://e" with revision 10',
    "W | etcdserver: revision 11 from member b, expected at most 10",
    "W | etcdserver: compact revision 5 from member c, expected at most 4",
    "W | etcdserver: hash 222 at revision 10 from member d, expected hash 111",
    "I | etcdserver: finished peer corruption check",
  ]);
});

Deno.test("the leader's own hash changing at the same revision raises the alarm", async () => {
  const { c, lines, alarms } = checker({}, [LOCAL, { ...LOCAL, hash: 112 }]);
  await c.checkPeers();
  assert.equal(alarms(), 1);
  assert.equal(text(lines)[0], "W | etcdserver: mismatched hashes 111 and 112 for revision 10");
});
