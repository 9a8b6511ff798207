// Small helpers shared by the Raft core: message construction, size accounting, formatting.

import {
  type Entry,
  EntryType,
  type HardState,
  type Message,
  MessageType,
  type Snapshot,
} from "./types.ts";

const EMPTY = new Uint8Array(0);

/** A message with every field at its default, overridden by `m`. */
export function newMessage(m: Partial<Message> & { type: MessageType }): Message {
  const out: Message = {
    type: m.type,
    to: m.to ?? 0n,
    from: m.from ?? 0n,
    term: m.term ?? 0,
    logTerm: m.logTerm ?? 0,
    index: m.index ?? 0,
    entries: m.entries ?? [],
    commit: m.commit ?? 0,
    reject: m.reject ?? false,
    rejectHint: m.rejectHint ?? 0,
    context: m.context ?? EMPTY,
  };
  if (m.snapshot) out.snapshot = m.snapshot;
  return out;
}

export function newEntry(e: Partial<Entry>): Entry {
  return { term: 0, index: 0, type: EntryType.Normal, data: EMPTY, ...e };
}

export function emptyHardState(): HardState {
  return { term: 0, vote: 0n, commit: 0 };
}

export function emptySnapshot(): Snapshot {
  return { metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } }, data: EMPTY };
}

export function isEmptySnap(s: Snapshot | undefined): boolean {
  return s === undefined || s.metadata.index === 0;
}

export function isHardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export function isEmptyHardState(h: HardState): boolean {
  return isHardStateEqual(h, emptyHardState());
}

/** Messages a node generates for itself; they never travel the network. */
export function isLocalMsg(t: MessageType): boolean {
  return t === MessageType.MsgHup || t === MessageType.MsgBeat ||
    t === MessageType.MsgUnreachable || t === MessageType.MsgSnapStatus ||
    t === MessageType.MsgCheckQuorum;
}

export function isResponseMsg(t: MessageType): boolean {
  return t === MessageType.MsgAppResp || t === MessageType.MsgVoteResp ||
    t === MessageType.MsgHeartbeatResp || t === MessageType.MsgUnreachable ||
    t === MessageType.MsgPreVoteResp;
}

export function voteRespMsgType(t: MessageType): MessageType {
  if (t === MessageType.MsgVote) return MessageType.MsgVoteResp;
  if (t === MessageType.MsgPreVote) return MessageType.MsgPreVoteResp;
  throw new Error(`not a vote message: ${MessageType[t]}`);
}

function varintLen(n: number): number {
  let len = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/** Encoded size of an entry in raftpb, the unit of maxSizePerMsg. */
export function entrySize(e: Entry): number {
  let size = 3 + varintLen(e.type) + varintLen(e.term) + varintLen(e.index);
  if (e.data.length > 0) size += 1 + varintLen(e.data.length) + e.data.length;
  return size;
}

/** The longest prefix of `ents` within `maxSize` bytes, but never fewer than one entry. */
export function limitSize(ents: Entry[], maxSize: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = entrySize(ents[0]);
  let limit = 1;
  for (; limit < ents.length; limit++) {
    size += entrySize(ents[limit]);
    if (size > maxSize) break;
  }
  return limit === ents.length ? ents : ents.slice(0, limit);
}

/** IDs print as etcd prints them: lowercase hex without leading zeros. */
export function hex(id: bigint): string {
  return id.toString(16);
}

export function msgName(t: MessageType): string {
  return MessageType[t] ?? `MessageType(${t})`;
}

export const noLimit = Number.POSITIVE_INFINITY;
