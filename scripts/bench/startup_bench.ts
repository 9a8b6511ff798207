// Start-up with many keys, etcd-ts beside etcd 3.4: a one-member cluster gets N keys of 256 B
// (one put each, 256 in flight), is stopped with SIGTERM and started again on the same data dir.
// The table gives the restart time (spawn to the first linearizable Range answered, polled every
// 10 ms), the resident memory after it (peak and current), the data dir's size, and checks that
// a count over the keys finds all N.
//   deno run -A scripts/bench/startup_bench.ts [--keys 10000,100000] [--only etcd|etcd-ts]
//     [--baseline DIR]
// Addresses: 127.0.70.51 (etcd-ts), .52 (etcd), .53 (baseline etcd-ts).

import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { connect, unaryCall } from "../../tests/support/h2/mod.ts";
import { decodeRangeResponse, encodePutRequest, encodeRangeRequest } from "./pb.ts";
import { peakRssBytes } from "./procstat.ts";
import {
  CLIENT_PORT,
  findExecutable,
  REPO as repo,
  startCluster,
  stopCluster,
  type TargetName,
} from "./servers.ts";

const enc = new TextEncoder();
const PREFIX = "/startup/";

interface Target {
  label: string;
  target: TargetName;
  repo: string;
  host: string;
}

function parse(argv: string[]): { keys: number[]; targets: Target[] } {
  let keys = [10_000, 100_000];
  let only: string | undefined, baseline: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split("=", 2);
    const value = inline ?? argv[++i];
    if (flag === "--keys") keys = value.split(",").map(Number);
    else if (flag === "--only") only = value;
    else if (flag === "--baseline") baseline = value.replace(/\/$/, "");
    else throw new Error(`unknown option ${flag}`);
  }
  if (keys.some((n) => !(n > 0 && Number.isInteger(n)))) throw new Error("--keys: integers > 0");
  const targets: Target[] = [
    { label: "etcd-ts", target: "etcd-ts", repo, host: "127.0.70.51" },
    { label: "etcd", target: "etcd", repo, host: "127.0.70.52" },
  ];
  if (baseline) {
    targets.push({ label: "etcd-ts base", target: "etcd-ts", repo: baseline, host: "127.0.70.53" });
  }
  return { keys, targets: targets.filter((t) => !only || t.target === only) };
}

const keyOf = (i: number) => enc.encode(PREFIX + String(i).padStart(8, "0"));

async function preload(host: string, n: number): Promise<void> {
  const conns = await Promise.all(
    Array.from({ length: 8 }, () => connect({ host, port: CLIENT_PORT })),
  );
  const value = new Uint8Array(256).fill(97);
  let next = 0;
  const worker = async (w: number) => {
    for (let i = next++; i < n; i = next++) {
      await unaryCall(
        conns[w % conns.length],
        "/etcdserverpb.KV/Put",
        encodePutRequest({
          key: keyOf(i),
          value,
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: 256 }, (_, w) => worker(w)));
  for (const c of conns) c.destroy();
}

async function countKeys(host: string): Promise<number> {
  const conn = await connect({ host, port: CLIENT_PORT });
  try {
    const req = encodeRangeRequest({
      key: enc.encode(PREFIX),
      rangeEnd: enc.encode("/startup0"),
      limit: 1,
    });
    const res = await unaryCall(conn, "/etcdserverpb.KV/Range", req, { timeoutMs: 60_000 });
    return decodeRangeResponse(res).count;
  } finally {
    conn.destroy();
  }
}

function dirBytes(path: string): number {
  let total = 0;
  for (const e of readdirSync(path, { withFileTypes: true })) {
    const p = `${path}/${e.name}`;
    total += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return total;
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : NaN;
}

async function measure(t: Target, n: number, workDir: string): Promise<string[]> {
  const exe = findExecutable(t.target, t.repo);
  if (typeof exe !== "string") throw new Error(`${t.label}: ${exe.missing}`);
  const dataRoot = mkdtempSync(`${workDir}/${t.label.replaceAll(" ", "-")}-`);
  let cluster = await startCluster(t.target, exe, [t.host], dataRoot);
  const loadStart = performance.now();
  await preload(t.host, n);
  const loadSeconds = (performance.now() - loadStart) / 1000;
  await stopCluster(cluster);
  const restartStart = performance.now();
  cluster = await startCluster(t.target, exe, [t.host], dataRoot, { pollMs: 10 });
  const restartSeconds = (performance.now() - restartStart) / 1000;
  const pid = cluster.members[0].pid;
  const [peak, rss] = [peakRssBytes(pid) ?? NaN, rssBytes(pid)];
  const count = await countKeys(t.host);
  await stopCluster(cluster);
  const size = dirBytes(dataRoot);
  rmSync(dataRoot, { recursive: true, force: true });
  if (count !== n) throw new Error(`${t.label}: ${count} keys after restart, not ${n}`);
  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  return [
    t.label,
    String(n),
    loadSeconds.toFixed(1),
    restartSeconds.toFixed(2),
    mib(peak),
    mib(rss),
    mib(size),
  ];
}

async function main() {
  const { keys, targets } = parse(Deno.args);
  const workDir = mkdtempSync(`${tmpdir()}/etcd-ts-startup-`);
  const header = ["target", "keys", "load s", "restart s", "peak RSS MiB", "RSS MiB", "data MiB"];
  const rows: string[][] = [];
  try {
    for (const n of keys) {
      for (const t of targets) {
        const row = await measure(t, n, workDir);
        console.error(`startup: ${row.join(" ")}`);
        rows.push(row);
      }
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}

await main();
