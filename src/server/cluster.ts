// Runtime reconfiguration (etcd's member add/remove/update/promote): each change is checked
// against the membership with etcd's errors, proposed as a Raft conf change whose context is
// the member, and answered once applied.
import { type ConfChange, ConfChangeType, type RawNode } from "../raft/mod.ts";
import { parseURLList } from "../config/mod.ts";
import { Errors } from "../errors/mod.ts";
import { serverMetrics } from "../metrics/mod.ts";
import { isEtcdError, type LeaderForwarder } from "./forward.ts";
import type { HeaderOf } from "./header.ts";
import { computeMemberId } from "./ids.ts";
import { type Member, type Membership, memberToJSON } from "./membership.ts";
import type { RaftStatus } from "./raft_status.ts";

/** A learner may be promoted once it has 90% of the leader's log (etcd's readiness rule). */
const LEARNER_READY_PERCENT = 0.9;

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
      peerURLs: urls,
      clientURLs: [],
      isLearner,
    };
    this.deps.membership.validateAdd(member);
    if (!isLearner) this.#checkCanAddVoter();
    await this.#propose(
      isLearner ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode,
      member.id,
      member,
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
    await this.#propose(ConfChangeType.RemoveNode, id, member);
    return { header: this.#header(), members: this.#members() };
  }

  async update(id: bigint, peerURLs: string[]) {
    const m = this.deps.membership;
    const existing = m.validateExisting(id);
    m.validateUpdate(id, peerURLs);
    await this.#propose(ConfChangeType.UpdateNode, id, { ...existing, peerURLs });
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
    await this.#propose(ConfChangeType.AddNode, id, { ...member, isLearner: false });
  }

  // etcd's --strict-reconfig-check: a new voter must not leave the cluster without quorum
  // among started members (a one-member cluster may always grow to two).
  #checkCanAddVoter(): void {
    if (!this.deps.strictReconfigCheck) return;
    const voters = this.deps.membership.voters();
    const started = voters.filter((m) => m.name !== "").length;
    const total = voters.length + 1;
    if (started === 1 && total === 2) return;
    if (started < Math.floor(total / 2) + 1) throw Errors.notEnoughStartedMembers();
  }

  #checkCanRemoveVoter(id: bigint): void {
    if (!this.deps.strictReconfigCheck) return;
    const remaining = this.deps.membership.voters().filter((m) => m.id !== id);
    const active = remaining.filter((m) => this.deps.raft.isActive(m.id)).length;
    if (active < Math.floor(remaining.length / 2) + 1) throw Errors.unhealthyCluster();
  }

  async #propose(type: ConfChangeType, nodeId: bigint, member: Member): Promise<void> {
    this.#counter = (this.#counter + 1) % 2 ** 32;
    const id = this.#idPrefix + this.#counter;
    const applied = this.deps.waitConfChange(id);
    await this.deps.proposeConfChange({
      id,
      type,
      nodeId,
      context: new TextEncoder().encode(JSON.stringify(memberToJSON(member))),
    }, applied);
  }
}
