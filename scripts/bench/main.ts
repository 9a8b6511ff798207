// `deno task bench`: the same gRPC load (or, with --gateway-http1, JSON gateway requests over
// HTTP/1.1 keep-alive connections) against etcd-ts and etcd 3.4, in alternating windows
// (A B, then B A, ...), and a table of throughput, latency, server CPU per op, peak RSS and the
// generator's own CPU. With --tls, each target also runs over mutual TLS, and the table adds
// what TLS costs each. See usage() for the options.

import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { LoadConfig, LoadResult } from "./load.ts";
import { cpuSeconds, peakRssBytes } from "./procstat.ts";
import { makeClusterCerts } from "../../tests/helpers/certs.ts";
import {
  type Cluster,
  type ClusterTLS,
  findExecutable,
  startCluster,
  stopCluster,
  type TargetName,
} from "./servers.ts";
import { type Measurement, printReport, type Ratio } from "./report.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");

interface Options {
  workloads: ("put" | "range")[];
  seconds: number;
  windows: number;
  warmup: number;
  targets: TargetName[];
  members: number;
  generator: "node" | "deno";
  connections: number;
  inflight: number;
  tls: boolean;
  transport: "grpc" | "gateway-http1";
  valueSize: number;
}

function usage(): string {
  return `usage: deno task bench [options]
  --workload put|range|all   workloads to run (default all)
  --seconds N                length of one measured window (default 5)
  --windows N                windows per target per workload, alternating order (default 2)
  --warmup N                 seconds of unmeasured load before each window (default 1)
  --only etcd|etcd-ts        benchmark one target only
  --members N                members per cluster (default 1)
  --generator node|deno      runtime of the load generator (default node)
  --connections N            HTTP/2 connections (default 8)
  --inflight N               requests in flight (default 64)
  --tls                      also run each target over mutual TLS (https, the guide's client and
                             peer TLS flags with client-cert-auth, openssl-made certificates)
  --gateway-http1            the JSON gateway (/v3/kv/put, /v3/kv/range) over HTTP/1.1 instead
                             of gRPC: one keep-alive connection per request in flight
  --value-size N             bytes of each put's value (default 256)
Issue 16's figure: --gateway-http1 --workload put --inflight 32 --value-size 1024`;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    workloads: ["put", "range"],
    seconds: 5,
    windows: 2,
    warmup: 1,
    targets: ["etcd-ts", "etcd"],
    members: 1,
    generator: "node",
    connections: 8,
    inflight: 64,
    tls: false,
    transport: "grpc",
    valueSize: 256,
  };
  const positive = (flag: string, v: string | undefined, integer = true): number => {
    const n = Number(v);
    if (v === undefined || !(n > 0) || (integer && !Number.isInteger(n))) {
      fail(`${flag} needs a positive ${integer ? "integer" : "number"}, got ${v ?? "nothing"}`);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    let flag = argv[i], value: string | undefined;
    const eq = flag.indexOf("=");
    if (eq > 0) [flag, value] = [flag.slice(0, eq), flag.slice(eq + 1)];
    const next = () => value ?? argv[++i];
    switch (flag.replace(/^--?/, "--")) {
      case "--workload": {
        const v = next();
        if (v === "all") o.workloads = ["put", "range"];
        else if (v === "put" || v === "range") o.workloads = [v];
        else fail(`--workload must be put, range or all, got ${v}`);
        break;
      }
      case "--seconds":
        o.seconds = positive(flag, next(), false);
        break;
      case "--windows":
        o.windows = positive(flag, next());
        break;
      case "--warmup":
        o.warmup = Number(next());
        if (!(o.warmup >= 0)) fail("--warmup needs a number of seconds");
        break;
      case "--only": {
        const v = next();
        if (v !== "etcd" && v !== "etcd-ts") fail(`--only must be etcd or etcd-ts, got ${v}`);
        o.targets = [v as TargetName];
        break;
      }
      case "--members":
        o.members = positive(flag, next());
        if (o.members > 9) fail("--members is at most 9");
        break;
      case "--generator": {
        const v = next();
        if (v !== "node" && v !== "deno") fail(`--generator must be node or deno, got ${v}`);
        o.generator = v as "node" | "deno";
        break;
      }
      case "--connections":
        o.connections = positive(flag, next());
        break;
      case "--inflight":
        o.inflight = positive(flag, next());
        break;
      case "--tls":
        o.tls = true;
        break;
      case "--gateway-http1":
        o.transport = "gateway-http1";
        break;
      case "--value-size":
        o.valueSize = positive(flag, next());
        break;
      case "--help":
        console.log(usage());
        process.exit(0);
        break;
      default:
        fail(`unknown option ${argv[i]}`);
    }
  }
  return o;
}

function fail(msg: string): never {
  console.error(`bench: ${msg}\n${usage()}`);
  process.exit(2);
}

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
    let startServer = 0, startGen = 0;
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
        startServer = serverCpu();
        startGen = cpuSeconds(child.pid!) ?? NaN;
      } else if (msg.event === "end") {
        const r = msg as unknown as LoadResult;
        result = {
          ...r,
          serverCpuSeconds: serverCpu() - startServer,
          generatorCpuSeconds: (cpuSeconds(child.pid!) ?? NaN) - startGen,
          peakRssBytes: Math.max(...pids.map((pid) => peakRssBytes(pid) ?? NaN)),
        };
        child.stdin!.end(); // counters read: the generator may exit
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
}

/** Fixed addresses: etcd-ts on 127.0.70.1.., etcd on .11..; over TLS .21.. and .31... */
function variants(opts: Options): Variant[] {
  const out: Variant[] = [];
  for (const tls of opts.tls ? [false, true] : [false]) {
    for (const target of opts.targets) {
      const base = (target === "etcd-ts" ? 1 : 11) + (tls ? 20 : 0);
      out.push({
        label: tls ? `${target} mTLS` : target,
        target,
        tls,
        hosts: Array.from({ length: opts.members }, (_, m) => `127.0.70.${base + m}`),
      });
    }
  }
  return out;
}

/** The ratio rows: etcd-ts against etcd per mode, and each target's TLS against plain. */
function ratios(opts: Options): Ratio[] {
  const out: Ratio[] = [{ label: "etcd-ts/etcd", of: "etcd-ts", to: "etcd" }];
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
    const vs = variants(opts);
    const certs = await clusterTLS(vs, `${workDir}/certs`);
    for (const v of vs) {
      const exe = findExecutable(v.target, repo);
      if (typeof exe !== "string") {
        console.error(`bench: skipping ${v.label}: ${exe.missing}`);
        continue;
      }
      const dataRoot = `${workDir}/${v.label.replace(" ", "-")}`;
      mkdirSync(dataRoot);
      try {
        const c = await startCluster(v.target, exe, v.hosts, dataRoot, certs.get(v.label));
        clusters.set(v.label, c);
        console.error(`bench: ${v.label} serving on ${v.hosts.join(", ")}`);
      } catch (e) {
        console.error(`bench: skipping ${v.label}: ${(e as Error).message}`);
      }
    }
    if (clusters.size === 0) throw new Error("no target could be started");
    const cmd = await generatorCommand(opts.generator, workDir);
    const targets = [...clusters.keys()];
    const all = new Map<string, Measurement[]>();
    for (const workload of opts.workloads) {
      for (let w = 0; w < opts.windows; w++) {
        const order = w % 2 === 0 ? targets : [...targets].reverse();
        for (const target of order) {
          const cluster = clusters.get(target)!;
          const cfg: LoadConfig = {
            endpoints: cluster.members.map((m) => ({ host: m.host, port: m.clientPort })),
            workload,
            seconds: opts.seconds,
            warmupSeconds: opts.warmup,
            connections: opts.connections,
            inflight: opts.inflight,
            keySpace: 10_000,
            valueSize: opts.valueSize,
            tls: cluster.clientTLS,
            transport: opts.transport,
          };
          const m = await runWindow(cmd, cfg, cluster);
          console.error(
            `bench: ${workload} ${target} window ${w + 1}: ${
              Math.round(m.ops / m.elapsedSeconds)
            } ops/s${m.errors ? `, ${m.errors} errors (${m.firstError})` : ""}`,
          );
          const key = `${workload}\0${target}`;
          all.set(key, [...(all.get(key) ?? []), m]);
        }
      }
    }
    printReport(opts.workloads, targets, ratios(opts), all, {
      generator: opts.generator,
      transport: opts.transport,
      value: opts.valueSize,
      seconds: opts.seconds,
      windows: opts.windows,
      members: opts.members,
      connections: opts.transport === "grpc" ? opts.connections : opts.inflight,
      inflight: opts.inflight,
      tls: opts.tls ? "mutual" : "off",
    });
  } finally {
    await stopAll();
  }
}

await main();
