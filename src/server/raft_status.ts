// What the member knows of Raft between Readies, kept from the soft and hard states the driver
// hands over (cheap to read, unlike RawNode.status()): the leader, the term, the commit index,
// how often the leader changed, and who waits for a given member to lead.
import type { HardState, RawNode } from "../raft/mod.ts";

export class RaftStatus {
  leader = 0n;
  term = 0;
  commit = 0;
  /** Elections won by anyone since start (etcd_server_leader_changes_seen_total). */
  leaderChanges = 0;
  #leaderWaiters: { target: bigint; resolve(): void }[] = [];

  constructor(readonly memberId: bigint, readonly node: RawNode) {}

  get isLeader(): boolean {
    return this.leader === this.memberId;
  }

  onHardState(hs: HardState): void {
    this.term = hs.term;
    this.commit = hs.commit;
  }

  /** Records the leader Raft reports; whether it changed. */
  onLeader(lead: bigint): boolean {
    if (lead === this.leader) return false;
    // Raft itself logs "elected leader" / "lost leader"; the member counts the changes.
    if (lead !== 0n) this.leaderChanges++;
    this.leader = lead;
    const done = this.#leaderWaiters.filter((w) => w.target === lead);
    this.#leaderWaiters = this.#leaderWaiters.filter((w) => w.target !== lead);
    done.forEach((w) => w.resolve());
    return true;
  }

  /** Resolves when `target` has become leader. */
  leaderIs(target: bigint): Promise<void> {
    if (this.leader === target) return Promise.resolve();
    return new Promise((resolve) => this.#leaderWaiters.push({ target, resolve }));
  }
}
