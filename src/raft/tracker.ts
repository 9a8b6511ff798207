// The configuration (voters and learners) with everyone's Progress and the votes of the
// current election: majority arithmetic lives here and nowhere else.

import type { ConfState } from "./types.ts";
import { Progress } from "./progress.ts";

export enum VoteResult {
  Pending,
  Lost,
  Won,
}

export class ProgressTracker {
  voters = new Set<bigint>();
  learners = new Set<bigint>();
  progress = new Map<bigint, Progress>();
  votes = new Map<bigint, boolean>();

  constructor(readonly maxInflight: number) {}

  /** Ids in ascending order, so every walk over the members is deterministic. */
  ids(): bigint[] {
    return [...this.progress.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  confState(): ConfState {
    const sorted = (s: Set<bigint>) => [...s].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return { voters: sorted(this.voters), learners: sorted(this.learners) };
  }

  /** etcd's wording, decimal ids: `voters=(1 2 3) learners=(4)`. */
  configString(): string {
    const cs = this.confState();
    let s = `voters=(${cs.voters.join(" ")})`;
    if (cs.learners.length > 0) s += ` learners=(${cs.learners.join(" ")})`;
    return s;
  }

  isSingleton(): boolean {
    return this.voters.size === 1;
  }

  quorum(): number {
    return Math.floor(this.voters.size / 2) + 1;
  }

  /** Highest index replicated on a majority of voters (0 without voters). */
  committed(): number {
    const n = this.voters.size;
    if (n === 0) return 0;
    const matches: number[] = [];
    for (const id of this.voters) matches.push(this.progress.get(id)?.match ?? 0);
    matches.sort((a, b) => b - a);
    return matches[this.quorum() - 1];
  }

  /** Result of a poll where `yes(id)` says whether voter id agreed (undefined = no answer). */
  voteResult(yes: (id: bigint) => boolean | undefined): VoteResult {
    if (this.voters.size === 0) return VoteResult.Won;
    let granted = 0, missing = 0;
    for (const id of this.voters) {
      const v = yes(id);
      if (v === undefined) missing++;
      else if (v) granted++;
    }
    const q = this.quorum();
    if (granted >= q) return VoteResult.Won;
    if (granted + missing >= q) return VoteResult.Pending;
    return VoteResult.Lost;
  }

  quorumActive(): boolean {
    return this.voteResult((id) => this.progress.get(id)?.recentActive ?? false) ===
      VoteResult.Won;
  }

  recordVote(id: bigint, v: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, v);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0, rejected = 0;
    for (const id of this.voters) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    return { granted, rejected, result: this.voteResult((id) => this.votes.get(id)) };
  }

  resetVotes(): void {
    this.votes.clear();
  }

  /** Adds a member (or promotes a learner); progress starts probing at `next`. */
  addNode(id: bigint, isLearner: boolean, next: number): void {
    let pr = this.progress.get(id);
    if (!pr) {
      pr = new Progress(0, next, this.maxInflight, isLearner);
      this.progress.set(id, pr);
    }
    pr.isLearner = isLearner;
    if (isLearner) {
      this.voters.delete(id);
      this.learners.add(id);
    } else {
      this.learners.delete(id);
      this.voters.add(id);
    }
    // A new member counts as active so CheckQuorum does not depose us before it answers.
    pr.recentActive = true;
  }

  removeNode(id: bigint): void {
    this.voters.delete(id);
    this.learners.delete(id);
    this.progress.delete(id);
    this.votes.delete(id);
  }
}
