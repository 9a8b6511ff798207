// One round of a fault run on a running cluster: the clients' process started in the hub,
// faults injected for the given time, the clients told to finish, and their record checked.

import type { InitialState } from "../mod.ts";
import type { Cluster } from "./cluster.ts";
import {
  availableKinds,
  type FaultContext,
  type FaultKind,
  type FaultRecord,
  injectFaults,
} from "./faults.ts";
import { type Verdict, verify } from "./verify.ts";
import type { WorkloadResult, WorkloadSettings } from "./workload.ts";

export interface RoundOptions {
  seconds: number;
  seed: number;
  clients: number;
  watchers: number;
  /** The kinds to draw from; all this machine allows when empty. */
  kinds: FaultKind[];
  /** Take the kinds in turn rather than at random (so a short run has each of them). */
  inTurn?: boolean;
  failpoints: string[];
  /** Numbers this round's keys and lease IDs apart from other rounds' on the same cluster. */
  round: number;
}

export interface RoundReport {
  verdict: Verdict;
  faults: FaultRecord[];
  /** Kinds this machine or these settings could not inject, and why. */
  missing: string[];
  /** The store's revision at the end: the next round starts there. */
  revision: number;
  seconds: number;
}

export const SHORT_TTL = 3;
const repo = new URL("../../../", import.meta.url).pathname;

export async function runRound(
  cluster: Cluster,
  opts: RoundOptions,
  initial: InitialState,
  random: () => number,
): Promise<RoundReport> {
  const started = performance.now();
  const settings = workloadSettings(cluster, opts, initial);
  const available = availableKinds(cluster.net, opts.failpoints);
  const kinds = opts.kinds.length > 0
    ? opts.kinds.filter((k) => available.kinds.includes(k))
    : available.kinds;
  const faults: FaultRecord[] = [], problems: string[] = [];
  const workload = startWorkload(cluster.net.hub, settings);
  try {
    // The clients' clock at "ready": fault times are written on it, as operations' are.
    const offset = performance.now() - (await workload.next("ready") as number);
    const clock = () => performance.now() - offset;
    const ctx: FaultContext = {
      cluster,
      net: cluster.net,
      random,
      failpoints: opts.failpoints,
      clock,
    };
    const until = performance.now() + opts.seconds * 1000;
    await injectFaults(ctx, { kinds, inTurn: opts.inTurn ?? false, until }, faults, problems);
    await workload.finish();
    await workload.next("done", 600_000);
  } finally {
    workload.kill();
  }
  const result: WorkloadResult = JSON.parse(await Deno.readTextFile(settings.out));
  const verdict = verify(result, initial, SHORT_TTL);
  verdict.problems.unshift(...problems);
  return {
    verdict,
    faults,
    missing: available.missing,
    revision: result.final.revision,
    seconds: (performance.now() - started) / 1000,
  };
}

/** The clients of a round: their own keys and lease IDs, and their record in the run's dir. */
function workloadSettings(
  cluster: Cluster,
  opts: RoundOptions,
  initial: InitialState,
): WorkloadSettings {
  return {
    endpoints: cluster.endpoints,
    clients: opts.clients,
    watchers: opts.watchers,
    timeoutMs: 4_000,
    seed: opts.seed,
    traffic: {
      prefix: `/rb/${opts.round}/`,
      keys: 8,
      leaseBase: (opts.round + 1) * 1_000_000,
      longTtl: 3600,
      shortTtl: SHORT_TTL,
    },
    from: initial.revision + 1,
    out: `${cluster.dir}/round${opts.round}.json`,
  };
}

interface Workload {
  /** The value of the first JSON line with key `key`; rejects if the process ends first. */
  next(key: string, timeoutMs?: number): Promise<unknown>;
  finish(): Promise<void>;
  kill(): void;
}

function startWorkload(hub: string, settings: WorkloadSettings): Workload {
  const child = new Deno.Command("ip", {
    args: [
      "netns",
      "exec",
      hub,
      Deno.execPath(),
      "run",
      "-A",
      `--lock=${repo}tests/deno.lock`,
      "--frozen=false",
      `${repo}tests/robustness/run/workload.ts`,
      JSON.stringify(settings),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const seen = new Map<string, unknown>();
  const waiting = new Map<string, () => void>();
  const ended = (async () => {
    let buf = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let n;
      while ((n = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, n);
        buf = buf.slice(n + 1);
        for (const [key, value] of Object.entries(JSON.parse(line))) {
          seen.set(key, value);
          waiting.get(key)?.();
        }
      }
    }
    return await child.status;
  })();
  const writer = child.stdin.getWriter();
  return {
    next: (key, timeoutMs = 120_000) => {
      if (seen.has(key)) return Promise.resolve(seen.get(key));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`clients: no ${key} in time`)), timeoutMs);
        waiting.set(key, () => {
          clearTimeout(timer);
          resolve(seen.get(key));
        });
        ended.then((s) => {
          clearTimeout(timer);
          if (!seen.has(key)) reject(new Error(`clients exited (${s.code}) before ${key}`));
        });
      });
    },
    finish: async () => {
      await writer.write(new TextEncoder().encode("finish\n"));
      await writer.close();
    },
    kill: () => {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    },
  };
}
