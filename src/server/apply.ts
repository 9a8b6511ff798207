// The apply path: turns committed raft entries into changes of the key space, leases and
// membership, in log order, identically on every member and after every restart. Entries at or
// below the backend's consistent index were applied before a restart and are skipped (their
// membership effect on Raft's configuration is replayed, as it is not in the backend).
import {
  type ConfChange,
  ConfChangeType,
  decodeConfChange,
  type Entry,
  EntryType,
  type Snapshot,
} from "../raft/mod.ts";
import { EtcdError } from "../errors/mod.ts";
import { formatId } from "./ids.ts";
import { memberFromJSON } from "./membership.ts";
import { reloadLeases } from "./member_state.ts";
import { appliesAsProposed, decodeRequest, type InternalRequest, requestIdOf } from "./request.ts";
import type { Wait } from "./wait.ts";
import { applyKv } from "./kv.ts";
import { applyV2 } from "./v2.ts";
import { applyAuthEntry, authorizeApplied } from "./auth.ts";
import type { EtcdServer } from "./server.ts";

export interface ApplyResult {
  // deno-lint-ignore no-explicit-any
  response?: any;
  error?: EtcdError;
  /** Work the apply started that the caller waits for (physical compaction). */
  done?: Promise<void>;
}

export class Applier {
  appliedIndex: number;
  /** Term of the entry at appliedIndex (etcd's appliedt): a snapshot sent from here carries it. */
  appliedTerm: number;
  readonly #confWait = new Map<number, (err?: EtcdError) => void>();

  constructor(readonly server: EtcdServer, readonly wait: Wait<ApplyResult, InternalRequest>) {
    this.appliedIndex = Math.max(
      server.state.snapshotIndex,
      0,
    );
    this.appliedTerm = server.state.snapshotTerm;
  }

  apply(entries: Entry[]): void {
    const store = this.server.backend.store;
    for (const e of entries) {
      if (e.index <= this.appliedIndex) continue;
      const alreadyApplied = e.index <= store.consistentIndex();
      if (e.type === EntryType.ConfChange) {
        this.#applyConfChange(decodeConfChange(e.data), alreadyApplied);
      } else if (e.data.length === 0) {
        this.#applyLeaderNoop(e);
      } else if (!alreadyApplied) {
        this.#applyRequest(this.#requestOf(e.data), e.index);
      }
      if (!alreadyApplied) store.setConsistentIndex(e.index);
      this.appliedIndex = e.index;
      this.appliedTerm = e.term;
    }
    this.server.backend.applied(entries.length);
  }

  // The proposer still holds the request it encoded into the entry; applying that object
  // skips decoding it again. IDs carry the member's bits, so another member's entry never
  // matches one of ours.
  #requestOf(data: Uint8Array): InternalRequest {
    const own = this.wait.request(requestIdOf(data));
    return own && appliesAsProposed(own.kind) ? own : decodeRequest(data);
  }

  // A new leader's empty entry: everything of earlier terms is applied now, so the leader
  // takes over lease expiry from here, with full TTLs (etcd 3.4).
  #applyLeaderNoop(e: Entry): void {
    const s = this.server;
    if (s.isLeader && e.term === s.term) s.state.lessor.promote(s.electionMs);
  }

  #applyRequest(r: InternalRequest, index: number): void {
    let result: ApplyResult;
    try {
      authorizeApplied(this.server, r);
      result = this.#dispatch(r, index);
    } catch (err) {
      if (!(err instanceof EtcdError)) throw err;
      result = { error: err };
    }
    if (r.id !== 0n) this.wait.trigger(r.id, result);
  }

  #dispatch(r: InternalRequest, index: number): ApplyResult {
    const s = this.server;
    switch (r.kind) {
      case "put":
      case "deleteRange":
      case "txn":
      case "compaction":
      case "leaseRevoke":
        return applyKv(s, r);
      case "leaseGrant": {
        const lease = s.state.lessor.grant(r.body.ID, r.body.TTL);
        return { response: { ID: lease.ID, TTL: lease.TTL } };
      }
      case "alarm":
        return { response: s.backend.alarms.apply(r.body) };
      case "clusterVersionSet":
        this.#setClusterVersion(r.body.version);
        return {};
      case "memberAttrSet": {
        const { memberId, name, clientURLs } = r.body;
        s.state.membership.setAttributes(memberId, name, clientURLs);
        s.backend.saveMembership(s.state.membership);
        return {};
      }
      case "v2":
        return applyV2(s, r.body);
      case "auth":
        return applyAuthEntry(s, r, index);
    }
  }

  #setClusterVersion(version: string): void {
    const s = this.server;
    const first = s.state.membership.version === "";
    s.state.membership.version = version;
    s.backend.saveMembership(s.state.membership);
    const short = version.split(".").slice(0, 2).join(".");
    if (first) {
      s.log.notice({
        pkg: "etcdserver/membership",
        text: `set the initial cluster version to ${short}`,
        msg: "set initial cluster version",
        fields: { "cluster-version": short },
      });
    }
    announceCapabilities(s, short);
  }

  /** Registers a caller waiting for the conf change with this ID to be applied. */
  waitConfChange(id: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#confWait.set(id, (err) => err ? reject(err) : resolve());
    });
  }

  #applyConfChange(cc: ConfChange, alreadyApplied: boolean): void {
    const s = this.server;
    const m = s.state.membership;
    if (!alreadyApplied) {
      const cid = formatId(m.clusterId);
      switch (cc.type) {
        case ConfChangeType.AddNode:
        case ConfChangeType.AddLearnerNode: {
          const existing = m.get(cc.nodeId);
          if (existing && cc.type === ConfChangeType.AddNode && existing.isLearner) {
            m.promote(cc.nodeId);
            s.log.notice({
              pkg: "etcdserver/membership",
              text: `promote member ${formatId(cc.nodeId)} in cluster ${cid}`,
            });
          } else if (!existing) {
            const member = memberFromJSON(JSON.parse(new TextDecoder().decode(cc.context)));
            m.add(member);
            s.log.info({
              pkg: "etcdserver/membership",
              text: `added member ${formatId(member.id)} [${
                member.peerURLs.join(" ")
              }] to cluster ${cid}`,
              msg: "added member",
              fields: {
                "added-peer-id": formatId(member.id),
                "added-peer-peer-urls": member.peerURLs,
              },
            });
          }
          break;
        }
        case ConfChangeType.RemoveNode:
          m.remove(cc.nodeId);
          s.log.info({
            pkg: "etcdserver/membership",
            text: `removed member ${formatId(cc.nodeId)} from cluster ${cid}`,
          });
          break;
        case ConfChangeType.UpdateNode: {
          const member = memberFromJSON(JSON.parse(new TextDecoder().decode(cc.context)));
          m.updatePeerURLs(cc.nodeId, member.peerURLs);
          s.log.info({
            pkg: "etcdserver/membership",
            text: `updated member ${formatId(cc.nodeId)} [${
              member.peerURLs.join(" ")
            }] in cluster ${cid}`,
          });
          break;
        }
      }
      s.backend.saveMembership(m);
    }
    s.state.confState = s.node.applyConfChange(cc);
    s.membershipChanged();
    if (cc.type === ConfChangeType.RemoveNode && cc.nodeId === s.memberId) s.removed();
    this.#confWait.get(cc.id)?.();
    this.#confWait.delete(cc.id);
  }

  /** A snapshot from the leader replaced our state: reload everything derived from it. */
  applySnapshot(snap: Snapshot): Promise<void> {
    const s = this.server;
    const index = snap.metadata.index;
    s.log.info({ pkg: "etcdserver", text: `applying snapshot at index ${index}...` });
    // The leader sends its whole backend as the snapshot's data (see peer/).
    this.server.backend.restore(snap.data);
    this.server.state.membership = this.server.backend.loadMembership()!;
    reloadLeases(this.server.state.lessor, this.server.backend);
    this.server.auth.reload();
    this.server.hub.resync();
    this.server.state.confState = snap.metadata.confState;
    this.server.state.snapshotIndex = index;
    this.server.state.snapshotTerm = snap.metadata.term;
    this.server.membershipChanged();
    this.appliedIndex = index;
    this.appliedTerm = snap.metadata.term;
    s.log.info({
      pkg: "etcdserver",
      text: `finished applying incoming snapshot at index ${index}`,
      msg: "applied snapshot",
      fields: { "incoming-leader-snapshot-index": index },
    });
    return Promise.resolve();
  }
}

/** etcd logs this whenever the cluster version becomes known; operators' scripts wait for it. */
export function announceCapabilities(s: EtcdServer, shortVersion: string): void {
  s.log.info({
    pkg: "etcdserver/api",
    text: `enabled capabilities for version ${shortVersion}`,
    msg: "enabled capabilities for version",
    fields: { "cluster-version": shortVersion },
  });
}
