// Runtime reconfiguration (etcd's member add/remove/update/promote): each change is checked
// against the membership with etcd's errors, proposed as a Raft conf change whose context is
// the member, and answered once applied.
import { ConfChangeType } from "../raft/mod.ts";
import { parseURLList } from "../config/mod.ts";
import { Errors } from "../errors/mod.ts";
import { forwardToLeader, isError } from "./forward.ts";
import { computeMemberId } from "./ids.ts";
import { type Member, memberToJSON } from "./membership.ts";
import type { EtcdServer } from "./server.ts";

/** A learner may be promoted once it has 90% of the leader's log (etcd's readiness rule). */
const LEARNER_READY_PERCENT = 0.9;

export class ClusterApi {
  // Conf change IDs travel to every member's apply path: member bits keep ours apart from
  // theirs, the start time keeps them apart across our restarts.
  #idPrefix: number;
  #counter: number;

  constructor(readonly s: EtcdServer) {
    this.#idPrefix = Number(s.memberId & 0xfffffn) * 2 ** 32;
    this.#counter = (Date.now() & 0xffffff) * 256;
  }

  #header() {
    const h = this.s.header();
    return { clusterId: h.clusterId, memberId: h.memberId, raftTerm: h.raftTerm };
  }

  #members() {
    return this.s.state.membership.list().map((m) => ({
      ID: m.id,
      name: m.name,
      peerURLs: m.peerURLs,
      clientURLs: m.clientURLs,
      isLearner: m.isLearner,
    }));
  }

  list() {
    return { header: this.#header(), members: this.#members() };
  }

  async add(peerURLs: string[], isLearner: boolean) {
    const urls = parseURLList(peerURLs);
    if (!Array.isArray(urls)) throw Errors.memberBadURLs();
    const member: Member = {
      id: computeMemberId(urls, "", Math.floor(this.s.now() / 1000)),
      name: "",
      peerURLs: urls,
      clientURLs: [],
      isLearner,
    };
    this.s.state.membership.validateAdd(member);
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
    const m = this.s.state.membership;
    if (m.removed.has(id)) throw Errors.memberNotFound();
    const member = m.validateExisting(id);
    if (!member.isLearner) this.#checkCanRemoveVoter(id);
    await this.#propose(ConfChangeType.RemoveNode, id, member);
    return { header: this.#header(), members: this.#members() };
  }

  async update(id: bigint, peerURLs: string[]) {
    const m = this.s.state.membership;
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
    const s = this.s;
    const members = await forwardToLeader(s, {
      local: () => s.isLeader,
      answerLocally: async () => {
        await this.#promoteOnLeader(id);
        return this.#members();
      },
      remote: async (client, url, ms) =>
        (await client.promoteMember(url, id, ms)).map((m) => ({
          ID: m.id,
          name: m.name,
          peerURLs: m.peerURLs,
          clientURLs: m.clientURLs,
          isLearner: m.isLearner,
        })),
      final: (err) =>
        isError(err, Errors.memberNotFound) || isError(err, Errors.memberNotLearner) ||
        isError(err, Errors.learnerNotReady),
    });
    return { header: this.#header(), members };
  }

  /** A promotion a follower forwarded: the members afterwards; `not leader` elsewhere. */
  async promoteForwarded(id: bigint) {
    await this.#promoteOnLeader(id);
    return this.s.state.membership.list();
  }

  async #promoteOnLeader(id: bigint): Promise<void> {
    const s = this.s;
    const member = s.state.membership.validateExisting(id);
    if (!member.isLearner) throw Errors.memberNotLearner();
    if (!s.isLeader) throw Errors.notLeader();
    const progress = s.node.status().progress?.get(id);
    const leaderMatch = s.node.status().hardState.commit;
    if (!progress || progress.match < leaderMatch * LEARNER_READY_PERCENT) {
      throw Errors.learnerNotReady();
    }
    await this.#propose(ConfChangeType.AddNode, id, { ...member, isLearner: false });
  }

  // etcd's --strict-reconfig-check: a new voter must not leave the cluster without quorum
  // among started members (a one-member cluster may always grow to two).
  #checkCanAddVoter(): void {
    if (!this.s.strictReconfigCheck) return;
    const voters = this.s.state.membership.voters();
    const started = voters.filter((m) => m.name !== "").length;
    const total = voters.length + 1;
    if (started === 1 && total === 2) return;
    if (started < Math.floor(total / 2) + 1) throw Errors.notEnoughStartedMembers();
  }

  #checkCanRemoveVoter(id: bigint): void {
    if (!this.s.strictReconfigCheck) return;
    const remaining = this.s.state.membership.voters().filter((m) => m.id !== id);
    const active = remaining.filter((m) => this.s.isActive(m.id)).length;
    if (active < Math.floor(remaining.length / 2) + 1) throw Errors.unhealthyCluster();
  }

  async #propose(type: ConfChangeType, nodeId: bigint, member: Member): Promise<void> {
    this.#counter = (this.#counter + 1) % 2 ** 32;
    const id = this.#idPrefix + this.#counter;
    const applied = this.s.applier.waitConfChange(id);
    await this.s.proposeConfChange({
      id,
      type,
      nodeId,
      context: new TextEncoder().encode(JSON.stringify(memberToJSON(member))),
    }, applied);
  }
}
