// --experimental-warning-apply-duration, --initial-election-tick-advance and
// --experimental-backend-bbolt-freelist-type, side by side with a real etcd 3.4 given the same
// flags and the same requests: the same warning lines (request text, result, metric), the same
// election tick advance lines. Address block 127.0.143.x: single members on .1 (etcd) and .2
// (etcd-ts), three-member clusters on .10-.12 (etcd-ts) and .20-.22 (etcd).
import assert from "node:assert/strict";
import { makeCluster } from "../helpers/cluster.ts";
import {
  itest,
  metricValue,
  type Proc,
  run,
  singleMemberFlags,
  spawn,
  startEtcdTs,
  stop,
} from "../helpers/process.ts";
import { assertPortsFree } from "../helpers/ports.ts";
import { etcdctl } from "../helpers/etcdctl.ts";
import { tempDir } from "../helpers/tmp.ts";

const ETCD_IP = "127.0.143.1";
const OURS_IP = "127.0.143.2";
const BLOCK = "127.0.143";

/** The same requests on both: writes that succeed, one that fails at apply, reads. */
async function workload(endpoint: string): Promise<void> {
  const ok = async (...args: string[]) => {
    const r = await etcdctl(endpoint, ...args);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  };
  await ok("put", "foo", "bar");
  await ok("put", "foo", "");
  await ok("get", "foo");
  await ok("put", "k", "v", "--prev-kv");
  await ok("del", "foo");
  await ok("get", "a", "--prefix", "--limit", "1", "--sort-by=MODIFY", "--order=DESCEND");
  await ok("compact", "3");
  // Compacted already: refused when applied (etcd's failed-request warning).
  assert.notEqual((await etcdctl(endpoint, "compact", "2")).code, 0);
  await ok("get", "k", "--consistency=s");
  await ok("del", "k", "--prev-kv");
  const txn = await run("etcdctl", [`--endpoints=${endpoint}`, "txn"], {
    env: { ETCDCTL_API: "3" },
    stdin: 'value("foo") = "x"\n\nput a 1\nput b 22\n\nget a\n\n',
  });
  assert.equal(txn.code, 0, txn.stderr);
}

/** The warning lines, without times, durations and the IDs that differ between the two. */
function warnings(p: Proc): string[] {
  return p.lines
    .filter((l) => /took too long|failed to apply request/.test(l))
    .map((l) =>
      l.replace(/^\S+ \S+ /, "")
        .replace(/ID:\d+/g, "ID:N")
        .replace(/\((?:took )?[\d.]+[µnm]?s\)/g, "(T)")
        .replace(/members\/[0-9a-f]+\/attributes/, "members/X/attributes")
        .replace(/127\.0\.143\.[12]/g, "IP")
    )
    .sort();
}

const slowApplyTotal = (ip: string) =>
  metricValue(`http://${ip}:2379`, "etcd_server_slow_apply_total");

itest(
  "slow-apply warnings, the tick advance of a lone member and the freelist flag, side by side with etcd",
  async () => {
    await assertPortsFree(ETCD_IP, [2379, 2380]);
    await assertPortsFree(OURS_IP, [2379, 2380]);
    const dir = tempDir().path;
    // 1ns: every request is slow. The tick advance flag off changes nothing for a lone member.
    const flags = [
      "--experimental-warning-apply-duration=1ns",
      "--initial-election-tick-advance=false",
      "--experimental-backend-bbolt-freelist-type=map",
    ];
    const etcd = spawn("etcd", [...singleMemberFlags("n1", ETCD_IP, `${dir}/etcd`), ...flags]);
    const ours = startEtcdTs([...singleMemberFlags("n1", OURS_IP, `${dir}/ours`), ...flags]);
    try {
      await Promise.all([etcd, ours].map((p) => p.waitFor("ready to serve client requests")));
      await workload(`http://${ETCD_IP}:2379`);
      await workload(`http://${OURS_IP}:2379`);
      const [ew, ow] = [warnings(etcd), warnings(ours)];
      assert.deepEqual(ow, ew);
      // Every kind of line showed up: v2 requests, puts, reads, the txn, the failed compaction.
      for (
        const re of [
          /Path:\\"\/0\/version\\" Val:\\"3\.4\.0\\"/,
          /put:<key:\\"k\\" value_size:1 prev_kv:true >" with result "size:4"/,
          /^W \| etcdserver: read-only range request "key:\\"k\\" serializable:true "/,
          /txn:<compare:<target:VALUE key:\\"foo\\" value_size:1 > success:<request_put/,
          /^W \| etcdserver: failed to apply request .*compaction:<revision:2 > " with response "" took \(T\) to execute, err is mvcc: required revision has been compacted$/,
        ]
      ) assert.ok(ow.some((l) => re.test(l)), `no line like ${re}:\n${ow.join("\n")}`);
      const slow = await slowApplyTotal(OURS_IP);
      assert.equal(slow, await slowApplyTotal(ETCD_IP));
      assert.equal(slow, ow.filter((l) => l.includes("took too long")).length);

      for (const p of [etcd, ours]) {
        assert.ok(
          p.lines.some((l) =>
            / as single-node; fast-forwarding 9 ticks \(election ticks 10\)$/.test(l)
          ),
        );
      }
      assert.ok(
        ours.lines.some((l) =>
          l.includes("--experimental-backend-bbolt-freelist-type=map has no effect")
        ),
      );
    } finally {
      await Promise.all([stop(etcd), stop(ours)]);
      Deno.removeSync(dir, { recursive: true });
    }
  },
);

itest("a threshold of 1h: no slow warnings, only etcd's warning of the failed apply", async () => {
  await assertPortsFree(OURS_IP, [2379, 2380]);
  const dir = tempDir().path;
  const ours = startEtcdTs([
    ...singleMemberFlags("n1", OURS_IP, `${dir}/ours`),
    "--experimental-warning-apply-duration=1h",
  ]);
  try {
    await ours.waitFor("ready to serve client requests");
    await workload(`http://${OURS_IP}:2379`);
    // The failed compaction still warns: etcd logs every failed apply, slow or not.
    assert.deepEqual(warnings(ours).map((l) => l.slice(0, 40)), [
      "W | etcdserver: failed to apply request ",
    ]);
    assert.equal(await slowApplyTotal(OURS_IP), 0);
  } finally {
    await stop(ours);
    Deno.removeSync(dir, { recursive: true });
  }
});

/**
 * The tick advance lines of a fresh three-member cluster of `etcd` or etcd-ts members, once
 * each member has logged `expected` (a member may advance after the others elected a leader).
 */
async function tickAdvance(etcd: boolean, extra: string[], expected: RegExp): Promise<string[][]> {
  const cluster = await makeCluster(BLOCK, 3, "ticks", { etcd, firstHost: etcd ? 20 : 10 });
  try {
    for (let i = 0; i < 3; i++) cluster.start(i, extra);
    await Promise.all(
      // etcd's zap logger says "serving client traffic" where capnslog says "ready to serve".
      cluster.members.map((m) =>
        m.proc!.waitFor(/ready to serve client requests|serving client traffic/, 30_000)
      ),
    );
    await Promise.all(cluster.members.map((m) => m.proc!.waitFor(expected, 10_000)));
    return cluster.members.map((m) =>
      m.proc!.lines
        .filter((l) => /tick advance|fast-forwarding/.test(l))
        .map((l) =>
          (l.startsWith("{")
            ? l.replace(/"ts":"[^"]*","caller":"[^"]*",/, "")
            : l.replace(/^\S+ \S+ /, ""))
            .replace(/[0-9a-f]{16}/g, "ID")
        )
    );
  } finally {
    await cluster.stopAll();
  }
}

itest(
  "--initial-election-tick-advance: a member with its peers up skips 8 of 10 ticks, as etcd; =false skips none",
  async () => {
    const advanced = [
      "I | etcdserver: ID initialized peer connection; fast-forwarding 8 ticks (election ticks 10) with 2 active peer(s)",
    ];
    const etcdOn = await tickAdvance(true, [], /fast-forwarding/);
    const oursOn = await tickAdvance(false, [], /fast-forwarding/);
    assert.deepEqual(etcdOn, [advanced, advanced, advanced]);
    assert.deepEqual(oursOn, etcdOn);

    const skipped = [
      '{"level":"info","msg":"skipping initial election tick advance","election-ticks":10}',
    ];
    const off = ["--initial-election-tick-advance=false", "--logger=zap"];
    const etcdOff = await tickAdvance(true, off, /skipping initial election tick advance/);
    const oursOff = await tickAdvance(false, off, /skipping initial election tick advance/);
    assert.deepEqual(etcdOff, [skipped, skipped, skipped]);
    assert.deepEqual(oursOff, etcdOff);
  },
);
