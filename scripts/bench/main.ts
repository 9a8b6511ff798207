// `deno task bench`: the same load against etcd-ts and etcd 3.4, in alternating windows (A B,
// then B A, ...), suite by suite (suites.ts): per case a table of throughput, latency, server
// CPU per op, peak RSS, GC share and longest pause, the longest event-loop stall of etcd-ts and
// the generator's own CPU, with the ratios etcd-ts/etcd; then the suite's single figures (RSS
// after a preload, restart times), and in the core and memory suites what held each member's RSS
// where it was measured (memory_shares.ts). --baseline adds another etcd-ts checkout; --profile a
// CPU profile of each etcd-ts member and an allocation sample of the leader per case. See usage()
// in options.ts.

import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { makeClusterCerts } from "../../tests/helpers/certs.ts";
import {
  type Cluster,
  type ClusterTLS,
  copyMemberLogs,
  findExecutable,
  REPO as repo,
  restartMember,
  startCluster,
  stopCluster,
  type TargetName,
} from "./servers.ts";
import {
  type Figure,
  type Measurement,
  type Ratio,
  type Results,
  suiteTables,
  summarize,
} from "./report.ts";
import { fail, type Options, parseArgs } from "./options.ts";
import { captureProfile, leaderOf, printProfileSummary, summarizeProfile } from "./profile.ts";
import { captureAllocs, printAllocsSummary, summarizeAllocs } from "./allocs.ts";
import { caseConfig, type CaseSpec, type Stage, stages } from "./suites.ts";
import { generatorCommand, runWindow } from "./window.ts";
import { peakRssBytes, rssBytes } from "./procstat.ts";
import { type MemoryReading, memoryTables, readMemory } from "./memory_shares.ts";

/** One benchmarked cluster: a target, plain or over mutual TLS, on its own addresses. */
interface Variant {
  label: string;
  target: TargetName;
  tls: boolean;
  hosts: string[];
  /** The checkout whose scripts/etcd-ts runs (etcd-ts targets). */
  repo: string;
}

/** Fixed addresses: etcd-ts on 127.0.70.1.., etcd on .11..; over TLS .21.. and .31..; the
 * baseline etcd-ts on .41... */
function variants(opts: Options, stage: Stage): Variant[] {
  const out: Variant[] = [];
  const hosts = (base: number) =>
    Array.from({ length: stage.members }, (_, m) => `127.0.70.${base + m}`);
  for (const tls of stage.tls) {
    for (const target of opts.targets) {
      const base = (target === "etcd-ts" ? 1 : 11) + (tls ? 20 : 0);
      const label = tls ? `${target} mTLS` : target;
      out.push({ label, target, tls, hosts: hosts(base), repo });
    }
  }
  if (opts.baseline && opts.targets.includes("etcd-ts")) {
    const label = "etcd-ts base";
    out.push({ label, target: "etcd-ts", tls: false, hosts: hosts(41), repo: opts.baseline });
  }
  return out;
}

/** The ratio rows: etcd-ts against etcd per mode, each target's TLS against plain, and this
 * etcd-ts against the baseline (a row is printed where both targets ran). */
function ratios(opts: Options): Ratio[] {
  const out: Ratio[] = [
    { label: "etcd-ts/etcd", of: "etcd-ts", to: "etcd" },
    { label: "etcd-ts/etcd mTLS", of: "etcd-ts mTLS", to: "etcd mTLS" },
    { label: "etcd-ts base/etcd", of: "etcd-ts base", to: "etcd" },
    { label: "etcd-ts/etcd-ts base", of: "etcd-ts", to: "etcd-ts base" },
  ];
  for (const t of opts.targets) out.push({ label: `${t} mTLS/plain`, of: `${t} mTLS`, to: t });
  return out;
}

/** One certificate set (in `dir`) for every TLS cluster: one CA, one client certificate. */
async function clusterTLS(vs: Variant[], dir: string): Promise<Map<string, ClusterTLS>> {
  const tlsVariants = vs.filter((v) => v.tls);
  const out = new Map<string, ClusterTLS>();
  if (tlsVariants.length === 0) return out;
  const certs = await makeClusterCerts(tlsVariants.flatMap((v) => v.hosts), dir);
  let offset = 0;
  for (const v of tlsVariants) {
    const first = offset;
    out.set(v.label, {
      ca: certs.ca,
      member: (i) => certs.member(first + i),
      client: { ca: certs.ca, ...certs.client, servername: "etcd.test" },
    });
    offset += v.hosts.length;
  }
  return out;
}

/** Starts every variant of `stage` that can run here; the others are reported and skipped. */
async function startClusters(
  opts: Options,
  stage: Stage,
  workDir: string,
  clusters: Map<string, Cluster>,
): Promise<void> {
  const vs = variants(opts, stage);
  const stageDir = mkdtempSync(`${workDir}/${stage.suite}-`);
  const certs = await clusterTLS(vs, `${stageDir}/certs`);
  for (const v of vs) {
    const exe = findExecutable(v.target, v.repo);
    if (typeof exe !== "string") {
      console.error(`bench: skipping ${v.label}: ${exe.missing}`);
      continue;
    }
    const dataRoot = `${stageDir}/${v.label.replaceAll(" ", "-")}`;
    mkdirSync(dataRoot);
    const pprof = opts.profile !== undefined && v.target === "etcd-ts" && !v.tls;
    try {
      const tls = certs.get(v.label);
      const c = await startCluster(v.target, exe, v.hosts, dataRoot, { tls, pprof });
      clusters.set(v.label, c);
      console.error(`bench: ${v.label} serving on ${v.hosts.join(", ")}`);
    } catch (e) {
      console.error(`bench: skipping ${v.label}: ${(e as Error).message}`);
    }
  }
  if (clusters.size === 0) throw new Error("no target could be started");
}

/** A stage's run on its clusters: the generator's command, the options, where results go. */
interface StageRun {
  opts: Options;
  stage: Stage;
  cmd: string[];
  clusters: Map<string, Cluster>;
  results: Results;
  /** What held each cluster's RSS where it was measured (stages with memoryShares). */
  memory: MemoryReading[];
}

const endpointsOf = (c: Cluster) => c.members.map((m) => ({ host: m.host, port: m.clientPort }));
const maxRss = (c: Cluster, read: (pid: number) => number | undefined) =>
  Math.max(...c.members.map((m) => read(m.pid) ?? NaN));

/** What holds each cluster's RSS now, where the stage asks for it. */
async function memoryShares(r: StageRun, moment: string): Promise<void> {
  if (!r.stage.memoryShares) return;
  for (const [label, c] of r.clusters) {
    r.memory.push(await readMemory(r.stage.suite, moment, label, c));
  }
}

function figure(r: StageRun, name: string, unit: string): Figure {
  let f = r.results.figures.find((x) => x.suite === r.stage.suite && x.name === name);
  if (!f) r.results.figures.push(f = { suite: r.stage.suite, name, unit, values: new Map() });
  return f;
}

/** The stage's counted loads on each cluster, and the RSS figures they ask for. */
async function prepare(r: StageRun): Promise<void> {
  for (const p of r.stage.prepare) {
    for (const [label, c] of r.clusters) {
      const cfg = caseConfig(r.opts, p.load, endpointsOf(c), c.clientTLS);
      const m = await runWindow(r.cmd, cfg, c);
      const failed = m.errors > 0 ? `, ${m.errors} failed (${m.firstError})` : "";
      console.error(`bench: ${label}: ${p.what} in ${m.elapsedSeconds.toFixed(1)} s${failed}`);
      if (p.rssFigure) {
        figure(r, p.rssFigure, "MiB").values.set(label, maxRss(c, peakRssBytes) / 2 ** 20);
      }
    }
    if (p.rssFigure) {
      const n = r.stage.members;
      await memoryShares(r, `after the ${p.what}, ${n} member${n === 1 ? "" : "s"}`);
    }
  }
}

/** One case: `windows` windows per cluster in alternating order, then its profile windows. */
async function measureCase(r: StageRun, spec: CaseSpec): Promise<void> {
  const labels = [...r.clusters.keys()];
  const all = new Map<string, Measurement[]>(labels.map((l) => [l, []]));
  const name = `${spec.scenario}: ${spec.label}`;
  for (let w = 0; w < r.opts.windows; w++) {
    for (const label of w % 2 === 0 ? labels : [...labels].reverse()) {
      const c = r.clusters.get(label)!;
      const m = await runWindow(
        r.cmd,
        caseConfig(r.opts, spec.load, endpointsOf(c), c.clientTLS),
        c,
      );
      const rate = Math.round(m.ops / m.elapsedSeconds);
      const errors = m.errors ? `, ${m.errors} errors (${m.firstError})` : "";
      console.error(`bench: ${name} ${label} window ${w + 1}: ${rate} ${spec.unit}/s${errors}`);
      all.get(label)!.push(m);
    }
  }
  const byTarget = new Map(labels.map((l) => [l, summarize(all.get(l)!)]));
  r.results.cases.push({ suite: r.stage.suite, ...spec, byTarget });
  await memoryShares(r, `after ${name}`);
  if (r.opts.profile) await profileWindows(r, spec);
}

/** One more window per plain etcd-ts cluster, with a CPU profile of each of its members over
 * it (the leader's, then the followers'). */
async function profileWindows(r: StageRun, spec: CaseSpec): Promise<void> {
  const slug = `${spec.scenario}-${spec.label}`.replace(/[^A-Za-z0-9]+/g, "-");
  for (const [label, c] of r.clusters) {
    if (c.target !== "etcd-ts" || c.clientTLS) continue;
    const leader = await leaderOf(c.members);
    const members = [leader, ...c.members.filter((m) => m !== leader)];
    const base = `${r.opts.profile}/${slug}-${label.replaceAll(" ", "-")}`;
    const fileOf = (i: number) =>
      i === 0 ? `${base}.cpuprofile` : `${base}-follower${i}.cpuprofile`;
    // The profiles start with the warm-up and last the window: they cover the measured part.
    const seconds = Math.ceil(r.opts.warmup + r.opts.seconds);
    const cfg = caseConfig(r.opts, spec.load, endpointsOf(c), c.clientTLS);
    const allocsFile = `${base}.heapprofile`;
    const [profiles, allocs, window] = await Promise.all([
      Promise.all(members.map((m, i) => captureProfile(m, seconds, fileOf(i)))),
      captureAllocs(leader, seconds, allocsFile),
      runWindow(r.cmd, cfg, c),
    ]);
    profiles.forEach((p, i) => {
      const role = i === 0 ? "leader" : "follower";
      printProfileSummary(
        `${slug} ${label} (${role} ${members[i].name}) -> ${fileOf(i)}`,
        summarizeProfile(p),
      );
    });
    printAllocsSummary(
      allocsFile,
      summarizeAllocs(allocs),
      seconds,
      window.ops / window.elapsedSeconds,
    );
  }
}

/** The member stopped cleanly and started again, then killed and recovered: each one's time
 * until it answers a linearizable Range, and its RSS then. */
async function restarts(r: StageRun): Promise<void> {
  const keys = `${r.opts.keys} keys`;
  for (
    const [how, signal] of [["start-up after SIGTERM", "SIGTERM"], [
      "recovery after SIGKILL",
      "SIGKILL",
    ]] as const
  ) {
    for (const [label, c] of r.clusters) {
      const ms = await restartMember(c.members[0], signal, c.clientTLS);
      figure(r, `${how}, ${keys}`, "ms").values.set(label, ms);
      figure(r, `RSS after the ${how.split(" ")[0]}`, "MiB").values.set(
        label,
        maxRss(c, rssBytes) / 2 ** 20,
      );
      console.error(`bench: ${label}: ${how} in ${ms.toFixed(0)} ms`);
    }
    await memoryShares(r, `after the ${how.split(" ")[0]}`);
  }
}

async function runStage(r: StageRun, workDir: string): Promise<void> {
  try {
    await startClusters(r.opts, r.stage, workDir, r.clusters);
    await prepare(r);
    for (const spec of r.stage.cases) await measureCase(r, spec);
    if (r.stage.restarts) await restarts(r);
  } finally {
    for (const c of r.clusters.values()) await stopCluster(c);
    r.clusters.clear();
  }
}

function printSuite(
  opts: Options,
  suite: string,
  results: Results,
  memory: MemoryReading[],
): void {
  const targets = new Set<string>();
  for (const f of results.figures.filter((f) => f.suite === suite)) {
    for (const t of f.values.keys()) targets.add(t);
  }
  const setup = {
    generator: opts.generator,
    seconds: opts.seconds,
    windows: opts.windows,
    connections: opts.connections,
    inflight: opts.inflight,
  };
  console.log(`== ${suite} == ` + Object.entries(setup).map(([k, v]) => `${k}=${v}`).join(" "));
  console.log(suiteTables(suite, results, [...targets], ratios(opts)).join("\n"));
  console.log(memoryTables(memory.filter((m) => m.suite === suite)).join("\n"));
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const all = stages(opts);
  if (all.length === 0) fail(`no case of the chosen suites is named like "${opts.cases}"`);
  const workDir = mkdtempSync(`${tmpdir()}/etcd-ts-bench-`);
  const clusters = new Map<string, Cluster>();
  const stopAll = async () => {
    for (const c of clusters.values()) await stopCluster(c);
    if (opts.logs) copyMemberLogs(workDir, opts.logs);
    rmSync(workDir, { recursive: true, force: true });
  };
  process.on("SIGINT", () => stopAll().then(() => process.exit(130)));
  try {
    if (opts.profile) mkdirSync(opts.profile, { recursive: true });
    const cmd = await generatorCommand(opts.generator, repo, workDir);
    const results: Results = { cases: [], figures: [] };
    const memory: MemoryReading[] = [];
    for (const [i, stage] of all.entries()) {
      await runStage({ opts, stage, cmd, clusters, results, memory }, workDir);
      if (all[i + 1]?.suite !== stage.suite) printSuite(opts, stage.suite, results, memory);
    }
  } finally {
    await stopAll();
  }
}

await main();
