// The text exposition format against hand-written output in the shape Prometheus' Go client
// (and so etcd 3.4's /metrics) writes it.

import assert from "node:assert/strict";
import {
  Counter,
  exponentialBuckets,
  formatGoFloat,
  Gauge,
  Histogram,
  Registry,
} from "../../src/metrics/mod.ts";

Deno.test("formatGoFloat writes numbers as Go's FormatFloat(f, 'g', -1, 64)", () => {
  const cases: [number, string][] = [
    [0, "0"],
    [1, "1"],
    [-1, "-1"],
    [20480, "20480"],
    [524288, "524288"],
    [1048576, "1.048576e+06"],
    [2147483648, "2.147483648e+09"],
    [1795798609.52, "1.79579860952e+09"],
    [0.001, "0.001"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [0.03217072, "0.03217072"],
    [2 ** 64 - 1, "1.8446744073709552e+19"],
    [1e21, "1e+21"],
    [123456.5, "123456.5"],
    [Infinity, "+Inf"],
    [-Infinity, "-Inf"],
    [NaN, "NaN"],
  ];
  for (const [f, want] of cases) assert.equal(formatGoFloat(f), want, `${f}`);
});

Deno.test("exponentialBuckets matches etcd's disk buckets", () => {
  const b = exponentialBuckets(0.001, 2, 14);
  assert.equal(b.length, 14);
  assert.deepEqual(b.map(formatGoFloat).slice(-3), ["2.048", "4.096", "8.192"]);
});

Deno.test("exposition: sorted families and series, label escaping, histograms", () => {
  const r = new Registry();
  const handled = r.register(
    new Counter({
      name: "grpc_server_handled_total",
      help: "Total number of RPCs completed on the server, regardless of success or failure.",
      labelNames: ["grpc_type", "grpc_service", "grpc_method", "grpc_code"],
    }),
  );
  const unary = { grpc_type: "unary", grpc_service: "etcdserverpb.KV" };
  handled.labels({ ...unary, grpc_method: "Range", grpc_code: "OK" }).inc(3);
  handled.labels({ ...unary, grpc_method: "Put", grpc_code: "OK" }).inc();
  handled.labels({ ...unary, grpc_method: "Put", grpc_code: "InvalidArgument" }).inc();
  const hasLeader = r.register(
    new Gauge({
      name: "etcd_server_has_leader",
      help: "Whether or not a leader exists. 1 is existence, 0 is not.",
    }),
  );
  hasLeader.set(1);
  r.register(
    new Gauge({
      name: "etcd_server_version",
      help: "Which version is running. 1 for 'server_version' label with current version.",
      labelNames: ["server_version"],
    }),
  ).labels({ server_version: '3.4.23 "quoted" \\ back\nslash' }).set(1);
  // A family with labels but no series is left out entirely.
  r.register(new Counter({ name: "a_unused_total", help: "x", labelNames: ["To"] }));
  const h = r.register(
    new Histogram({
      name: "etcd_disk_wal_fsync_duration_seconds",
      help: "The latency distributions of fsync called by WAL.\nSecond line \\ too.",
      buckets: [0.001, 0.002, 0.004],
    }),
  );
  h.observe(0.0005);
  h.observe(0.001); // upper bounds are inclusive
  h.observe(0.003);
  h.observe(5);
  const rtt = r.register(
    new Histogram({ name: "rtt_seconds", help: "RTT", buckets: [1.048576e6], labelNames: ["To"] }),
  );
  rtt.labels({ To: "b" }).observe(1);
  rtt.labels({ To: "a" }).observe(2e6);
  r.register(new Counter({ name: "process_cpu_seconds_total", help: "CPU." })).inc(0.13);

  const want = [
    "# HELP etcd_disk_wal_fsync_duration_seconds The latency distributions of fsync called by WAL.\\nSecond line \\\\ too.",
    "# TYPE etcd_disk_wal_fsync_duration_seconds histogram",
    'etcd_disk_wal_fsync_duration_seconds_bucket{le="0.001"} 2',
    'etcd_disk_wal_fsync_duration_seconds_bucket{le="0.002"} 2',
    'etcd_disk_wal_fsync_duration_seconds_bucket{le="0.004"} 3',
    'etcd_disk_wal_fsync_duration_seconds_bucket{le="+Inf"} 4',
    "etcd_disk_wal_fsync_duration_seconds_sum 5.0045",
    "etcd_disk_wal_fsync_duration_seconds_count 4",
    "# HELP etcd_server_has_leader Whether or not a leader exists. 1 is existence, 0 is not.",
    "# TYPE etcd_server_has_leader gauge",
    "etcd_server_has_leader 1",
    "# HELP etcd_server_version Which version is running. 1 for 'server_version' label with current version.",
    "# TYPE etcd_server_version gauge",
    'etcd_server_version{server_version="3.4.23 \\"quoted\\" \\\\ back\\nslash"} 1',
    "# HELP grpc_server_handled_total Total number of RPCs completed on the server, regardless of success or failure.",
    "# TYPE grpc_server_handled_total counter",
    'grpc_server_handled_total{grpc_code="InvalidArgument",grpc_method="Put",grpc_service="etcdserverpb.KV",grpc_type="unary"} 1',
    'grpc_server_handled_total{grpc_code="OK",grpc_method="Put",grpc_service="etcdserverpb.KV",grpc_type="unary"} 1',
    'grpc_server_handled_total{grpc_code="OK",grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"} 3',
    "# HELP process_cpu_seconds_total CPU.",
    "# TYPE process_cpu_seconds_total counter",
    "process_cpu_seconds_total 0.13",
    "# HELP rtt_seconds RTT",
    "# TYPE rtt_seconds histogram",
    'rtt_seconds_bucket{To="a",le="1.048576e+06"} 0',
    'rtt_seconds_bucket{To="a",le="+Inf"} 1',
    'rtt_seconds_sum{To="a"} 2e+06',
    'rtt_seconds_count{To="a"} 1',
    'rtt_seconds_bucket{To="b",le="1.048576e+06"} 1',
    'rtt_seconds_bucket{To="b",le="+Inf"} 1',
    'rtt_seconds_sum{To="b"} 1',
    'rtt_seconds_count{To="b"} 1',
    "",
  ].join("\n");
  assert.equal(r.expose(), want);
});

Deno.test("registry: collectors run before each exposition; duplicate names refused", () => {
  const r = new Registry();
  const g = r.register(new Gauge({ name: "g", help: "h" }));
  let n = 0;
  r.addCollector(() => g.set(++n));
  assert.match(r.expose(), /^g 1$/m);
  assert.match(r.expose(), /^g 2$/m);
  assert.throws(() => r.register(new Counter({ name: "g", help: "again" })), /already registered/);
  const c = r.register(new Counter({ name: "c_total", help: "h", labelNames: ["x"] }));
  assert.throws(() => c.labels({} as { x: string }), /needs labels x/);
  assert.throws(() => c.labels({ x: "1" }).inc(-1), /only go up/);
});
