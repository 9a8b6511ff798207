// raftpb-compatible protobuf encoding of entries, hard state, snapshots, conf changes and
// messages (etcd's field numbers; non-nullable scalars are always written, as gogoproto does).
// Encoders size a message, then write it once into an exactly sized buffer; decoders read
// nested messages in place. Both go through pb's one reader and writer core.

import { assert } from "../assert/mod.ts";
import { Reader, sI64, sv32, wBytes, wI64, wv32 } from "../pb/mod.ts";
import type {
  ConfChange,
  ConfState,
  Entry,
  HardState,
  Message,
  Snapshot,
  SnapshotMetadata,
} from "./types.ts";

const EMPTY = new Uint8Array(0);

// Tags: field number << 3 | wire type (0 varint, 2 length-delimited); every one is one byte.
const enum Tag {
  V1 = 0x08,
  V2 = 0x10,
  V3 = 0x18,
  V4 = 0x20,
  V5 = 0x28,
  V6 = 0x30,
  V8 = 0x40,
  V10 = 0x50,
  V11 = 0x58,
  L1 = 0x0a,
  L2 = 0x12,
  L4 = 0x22,
  L7 = 0x3a,
  L9 = 0x4a,
  L12 = 0x62,
}

/** Size of a uint64 kept as a number; a negative or inexact one would be sent corrupted. */
function u64(n: number): number {
  assert(Number.isSafeInteger(n) && n >= 0, `a raftpb uint64 holds a safe integer, not ${n}`);
  return sI64(n);
}

/** Size of a length-delimited field (tag, length, payload) with an `n`-byte payload. */
const delimited = (n: number) => 1 + sv32(n) + n;

/** Size of a bytes field, which is left out when empty (as gogoproto leaves out nil bytes). */
const optionalBytes = (b: Uint8Array) => b.length > 0 ? delimited(b.length) : 0;

type Write<T> = (b: Uint8Array, p: number, m: T) => number;

/** Encodes `m` after `headroom` bytes left for the caller's framing (a length prefix). */
function encode<T>(m: T, size: (m: T) => number, write: Write<T>, headroom = 0): Uint8Array {
  const b = new Uint8Array(headroom + size(m));
  assert(write(b, headroom, m) === b.length, "a raftpb encoding fills the size computed for it");
  return b;
}

/** Writes a varint field at `p` (enums and uint64s alike); returns the end. */
function varint(b: Uint8Array, p: number, tag: Tag, v: number | bigint): number {
  b[p] = tag;
  return wI64(b, p + 1, v);
}

function bytes(b: Uint8Array, p: number, tag: Tag, v: Uint8Array): number {
  if (v.length === 0) return p;
  b[p] = tag;
  return wBytes(b, p + 1, v);
}

function nested<T>(
  b: Uint8Array,
  p: number,
  tag: Tag,
  m: T,
  size: (m: T) => number,
  write: Write<T>,
) {
  b[p] = tag;
  return write(b, wv32(b, p + 1, size(m)), m);
}

// Each message type: its size, its writer (from `p`, returning the end), its reader (to `end`).

/** Bytes of an entry's raftpb encoding. */
export const entrySize = (e: Entry) =>
  3 + sI64(e.type) + u64(e.term) + u64(e.index) + optionalBytes(e.data);

/** Writes an entry's raftpb encoding at `p` of `b` (room for entrySize(e)); returns the end. */
export function writeEntry(b: Uint8Array, p: number, e: Entry): number {
  p = varint(b, p, Tag.V1, e.type);
  p = varint(b, p, Tag.V2, e.term);
  p = varint(b, p, Tag.V3, e.index);
  return bytes(b, p, Tag.L4, e.data);
}

function readEntry(r: Reader, end: number): Entry {
  const e: Entry = { term: 0, index: 0, type: 0, data: EMPTY };
  while (r.pos < end) {
    const tag = r.u32();
    if (tag === Tag.V1) e.type = r.i32();
    else if (tag === Tag.V2) e.term = r.u64();
    else if (tag === Tag.V3) e.index = r.u64();
    else if (tag === Tag.L4) e.data = r.bytes();
    else r.unknown(tag, "Entry");
  }
  r.ended(end);
  return e;
}

const hardStateSize = (h: HardState) => 3 + u64(h.term) + sI64(h.vote) + u64(h.commit);

function writeHardState(b: Uint8Array, p: number, h: HardState): number {
  p = varint(b, p, Tag.V1, h.term);
  p = varint(b, p, Tag.V2, h.vote);
  return varint(b, p, Tag.V3, h.commit);
}

function readHardState(r: Reader, end: number): HardState {
  const h: HardState = { term: 0, vote: 0n, commit: 0 };
  while (r.pos < end) {
    const tag = r.u32();
    if (tag === Tag.V1) h.term = r.u64();
    else if (tag === Tag.V2) h.vote = r.u64n();
    else if (tag === Tag.V3) h.commit = r.u64();
    else r.unknown(tag, "HardState");
  }
  r.ended(end);
  return h;
}

// Voters and learners go unpacked (proto2), one tag per ID; both forms are read.
function confStateSize(cs: ConfState): number {
  let n = cs.voters.length + cs.learners.length;
  for (const id of cs.voters) n += sI64(id);
  for (const id of cs.learners) n += sI64(id);
  return n;
}

function writeConfState(b: Uint8Array, p: number, cs: ConfState): number {
  for (const id of cs.voters) p = varint(b, p, Tag.V1, id);
  for (const id of cs.learners) p = varint(b, p, Tag.V2, id);
  return p;
}

function readConfState(r: Reader, end: number): ConfState {
  const cs: ConfState = { voters: [], learners: [] };
  while (r.pos < end) {
    const tag = r.u32();
    if (tag === Tag.V1) cs.voters.push(r.u64n());
    else if (tag === Tag.V2) cs.learners.push(r.u64n());
    else if (tag === Tag.L1) readPackedIds(r, cs.voters);
    else if (tag === Tag.L2) readPackedIds(r, cs.learners);
    else r.unknown(tag, "ConfState");
  }
  r.ended(end);
  return cs;
}

function readPackedIds(r: Reader, out: bigint[]): void {
  const stop = r.delimited();
  while (r.pos < stop) out.push(r.u64n());
  r.ended(stop);
}

const metadataSize = (m: SnapshotMetadata) =>
  delimited(confStateSize(m.confState)) + 2 + u64(m.index) + u64(m.term);

function writeMetadata(b: Uint8Array, p: number, m: SnapshotMetadata): number {
  p = nested(b, p, Tag.L1, m.confState, confStateSize, writeConfState);
  p = varint(b, p, Tag.V2, m.index);
  return varint(b, p, Tag.V3, m.term);
}

function readMetadata(r: Reader, end: number): SnapshotMetadata {
  const m: SnapshotMetadata = { index: 0, term: 0, confState: { voters: [], learners: [] } };
  while (r.pos < end) {
    const tag = r.u32();
    if (tag === Tag.L1) m.confState = readConfState(r, r.delimited());
    else if (tag === Tag.V2) m.index = r.u64();
    else if (tag === Tag.V3) m.term = r.u64();
    else r.unknown(tag, "SnapshotMetadata");
  }
  r.ended(end);
  return m;
}

const snapshotSize = (s: Snapshot) => optionalBytes(s.data) + delimited(metadataSize(s.metadata));

function writeSnapshot(b: Uint8Array, p: number, s: Snapshot): number {
  p = bytes(b, p, Tag.L1, s.data);
  return nested(b, p, Tag.L2, s.metadata, metadataSize, writeMetadata);
}

function readSnapshot(r: Reader, end: number): Snapshot {
  const s: Snapshot = {
    metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } },
    data: EMPTY,
  };
  while (r.pos < end) {
    const tag = r.u32();
    if (tag === Tag.L1) s.data = r.bytes();
    else if (tag === Tag.L2) s.metadata = readMetadata(r, r.delimited());
    else r.unknown(tag, "Snapshot");
  }
  r.ended(end);
  return s;
}

const confChangeSize = (cc: ConfChange) =>
  3 + u64(cc.id) + sI64(cc.type) + sI64(cc.nodeId) + optionalBytes(cc.context);

function writeConfChange(b: Uint8Array, p: number, cc: ConfChange): number {
  p = varint(b, p, Tag.V1, cc.id);
  p = varint(b, p, Tag.V2, cc.type);
  p = varint(b, p, Tag.V3, cc.nodeId);
  return bytes(b, p, Tag.L4, cc.context);
}

function readConfChange(r: Reader, end: number): ConfChange {
  const cc: ConfChange = { id: 0, type: 0, nodeId: 0n, context: EMPTY };
  while (r.pos < end) {
    const tag = r.u32();
    if (tag === Tag.V1) cc.id = r.u64();
    else if (tag === Tag.V2) cc.type = r.i32();
    else if (tag === Tag.V3) cc.nodeId = r.u64n();
    else if (tag === Tag.L4) cc.context = r.bytes();
    else r.unknown(tag, "ConfChange");
  }
  r.ended(end);
  return cc;
}

function messageSize(m: Message): number {
  let n = 9 + sI64(m.type) + sI64(m.to) + sI64(m.from) + u64(m.term) + u64(m.logTerm) +
    u64(m.index) + u64(m.commit) + 1 + u64(m.rejectHint) + optionalBytes(m.context);
  for (const e of m.entries) n += delimited(entrySize(e));
  if (m.snapshot) n += delimited(snapshotSize(m.snapshot));
  return n;
}

function writeMessage(b: Uint8Array, p: number, m: Message): number {
  p = varint(b, p, Tag.V1, m.type);
  p = varint(b, p, Tag.V2, m.to);
  p = varint(b, p, Tag.V3, m.from);
  p = varint(b, p, Tag.V4, m.term);
  p = varint(b, p, Tag.V5, m.logTerm);
  p = varint(b, p, Tag.V6, m.index);
  for (const e of m.entries) p = nested(b, p, Tag.L7, e, entrySize, writeEntry);
  p = varint(b, p, Tag.V8, m.commit);
  if (m.snapshot) p = nested(b, p, Tag.L9, m.snapshot, snapshotSize, writeSnapshot);
  p = varint(b, p, Tag.V10, m.reject ? 1 : 0);
  p = varint(b, p, Tag.V11, m.rejectHint);
  return bytes(b, p, Tag.L12, m.context);
}

function readMessage(r: Reader, end: number): Message {
  const m: Message = {
    type: 0,
    to: 0n,
    from: 0n,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: EMPTY,
  };
  while (r.pos < end) {
    const tag = r.u32();
    if (tag === Tag.V1) m.type = r.i32();
    else if (tag === Tag.V2) m.to = r.u64n();
    else if (tag === Tag.V3) m.from = r.u64n();
    else if (tag === Tag.V4) m.term = r.u64();
    else if (tag === Tag.V5) m.logTerm = r.u64();
    else if (tag === Tag.V6) m.index = r.u64();
    else if (tag === Tag.L7) m.entries.push(readEntry(r, r.delimited()));
    else if (tag === Tag.V8) m.commit = r.u64();
    else if (tag === Tag.L9) m.snapshot = readSnapshot(r, r.delimited());
    else if (tag === Tag.V10) m.reject = r.bool();
    else if (tag === Tag.V11) m.rejectHint = r.u64();
    else if (tag === Tag.L12) m.context = r.bytes();
    else r.unknown(tag, "Message");
  }
  r.ended(end);
  return m;
}

// Decoding is synchronous and never re-entered: one reader serves every decode.
const reader = new Reader();

/** Decodes with `read`, from a reader over `b`. */
const decode = <T>(b: Uint8Array, read: (r: Reader, end: number) => T): T =>
  read(reader.reset(b), b.length);

export const encodeEntry = (e: Entry) => encode(e, entrySize, writeEntry);
export const decodeEntry = (b: Uint8Array) => decode(b, readEntry);
export const encodeHardState = (h: HardState) => encode(h, hardStateSize, writeHardState);
export const decodeHardState = (b: Uint8Array) => decode(b, readHardState);
export const encodeConfState = (cs: ConfState) => encode(cs, confStateSize, writeConfState);
export const decodeConfState = (b: Uint8Array) => decode(b, readConfState);
export const encodeSnapshotMetadata = (m: SnapshotMetadata) =>
  encode(m, metadataSize, writeMetadata);
export const decodeSnapshotMetadata = (b: Uint8Array) => decode(b, readMetadata);
export const encodeSnapshot = (s: Snapshot) => encode(s, snapshotSize, writeSnapshot);
export const decodeSnapshot = (b: Uint8Array) => decode(b, readSnapshot);
export const encodeConfChange = (cc: ConfChange) => encode(cc, confChangeSize, writeConfChange);
export const decodeConfChange = (b: Uint8Array) => decode(b, readConfChange);
/** A message's encoding, after `headroom` bytes left free for the caller's framing. */
export const encodeMessage = (m: Message, headroom = 0) =>
  encode(m, messageSize, writeMessage, headroom);
export const decodeMessage = (b: Uint8Array) => decode(b, readMessage);
