// Runtime reconfiguration (etcd's member add/remove/update/promote): each change is checked
// against the membership with etcd's errors, proposed as a Raft conf change with etcd's context
// (the Member JSON, or a ConfigChangeContext to promote), and answered once applied.
import { type ConfChange, ConfChangeType, type RawNode } from "../raft/mod.ts";
import { parseURLList } from "../config/mod.ts";
import { Errors } from "../errors/mod.ts";
import { serverMetrics } from "../metrics/mod.ts";
import { isEtcdError, type LeaderForwarder } from "./forward.ts";
import type { HeaderOf } from "./header.ts";
import { computeMemberId } from "./ids.ts";
import { type Member, memberJSON, type Membership, promoteContextJSON } from "./membership.ts";
import type { RaftStatus } from "./raft_status.ts";

/** A learner may be promoted once it has 90% of the leader's log (etcd's readiness rule). */
const LEARNER_READY_PERCENT = 0.9;

/** How long peers must have been connected before a reconfiguration (etcd's HealthInterval). */
const HEALTH_INTERVAL_MS = 5000;

export interface ClusterApiDeps {
  membership: Membership;
  raft: RaftStatus;
  node: RawNode;
  header: HeaderOf;
  forwarder: LeaderForwarder;
  /** Proposes a conf change; resolves once `applied` does. */
  proposeConfChange(cc: ConfChange, applied: Promise<void>): Promise<void>;
  /** The apply path's signal that the conf change with this ID was applied. */
  waitConfChange(id: number): Promise<void>;
  strictReconfigCheck: boolean;
  /** When the transport last saw the peer become active (ms since the epoch); 0 while not. */
  activeSince(id: bigint): number;
  now(): number;
}

const toWire = (m: Member) => ({
  ID: m.id,
  name: m.name,
  peerURLs: m.peerURLs,
  clientURLs: m.clientURLs,
  isLearner: m.isLearner,
});

export class ClusterApi {
  // Conf change IDs travel to every member's apply path: member bits keep ours apart from
  // theirs, the start time keeps them apart across our restarts.
  #idPrefix: number;
  #counter: number;

  constructor(readonly deps: ClusterApiDeps) {
    this.#idPrefix = Number(deps.raft.memberId & 0xfffffn) * 2 ** 32;
    this.#counter = (Date.now() & 0xffffff) * 256;
  }

  #header() {
    const h = this.deps.header();
    return { clusterId: h.clusterId, memberId: h.memberId, raftTerm: h.raftTerm };
  }

  #members() {
    return this.deps.membership.list().map(toWire);
  }

  list() {
    return { header: this.#header(), members: this.#members() };
  }

  async add(peerURLs: string[], isLearner: boolean) {
    const urls = parseURLList(peerURLs);
    if (!Array.isArray(urls)) throw Errors.memberBadURLs();
    const member: Member = {
      id: computeMemberId(urls, "", Math.floor(this.deps.now() / 1000)),
      name: "",
      peerURLs: [...urls].sort(),
      clientURLs: [],
      isLearner,
    };
    this.deps.membership.validateAdd(member);
    this.#checkCanAdd(isLearner);
    await this.#propose(
      isLearner ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode,
      member.id,
      memberJSON(member),
    );
    return {
      header: this.#header(),
      member: this.#members().find((m) => m.ID === member.id),
      members: this.#members(),
    };
  }

  async remove(id: bigint) {
    const m = this.deps.membership;
    if (m.removed.has(id)) throw Errors.memberNotFound();
    const member = m.validateExisting(id);
    if (!member.isLearner) this.#checkCanRemoveVoter(id);
    await this.#propose(ConfChangeType.RemoveNode, id, "");
    return { header: this.#header(), members: this.#members() };
  }

  async update(id: bigint, peerURLs: string[]) {
    const m = this.deps.membership;
    const existing = m.validateExisting(id);
    m.validateUpdate(id, peerURLs);
    // etcd's context is the ID and the peer URLs alone, which makes a learner a voter in its
    // membership; a learner's stays a learner here, and on etcd members alike.
    const update = { ...existing, name: "", clientURLs: [], peerURLs };
    await this.#propose(ConfChangeType.UpdateNode, id, memberJSON(update));
    return { header: this.#header(), members: this.#members() };
  }

  /**
   * Only the leader knows whether a learner has caught up: a follower forwards the promotion,
   * and answers with the members the leader lists afterwards.
   */
  async promote(id: bigint) {
    const { raft, forwarder } = this.deps;
    const members = await forwarder.forward({
      local: () => raft.isLeader,
      answerLocally: async () => {
        await this.#promoteOnLeader(id);
        return this.#members();
      },
      remote: async (client, url, ms) =>
        (await client.promoteMember(url, id, ms)).map((m) => toWire(m)),
      final: (err) =>
        isEtcdError(err, Errors.memberNotFound) || isEtcdError(err, Errors.memberNotLearner) ||
        isEtcdError(err, Errors.learnerNotReady),
      movedAway: (err) => isEtcdError(err, Errors.notLeader),
    });
    return { header: this.#header(), members };
  }

  /** A promotion a follower forwarded: the members afterwards; `not leader` elsewhere. */
  async promoteForwarded(id: bigint) {
    await this.#promoteOnLeader(id);
    return this.deps.membership.list();
  }

  // etcd counts the promotions this member decided as leader, failures by their message.
  async #promoteOnLeader(id: bigint): Promise<void> {
    try {
      await this.#promoteHere(id);
      serverMetrics.learnerPromoteSucceed.inc();
    } catch (err) {
      if (!isEtcdError(err, Errors.notLeader)) {
        serverMetrics.learnerPromoteFailed.labels({ Reason: (err as Error).message }).inc();
      }
      throw err;
    }
  }

  async #promoteHere(id: bigint): Promise<void> {
    const { membership, raft, node } = this.deps;
    const member = membership.validateExisting(id);
    if (!member.isLearner) throw Errors.memberNotLearner();
    if (!raft.isLeader) throw Errors.notLeader();
    const status = node.status();
    const progress = status.progress?.get(id);
    if (!progress || progress.match < status.hardState.commit * LEARNER_READY_PERCENT) {
      throw Errors.learnerNotReady();
    }
    await this.#propose(ConfChangeType.AddNode, id, promoteContextJSON(id));
  }

  // etcd's --strict-reconfig-check: a new voter must not leave the cluster without quorum
  // among started members (a one-member cluster may always grow to two), and this member must
  // have been connected to every voter for HEALTH_INTERVAL_MS (etcd's isConnectedFullySince).
  #checkCanAdd(isLearner: boolean): void {
    if (!this.deps.strictReconfigCheck) return;
    const voters = this.deps.membership.voters();
    const started = voters.filter((m) => m.name !== "").length;
    const total = voters.length + 1;
    if (!isLearner && !(started === 1 && total === 2) && started < Math.floor(total / 2) + 1) {
      throw Errors.notEnoughStartedMembers();
    }
    if (this.#connectedVoters() !== voters.length) throw Errors.unhealthyCluster();
  }

  // etcd's mayRemoveMember: the started members left must be a quorum; a member that is down
  // may always go; otherwise those connected for HEALTH_INTERVAL_MS, less one, must be.
  #checkCanRemoveVoter(id: bigint): void {
    if (!this.deps.strictReconfigCheck) return;
    const voters = this.deps.membership.voters();
    const remaining = voters.filter((m) => m.id !== id);
    const started = remaining.filter((m) => m.name !== "").length;
    if (started < Math.floor(remaining.length / 2) + 1) throw Errors.notEnoughStartedMembers();
    if (id !== this.deps.raft.memberId && this.deps.activeSince(id) === 0) return;
    if (this.#connectedVoters() - 1 < 1 + Math.floor((voters.length - 1) / 2)) {
      throw Errors.unhealthyCluster();
    }
  }

  /** Voters this member has been connected to since HEALTH_INTERVAL_MS ago, itself included. */
  #connectedVoters(): number {
    // The transport's clock: activeSince is wall time.
    const since = Date.now() - HEALTH_INTERVAL_MS;
    return this.deps.membership.voters().filter((m) => {
      if (m.id === this.deps.raft.memberId) return true;
      const t = this.deps.activeSince(m.id);
      return t !== 0 && t < since;
    }).length;
  }

  /** Proposes a conf change whose context is etcd's JSON (none for a removal). */
  async #propose(type: ConfChangeType, nodeId: bigint, context: string): Promise<void> {
    this.#counter = (this.#counter + 1) % 2 ** 32;
    const id = this.#idPrefix + this.#counter;
    const applied = this.deps.waitConfChange(id);
    await this.deps.proposeConfChange({
      id,
      type,
      nodeId,
      context: new TextEncoder().encode(context),
    }, applied);
  }
}
