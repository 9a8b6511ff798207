// Opens a member's durable state: a new member bootstraps its log and backend from the initial
// cluster; an initialized one (its WAL dir holds segments) restarts from snapshot + log +
// backend and ignores every --initial-cluster* flag, as etcd does.
import { join } from "node:path";
import { existsSync, mkdirSync } from "node:fs";
import {
  ConfChangeType,
  type ConfState,
  decodeConfChange,
  encodeConfChange,
  type Entry,
  EntryType,
  type HardState,
  MemoryStorage,
  type RaftLogger,
  RawNode,
  type Snapshot,
} from "../raft/mod.ts";
import {
  createWal,
  type DataDirLock,
  lockDataDir,
  openWal,
  Snapshotter,
  validSnapshotEntries,
  type Wal,
  walExists,
} from "../storage/mod.ts";
import { createLessor, type Lessor, minLeaseTTL } from "../lease/mod.ts";
import type { Logger } from "../log/mod.ts";
import { formatId } from "./ids.ts";
import { type Member, memberJSON, Membership } from "./membership.ts";
import { loadMembership } from "./membership_store.ts";
import { downgradeRefusal } from "./cluster_version.ts";
import { migrateLegacyBackend } from "./legacy_layout.ts";
import { Backend, reloadLeases, verifyBackendFile } from "./backend.ts";
import { BootstrapError } from "./bootstrap_check.ts";
import type { AppliedState } from "./apply/mod.ts";
import { installSnapshotDb, snapshotDbPath } from "./etcd_db/mod.ts";

export interface MemberState {
  memberId: bigint;
  membership: Membership;
  node: RawNode;
  storage: MemoryStorage;
  wal: Wal;
  snapshotter: Snapshotter;
  backend: Backend;
  lessor: Lessor;
  lock: DataDirLock;
  /** Where the applied log starts: the newest raft snapshot (all zero when none). */
  applied: AppliedState;
  /** true when this start created the member (new cluster or join), false on restart. */
  isNew: boolean;
}

export interface MemberPaths {
  dataDir: string;
  memberDir: string;
  walDir: string;
  snapDir: string;
  dbPath: string;
}

export function memberPaths(dataDir: string, walDir: string): MemberPaths {
  const memberDir = join(dataDir, "member");
  const snapDir = join(memberDir, "snap");
  return {
    dataDir,
    memberDir,
    walDir: walDir || join(memberDir, "wal"),
    snapDir,
    dbPath: join(snapDir, "db"),
  };
}

export interface RaftTiming {
  heartbeatMs: number;
  electionMs: number;
  preVote: boolean;
}

/** Whether this data dir already holds an initialized member. */
export function isInitialized(paths: MemberPaths): boolean {
  return walExists(paths.walDir);
}

/** The WAL metadata of a member: its ID and its cluster's, 8 bytes big-endian each. */
export function encodeMetadata(memberId: bigint, clusterId: bigint): Uint8Array {
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, memberId);
  v.setBigUint64(8, clusterId);
  return out;
}

function decodeMetadata(b: Uint8Array): { memberId: bigint; clusterId: bigint } {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { memberId: v.getBigUint64(0), clusterId: v.getBigUint64(8) };
}

function raftLogger(log: Logger): RaftLogger {
  return {
    info: (text) => log.info({ pkg: "raft", text }),
    warn: (text) => log.warn({ pkg: "raft", text }),
    debug: (text) => log.debug({ pkg: "raft", text }),
  };
}

function openCommon(paths: MemberPaths, timing: RaftTiming, log: Logger) {
  mkdirSync(paths.snapDir, { recursive: true, mode: 0o700 });
  const lock = lockDataDir(paths.memberDir, paths.dataDir);
  let backend: Backend;
  try {
    verifyBackendFile(paths.dbPath);
    backend = new Backend(paths.dbPath);
  } catch (err) {
    // A damaged file, or one another program wrote (etcd's bbolt, say): refuse, touch nothing.
    lock.release();
    throw new BootstrapError(
      `cannot open the backend database ${paths.dbPath}: ${(err as Error).message}`,
    );
  }
  const lessor = createLessor({
    minTTL: minLeaseTTL(timing.electionMs, timing.heartbeatMs),
    now: () => Date.now(),
    persistence: backend.leasePersistence(),
  });
  const snapshotter = new Snapshotter(paths.snapDir, {
    warn: (text) => log.warn({ pkg: "snap", text: text.replace(/^snap: /, "") }),
  });
  return { lock, backend, lessor, snapshotter };
}

/**
 * Runs the rest of a start on what openCommon() opened; a start that fails closes the backend
 * (dropping anything it had not committed) and unlocks the data dir, so the process can try
 * again, or another one can, without finding them held.
 */
async function closedOnFailure<T>(
  common: ReturnType<typeof openCommon>,
  rest: () => Promise<T>,
): Promise<T> {
  try {
    return await rest();
  } catch (err) {
    common.backend.store.close();
    common.lock.release();
    throw err;
  }
}

function newRawNode(
  id: bigint,
  storage: MemoryStorage,
  timing: RaftTiming,
  log: Logger,
  applied?: number,
): RawNode {
  return new RawNode({
    id,
    electionTick: Math.floor(timing.electionMs / timing.heartbeatMs),
    heartbeatTick: 1,
    storage,
    applied,
    maxSizePerMsg: 1024 * 1024,
    maxInflightMsgs: 4096 / 8,
    checkQuorum: true,
    preVote: timing.preVote,
    random: Math.random,
    logger: raftLogger(log),
  });
}

/** The applied state a start begins from: the newest snapshot's, or nothing applied. */
function appliedFrom(snapshot: Snapshot | undefined): AppliedState {
  const index = snapshot?.metadata.index ?? 0;
  const term = snapshot?.metadata.term ?? 0;
  return {
    index,
    term,
    confState: snapshot?.metadata.confState ?? { voters: [], learners: [] },
    snapshotIndex: index,
    snapshotTerm: term,
  };
}

/**
 * A member that starts now (its WAL is created here), in a new cluster or joining a running
 * one: its log is empty, Raft knows no peers until entries or a snapshot say otherwise.
 */
async function startMember(
  paths: MemberPaths,
  timing: RaftTiming,
  log: Logger,
  memberId: bigint,
  clusterId: bigint,
): Promise<MemberState> {
  const common = openCommon(paths, timing, log);
  const wal = await closedOnFailure(
    common,
    () => createWal(paths.walDir, encodeMetadata(memberId, clusterId)),
  );
  const storage = new MemoryStorage();
  const node = newRawNode(memberId, storage, timing, log);
  log.info({
    pkg: "etcdserver",
    text: `starting member ${formatId(memberId)} in cluster ${formatId(clusterId)}`,
    msg: "starting local member",
    fields: { "local-member-id": formatId(memberId), "cluster-id": formatId(clusterId) },
  });
  return {
    memberId,
    membership: new Membership(clusterId),
    node,
    storage,
    wal,
    ...common,
    applied: appliedFrom(undefined),
    isNew: true,
  };
}

/** Creates a new member of a new cluster: WAL with our identity, the initial members in Raft. */
export async function bootstrapMember(
  paths: MemberPaths,
  timing: RaftTiming,
  log: Logger,
  members: Member[],
  memberId: bigint,
  clusterId: bigint,
): Promise<MemberState> {
  const state = await startMember(paths, timing, log, memberId, clusterId);
  // Each initial member enters the log as a committed AddNode conf change, whose context is
  // the member as etcd marshals it; applying them builds the membership on every member alike.
  state.node.bootstrap(members.map((m) => ({
    id: m.id,
    context: new TextEncoder().encode(memberJSON({ ...m, peerURLs: [...m.peerURLs].sort() })),
  })));
  return state;
}

/**
 * Creates a member that joins a running cluster (--initial-cluster-state existing): it starts
 * with an empty log and learns the membership from the leader's entries or snapshot.
 */
export function joinMember(
  paths: MemberPaths,
  timing: RaftTiming,
  log: Logger,
  memberId: bigint,
  clusterId: bigint,
): Promise<MemberState> {
  return startMember(paths, timing, log, memberId, clusterId);
}

/**
 * --force-new-cluster (etcd's restartAsStandaloneNode): entries that were never committed are
 * dropped, and committed RemoveNode entries for every other voter and learner are appended, so
 * this member restarts as a one-member cluster that keeps all of its data.
 */
async function forceStandalone(
  opened: { wal: Wal; hardState: HardState; entries: Entry[] },
  self: bigint,
  membership: Membership,
  snapConf: ConfState | undefined,
): Promise<{ hardState: HardState; entries: Entry[] }> {
  const committed = opened.entries.filter((e) => e.index <= opened.hardState.commit);
  const ids = new Set<bigint>([
    ...membership.list().map((m) => m.id),
    ...(snapConf?.voters ?? []),
    ...(snapConf?.learners ?? []),
  ]);
  for (const e of committed) {
    if (e.type !== EntryType.ConfChange) continue;
    const cc = decodeConfChange(e.data);
    if (cc.type === ConfChangeType.RemoveNode) ids.delete(cc.nodeId);
    else ids.add(cc.nodeId);
  }
  ids.delete(self);
  let index = opened.hardState.commit;
  const term = opened.hardState.term;
  const removals: Entry[] = [...ids].map((nodeId) => ({
    type: EntryType.ConfChange,
    term,
    index: ++index,
    data: encodeConfChange({
      id: 0,
      type: ConfChangeType.RemoveNode,
      nodeId,
      context: new Uint8Array(),
    }),
  }));
  const hardState = { ...opened.hardState, commit: index };
  await opened.wal.save(hardState, removals, true);
  return { hardState, entries: [...committed, ...removals] };
}

/** The snapshot a restart starts from, as etcd 3.4 picks it: the newest whose marker the log
 * holds below its committed hard state. */
async function restartSnapshot(
  paths: MemberPaths,
  snapshotter: Snapshotter,
): Promise<Snapshot | undefined> {
  const valid = await validSnapshotEntries(paths.walDir);
  return await snapshotter.loadNewest((index, term) =>
    valid.some((v) => v.index === index && v.term === term)
  );
}

/**
 * The backend is never behind the snapshot the log starts after: one received from the leader
 * brought the leader's database, and if the member stopped before putting it in place, it goes
 * in place now (etcd's recoverSnapshotBackend).
 */
function recoverSnapshotBackend(
  paths: MemberPaths,
  snapshot: Snapshot | undefined,
  backend: Backend,
  log: Logger,
): void {
  const index = snapshot?.metadata.index ?? 0;
  const consistentIndex = backend.store.consistentIndex();
  if (!snapshot || consistentIndex >= index) return;
  const db = snapshotDbPath(paths.snapDir, index);
  if (!existsSync(db)) {
    throw new BootstrapError(
      `the backend ${paths.dbPath} (consistent index ${consistentIndex}) is behind the ` +
        `snapshot at index ${index}, and ${db}, which would recover it, is missing`,
    );
  }
  log.info({
    pkg: "etcdserver",
    text: `recovering backend from snapshot at index ${index} (backend at ${consistentIndex})`,
    msg: "recovering backend from snapshot",
    fields: { "snapshot-index": index, "consistent-index": consistentIndex },
  });
  installSnapshotDb(db, backend, snapshot.data);
}

/**
 * The membership the backend holds (in etcd's layout, into which an older etcd-ts backend is
 * rewritten first); a cluster version above this member's refuses the start, as etcd does.
 */
function restartMembership(backend: Backend, clusterId: bigint, log: Logger): Membership {
  if (migrateLegacyBackend(backend.aux, clusterId)) {
    backend.commit({ sync: true });
    log.notice({
      pkg: "etcdserver",
      text: "rewrote the backend's membership and v2 store in etcd 3.4's layout",
    });
  }
  const membership = loadMembership(backend.aux, clusterId);
  const downgrade = downgradeRefusal(membership.version);
  if (downgrade) throw new BootstrapError(downgrade);
  return membership;
}

/** Restarts an initialized member from its newest snapshot, its log and its backend. */
export async function restartMember(
  paths: MemberPaths,
  timing: RaftTiming,
  log: Logger,
  forceNewCluster = false,
): Promise<MemberState> {
  log.info({
    pkg: "etcdmain",
    text: "the server is already initialized as member before, starting as etcd member...",
    msg: "server has been already initialized",
    fields: { "data-dir": paths.dataDir, "dir-type": "member" },
  });
  const common = openCommon(paths, timing, log);
  return await closedOnFailure(
    common,
    () => restartFrom(paths, timing, log, common, forceNewCluster),
  );
}

async function restartFrom(
  paths: MemberPaths,
  timing: RaftTiming,
  log: Logger,
  common: ReturnType<typeof openCommon>,
  forceNewCluster: boolean,
): Promise<MemberState> {
  const snapshot = await restartSnapshot(paths, common.snapshotter);
  const from = snapshot
    ? { index: snapshot.metadata.index, term: snapshot.metadata.term }
    : { index: 0, term: 0 };
  const opened = await openWal(paths.walDir, from);
  if (opened.repaired) {
    log.warn({ pkg: "wal", text: opened.repaired.message.replace(/^wal: /, "") });
  }
  const { memberId, clusterId } = decodeMetadata(opened.metadata);
  recoverSnapshotBackend(paths, snapshot, common.backend, log);
  const membership = restartMembership(common.backend, clusterId, log);
  let { hardState, entries } = opened;
  if (forceNewCluster) {
    ({ hardState, entries } = await forceStandalone(
      opened,
      memberId,
      membership,
      snapshot?.metadata.confState,
    ));
    log.info({
      pkg: "etcdserver",
      text: `forcing restart of member ${formatId(memberId)} in cluster ${
        formatId(clusterId)
      } at commit index ${hardState.commit}`,
    });
  }
  const storage = new MemoryStorage();
  if (snapshot) storage.applySnapshot(snapshot);
  storage.setHardState(hardState);
  storage.append(entries);
  const node = newRawNode(memberId, storage, timing, log, snapshot?.metadata.index ?? 0);
  reloadLeases(common.lessor, common.backend);
  log.info({
    pkg: "etcdserver",
    text: `restarting member ${formatId(memberId)} in cluster ${
      formatId(clusterId)
    } at commit index ${opened.hardState.commit}`,
    msg: "restarting local member",
    fields: {
      "local-member-id": formatId(memberId),
      "cluster-id": formatId(clusterId),
      "commit-index": opened.hardState.commit,
    },
  });
  return {
    memberId,
    membership,
    node,
    storage,
    wal: opened.wal,
    ...common,
    applied: appliedFrom(snapshot),
    isNew: false,
  };
}
