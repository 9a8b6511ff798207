// Every failpoint of the member, where it is and what `return(…)` does there. etcd's names where
// etcd has the same point (raft.go, wal.go, batch_tx.go, server.go); the rest in its style.
// At every point `sleep` delays, `panic` stops the process (exit 2) and `print` logs a line.

export const FAILPOINTS_TABLE = {
  // server/raft_driver.ts: one Ready made durable.
  raftBeforeSave: "before the WAL append of a Ready's entries and hard state; return fails it",
  raftAfterSave: "after that append (and its fsync); return fails the Ready",
  raftBeforeSaveSnap: "before a snapshot from the leader is saved; return fails the save",
  raftAfterSaveSnap: "after it is saved; return fails the Ready",
  raftBeforeApplySnap: "before that snapshot replaces the member's state; return fails it",
  raftAfterApplySnap: "after it did; return fails the Ready",
  raftBeforeLeaderSend: "before a leader sends a Ready's messages; return fails the Ready",
  raftBeforeFollowerSend: "before a follower sends them; return fails the Ready",
  // storage/wal.ts: the log's own I/O.
  walBeforeWrite: 'before a WAL write; return("ENOSPC") fails it with nothing written',
  walBeforeSync: 'before an fsync; return("EIO") fails it and loses the unsynced bytes',
  walAfterSync: "after an fsync; return fails the save although the bytes are durable",
  walPowerCut: "before an fsync: the unsynced bytes are lost and the process dies (SIGKILL); " +
    'return("torn") keeps some whole 512-byte sectors of them, at random',
  // server/apply/applier.ts: applying committed entries, one at a time.
  beforeApplyOneEntryNormal: "before a normal entry is applied; return fails the apply",
  beforeApplyOneConfChange: "before a membership change is applied; return fails the apply",
  // server/backend.ts: the backend's batch transaction.
  beforeCommit: 'before the backend commits; return("ENOSPC") fails the commit',
  afterCommit: "after it committed; return fails the commit's caller",
  // server/snapshotting.ts: after a snapshot, the WAL segments below it go.
  raftAfterWALRelease: "after WAL segments below a snapshot were released; return fails it",
  // peer/: snapshots between members.
  raftBeforeSendSnapshot: "before a leader uploads a snapshot to a follower; return fails it",
  raftBeforeReceiveSnapshot: "after a follower read a snapshot, before it takes it; return " +
    "answers the upload with an error",
  // server/server.ts
  beforeTransferLeadership: "before leadership is handed over; return fails the transfer",
} as const;

export type FailpointName = keyof typeof FAILPOINTS_TABLE;

export function isFailpointName(name: string): name is FailpointName {
  return Object.hasOwn(FAILPOINTS_TABLE, name);
}
