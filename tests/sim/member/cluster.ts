// The simulated cluster: its members (and the spares that may join it), the disk and network
// they share, and the operations on membership the faults use. Also the process-wide setup a
// simulation needs and undoes: virtual time, the in-memory disk behind storage, the invariant
// handler, and a real directory for the members' SQLite files.

import { DatabaseSync } from "node:sqlite";
import { setInvariantHandler } from "../../../src/assert/mod.ts";
import { registry } from "../../../src/metrics/mod.ts";
import { StateType } from "../../../src/raft/mod.ts";
import { computeClusterId, computeMemberId, type Member } from "../../../src/server/mod.ts";
import { useStorageFs } from "../../../src/storage/mod.ts";
import { prng } from "../../helpers/random.ts";
import { type Owner, VirtualTime } from "./clock.ts";
import { MemFs } from "./memfs.ts";
import { type MemberEnv, MemberExit, type MemberSettings, SimMember } from "./member.ts";
import { SimNetwork } from "./network.ts";

/** A whole run's record: every line hashed, the summary lines kept for a failure's report. */
export class Trace {
  hash = 2166136261;
  readonly lines: string[] = [];
  /** The run's real directory, which differs between runs, is written as <root>. */
  root = "";
  time: () => number = () => 0;
  constructor(readonly print?: (line: string) => void) {}

  add(text: string, detail = false): void {
    const line = `${(Math.round(this.time() * 1000) / 1000).toFixed(3).padStart(10)} ${
      this.root ? text.replaceAll(this.root, "<root>") : text
    }`;
    for (let i = 0; i < line.length; i++) {
      this.hash = Math.imul(this.hash ^ line.charCodeAt(i), 16777619) >>> 0;
    }
    if (!detail) this.lines.push(line);
    this.print?.(line);
  }
}

const MAX_VOTERS = 5;

/** The line a member's failed snapshot install dies with (etcd's applySnapshot panic). */
const SNAPSHOT_INSTALL_FAILED = "recovering backend from snapshot error";

export class Cluster {
  readonly time: VirtualTime;
  readonly random: () => number;
  readonly fs = new MemFs();
  readonly net: SimNetwork;
  readonly members: SimMember[] = [];
  readonly trace: (text: string, detail?: boolean) => void;
  readonly violations: string[] = [];
  /** Members a disk fault was injected into: their fail-stops are expected. */
  readonly diskFaulted = new Set<string>();
  readonly root: string;
  clusterId = 0n;
  #spares = 0;
  #saved?: {
    addCollector: typeof registry.addCollector;
    exec: DatabaseSync["exec"];
    syncSync: Deno.FsFile["syncSync"];
    syncDataSync: Deno.FsFile["syncDataSync"];
  };
  /** Processes whose next backend commit meets a full disk. */
  readonly #fullBackends = new Set<Owner>();
  /** fsyncs of real files (the backend's) so far. */
  realSyncs = 0;
  /** The SQLite connections each process opened: its death closes them, as the kernel would. */
  readonly #databases = new Map<Owner, Set<DatabaseSync>>();
  readonly #env: MemberEnv;

  constructor(
    readonly seed: number,
    readonly log: Trace,
    settings: MemberSettings,
  ) {
    this.random = prng(seed);
    this.time = new VirtualTime(seed, (owner, err) => this.#uncaught(owner, err));
    this.trace = (text, detail) => log.add(text, detail);
    this.net = new SimNetwork(this.time, prng(seed ^ 0x0e7), this.trace);
    this.root = Deno.makeTempDirSync({ prefix: "etcd-sim-", dir: tmpRoot() });
    log.root = this.root;
    log.time = () => this.time.now;
    this.#env = {
      time: this.time,
      fs: this.fs,
      net: this.net,
      random: this.random,
      trace: this.trace,
      settings,
      realSyncs: () => this.realSyncs,
      reclaimInvariants: () => setInvariantHandler((err) => this.#invariant(err)),
      closeDatabases: (owner) => {
        // Closing drops the open transaction, as the process's death would.
        for (const db of this.#databases.get(owner) ?? []) if (db.isOpen) db.close();
        this.#databases.delete(owner);
      },
      violation: (text) => this.violations.push(text),
      exited: (m, code, line) => {
        // A member whose disk failed stops with a fatal line (exit 1), or panics (exit 2) when
        // the failure was installing a snapshot's database, as etcd's applySnapshot does;
        // anything else is a bug.
        const expected = code === 1 || (code === 2 && line.includes(SNAPSHOT_INSTALL_FAILED));
        if (!expected || !this.diskFaulted.has(m.name)) {
          this.violations.push(`${m.owner?.name ?? m.name} stopped (exit ${code}): ${line}`);
        }
      },
    };
  }

  /** Takes over the process: timers, clocks, storage's file system. Undone by close(). */
  install(): void {
    const file = Deno.FsFile.prototype;
    this.#saved = {
      addCollector: registry.addCollector,
      exec: DatabaseSync.prototype.exec,
      syncSync: file.syncSync,
      syncDataSync: file.syncDataSync,
    };
    const exec = this.#saved.exec, databases = this.#databases, time = this.time;
    // The backend is durable as far as its code fsyncs its files: count the fsyncs.
    const { syncSync, syncDataSync } = this.#saved;
    const count = () => this.realSyncs++;
    const counted = (sync: () => void) =>
      function (this: Deno.FsFile) {
        count();
        sync.call(this);
      };
    file.syncSync = counted(syncSync);
    file.syncDataSync = counted(syncDataSync);
    // Every connection runs exec() first (its pragmas): that tells whose it is.
    const full = this.#fullBackends;
    DatabaseSync.prototype.exec = function (this: DatabaseSync, sql: string) {
      const owner = time.owner;
      if (owner) databases.get(owner)?.add(this) ?? databases.set(owner, new Set([this]));
      // SQLite's SQLITE_FULL: the batch does not commit.
      if (sql === "COMMIT" && owner && full.delete(owner)) {
        throw new Error("database or disk is full");
      }
      return exec.call(this, sql);
    };
    // Each start registers its metrics; over thousands of runs they would keep every member.
    registry.addCollector = () => {};
    this.time.install();
    useStorageFs(this.fs);
    this.fs.mkdirAll(this.root);
    this.fs.guard = () => {
      if (this.time.owner?.alive === false) {
        throw new Error(`${this.time.owner.name} is dead but touches its disk`);
      }
    };
    // An fsync takes a few milliseconds, now and then much longer: a crash can fall inside one.
    // A full disk may take part of a write before it refuses the rest.
    this.fs.partialWrite = (length) => Math.floor(this.random() * length);
    this.fs.latency = () =>
      new Promise((resolve) => {
        const slow = this.random() < 0.05;
        const ms = slow ? 20 + this.random() * 80 : 1 + this.random() * 3;
        this.time.schedule(ms, resolve, this.time.owner);
      });
    addEventListener("unhandledrejection", this.#rejection);
  }

  close(): void {
    removeEventListener("unhandledrejection", this.#rejection);
    for (const m of this.members) if (m.alive) m.crash("kill");
    this.time.uninstall();
    useStorageFs();
    setInvariantHandler(undefined);
    if (this.#saved) {
      registry.addCollector = this.#saved.addCollector;
      DatabaseSync.prototype.exec = this.#saved.exec;
      Deno.FsFile.prototype.syncSync = this.#saved.syncSync;
      Deno.FsFile.prototype.syncDataSync = this.#saved.syncDataSync;
    }
    Deno.removeSync(this.root, { recursive: true });
  }

  /** Creates the initial members, each with its own data dir, and starts bootstrapping them. */
  bootstrap(count: number): void {
    const made = Array.from({ length: count }, (_, i) => this.#member(`m${i + 1}`));
    const members: Member[] = made.map((m) => ({
      id: m.id,
      name: m.name,
      peerURLs: [m.url],
      clientURLs: [],
      isLearner: false,
    }));
    this.clusterId = computeClusterId(members.map((m) => m.id));
    for (const m of made) void m.start({ kind: "bootstrap", members, clusterId: this.clusterId });
  }

  #member(name: string, id?: bigint): SimMember {
    const url = `http://${name}.sim:2380`;
    const m = new SimMember(
      this.#env,
      name,
      id ?? computeMemberId([url], "sim"),
      url,
      `${this.root}/${name}`,
    );
    this.members.push(m);
    this.net.register(m.id, url);
    return m;
  }

  /** The next batch commit of `m`'s backend fails: its disk is full. */
  failNextCommit(m: SimMember): void {
    this.#fullBackends.add(m.owner!);
    this.diskFaulted.add(m.name);
  }

  /** Disks sound again: no write, fsync or backend commit waits to fail. */
  clearDiskFaults(): void {
    this.fs.clearFaults();
    this.#fullBackends.clear();
  }

  /** The member that is leader now (of the highest term, if several think so). */
  leader(): SimMember | undefined {
    let best: SimMember | undefined;
    for (const m of this.members) {
      const raft = m.alive ? m.state?.node.raft : undefined;
      if (raft?.state !== StateType.Leader) continue;
      if (!best || raft.term > best.state!.node.raft.term) best = m;
    }
    return best;
  }

  /** Running members with their raft nodes, for the safety watch. */
  nodes() {
    return this.members.filter((m) => m.alive && m.state).map((m) => ({
      id: m.id,
      node: m.state!.node,
    }));
  }

  heal(): void {
    if (this.net.cutLinks > 0) this.trace("network healed");
    this.net.heal();
  }

  calmNetwork(): void {
    this.net.settings = { loss: 0, duplicate: 0, delayed: 0 };
  }

  /** A spare joins: member add through a running member, then the new member starts. */
  async addMember(): Promise<boolean> {
    const via = this.leader() ?? this.members.find((m) => m.alive);
    const voters = this.members.filter((m) => m.status !== "removed").length;
    if (!via?.server || voters >= MAX_VOTERS) return false;
    const name = `s${++this.#spares}`;
    const url = `http://${name}.sim:2380`;
    this.trace(`add member ${name} through ${via.name}`);
    const server = via.server;
    const added = await this.time.as(via.owner!, () => server.cluster.add([url], false)).then(
      (res) => res.member?.ID,
      (err) => {
        this.trace(`add member ${name} failed: ${err.message}`);
        return undefined;
      },
    );
    if (added === undefined) return false;
    const m = this.#member(name, added);
    await m.start({ kind: "join", clusterId: this.clusterId });
    return true;
  }

  /** A voter is removed through a running member; it stops once it learns. */
  async removeMember(): Promise<boolean> {
    const present = this.members.filter((m) => m.status !== "removed");
    const via = this.leader() ?? present.find((m) => m.alive);
    if (!via?.server || present.length <= 3) return false;
    const victim = present[Math.floor(this.random() * present.length)];
    this.trace(`remove member ${victim.name} through ${via.name}`);
    const server = via.server;
    await this.time.as(via.owner!, () => server.cluster.remove(victim.id)).then(
      () => this.trace(`removed ${victim.name}`),
      (err) => this.trace(`remove ${victim.name} failed: ${err.message}`),
    );
    return true;
  }

  #invariant(err: Error): void {
    const m = this.members.find((m) => m.owner === this.time.owner);
    if (!m) {
      this.violations.push(`invariant broken outside any member: ${err.message}`);
      return;
    }
    m.invariantBroken(err);
  }

  // An exception nobody caught in a timer kills the process whose timer it was.
  #uncaught(owner: Owner | undefined, err: unknown): void {
    if (err instanceof MemberExit) return;
    const text = `uncaught in ${owner?.name ?? "the simulation"}: ${(err as Error)?.stack ?? err}`;
    this.trace(text);
    this.violations.push(text);
    const m = this.members.find((m) => m.owner === owner);
    m?.crash("kill");
  }

  #rejection = (e: PromiseRejectionEvent) => {
    e.preventDefault();
    if (e.reason instanceof MemberExit) return;
    const text = `unhandled rejection: ${(e.reason as Error)?.stack ?? e.reason}`;
    this.trace(text);
    this.violations.push(text);
  };
}

/** Where the members' SQLite files go: memory-backed when the machine has it. */
function tmpRoot(): string | undefined {
  try {
    return Deno.statSync("/dev/shm").isDirectory ? "/dev/shm" : undefined;
  } catch {
    return undefined;
  }
}
