// etcd's Maintenance operations on one member: status, alarms, hashes, defragmentation,
// snapshots of the backend, leader transfer — and the /health decision etcd's HTTP handler
// makes from the same state.
import type { RawNode } from "../raft/mod.ts";
import { ETCD_VERSION } from "../config/mod.ts";
import { Errors } from "../errors/mod.ts";
import { humanBytes, type Logger } from "../log/mod.ts";
import { diskMetrics, secondsSince } from "../metrics/mod.ts";
import { AlarmAction, type AlarmMember, type AlarmRequest, AlarmType } from "./alarms.ts";
import type { Backend } from "./backend.ts";
import type { HeaderOf } from "./header.ts";
import type { Membership } from "./membership.ts";
import type { Propose } from "./proposer.ts";
import type { RaftStatus } from "./raft_status.ts";
import type { ReadBarrier } from "./reads.ts";
import { etcdSnapshotStream } from "./etcd_db/mod.ts";

/** How long /health waits for a linearizable read before calling the member unhealthy. */
const HEALTH_READ_TIMEOUT_MS = 1000;

export interface MaintenanceDeps {
  log: Logger;
  header: HeaderOf;
  raft: RaftStatus;
  node: RawNode;
  backend: Backend;
  membership: Membership;
  proposer: Propose;
  reads: ReadBarrier;
  appliedIndex(): number;
  /** Hands leadership to `target` and waits until it has taken over. */
  transferLeadership(target: bigint): Promise<void>;
}

export interface Health {
  ok: boolean;
  reason?: string;
}

export class Maintenance {
  constructor(readonly deps: MaintenanceDeps) {}

  status() {
    const { raft, node, backend, membership, header, appliedIndex } = this.deps;
    const { hardState } = node.status();
    const store = backend.store;
    return {
      header: header(),
      version: ETCD_VERSION,
      dbSize: store.dbSize(),
      dbSizeInUse: store.dbSizeInUse(),
      leader: raft.leader,
      raftIndex: hardState.commit,
      raftTerm: hardState.term,
      raftAppliedIndex: appliedIndex(),
      errors: raft.leader === 0n ? [Errors.noLeader().message] : [],
      isLearner: membership.get(raft.memberId)?.isLearner ?? false,
    };
  }

  // etcd 3.4's answers carry no header.
  async alarm(req: AlarmRequest) {
    const { backend, proposer } = this.deps;
    if (req.action === AlarmAction.GET) {
      const alarms = backend.alarms.list()
        .filter((a) => req.memberID === 0n || a.memberID === req.memberID);
      return { alarms };
    }
    const res = await proposer.propose("alarm", req);
    return { alarms: res.alarms };
  }

  // A checksum of this member's key space, comparable between etcd-ts members only: etcd's
  // Hash covers every bucket of its bbolt file (see the mvcc store's hash()).
  hash() {
    return { header: this.deps.header(), hash: this.deps.backend.store.hash() };
  }

  // etcd's HashKV: the value etcd 3.4 computes for the same history.
  hashKV(revision: number) {
    const h = this.deps.backend.store.hashKV(revision);
    return { header: this.deps.header(h.rev), hash: h.hash, compactRevision: h.compactRevision };
  }

  // etcd 3.4 answers a defragmentation with an empty response (no header).
  defragment() {
    this.deps.backend.store.defrag();
    return {};
  }

  /**
   * The backend as etcd streams it: etcd's bbolt file in pieces with the bytes still to come,
   * then its SHA-256 as the last piece, which `etcdctl snapshot` tools use to check integrity.
   */
  async *snapshotChunks() {
    const { backend, log } = this.deps;
    let total = 0;
    const start = performance.now();
    const sized = (bytes: number) => {
      total = bytes;
      log.info({
        pkg: "etcdserver/api/v3rpc",
        text: `sending database snapshot to client ${humanBytes(bytes)} [${bytes} bytes]`,
        msg: "sending database snapshot to client",
        fields: { "total-bytes": bytes, size: humanBytes(bytes) },
      });
    };
    yield* etcdSnapshotStream(backend, sized);
    diskMetrics.snapshotSeconds.observe(secondsSince(start));
    log.info({
      pkg: "etcdserver/api/v3rpc",
      text: `successfully sent database snapshot to client ${humanBytes(total)} [${total} bytes]`,
      msg: "successfully sent database snapshot to client",
      fields: {
        "total-bytes": total,
        size: humanBytes(total),
        took: `${((performance.now() - start) / 1000).toFixed(3)}s`,
      },
    });
  }

  async moveLeader(target: bigint) {
    const { raft, membership, header, transferLeadership } = this.deps;
    if (!raft.isLeader) throw Errors.notLeader();
    const member = membership.get(target);
    if (!member || member.isLearner) throw Errors.badLeaderTransferee();
    await transferLeadership(target);
    return { header: header() };
  }

  /**
   * etcd's /health: no alarm (but those excluded), a leader, and a linearizable read; with
   * `serializable` (etcd 3.5's ?serializable=true) the leader is not asked for and the read is
   * this member's own.
   */
  async health(exclude: string[], serializable = false): Promise<Health> {
    const { backend, raft, log } = this.deps;
    const alarm = backend.alarms.list().find((a) => !exclude.includes(alarmName(a.alarm)));
    if (alarm) {
      log.warn({ pkg: ETCDHTTP, text: `/health error due to ${alarmText(alarm)}` });
      return { ok: false, reason: `ALARM ${alarmName(alarm.alarm)}` };
    }
    if (!serializable && raft.leader === 0n) {
      log.warn({ pkg: ETCDHTTP, text: "/health error; no leader (status code 503)" });
      return { ok: false, reason: "RAFT NO LEADER" };
    }
    try {
      await this.probeRead(serializable, HEALTH_READ_TIMEOUT_MS);
      return { ok: true };
    } catch (err) {
      const why = (err as Error).message;
      log.warn({ pkg: ETCDHTTP, text: `/health error; QGET failed ${why} (status code 503)` });
      return { ok: false, reason: `QGET ERROR:${why}` };
    }
  }

  /**
   * The read etcd's health checks make (one key, keys only): from this member's store, after a
   * ReadIndex round unless `serializable`. Throws the read's error.
   */
  async probeRead(serializable: boolean, timeoutMs?: number): Promise<void> {
    if (!serializable) await this.deps.reads.linearizableRead(timeoutMs);
    this.deps.backend.store.range(new Uint8Array(), undefined, { limit: 1, keysOnly: true });
  }

  /** etcd 3.5's alarm check of /readyz: throws while an alarm of `type` is raised. */
  alarmCheck(type: AlarmType): void {
    if (this.deps.backend.alarms.list().some((a) => a.alarm === type)) {
      throw new Error(`alarm activated: ${alarmName(type)}`);
    }
  }
}

const ETCDHTTP = "etcdserver/api/etcdhttp";

const alarmName = (type: AlarmType) => AlarmType[type] ?? String(type);

/** An AlarmMember as gogoproto's String() prints it in etcd's log. */
const alarmText = (a: AlarmMember) => `memberID:${a.memberID} alarm:${alarmName(a.alarm)} `;
