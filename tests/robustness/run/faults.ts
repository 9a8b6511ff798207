// The faults of a run, one at a time on one member (the leader half of the time): each is
// injected, held for a few seconds under the clients' traffic, and healed; then the cluster
// must serve again before the next. A member that died without being told to is a finding:
// it is noted with its last log lines and started again.

import { sleep } from "../../helpers/wait.ts";
import type { Cluster } from "./cluster.ts";
import type { Network } from "./net.ts";

export const FAULT_KINDS = [
  "kill",
  "stop",
  "restart",
  "partition",
  "oneway-in",
  "oneway-out",
  "linkdown",
  "loss",
  "delay",
  "leader-transfer",
  "replace",
  "failpoint",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** The kinds that leave every member's process running (a soak watches their memory). */
export const KEEPING_PROCESSES: FaultKind[] = FAULT_KINDS.filter((k) =>
  !["kill", "restart", "replace", "failpoint"].includes(k)
);

export interface FaultContext {
  cluster: Cluster;
  net: Network;
  random: () => number;
  /** GOFAIL_FAILPOINTS values for the "failpoint" kind (etcd's gofail syntax). */
  failpoints: string[];
  /** The clients' clock (milliseconds), which operations' call and return times are on. */
  clock: () => number;
}

export interface FaultRecord {
  kind: FaultKind;
  member: number;
  /** When it began, on the clients' clock (ms). */
  at: number;
  ms: number;
  note: string;
  error?: string;
}

const between = (r: () => number, lo: number, hi: number) => lo + r() * (hi - lo);
const hold = (c: FaultContext, lo: number, hi: number) => sleep(between(c.random, lo, hi));

async function held(c: FaultContext, i: number, lo: number, hi: number, note: string) {
  await hold(c, lo, hi);
  await c.net.heal(i);
  return note;
}

/** Each kind: inject, hold, heal; says what it did. */
const FAULTS: Record<FaultKind, (c: FaultContext, i: number) => Promise<string>> = {
  kill: async (c, i) => {
    await c.cluster.kill(i);
    await hold(c, 200, 2_000);
    await c.cluster.start(i);
    return "SIGKILL, started again";
  },
  stop: async (c, i) => {
    const proc = c.cluster.members[i].proc!;
    proc.signal("SIGSTOP");
    await hold(c, 1_000, 5_000);
    proc.signal("SIGCONT");
    return "SIGSTOP, SIGCONT";
  },
  restart: async (c, i) => {
    await c.cluster.stop(i);
    await c.cluster.start(i);
    return "SIGTERM, started again";
  },
  partition: async (c, i) => {
    await c.net.isolate(i, "both");
    return await held(c, i, 2_000, 6_000, "peers' packets dropped both ways");
  },
  "oneway-in": async (c, i) => {
    await c.net.isolate(i, "in");
    return await held(c, i, 2_000, 6_000, "peers' data to it dropped");
  },
  "oneway-out": async (c, i) => {
    await c.net.isolate(i, "out");
    return await held(c, i, 2_000, 6_000, "its data to peers dropped");
  },
  linkdown: async (c, i) => {
    await c.net.linkDown(i);
    return await held(c, i, 2_000, 6_000, "link down");
  },
  loss: async (c, i) => {
    const percent = Math.round(between(c.random, 10, 50));
    await c.net.loss(i, percent);
    return await held(c, i, 3_000, 8_000, `${percent}% of packets dropped`);
  },
  delay: async (c, i) => {
    const applied = await c.net.delay(i, Math.round(between(c.random, 50, 300)));
    return await held(c, i, 3_000, 8_000, applied);
  },
  "leader-transfer": async (c) => {
    const { index } = await c.cluster.leader();
    const others = c.cluster.members.filter((m) => m.index !== index);
    const to = others[Math.floor(c.random() * others.length)].index;
    await c.cluster.moveLeader(to);
    return `m${index} -> m${to}`;
  },
  replace: async (c, i) => {
    await c.cluster.replace(i);
    return "removed, added back as a learner on an empty data dir, promoted";
  },
  failpoint: async (c, i) => {
    const spec = c.failpoints[Math.floor(c.random() * c.failpoints.length)];
    await c.cluster.stop(i);
    let note = `restarted with GOFAIL_FAILPOINTS=${spec}`;
    try {
      await c.cluster.start(i, { GOFAIL_FAILPOINTS: spec });
      await hold(c, 2_000, 5_000);
    } catch (err) {
      note += `; did not come up: ${(err as Error).message.split("\n")[0]}`;
    }
    const exit = c.cluster.members[i].proc?.exit;
    if (exit) note += `; exited with code ${exit.code}`;
    await c.cluster.kill(i);
    await c.cluster.start(i);
    return `${note}; started again without it`;
  },
};

/** The kinds this machine and these settings allow, and why the others are left out. */
export function availableKinds(net: Network, failpoints: string[]): {
  kinds: FaultKind[];
  missing: string[];
} {
  const missing: string[] = [];
  if (!net.caps.netem) {
    missing.push(
      net.caps.tbf
        ? "tc netem is not in this kernel: delay is a tbf rate limit (queueing delay under load)"
        : "neither tc netem nor tbf is in this kernel: no delay",
    );
  }
  if (failpoints.length === 0) missing.push("no --failpoints given: no failpoint restarts");
  const kinds = FAULT_KINDS.filter((k) =>
    (k !== "delay" || net.caps.netem || net.caps.tbf) && (k !== "failpoint" || failpoints.length)
  );
  return { kinds, missing };
}

/** When to stop, and which kinds: drawn at random, or taken in turn. */
export interface Schedule {
  kinds: FaultKind[];
  inTurn: boolean;
  /** performance.now() after which no fault is started. */
  until: number;
}

/** Injects faults one at a time until the schedule's end. */
export async function injectFaults(
  c: FaultContext,
  schedule: Schedule,
  log: FaultRecord[],
  problems: string[],
): Promise<void> {
  const { kinds } = schedule;
  while (performance.now() < schedule.until) {
    await revive(c, problems);
    const kind = schedule.inTurn
      ? kinds[log.length % kinds.length]
      : kinds[Math.floor(c.random() * kinds.length)];
    const member = await target(c);
    const t0 = performance.now();
    const record: FaultRecord = { kind, member, at: c.clock(), ms: 0, note: "" };
    try {
      record.note = await FAULTS[kind](c, member);
    } catch (err) {
      record.error = (err as Error).message;
      await healAll(c);
    }
    record.ms = performance.now() - t0;
    log.push(record);
    try {
      await c.cluster.healthy();
    } catch (err) {
      problems.push(`not healthy after ${kind} on m${member}: ${(err as Error).message}`);
    }
    await hold(c, 500, 2_000);
  }
  await revive(c, problems);
}

/** The leader half of the time (when one is agreed), else any member. */
async function target(c: FaultContext): Promise<number> {
  if (c.random() < 0.5) {
    try {
      return (await c.cluster.leader(2_000)).index;
    } catch {
      // no agreed leader right now
    }
  }
  return Math.floor(c.random() * c.cluster.members.length);
}

/** Undoes whatever a fault that failed half-way left behind. */
async function healAll(c: FaultContext): Promise<void> {
  for (const m of c.cluster.members) {
    await c.net.heal(m.index);
    m.proc?.signal("SIGCONT");
  }
}

/** Starts again every member that exited on its own, noting how it ended. */
export async function revive(c: FaultContext, problems: string[]): Promise<void> {
  for (const m of c.cluster.members) {
    if (m.proc && !m.proc.exit) continue;
    const how = m.removed
      ? "was left out of the cluster by a failed replace"
      : m.proc?.exit
      ? `exited with code ${m.proc.exit.code}`
      : "was not running";
    problems.push(`m${m.index} ${how}; its last lines:\n${m.proc?.lastLines(15) ?? ""}`);
    try {
      if (m.removed) await c.cluster.addBack(m.index);
      else await c.cluster.start(m.index);
    } catch (err) {
      problems.push(`m${m.index} could not be started again: ${(err as Error).message}`);
    }
  }
}
