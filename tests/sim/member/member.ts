// One simulated member: the real EtcdServer over the simulated disk and network, started,
// crashed, restarted and stopped by the simulation. Each start is a new incarnation (an Owner):
// a crash ends it, and nothing it scheduled runs again. Its WAL and snapshot files live on the
// in-memory disk; its SQLite backend is a real file (SQLite's I/O is synchronous, so it keeps
// the run deterministic), with what a power cut leaves of it modelled here.

import { createLogger } from "../../../src/log/mod.ts";
import { ETCD_CLUSTER_VERSION, ETCD_VERSION } from "../../../src/config/mod.ts";
import {
  bootstrapMember,
  EtcdServer,
  joinMember,
  type Member,
  memberPaths,
  type MemberState,
  restartMember,
} from "../../../src/server/mod.ts";
import type { Owner, VirtualTime } from "./clock.ts";
import type { MemFs, Tear } from "./memfs.ts";
import type { SimNetwork, Traced } from "./network.ts";

export interface MemberSettings {
  heartbeatMs: number;
  electionMs: number;
  snapshotCount: number;
  snapshotCatchUpEntries: number;
  logLevel: string;
  /** Changes each opened member state before the server takes it (the tests' planted bugs). */
  tamper?: (state: MemberState) => void;
}

export interface MemberEnv {
  time: VirtualTime;
  fs: MemFs;
  net: SimNetwork;
  random: () => number;
  trace: Traced;
  settings: MemberSettings;
  /** A server's start and stop set the process's invariant handler: the simulation's goes back. */
  reclaimInvariants(): void;
  /** fsyncs of the backend's real files so far. */
  realSyncs(): number;
  /** The process died: its SQLite connections close (their open transactions are lost). */
  closeDatabases(owner: Owner): void;
  /** Something only a bug explains (a refused restart, say). */
  violation(text: string): void;
  /** The member stopped itself (fail-stop) with this status and last line. */
  exited(member: SimMember, code: number, line: string): void;
}

/** How a start finds its data dir: new cluster, joining a running one, or a restart. */
export type StartKind =
  | { kind: "bootstrap"; members: Member[]; clusterId: bigint }
  | { kind: "join"; clusterId: bigint }
  | { kind: "restart" };

/** A process that stopped itself (etcd's fatal or panic): unwinds the code that called exit. */
export class MemberExit extends Error {
  constructor(readonly member: string, readonly code: number) {
    super(`member ${member} exited with status ${code}`);
  }
}

/** What a power cut does to the backend file. */
export type DbLoss = "synced" | "latest" | "torn";

const LOG_LINES_KEPT = 300;

export class SimMember {
  incarnation = 0;
  owner?: Owner;
  state?: MemberState;
  server?: EtcdServer;
  status: "down" | "up" | "removed" = "down";
  /** The current incarnation has published itself and serves clients. */
  published = false;
  /** Why the last incarnation ended on its own (fail-stop line, refused start). */
  exitReason?: string;
  /** The last lines the member logged, for a failing seed's report. */
  readonly logs: string[] = [];
  readonly paths;
  /** The backend files as of the last fsync of the backend (undefined: never synced). */
  #durableDb?: Map<string, Uint8Array>;
  /** The backend was replaced by a leader's snapshot since that fsync (not synced itself). */
  #restoredUnsynced = false;
  /** The current incarnation is stopping gracefully. */
  #stopping = false;

  constructor(
    readonly env: MemberEnv,
    readonly name: string,
    readonly id: bigint,
    readonly url: string,
    readonly dataDir: string,
  ) {
    this.paths = memberPaths(dataDir, "");
  }

  get alive(): boolean {
    return this.owner?.alive === true;
  }

  /**
   * Clients can reach it: alive and not stopping (etcd closes its client listeners before it
   * hands leadership over and closes the backend).
   */
  get serving(): boolean {
    return this.alive && this.server !== undefined && !this.#stopping;
  }

  /** Starts a new incarnation; false when the start was refused or the process exited. */
  async start(how: StartKind): Promise<boolean> {
    const owner: Owner = { name: `${this.name}.${++this.incarnation}`, alive: true };
    this.owner = owner;
    this.status = "up";
    this.published = false;
    this.#stopping = false;
    this.exitReason = undefined;
    this.env.trace(`${owner.name} start (${how.kind})`);
    try {
      await this.env.time.as(owner, () => this.#open(how, owner));
      return owner.alive;
    } catch (err) {
      if (!(err instanceof MemberExit)) {
        this.exitReason = `start refused: ${(err as Error).message}`;
        this.env.trace(`${owner.name} ${this.exitReason}`);
        // A disk that failed the start's own writes explains it; nothing else does.
        if (!/Input\/output error|No space left/.test(this.exitReason)) {
          this.env.violation(`${owner.name} ${this.exitReason}`);
        }
        this.#end(owner, "kill");
      }
      return false;
    }
  }

  async #open(how: StartKind, owner: Owner): Promise<void> {
    const { settings, net } = this.env;
    const log = createLogger({
      logger: "capnslog",
      level: settings.logLevel,
      outputs: [],
      write: (_out, line) => this.#log(line),
      exit: (code) => this.#exit(owner, code),
    });
    const timing = { heartbeatMs: settings.heartbeatMs, electionMs: settings.electionMs };
    const raftTiming = { ...timing, preVote: true };
    const state = how.kind === "bootstrap"
      ? await bootstrapMember(this.paths, raftTiming, log, how.members, this.id, how.clusterId)
      : how.kind === "join"
      ? await joinMember(this.paths, raftTiming, log, this.id, how.clusterId)
      : await restartMember(this.paths, raftTiming, log);
    this.state = state;
    this.#trackBackendDurability(state);
    settings.tamper?.(state);
    const server = new EtcdServer({
      logger: log,
      state,
      name: this.name,
      clientURLs: [this.url.replace(":2380", ":2379")],
      ...timing,
      snapshotCount: settings.snapshotCount,
      snapshotCatchUpEntries: settings.snapshotCatchUpEntries,
      strictReconfigCheck: true,
      maxTxnOps: 128,
      maxRequestBytes: 1.5 * 1024 * 1024,
      quotaBackendBytes: 0,
      bcryptCost: 4,
      // Every member runs this code: each answers /version with this version.
      peerVersion: () =>
        Promise.resolve({ etcdserver: ETCD_VERSION, etcdcluster: ETCD_CLUSTER_VERSION }),
    }, net.transport(this.id));
    this.server = server;
    server.useLeaderClient(net.leaderClient(this.id));
    server.onRemoved(() => {
      // etcd exits once it learns it was removed.
      this.env.time.schedule(1, () => {
        if (this.owner !== owner || !owner.alive) return;
        this.env.trace(`${owner.name} removed from the cluster`);
        this.#end(owner, "kill");
        this.status = "removed";
      }, undefined);
    });
    net.up(this.id, owner, server);
    void server.ready().then(() => {
      if (this.owner === owner) this.published = true;
    });
    server.start();
    this.env.reclaimInvariants();
  }

  // The backend is durable as far as its code fsyncs its files: after a commit or a restore
  // from a leader's snapshot that fsync'd, what the files hold is what a power cut leaves; a
  // restore that did not may leave a torn file.
  #trackBackendDurability(state: MemberState): void {
    const backend = state.backend;
    const synced = <T>(op: () => T): T => {
      const before = this.env.realSyncs();
      const out = op();
      if (this.env.realSyncs() > before) {
        this.#durableDb = readDbFiles(this.paths.dbPath);
        this.#restoredUnsynced = false;
      }
      return out;
    };
    const commit = backend.commit.bind(backend);
    backend.commit = (opts = {}) => synced(() => commit(opts));
    const replaceWith = backend.replaceWith.bind(backend);
    backend.replaceWith = (path) => {
      this.#restoredUnsynced = true;
      synced(() => replaceWith(path));
    };
  }

  #log(line: string): void {
    this.logs.push(`${this.owner?.name ?? this.name} ${line.trimEnd()}`);
    if (this.logs.length > LOG_LINES_KEPT) this.logs.splice(0, this.logs.length - LOG_LINES_KEPT);
  }

  // The logger's exit: the process stops where it stands. Its resources go at the next event,
  // once the code unwinding from here has run.
  #exit(owner: Owner, code: number): never {
    if (owner.alive) {
      owner.alive = false;
      const last = this.logs.at(-1) ?? "";
      this.exitReason = `exit ${code}: ${last}`;
      this.env.trace(`${owner.name} exits (${code}): ${last}`);
      this.env.exited(this, code, last);
      this.env.time.schedule(1, () => this.#end(owner, "kill"), undefined);
    }
    throw new MemberExit(owner.name, code);
  }

  /** An invariant broke in this member's code: it panics (as its fail-stop would). */
  invariantBroken(err: Error): void {
    const owner = this.owner;
    if (!owner?.alive) return;
    this.#log(`C | invariant broken: ${err.message}`);
    this.#exit(owner, 2);
  }

  /** Kills the process (the kernel keeps what it wrote) or cuts the machine's power. */
  crash(kind: "kill" | "power", tear: Tear = "none", db: DbLoss = "latest"): void {
    const owner = this.owner;
    if (!owner?.alive) return;
    owner.alive = false;
    this.env.trace(`${owner.name} ${kind === "kill" ? "killed" : `power cut (${tear}, db ${db})`}`);
    this.#end(owner, kind, tear, db);
  }

  /** A graceful stop (etcd's SIGTERM): leadership handed over, everything flushed. */
  async stop(): Promise<void> {
    const owner = this.owner;
    if (!owner?.alive || !this.server) return;
    this.env.trace(`${owner.name} stopping`);
    this.#stopping = true;
    this.published = false;
    const server = this.server;
    await this.env.time.as(owner, () => server.stop()).catch((err) => {
      // The last flush failed (a disk fault): the process exits all the same.
      this.env.trace(`${owner.name} stop failed: ${(err as Error).message}`);
    });
    this.env.reclaimInvariants();
    owner.alive = false;
    this.#end(owner, "kill");
  }

  #end(owner: Owner, kind: "kill" | "power", tear: Tear = "none", db: DbLoss = "latest"): void {
    owner.alive = false;
    this.env.closeDatabases(owner);
    if (this.owner !== owner) return;
    if (this.status === "up") this.status = "down";
    this.env.net.down(this.id);
    if (kind === "power") {
      this.env.fs.powerCut(this.dataDir, tear, this.env.random);
      this.#loseBackend(db);
    }
    this.env.fs.releaseLocks(this.dataDir);
    this.server = undefined;
    this.state = undefined;
  }

  // What survives of the backend: what was synced, or (the kernel wrote it back in time) the
  // latest commit; a snapshot installed since the sync, which was never synced, may be torn.
  #loseBackend(db: DbLoss): void {
    const path = this.paths.dbPath;
    if (db === "latest") return;
    if (db === "torn" && this.#restoredUnsynced) {
      const bytes = Deno.readFileSync(path);
      const keep = Math.floor(this.env.random() * (bytes.length / 4096)) * 4096;
      Deno.writeFileSync(path, bytes.subarray(0, keep));
      removeIfPresent(`${path}-wal`);
      return;
    }
    for (const suffix of ["", "-wal"]) removeIfPresent(path + suffix);
    for (const [suffix, bytes] of this.#durableDb ?? []) Deno.writeFileSync(path + suffix, bytes);
  }
}

function readDbFiles(path: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const suffix of ["", "-wal"]) {
    try {
      out.set(suffix, Deno.readFileSync(path + suffix));
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  return out;
}

function removeIfPresent(path: string): void {
  try {
    Deno.removeSync(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}
