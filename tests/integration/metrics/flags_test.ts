// The metrics and profiling flags beside a real etcd 3.4.23: --listen-metrics-urls (its own
// listener with /metrics and /health only), --metrics=extensive (gRPC handling time
// histograms), --enable-pprof (V8 profiles under /debug/pprof/), and the refusal of an https
// metrics URL without certificates. etcd-ts on 127.0.181.2, etcd on 127.0.182.2.
import assert from "node:assert/strict";
import {
  ETCD_TS,
  itest,
  type Proc,
  singleMemberFlags,
  spawn,
  startReady,
  startReadyEtcd,
  stop,
} from "../../helpers/process.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { assertPortsFree } from "../../helpers/ports.ts";
import { etcdctl } from "../../helpers/etcdctl.ts";
import { scrape, shape, value } from "../../helpers/metrics.ts";

const IP = "127.0.181.2";
const ETCD_IP = "127.0.182.2";
const FLAGS = ["--listen-metrics-urls", "", "--metrics", "extensive", "--enable-pprof"];

function flagsFor(ip: string): string[] {
  const f = [...FLAGS];
  f[1] = `http://${ip}:2381`;
  return [...singleMemberFlags("m1", ip, `${tempDir().path}/data`), ...f];
}

async function get(url: string): Promise<{ status: number; type: string | null; body: string }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
}

/** What a metrics URL answers, as comparable text. */
async function metricsPort(ip: string) {
  const base = `http://${ip}:2381`;
  return {
    health: await get(`${base}/health`),
    version: await get(`${base}/version`),
    pprof: (await get(`${base}/debug/pprof/`)).status,
  };
}

async function both(test: (ours: Proc, etcd: Proc) => Promise<void>): Promise<void> {
  await assertPortsFree(IP, [2379, 2380, 2381]);
  await assertPortsFree(ETCD_IP, [2379, 2380, 2381]);
  const ours = await startReady(flagsFor(IP));
  let etcd: Proc | undefined;
  try {
    etcd = await startReadyEtcd(flagsFor(ETCD_IP));
    await test(ours, etcd);
  } finally {
    if (etcd) await stop(etcd);
    await stop(ours);
  }
}

itest("--listen-metrics-urls and --metrics=extensive answer as etcd's", async () => {
  await both(async (ours, etcd) => {
    for (const [p, ip] of [[ours, IP], [etcd, ETCD_IP]] as const) {
      await p.waitFor(`embed: listening for metrics on http://${ip}:2381`);
      await p.waitFor("embed: pprof is enabled under /debug/pprof");
    }
    const mine = await metricsPort(IP);
    assert.deepEqual(mine, await metricsPort(ETCD_IP));
    assert.equal(mine.health.body, '{"health":"true"}');
    assert.equal(mine.version.status, 404);
    // The histogram is there for every method from the start, as etcd's, and times calls.
    const range = { grpc_method: "Range" };
    const before = await scrape(`http://${IP}:2381`);
    const theirs = await scrape(`http://${ETCD_IP}:2381`);
    const name = "grpc_server_handling_seconds";
    assert.equal(before.get(name)?.help, theirs.get(name)?.help);
    assert.deepEqual(shape(before.get(name)!), shape(theirs.get(name)!));
    assert.equal(value(before, `${name}_count`, range), 0);
    const r = await etcdctl(`http://${IP}:2379`, "get", "k");
    assert.equal(r.code, 0, r.stderr);
    const after = await scrape(`http://${IP}:2381`);
    assert.equal(value(after, `${name}_count`, range), 1);
    // Health checks on the metrics port count with the client port's (one so far).
    await get(`http://${IP}:2381/health`);
    assert.equal(value(await scrape(`http://${IP}:2379`), "etcd_server_health_success"), 2);
  });
});

itest("--enable-pprof: a V8 CPU profile and heap snapshot under /debug/pprof/", async () => {
  await assertPortsFree(IP, [2379, 2380, 2381]);
  const ours = await startReady(flagsFor(IP));
  const base = `http://${IP}:2379/debug/pprof`;
  try {
    const index = await get(`${base}/`);
    assert.equal(index.status, 200);
    assert.match(index.body, /href="profile"/);
    const res = await fetch(`${base}/profile?seconds=1`);
    assert.equal(res.status, 200);
    assert.equal(
      res.headers.get("content-disposition"),
      'attachment; filename="profile.cpuprofile"',
    );
    const profile = await res.json();
    assert.ok(Array.isArray(profile.nodes) && profile.nodes.length > 0);
    assert.ok(Array.isArray(profile.samples) && Array.isArray(profile.timeDeltas));
    // The asked-for second, in microseconds.
    assert.ok(profile.endTime - profile.startTime >= 900_000, "profiled for a second");
    const heap = await fetch(`${base}/heap`);
    assert.equal(
      heap.headers.get("content-disposition"),
      'attachment; filename="heap.heapsnapshot"',
    );
    const snapshot = await heap.json();
    assert.ok(snapshot.snapshot.meta.node_fields.includes("self_size"));
    assert.ok(snapshot.snapshot.node_count > 1000);
    const unknown = await get(`${base}/goroutine`);
    assert.deepEqual([unknown.status, unknown.body], [404, "Unknown profile\n"]);
    const cmdline = await get(`${base}/cmdline`);
    assert.ok(cmdline.body.split("\0").includes("--enable-pprof"));
  } finally {
    await stop(ours);
  }
});

itest("an https metrics URL without client certificates stops with etcd's message", async () => {
  const line = (ip: string) =>
    `etcdmain: cannot listen on TLS for ${ip}:2381: KeyFile and CertFile are not presented`;
  for (const [command, ip] of [["etcd", ETCD_IP], [ETCD_TS, IP]] as const) {
    await assertPortsFree(ip, [2379, 2380, 2381]);
    const flags = flagsFor(ip);
    flags[flags.indexOf("--listen-metrics-urls") + 1] = `https://${ip}:2381`;
    const p = spawn(command, flags);
    try {
      await p.waitFor(line(ip), 30_000);
      assert.equal((await p.status).code, 1, command);
    } finally {
      p.kill("SIGKILL");
      await p.status;
    }
  }
});
