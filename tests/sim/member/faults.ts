// The faults a simulation injects while its clients run: crashes and power cuts (with torn
// writes), failing writes and fsyncs, full disks, partitions, one-way cuts, bursts of loss,
// leader transfers, graceful restarts, and members added and removed. A supervisor restarts
// every member that went down, after a while, as systemd would.

import type { DbLoss, SimMember } from "./member.ts";
import type { Tear } from "./memfs.ts";
import type { Cluster } from "./cluster.ts";

export type FaultKind =
  | "kill"
  | "power"
  | "diskWrite"
  | "diskFsync"
  | "diskFull"
  | "backendFull"
  | "partition"
  | "isolateLeader"
  | "oneWay"
  | "lossy"
  | "transfer"
  | "restart"
  | "addMember"
  | "removeMember";

const WEIGHTS: [FaultKind, number][] = [
  ["kill", 10],
  ["power", 10],
  ["diskWrite", 3],
  ["diskFsync", 3],
  ["diskFull", 3],
  ["backendFull", 2],
  ["partition", 8],
  ["isolateLeader", 6],
  ["oneWay", 4],
  ["lossy", 4],
  ["transfer", 5],
  ["restart", 4],
  ["addMember", 4],
  ["removeMember", 4],
];

export class Faults {
  readonly counts = new Map<FaultKind, number>();
  #restartAt = new Map<SimMember, number>();

  constructor(readonly cluster: Cluster) {}

  get #random() {
    return this.cluster.random;
  }

  #pick<T>(xs: T[]): T | undefined {
    return xs.length === 0 ? undefined : xs[Math.floor(this.#random() * xs.length)];
  }

  #delay(lo: number, hi: number): number {
    return lo + Math.floor(this.#random() * (hi - lo));
  }

  /** Injects faults until `until`, one every `gapMs` or so. */
  schedule(until: number, gapMs: number): void {
    const { time } = this.cluster;
    const next = () => {
      if (time.now >= until) return;
      void this.inject();
      time.schedule(this.#delay(gapMs / 2, gapMs * 1.5), next, undefined);
    };
    time.schedule(this.#delay(gapMs / 2, gapMs * 1.5), next, undefined);
  }

  /** Restarts members that are down once their time comes, for the rest of the run. */
  supervise(): void {
    const { time } = this.cluster;
    const tick = () => {
      for (const m of this.cluster.members) {
        if (m.status !== "down" || m.alive) continue;
        const at = this.#restartAt.get(m) ?? time.now + this.#delay(200, 3000);
        this.#restartAt.set(m, at);
        if (at > time.now) continue;
        this.#restartAt.delete(m);
        void m.start({ kind: "restart" });
      }
      time.schedule(100, tick, undefined);
    };
    time.schedule(100, tick, undefined);
  }

  async inject(): Promise<void> {
    const total = WEIGHTS.reduce((s, [, w]) => s + w, 0);
    let r = this.#random() * total;
    const kind = WEIGHTS.find(([, w]) => (r -= w) < 0)![0];
    if (await this.#run(kind)) this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
  }

  async #run(kind: FaultKind): Promise<boolean> {
    const c = this.cluster;
    const up = c.members.filter((m) => m.alive);
    const victim = this.#pick(up);
    switch (kind) {
      case "kill":
        victim?.crash("kill");
        return victim !== undefined;
      case "power": {
        const tears: Tear[] = ["none", "prefix", "prefix", "scattered"];
        const losses: DbLoss[] = ["synced", "latest", "torn"];
        victim?.crash("power", this.#pick(tears)!, this.#pick(losses)!);
        return victim !== undefined;
      }
      case "diskWrite":
      case "diskFsync":
      case "diskFull": {
        if (!victim) return false;
        c.diskFaulted.add(victim.name);
        c.fs.inject(victim.dataDir, {
          op: kind === "diskFsync" ? "fsync" : "write",
          code: kind === "diskFull" ? "ENOSPC" : "EIO",
        });
        c.trace(`${victim.owner!.name} disk: next ${kind} fails`);
        return true;
      }
      case "backendFull":
        if (!victim) return false;
        c.failNextCommit(victim);
        c.trace(`${victim.owner!.name} backend: next commit finds the disk full`);
        return true;
      case "partition":
      case "isolateLeader":
        return this.#partition(kind === "isolateLeader");
      case "oneWay": {
        const [a, b] = [this.#pick(up), this.#pick(up)];
        if (!a || !b || a === b) return false;
        c.net.cut(a.id, b.id);
        c.trace(`cut ${a.name} -> ${b.name}`);
        c.time.schedule(this.#delay(300, 3000), () => c.heal(), undefined);
        return true;
      }
      case "lossy":
        c.net.settings = { loss: 0.2, duplicate: 0.05, delayed: 0.2 };
        c.trace("network lossy");
        c.time.schedule(this.#delay(300, 2000), () => c.calmNetwork(), undefined);
        return true;
      case "transfer":
        return await this.#transfer();
      case "restart":
        if (!victim) return false;
        await victim.stop();
        return true;
      case "addMember":
        return await c.addMember();
      case "removeMember":
        return await c.removeMember();
    }
  }

  #partition(leaderAlone: boolean): boolean {
    const c = this.cluster;
    const ids = c.members.filter((m) => m.status !== "removed");
    const leader = c.leader();
    let side: SimMember[];
    if (leaderAlone) {
      if (!leader) return false;
      side = [leader];
    } else {
      const n = 1 + Math.floor(this.#random() * Math.floor(ids.length / 2));
      side = shuffle(ids, this.#random).slice(0, n);
    }
    c.net.partition(side.map((m) => m.id));
    c.trace(`partition [${side.map((m) => m.name)}] from the rest`);
    c.time.schedule(this.#delay(300, 4000), () => c.heal(), undefined);
    return true;
  }

  async #transfer(): Promise<boolean> {
    const c = this.cluster;
    const leader = c.leader();
    const target = this.#pick(c.members.filter((m) => m.alive && m !== leader));
    if (!leader?.server || !target) return false;
    c.trace(`transfer leadership ${leader.name} -> ${target.name}`);
    const server = leader.server;
    await c.time.as(leader.owner!, () => server.transferLeadership(target.id, 3000)).then(
      () => c.trace(`transfer to ${target.name} done`),
      (err) => c.trace(`transfer to ${target.name} failed: ${err.message}`),
    );
    return true;
  }
}

function shuffle<T>(xs: T[], random: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
