// etcd's Maintenance operations on one member: status, alarms, hashes, defragmentation,
// snapshots of the backend, leader transfer.
import { createHash } from "node:crypto";
import { ETCD_VERSION } from "../config/mod.ts";
import { AlarmAction, type AlarmRequest } from "./alarms.ts";
import { Errors } from "./errors.ts";
import type { EtcdServer } from "./server.ts";

/** Bytes per Snapshot message (etcd streams its backend in 32 KiB pieces). */
const SNAPSHOT_CHUNK = 32 * 1024;

export class Maintenance {
  constructor(readonly s: EtcdServer) {}

  status() {
    const s = this.s;
    const status = s.node.status();
    const store = s.backend.store;
    return {
      header: s.header(),
      version: ETCD_VERSION,
      dbSize: store.dbSize(),
      dbSizeInUse: store.dbSizeInUse(),
      leader: s.leader,
      raftIndex: status.hardState.commit,
      raftTerm: status.hardState.term,
      raftAppliedIndex: s.applier.appliedIndex,
      errors: s.leader === 0n ? [Errors.noLeader().message] : [],
      isLearner: s.state.membership.get(s.memberId)?.isLearner ?? false,
    };
  }

  async alarm(req: AlarmRequest) {
    const s = this.s;
    if (req.action === AlarmAction.GET) {
      const alarms = s.backend.alarms.list()
        .filter((a) => req.memberID === 0n || a.memberID === req.memberID);
      return { header: s.header(), alarms };
    }
    const result = await s.propose("alarm", req);
    if (result.error) throw result.error;
    return { header: s.header(), alarms: result.response.alarms };
  }

  // A checksum of this member's key space, comparable between etcd-ts members only: etcd's
  // Hash covers every bucket of its bbolt file (see the mvcc store's hash()).
  hash() {
    return { header: this.s.header(), hash: this.s.backend.store.hash() };
  }

  // etcd's HashKV: the value etcd 3.4 computes for the same history.
  hashKV(revision: number) {
    const h = this.s.backend.store.hashKV(revision);
    return { header: this.s.header(h.rev), hash: h.hash, compactRevision: h.compactRevision };
  }

  defragment() {
    this.s.backend.store.defrag();
    return { header: this.s.header() };
  }

  /**
   * The backend as etcd streams it: the database in pieces with the bytes still to come, then
   * its SHA-256 as the last piece, which `etcdctl snapshot` tools use to check integrity.
   */
  *snapshotChunks() {
    const db = this.s.backend.store.snapshotBytes();
    const header = this.s.header();
    for (let off = 0; off < db.length; off += SNAPSHOT_CHUNK) {
      const blob = db.subarray(off, off + SNAPSHOT_CHUNK);
      yield { header, remainingBytes: db.length - off - blob.length + 32, blob };
    }
    const sha = createHash("sha256").update(db).digest();
    yield { header, remainingBytes: 0, blob: new Uint8Array(sha) };
  }

  async moveLeader(target: bigint) {
    const s = this.s;
    if (!s.isLeader) throw Errors.notLeader();
    const member = s.state.membership.get(target);
    if (!member || member.isLearner) throw Errors.badLeaderTransferee();
    await s.transferLeadership(target);
    return { header: s.header() };
  }
}
