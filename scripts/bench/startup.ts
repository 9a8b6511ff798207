// `deno run -A scripts/bench/startup.ts [options]`: how long a fresh single member takes to
// start, etcd-ts beside etcd 3.4: from spawn to its first log line, and from spawn to the first
// `/health` answered 200 with {"health":"true"}. Each run starts in an empty data dir; targets
// take turns run by run, and the table gives the median, the fastest and the slowest run. With
// --baseline another etcd-ts (an older checkout's scripts/etcd-ts, say) runs in the same turns.

import { fileURLToPath } from "node:url";
import { cpuSeconds } from "./procstat.ts";
import { findExecutable, type TargetName } from "./servers.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");

interface Options {
  runs: number;
  targets: TargetName[];
  /** Runs etcd-ts from this executable (a `deno task compile` output) instead of the source. */
  binary?: string;
  /** Another etcd-ts executable measured beside them. */
  baseline?: string;
}

/** One measured executable, on its own address. */
interface Target {
  label: string;
  exe: string;
  host: string;
}

interface Sample {
  firstLogMs: number;
  healthMs: number;
  /** CPU the server used until it was healthy: less swayed than the clock by a busy machine. */
  cpuMs: number;
}

/** Fixed loopback addresses (the block kept for start-up measurements). */
const HOSTS = { "etcd-ts": "127.0.247.201", etcd: "127.0.247.202", baseline: "127.0.247.203" };
const POLL_MS = 5;
const TIMEOUT_MS = 30_000;

function usage(): string {
  return `usage: deno run -A scripts/bench/startup.ts [options]
  --runs N              runs per target (default 9)
  --only etcd|etcd-ts   measure one target only
  --binary PATH         run etcd-ts from a compiled executable (deno task compile)
  --baseline PATH       also measure this etcd-ts executable (e.g. an older checkout's
                        scripts/etcd-ts), as "baseline"`;
}

function fail(message: string): never {
  console.error(`startup: ${message}\n${usage()}`);
  Deno.exit(2);
}

function parseArgs(argv: string[]): Options {
  const o: Options = { runs: 9, targets: ["etcd-ts", "etcd"] };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => inline ?? argv[++i] ?? fail(`${flag} needs a value`);
    switch (flag) {
      case "--runs": {
        o.runs = Number(value());
        if (!Number.isInteger(o.runs) || o.runs < 1) fail("--runs needs a positive integer");
        break;
      }
      case "--only": {
        const t = value();
        if (t !== "etcd" && t !== "etcd-ts") fail(`--only etcd|etcd-ts, got ${t}`);
        o.targets = [t];
        break;
      }
      case "--binary":
        o.binary = value();
        break;
      case "--baseline":
        o.baseline = value();
        break;
      case "--help":
        console.log(usage());
        Deno.exit(0);
        break;
      default:
        fail(`unknown option ${flag}`);
    }
  }
  return o;
}

/** Resolves when the first line reaches stderr (or stdout), with its time. */
async function firstLine(stream: ReadableStream<Uint8Array>): Promise<number | undefined> {
  const reader = stream.getReader();
  const { done } = await reader.read();
  const at = performance.now();
  // Keep draining so the server never blocks on a full pipe.
  (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })().catch(() => {});
  return done ? undefined : at;
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    const body = await res.text();
    return res.status === 200 && JSON.parse(body).health === "true";
  } catch {
    return false;
  }
}

async function measure({ label, exe, host }: Target, dataDir: string): Promise<Sample> {
  const client = `http://${host}:2379`;
  const args = [
    "--data-dir",
    dataDir,
    "--listen-client-urls",
    client,
    "--advertise-client-urls",
    client,
    "--listen-peer-urls",
    `http://${host}:2380`,
  ]; // deno-fmt-ignore
  const start = performance.now();
  const child = new Deno.Command(exe, { args, stdin: "null", stdout: "null", stderr: "piped" })
    .spawn();
  const logged = firstLine(child.stderr);
  try {
    while (!(await healthy(`${client}/health`))) {
      if (performance.now() - start > TIMEOUT_MS) throw new Error(`${label} never got healthy`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    const healthMs = performance.now() - start;
    const cpuMs = (cpuSeconds(child.pid) ?? NaN) * 1000;
    const firstLogAt = await logged;
    if (firstLogAt === undefined) throw new Error(`${label} wrote no log line`);
    return { firstLogMs: firstLogAt - start, healthMs, cpuMs };
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function row(label: string, xs: number[]): string {
  const f = (n: number) => `${Math.round(n)}`.padStart(6);
  return `${label.padEnd(28)}${f(median(xs))}${f(Math.min(...xs))}${f(Math.max(...xs))}`;
}

function targets(opts: Options): Target[] {
  const out: Target[] = opts.targets.map((t) => {
    const exe = t === "etcd-ts" && opts.binary ? opts.binary : findExecutable(t, repo);
    if (typeof exe !== "string") fail(`${t}: ${exe.missing}`);
    return { label: t, exe, host: HOSTS[t] };
  });
  if (opts.baseline) out.push({ label: "baseline", exe: opts.baseline, host: HOSTS.baseline });
  return out;
}

async function main() {
  const opts = parseArgs(Deno.args);
  const all = targets(opts);
  const samples = new Map<string, Sample[]>(all.map((t) => [t.label, []]));
  const root = Deno.makeTempDirSync({ prefix: "etcd-startup-" });
  try {
    for (let run = 0; run < opts.runs; run++) {
      // Rotate which target goes first, so none always meets a warmer machine.
      const order = all.map((_, i) => all[(i + run) % all.length]);
      for (const t of order) {
        const s = await measure(t, `${root}/${t.label}-${run}.etcd`);
        samples.get(t.label)!.push(s);
        console.error(
          `startup: ${t.label} run ${run + 1}: first log ${Math.round(s.firstLogMs)} ms, ` +
            `/health ${Math.round(s.healthMs)} ms, CPU ${Math.round(s.cpuMs)} ms`,
        );
      }
    }
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
  const load = Deno.loadavg()[0].toFixed(1);
  console.log(`ms, ${opts.runs} runs (load ${load})`.padEnd(28) + "median   min   max");
  for (const [label, s] of samples) {
    console.log(row(`${label} first log line`, s.map((x) => x.firstLogMs)));
    console.log(row(`${label} /health true`, s.map((x) => x.healthMs)));
    console.log(row(`${label} CPU until healthy`, s.map((x) => x.cpuMs)));
  }
}

if (import.meta.main) await main();
