// One measured window: the load generator spawned against one cluster, the members' CPU time,
// peak RSS, garbage collections (from their logs) and event-loop stalls read when it reports the
// start and the end of its window.

import { spawn } from "node:child_process";
import { closeSync, openSync, readSync, statSync } from "node:fs";
import process from "node:process";
import { createInterface } from "node:readline";
import type { LoadConfig, LoadResult } from "./load_core.ts";
import { cpuSeconds, peakRssBytes } from "./procstat.ts";
import type { Cluster, Member } from "./servers.ts";
import type { Measurement } from "./report.ts";
import { longestStalls } from "./stalls.ts";
import { type GcStats, parseGoGcTrace, parseTraceGc } from "./gc.ts";

/** The generator's command line: Node runs a bundle (made here), Deno the source. */
export async function generatorCommand(
  kind: "node" | "deno",
  repo: string,
  workDir: string,
): Promise<string[]> {
  const entry = `${repo}/scripts/bench/generator.ts`;
  if (kind === "deno") return [process.execPath, "run", "-A", "--quiet", entry];
  const bundle = `${workDir}/generator.mjs`;
  const args = ["bundle", "--quiet", "--platform", "deno", "--config", `${repo}/deno.json`];
  const code = await new Promise<number>((resolve, reject) => {
    const p = spawn(process.execPath, [...args, "-o", bundle, entry], {
      stdio: ["ignore", "inherit", "inherit"],
    });
    p.once("error", reject);
    p.once("exit", (c) => resolve(c ?? 1));
  });
  if (code !== 0) throw new Error("deno bundle of the load generator failed");
  return ["node", bundle];
}

const logSize = (m: Member) => statSync(m.logFile).size;

/** What member `m` wrote to its log since byte `from`. */
function logSince(m: Member, from: number): string {
  const fd = openSync(m.logFile, "r");
  try {
    const buf = new Uint8Array(Math.max(0, statSync(m.logFile).size - from));
    const n = readSync(fd, buf, 0, buf.length, from);
    return new TextDecoder().decode(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

/** The members' collections since the log offsets `from`. */
function gcSince(cluster: Cluster, from: number[]): GcStats {
  const parse = cluster.target === "etcd-ts" ? parseTraceGc : parseGoGcTrace;
  const all: GcStats = { collections: 0, totalMs: 0, maxMs: 0 };
  cluster.members.forEach((m, i) => {
    const s = parse(logSince(m, from[i]));
    all.collections += s.collections;
    all.totalMs += s.totalMs;
    all.maxMs = Math.max(all.maxMs, s.maxMs);
  });
  return all;
}

/** One window: spawn the generator, read the counters when it reports start and end. */
export function runWindow(cmd: string[], cfg: LoadConfig, cluster: Cluster): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0], [...cmd.slice(1), JSON.stringify(cfg)], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    const pids = cluster.members.map((m) => m.pid);
    const serverCpu = () => pids.reduce((sum, pid) => sum + (cpuSeconds(pid) ?? NaN), 0);
    const stallLogs = cluster.members.flatMap((m) => m.stallLog ?? []);
    let startServer = 0, startGen = 0, startedAt = 0, logOffsets: number[] = [];
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
        logOffsets = cluster.members.map(logSize);
      } else if (msg.event === "end") {
        const r = msg as unknown as LoadResult;
        const gc = gcSince(cluster, logOffsets);
        result = {
          ...r,
          serverCpuSeconds: serverCpu() - startServer,
          generatorCpuSeconds: (cpuSeconds(child.pid!) ?? NaN) - startGen,
          peakRssBytes: Math.max(...pids.map((pid) => peakRssBytes(pid) ?? NaN)),
          gcMs: gc.totalMs,
          gcMaxPauseMs: gc.collections > 0 ? gc.maxMs : NaN,
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
