// The same requests on a real etcd 3.4.23 and on etcd-ts, then every series whose value etcd
// determines by the requests alone must be equal: mvcc ops (puts, ranges, deletes, txns and
// their sizes), keys and revisions, compaction, leases, watches and events, hashes and
// defragmentation, gRPC calls and bytes per method, client versions, proposals. The two
// members run one after the other on the same address (127.0.180.2), so member and cluster
// IDs, and with them every response's size, are the same.
import assert from "node:assert/strict";
import {
  itest,
  type Proc,
  singleMemberFlags,
  startReady,
  startReadyEtcd,
  stop,
} from "../../helpers/process.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { assertPortsFree } from "../../helpers/ports.ts";
import { etcdctl, etcdctlWith, spawnEtcdctl } from "../../helpers/etcdctl.ts";
import { ETCD_TS_FAMILIES, type Exposition, scrape, series, value } from "../../helpers/metrics.ts";
import { until } from "../../helpers/wait.ts";

const IP = "127.0.180.2";
const EP = `http://${IP}:2379`;

// What the requests do not decide, each for its reason.
const NOT_COMPARED = new RegExp(
  "^(" + [
    // The process, the runtime, and the scrapes the test makes while waiting.
    "process_.*",
    "os_fd_.*",
    "go_.*",
    "promhttp_.*",
    "etcd_server_go_version",
    // Timings: every sum and bucket of a latency histogram, and counts that follow the clock
    // (backend commits every 100 ms, WAL fsyncs per raft batch).
    ".*_seconds_(sum|bucket)",
    ".*_milliseconds_(sum|bucket)",
    "etcd_disk_backend_commit_duration_seconds_count",
    "etcd_debugging_disk_backend_commit_.*_count",
    "etcd_disk_wal_fsync_duration_seconds_count",
    // Applies slower than --experimental-warning-apply-duration (100 ms): a matter of load.
    "etcd_server_slow_apply_total",
    // Storage engines: SQLite's file, pages and read transactions are not bbolt's; WAL records
    // carry request IDs drawn from the clock.
    "etcd_(debugging_)?mvcc_db_total_size.*",
    "etcd_mvcc_db_open_read_transactions",
    "etcd_disk_wal_write_bytes_total",
    // etcd keeps its membership in its v2 store, which counts those writes (and the reads made
    // at start) here.
    "etcd_debugging_store_.*",
    // Linked into etcd's binary, not a member's.
    "etcd_grpc_proxy_.*",
    // A stream the client ends: etcd records Canceled or Unavailable ("no leader"), whichever
    // of its two goroutines sees the end first. The totals are compared below.
    'grpc_server_handled_total\\{grpc_code="(Canceled|Unavailable)",grpc_method="(LeaseKeepAlive|Watch)".*',
  ].join("|") + ")(\\{.*)?$",
);

async function ok(...args: string[]): Promise<string> {
  const r = await etcdctl(EP, ...args);
  assert.equal(r.code, 0, `etcdctl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

async function txn(script: string): Promise<void> {
  const r = await etcdctlWith({ stdin: script })(EP, "txn");
  assert.equal(r.code, 0, r.stderr);
}

/** Polls the member's metrics until `check` holds (gauges that follow a client's going). */
async function metricsUntil(check: (m: Exposition) => boolean, what: string): Promise<void> {
  let m = await scrape(EP);
  const deadline = Date.now() + 10_000;
  while (!check(m)) {
    assert.ok(Date.now() < deadline, `timed out waiting until ${what}`);
    m = await scrape(EP);
  }
}

/** Puts, reads, deletes, txns, a lease with keys, a watch, compaction, hash, defrag, gateway. */
async function workload(): Promise<void> {
  for (const [k, v] of [["a", "1"], ["b", "2"], ["c1", "3"], ["c2", "4"]]) await ok("put", k, v);
  await ok("get", "a");
  await ok("get", "--prefix", "");
  await ok("get", "--consistency=s", "a");
  await ok("get", "--keys-only", "--limit=1", "--prefix", "c");
  await ok("get", "--rev=2", "a");
  await ok("put", "--prev-kv", "a", "10");
  await ok("put", "--ignore-value", "a");
  await ok("del", "b");
  await ok("del", "nokey");
  await ok("del", "--prev-kv", "--prefix", "c");
  // A failed compare takes the else branch (a put and a read); a read-only txn after it.
  await txn('value("a") = "x"\n\nput t 1\n\nput t 2\nget t\n\n');
  await txn('create("t") > "0"\nversion("a") > "0"\n\nget t\nget a\n\n\n');
  // Before any key carries a lease: lease IDs come from the clock, and the hash's size on the
  // wire would follow them.
  await ok("compact", "5");
  await ok("endpoint", "hashkv");
  await ok("defrag");
  const lease = /lease ([0-9a-f]+) granted/.exec(await ok("lease", "grant", "100"))![1];
  await ok("put", `--lease=${lease}`, "k1", "v");
  await ok("put", `--lease=${lease}`, "k2", "v");
  await ok("lease", "keep-alive", "--once", lease);
  await ok("lease", "timetolive", "--keys", lease);
  await ok("lease", "revoke", lease);
  await watchTwoEvents();
  const res = await fetch(`${EP}/v3/kv/put`, {
    method: "POST",
    body: '{"key":"Zm9v","value":"YmF6"}',
  });
  assert.equal(res.status, 200);
  await res.body?.cancel();
}

/** Two puts seen by a watcher that started before them, then the watcher gone. */
async function watchTwoEvents(): Promise<void> {
  const rev = value(await scrape(EP), "etcd_debugging_mvcc_current_revision") + 1;
  await ok("put", "w", "1");
  await ok("put", "w", "2");
  const watch: Proc = spawnEtcdctl(EP, ["watch", `--rev=${rev}`, "w"]);
  try {
    await until(() => watch.stdout.length >= 6, 10_000, "the watch printed both events");
    assert.deepEqual(watch.stdout.slice(0, 6), ["PUT", "w", "1", "PUT", "w", "2"]);
  } finally {
    watch.kill("SIGTERM");
    await watch.status;
  }
  await metricsUntil(
    (m) => value(m, "etcd_debugging_mvcc_watch_stream_total") === 0,
    "the watch stream is closed",
  );
}

/** Starts a member (etcd or etcd-ts) on the address, runs the workload, returns its metrics. */
async function measure(
  start: (args: string[]) => Promise<Proc>,
): Promise<{ after: Exposition; snapshot: Exposition }> {
  await assertPortsFree(IP, [2379, 2380]);
  const dir = tempDir().path;
  const member = await start(singleMemberFlags("m1", IP, `${dir}/data`));
  try {
    // etcd sets the cluster version just after it serves clients: wait for its entry.
    await metricsUntil((m) => m.has("etcd_cluster_version"), "the cluster version is set");
    await workload();
    const after = await scrape(EP);
    await ok("snapshot", "save", `${dir}/snap.db`);
    return { after, snapshot: await scrape(EP) };
  } finally {
    await stop(member);
  }
}

itest(
  "/metrics after the same requests: every series etcd's requests decide is equal",
  async () => {
    const etcd = await measure(startReadyEtcd);
    const ours = await measure(startReady);
    const theirs = series(etcd.after);
    const mine = series(ours.after);
    const differ: string[] = [];
    let compared = 0;
    for (const [name, v] of theirs) {
      if (NOT_COMPARED.test(name)) continue;
      if (mine.get(name) !== v) differ.push(`${name}: etcd ${v}, etcd-ts ${mine.get(name)}`);
      compared++;
    }
    for (const name of mine.keys()) {
      if (NOT_COMPARED.test(name) || ETCD_TS_FAMILIES.test(name.split("{")[0])) continue;
      if (!theirs.has(name)) differ.push(`${name}: not in etcd's`);
    }
    assert.deepEqual(differ, []);
    // The issue's own example, and the families the workload was built to move.
    assert.equal(value(ours.after, "etcd_mvcc_put_total"), 12);
    for (const name of ["range", "delete", "txn"]) {
      assert.ok(value(ours.after, `etcd_mvcc_${name}_total`) > 0, name);
    }
    assert.equal(value(ours.after, "etcd_debugging_mvcc_events_total"), 2);
    assert.equal(value(ours.after, "etcd_debugging_lease_revoked_total"), 1);
    assert.ok(compared > 400, `only ${compared} series compared`);
    for (const grpc_method of ["LeaseKeepAlive", "Watch"]) {
      const ended = (m: Exposition) =>
        ["Canceled", "Unavailable"]
          .map((grpc_code) => value(m, "grpc_server_handled_total", { grpc_code, grpc_method }))
          .reduce((a, b) => a + b);
      assert.equal(ended(ours.after), ended(etcd.after), grpc_method);
      assert.equal(ended(ours.after), 1, grpc_method);
    }
    // A snapshot: one more backend snapshot, the same Snapshot call on both.
    for (const name of ["etcd_disk_backend_snapshot_duration_seconds_count"]) {
      assert.equal(value(ours.snapshot, name), value(etcd.snapshot, name), name);
      assert.equal(value(ours.snapshot, name), 1);
    }
    const snap = { grpc_method: "Snapshot" };
    for (const name of ["grpc_server_started_total", "grpc_server_msg_sent_total"]) {
      assert.equal(value(ours.snapshot, name, snap), value(etcd.snapshot, name, snap), name);
    }
  },
);
