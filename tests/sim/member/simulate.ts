// One whole-member simulation run, determined by its seed: real EtcdServers (driver, WAL,
// snapshots, apply, leases) on virtual time, the in-memory disk and the simulated network.
// Bootstrap, then clients under faults, then heal: every member restarted, the network whole;
// the cluster must converge, and the run's history and state pass the checks. The trace hash
// covers every event, so a seed that replays differently shows.

import { prng } from "../../helpers/random.ts";
import type { Operation } from "../../robustness/mod.ts";
import { checkRun } from "./checks.ts";
import { checkLeaseExpiry } from "./lease_expiry.ts";
import { Cluster, Trace } from "./cluster.ts";
import { type FaultKind, Faults } from "./faults.ts";
import type { MemberSettings } from "./member.ts";
import { RaftWatch } from "./raft_watch.ts";
import { Client, Leases, workloadEnv } from "./workload.ts";

export interface MemberSimOptions {
  seed: number;
  /** Prints every trace line as it happens (message deliveries included). */
  print?: (line: string) => void;
  /**
   * Shorter runs with denser faults (1.5 s to 3 s of them, one every 0.2 s to 0.7 s), what
   * every test run affords; the default is 6 s to 12 s, one every 0.4 s to 1.6 s.
   */
  quick?: boolean;
  /** "debug" to keep the members' debug lines in a failure's report. */
  logLevel?: string;
  /** Changes each member's opened state (a test plants a bug to see it caught). */
  tamper?: MemberSettings["tamper"];
}

export interface MemberSimResult {
  seed: number;
  quick: boolean;
  ok: boolean;
  violations: string[];
  traceHash: number;
  /** The trace without message deliveries (a failing seed prints it). */
  trace: string[];
  /** The last lines each member logged. */
  logs: string[];
  stats: {
    members: number;
    operations: number;
    acknowledged: number;
    unknown: number;
    faults: Partial<Record<FaultKind, number>>;
    leaders: number;
    snapshotsSent: number;
    messages: number;
    events: number;
    virtualMs: number;
    checkerMs: number;
  };
}

const CLIENTS = 3;

function settingsFor(random: () => number, opts: MemberSimOptions): MemberSettings {
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)];
  return {
    heartbeatMs: 100,
    electionMs: 1000,
    snapshotCount: pick([5, 10, 25, 100]),
    snapshotCatchUpEntries: pick([2, 5, 20, 50]),
    logLevel: opts.logLevel ?? "info",
    tamper: opts.tamper,
  };
}

export async function simulateMembers(opts: MemberSimOptions): Promise<MemberSimResult> {
  const run = new Run(opts);
  run.c.install();
  try {
    await run.play();
  } finally {
    // A member refused again at each restart says the same thing each time: once is enough.
    const all = [...run.watch.violations, ...run.c.violations, ...run.violations];
    run.violations.splice(0, Infinity, ...new Set(all));
    run.c.close();
  }
  return run.result();
}

/** One run's parts and its phases. */
class Run {
  readonly c: Cluster;
  readonly log: Trace;
  readonly watch = new RaftWatch();
  readonly faults: Faults;
  readonly history: Operation[] = [];
  readonly leases = new Leases();
  readonly violations: string[] = [];
  readonly checks = { checkerMs: 0, checkerSteps: 0 };
  readonly size: number;
  readonly chaosMs: number;
  readonly faultGapMs: number;
  readonly settings: MemberSettings;

  constructor(readonly opts: MemberSimOptions) {
    const config = prng(opts.seed ^ 0x51a7e);
    this.settings = settingsFor(config, opts);
    this.size = config() < 0.75 ? 3 : 5;
    const quick = opts.quick ?? false;
    this.chaosMs = quick ? 1500 + Math.floor(config() * 1500) : 6000 + Math.floor(config() * 6000);
    this.faultGapMs = quick ? 200 + Math.floor(config() * 500) : 400 + Math.floor(config() * 1200);
    this.log = new Trace(opts.print);
    this.c = new Cluster(opts.seed, this.log, this.settings);
    this.faults = new Faults(this.c);
  }

  /** No safety violation so far (checked whenever the process is idle). */
  readonly safe = () => this.watch.observe(this.c.nodes()) && this.c.violations.length === 0;

  async play(): Promise<void> {
    const { c, settings, safe } = this;
    c.trace(
      `seed ${this.opts.seed}: ${this.size} members, snapshot every ${settings.snapshotCount} ` +
        `(catch-up ${settings.snapshotCatchUpEntries}), ${this.chaosMs} ms of faults every ` +
        `~${this.faultGapMs} ms`,
    );
    c.bootstrap(this.size);
    if (!await c.time.run(10_000, () => !safe() || c.members.every((m) => m.published))) {
      this.violations.push("the cluster did not start within 10 s");
    }
    await this.#chaos();
    if (safe()) await converge(c, this.history, this.leases, this.violations, safe);
    if (safe() && this.violations.length === 0) {
      this.violations.push(...await checkRun(c, this.history, this.leases.revoked, this.checks));
    }
    if (safe() && this.violations.length === 0) {
      this.violations.push(...await checkLeaseExpiry(c, safe));
    }
  }

  /** Clients and faults, then the heal: the network whole, disks sound, every member up. */
  async #chaos(): Promise<void> {
    const { c, safe } = this;
    const env = workloadEnv(c, this.history);
    const chaosEnd = c.time.now + this.chaosMs;
    let running = CLIENTS;
    for (let i = 1; i <= CLIENTS; i++) {
      void new Client(i, env, this.leases).run(chaosEnd).finally(() => running--);
    }
    this.faults.schedule(chaosEnd, this.faultGapMs);
    this.faults.supervise();
    await c.time.run(chaosEnd, () => !safe());
    c.heal();
    c.calmNetwork();
    c.clearDiskFaults();
    for (const m of c.members) if (m.status === "down") void m.start({ kind: "restart" });
    await c.time.run(c.time.now + 10_000, () => !safe() || running === 0);
  }

  result(): MemberSimResult {
    const { c, history } = this;
    const stats = {
      members: c.members.length,
      operations: history.length,
      acknowledged: history.filter((o) => o.outcome.status === "ok").length,
      unknown: history.filter((o) => o.outcome.status === "unknown").length,
      faults: Object.fromEntries(this.faults.counts),
      leaders: this.watch.leaders,
      snapshotsSent: c.net.snapshots,
      messages: c.net.delivered,
      events: c.time.events,
      virtualMs: c.time.now,
      checkerMs: Math.round(this.checks.checkerMs),
    };
    this.log.add(`end: ${JSON.stringify({ ...stats, checkerMs: undefined })}`);
    return {
      seed: this.opts.seed,
      quick: this.opts.quick ?? false,
      ok: this.violations.length === 0,
      violations: this.violations,
      traceHash: this.log.hash,
      trace: this.log.lines,
      logs: c.members.flatMap((m) => m.logs),
      stats,
    };
  }
}

/**
 * After healing the cluster must take a write again, and every member must then apply up to
 * the leader's commit index; each member's final read joins the history.
 */
async function converge(
  c: Cluster,
  history: Operation[],
  leases: Leases,
  violations: string[],
  safe: () => boolean,
): Promise<void> {
  const env = workloadEnv(c, history);
  const checker = new Client(0, env, leases);
  const deadline = c.time.now + 30_000;
  let written = false;
  void c.time.as(checker.owner, async () => {
    while (!written && c.time.now < deadline) {
      const m = c.leader() ?? c.members.find((m) => m.alive);
      const outcome = m?.published
        ? await checker.send(m, { type: "put", key: "c", value: "final" })
        : undefined;
      if (outcome?.status === "ok") written = true;
      else await new Promise((r) => setTimeout(r, 200));
    }
  });
  if (!await c.time.run(deadline, () => !safe() || written)) {
    if (safe()) violations.push("no progress: the healed cluster took no write within 30 s");
    return;
  }
  const present = () => c.members.filter((m) => m.status !== "removed");
  const caughtUp = () => {
    const leader = c.leader();
    const commit = leader?.state?.node.raft.raftLog.committed;
    return commit !== undefined &&
      present().every((m) =>
        m.alive && m.published && m.state!.backend.store.consistentIndex() === commit
      );
  };
  if (!await c.time.run(c.time.now + 20_000, () => !safe() || caughtUp())) {
    if (safe()) {
      const where = present().map((m) =>
        `${m.name} ${m.alive ? `at ${m.state?.backend.store.consistentIndex()}` : "down"}`
      );
      violations.push(`members did not catch up within 20 s: ${where.join(", ")}`);
    }
    return;
  }
  let reads = 0;
  present().forEach((m, i) => {
    const reader = new Client(100 + i, env, leases);
    void c.time.as(reader.owner, async () => {
      await reader.send(m, { type: "range", key: "a", rangeEnd: "\0" });
      reads++;
    });
  });
  await c.time.run(c.time.now + 10_000, () => !safe() || reads === present().length);
}
