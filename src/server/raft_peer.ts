// The member as the peer transport sees it (etcd's rafthttp.Raft): messages from peers enter
// Raft here, and so do the transport's reports; a lagging follower's snapshot is served from
// here, and one from the leader is saved here.
import { type Message, RaftError, type RawNode } from "../raft/mod.ts";
import type { Logger } from "../log/mod.ts";
import { saveSnapshotDb } from "./etcd_db/mod.ts";
import type { FailStop } from "./fail_stop.ts";
import type { MergedSnapshot } from "./snapshotting.ts";

/** What the peer transport hands the member, and asks of it. */
export interface RaftPeer {
  step(m: Message): void;
  reportUnreachable(id: bigint): void;
  reportSnapshot(id: bigint, ok: boolean): void;
  /** A peer says this member was removed from the cluster. */
  removed(): void;
  /** The snapshot a lagging follower gets (etcd's merged snapshot). */
  snapshot(): Promise<MergedSnapshot>;
  /**
   * Saves the database a snapshot from the leader brought (`<snap dir>/<index>.snap.db`), for
   * the snapshot at `index` to put in place; resolves with its size once it is durable.
   */
  saveSnapshotDb(index: number, db: AsyncIterable<Uint8Array>): Promise<number>;
}

export interface RaftPeerDeps {
  node: RawNode;
  log: Logger;
  fail: FailStop;
  /** Raft has something to do: process its Ready soon. */
  kick(): void;
  removed(): void;
  snapshot(): Promise<MergedSnapshot>;
  /** The member's snap directory. */
  snapDir: string;
}

export function raftPeer(deps: RaftPeerDeps): RaftPeer {
  const { node } = deps;
  return {
    step: (m) => step(deps, m),
    reportUnreachable: (id) => node.reportUnreachable(id),
    reportSnapshot: (id, ok) => node.reportSnapshot(id, ok),
    removed: () => deps.removed(),
    snapshot: () => deps.snapshot(),
    saveSnapshotDb: (index, db) => saveSnapshotDb(deps.snapDir, index, db),
  };
}

/** Messages from peers enter Raft here. */
function step(deps: RaftPeerDeps, m: Message): void {
  try {
    deps.node.step(m);
  } catch (err) {
    // Raft refuses messages from members it no longer knows and proposals it cannot take;
    // etcd drops those too. Anything else is raft panicking: the member stops here, before
    // the state a half-done step left is persisted or answered from.
    if (!(err instanceof RaftError)) deps.fail("raft", err);
    deps.log.debug({ pkg: "etcdserver", text: `dropped raft message: ${err.message}` });
  }
  deps.kick();
}
