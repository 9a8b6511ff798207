// `deno task bench`: the same gRPC load against etcd-ts and etcd 3.4, in alternating windows
// (A B, then B A, ...), and a table of throughput, latency, server CPU per op, peak RSS, the
// longest event-loop stall of etcd-ts and the generator's own CPU. With --tls, each target also
// runs over mutual TLS, and the table adds what TLS costs each; --baseline adds another etcd-ts
// checkout; --profile a CPU profile of the etcd-ts leader. See usage() in options.ts.

import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { createInterface } from "node:readline";
import type { LoadConfig, LoadResult } from "./load.ts";
import { cpuSeconds, peakRssBytes } from "./procstat.ts";
import { makeClusterCerts } from "../../tests/helpers/certs.ts";
import {
  type Cluster,
  type ClusterTLS,
  findExecutable,
  REPO as repo,
  startCluster,
  stopCluster,
  type TargetName,
} from "./servers.ts";
import { type Measurement, printReport, type Ratio } from "./report.ts";
import { type Options, parseArgs } from "./options.ts";
import { captureProfile, leaderOf, printProfileSummary, summarizeProfile } from "./profile.ts";
import { longestStalls } from "./stalls.ts";

/** The generator's command line: Node runs a bundle (made here), Deno the source. */
async function generatorCommand(kind: "node" | "deno", workDir: string): Promise<string[]> {
  const entry = `${repo}/scripts/bench/generator.ts`;
  if (kind === "deno") return [process.execPath, "run", "-A", "--quiet", entry];
  const bundle = `${workDir}/generator.mjs`;
  const code = await run(process.execPath, [
    "bundle",
    "--quiet",
    "--platform",
    "deno",
    "--config",
    `${repo}/deno.json`,
    "-o",
    bundle,
    entry,
  ]);
  if (code !== 0) throw new Error("deno bundle of the load generator failed");
  return ["node", bundle];
}

function run(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ["ignore", "inherit", "inherit"] });
    p.once("error", reject);
    p.once("exit", (code) => resolve(code ?? 1));
  });
}

/** One window: spawn the generator, read CPU counters when it reports start and end. */
function runWindow(
  cmd: string[],
  cfg: LoadConfig,
  cluster: Cluster,
): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0], [...cmd.slice(1), JSON.stringify(cfg)], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    const pids = cluster.members.map((m) => m.pid);
    const serverCpu = () => pids.reduce((sum, pid) => sum + (cpuSeconds(pid) ?? NaN), 0);
    const stallLogs = cluster.members.flatMap((m) => m.stallLog ?? []);
    let startServer = 0, startGen = 0, startedAt = 0;
    let result: Measurement | undefined;
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      let msg: { event: string } & Partial<LoadResult>;
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      if (msg.event === "start") {
        startedAt = Date.now();
        startServer = serverCpu();
        startGen = cpuSeconds(child.pid!) ?? NaN;
      } else if (msg.event === "end") {
        const r = msg as unknown as LoadResult;
        result = {
          ...r,
          serverCpuSeconds: serverCpu() - startServer,
          generatorCpuSeconds: (cpuSeconds(child.pid!) ?? NaN) - startGen,
          peakRssBytes: Math.max(...pids.map((pid) => peakRssBytes(pid) ?? NaN)),
          stallMs: NaN,
          stallWallMs: NaN,
        };
        const endedAt = Date.now();
        // The member reports each second when it ends: wait for the window's last one.
        setTimeout(() => {
          const stalls = longestStalls(stallLogs, startedAt, endedAt);
          [result!.stallMs, result!.stallWallMs] = [stalls.ownMs, stalls.wallMs];
          child.stdin!.end(); // counters read: the generator may exit
        }, stallLogs.length > 0 ? 1100 : 0);
      }
    });
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    child.once("error", reject);
    lines.once("close", async () => {
      const code = await exited;
      if (result) resolve(result);
      else reject(new Error(`load generator exited with ${code} before reporting`));
    });
  });
}

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
function variants(opts: Options): Variant[] {
  const out: Variant[] = [];
  const hosts = (base: number) =>
    Array.from({ length: opts.members }, (_, m) => `127.0.70.${base + m}`);
  for (const tls of opts.tls ? [false, true] : [false]) {
    for (const target of opts.targets) {
      const base = (target === "etcd-ts" ? 1 : 11) + (tls ? 20 : 0);
      const label = tls ? `${target} mTLS` : target;
      out.push({ label, target, tls, hosts: hosts(base), repo });
    }
  }
  if (opts.baseline && opts.targets.includes("etcd-ts")) {
    out.push({
      label: "etcd-ts base",
      target: "etcd-ts",
      tls: false,
      hosts: hosts(41),
      repo: opts.baseline,
    });
  }
  return out;
}

/** The ratio rows: etcd-ts against etcd per mode, each target's TLS against plain, and this
 * etcd-ts against the baseline. */
function ratios(opts: Options): Ratio[] {
  const out: Ratio[] = [{ label: "etcd-ts/etcd", of: "etcd-ts", to: "etcd" }];
  if (opts.baseline) {
    out.push({ label: "etcd-ts base/etcd", of: "etcd-ts base", to: "etcd" });
    out.push({ label: "etcd-ts/etcd-ts base", of: "etcd-ts", to: "etcd-ts base" });
  }
  if (!opts.tls) return out;
  out.push({ label: "etcd-ts/etcd mTLS", of: "etcd-ts mTLS", to: "etcd mTLS" });
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

/** Starts every variant that can run here; the others are reported and skipped. */
async function startClusters(
  opts: Options,
  workDir: string,
  clusters: Map<string, Cluster>,
): Promise<void> {
  const vs = variants(opts);
  const certs = await clusterTLS(vs, `${workDir}/certs`);
  for (const v of vs) {
    const exe = findExecutable(v.target, v.repo);
    if (typeof exe !== "string") {
      console.error(`bench: skipping ${v.label}: ${exe.missing}`);
      continue;
    }
    const dataRoot = `${workDir}/${v.label.replaceAll(" ", "-")}`;
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

function loadConfig(opts: Options, workload: "put" | "range", cluster: Cluster): LoadConfig {
  return {
    endpoints: cluster.members.map((m) => ({ host: m.host, port: m.clientPort })),
    workload,
    seconds: opts.seconds,
    warmupSeconds: opts.warmup,
    connections: opts.connections,
    inflight: opts.inflight,
    keySpace: 10_000,
    valueSize: 256,
    tls: cluster.clientTLS,
  };
}

/** One more window per plain etcd-ts cluster, with a CPU profile of its leader over it. */
async function profileWindows(
  opts: Options,
  cmd: string[],
  workload: "put" | "range",
  clusters: Map<string, Cluster>,
): Promise<void> {
  for (const [label, cluster] of clusters) {
    if (cluster.target !== "etcd-ts" || cluster.clientTLS) continue;
    const leader = await leaderOf(cluster.members);
    const file = `${opts.profile}/${workload}-${label.replaceAll(" ", "-")}.cpuprofile`;
    // The profile starts with the warm-up and lasts the window: it covers the measured part.
    const seconds = Math.ceil(opts.warmup + opts.seconds);
    const [profile] = await Promise.all([
      captureProfile(leader, seconds, file),
      runWindow(cmd, loadConfig(opts, workload, cluster), cluster),
    ]);
    printProfileSummary(
      `${workload} ${label} (${leader.name}) -> ${file}`,
      summarizeProfile(profile),
    );
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const workDir = mkdtempSync(`${tmpdir()}/etcd-ts-bench-`);
  const clusters = new Map<string, Cluster>();
  const stopAll = async () => {
    for (const c of clusters.values()) await stopCluster(c);
    rmSync(workDir, { recursive: true, force: true });
  };
  process.on("SIGINT", () => stopAll().then(() => process.exit(130)));
  try {
    await startClusters(opts, workDir, clusters);
    if (opts.profile) mkdirSync(opts.profile, { recursive: true });
    const cmd = await generatorCommand(opts.generator, workDir);
    const targets = [...clusters.keys()];
    const all = new Map<string, Measurement[]>();
    for (const workload of opts.workloads) {
      for (let w = 0; w < opts.windows; w++) {
        const order = w % 2 === 0 ? targets : [...targets].reverse();
        for (const target of order) {
          const cluster = clusters.get(target)!;
          const m = await runWindow(cmd, loadConfig(opts, workload, cluster), cluster);
          console.error(
            `bench: ${workload} ${target} window ${w + 1}: ${
              Math.round(m.ops / m.elapsedSeconds)
            } ops/s${m.errors ? `, ${m.errors} errors (${m.firstError})` : ""}`,
          );
          const key = `${workload}\0${target}`;
          all.set(key, [...(all.get(key) ?? []), m]);
        }
      }
      if (opts.profile) await profileWindows(opts, cmd, workload, clusters);
    }
    printReport(opts.workloads, targets, ratios(opts), all, {
      generator: opts.generator,
      seconds: opts.seconds,
      windows: opts.windows,
      members: opts.members,
      connections: opts.connections,
      inflight: opts.inflight,
      tls: opts.tls ? "mutual" : "off",
    });
  } finally {
    await stopAll();
  }
}

await main();
