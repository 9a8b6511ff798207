// raftpb-compatible protobuf encoding of entries, hard state, snapshots, conf changes and
// messages (etcd's field numbers; non-nullable scalars are always written, as gogoproto does).

import type {
  ConfChange,
  ConfState,
  Entry,
  HardState,
  Message,
  Snapshot,
  SnapshotMetadata,
} from "./types.ts";
import { ProtoReader, ProtoWriter } from "./proto.ts";

const EMPTY = new Uint8Array(0);

function entryTo(w: ProtoWriter, e: Entry): ProtoWriter {
  w.uint(1, e.type).uint(2, e.term).uint(3, e.index);
  if (e.data.length > 0) w.bytes(4, e.data);
  return w;
}

export function encodeEntry(e: Entry): Uint8Array {
  return entryTo(new ProtoWriter(), e).finish();
}

export function decodeEntry(b: Uint8Array): Entry {
  const e: Entry = { term: 0, index: 0, type: 0, data: EMPTY };
  const r = new ProtoReader(b);
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 0) e.type = r.varint();
    else if (field === 2 && wire === 0) e.term = r.varint();
    else if (field === 3 && wire === 0) e.index = r.varint();
    else if (field === 4 && wire === 2) e.data = r.bytes();
    else r.skip(wire);
  }
  return e;
}

export function encodeHardState(h: HardState): Uint8Array {
  return new ProtoWriter().uint(1, h.term).uint64(2, h.vote).uint(3, h.commit).finish();
}

export function decodeHardState(b: Uint8Array): HardState {
  const h: HardState = { term: 0, vote: 0n, commit: 0 };
  const r = new ProtoReader(b);
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 0) h.term = r.varint();
    else if (field === 2 && wire === 0) h.vote = r.varint64();
    else if (field === 3 && wire === 0) h.commit = r.varint();
    else r.skip(wire);
  }
  return h;
}

export function encodeConfState(cs: ConfState): Uint8Array {
  const w = new ProtoWriter();
  for (const id of cs.voters) w.uint64(1, id);
  for (const id of cs.learners) w.uint64(2, id);
  return w.finish();
}

export function decodeConfState(b: Uint8Array): ConfState {
  const cs: ConfState = { voters: [], learners: [] };
  const r = new ProtoReader(b);
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1) r.repeatedUint64(wire, cs.voters);
    else if (field === 2) r.repeatedUint64(wire, cs.learners);
    else r.skip(wire);
  }
  return cs;
}

export function encodeSnapshotMetadata(m: SnapshotMetadata): Uint8Array {
  return new ProtoWriter().bytes(1, encodeConfState(m.confState)).uint(2, m.index)
    .uint(3, m.term).finish();
}

export function decodeSnapshotMetadata(b: Uint8Array): SnapshotMetadata {
  const m: SnapshotMetadata = { index: 0, term: 0, confState: { voters: [], learners: [] } };
  const r = new ProtoReader(b);
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) m.confState = decodeConfState(r.bytes());
    else if (field === 2 && wire === 0) m.index = r.varint();
    else if (field === 3 && wire === 0) m.term = r.varint();
    else r.skip(wire);
  }
  return m;
}

export function encodeSnapshot(s: Snapshot): Uint8Array {
  const w = new ProtoWriter();
  if (s.data.length > 0) w.bytes(1, s.data);
  return w.bytes(2, encodeSnapshotMetadata(s.metadata)).finish();
}

export function decodeSnapshot(b: Uint8Array): Snapshot {
  const s: Snapshot = {
    metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } },
    data: EMPTY,
  };
  const r = new ProtoReader(b);
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) s.data = r.bytes();
    else if (field === 2 && wire === 2) s.metadata = decodeSnapshotMetadata(r.bytes());
    else r.skip(wire);
  }
  return s;
}

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const w = new ProtoWriter().uint(1, cc.id).uint(2, cc.type).uint64(3, cc.nodeId);
  if (cc.context.length > 0) w.bytes(4, cc.context);
  return w.finish();
}

export function decodeConfChange(b: Uint8Array): ConfChange {
  const cc: ConfChange = { id: 0, type: 0, nodeId: 0n, context: EMPTY };
  const r = new ProtoReader(b);
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 0) cc.id = r.varint();
    else if (field === 2 && wire === 0) cc.type = r.varint();
    else if (field === 3 && wire === 0) cc.nodeId = r.varint64();
    else if (field === 4 && wire === 2) cc.context = r.bytes();
    else r.skip(wire);
  }
  return cc;
}

export function encodeMessage(m: Message): Uint8Array {
  const w = new ProtoWriter().uint(1, m.type).uint64(2, m.to).uint64(3, m.from).uint(4, m.term)
    .uint(5, m.logTerm).uint(6, m.index);
  for (const e of m.entries) w.bytes(7, encodeEntry(e));
  w.uint(8, m.commit);
  if (m.snapshot) w.bytes(9, encodeSnapshot(m.snapshot));
  w.bool(10, m.reject).uint(11, m.rejectHint);
  if (m.context.length > 0) w.bytes(12, m.context);
  return w.finish();
}

export function decodeMessage(b: Uint8Array): Message {
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
  const r = new ProtoReader(b);
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (wire === 0) {
      switch (field) {
        case 1:
          m.type = r.varint();
          continue;
        case 2:
          m.to = r.varint64();
          continue;
        case 3:
          m.from = r.varint64();
          continue;
        case 4:
          m.term = r.varint();
          continue;
        case 5:
          m.logTerm = r.varint();
          continue;
        case 6:
          m.index = r.varint();
          continue;
        case 8:
          m.commit = r.varint();
          continue;
        case 10:
          m.reject = r.varint() !== 0;
          continue;
        case 11:
          m.rejectHint = r.varint();
          continue;
      }
    } else if (wire === 2) {
      switch (field) {
        case 7:
          m.entries.push(decodeEntry(r.bytes()));
          continue;
        case 9:
          m.snapshot = decodeSnapshot(r.bytes());
          continue;
        case 12:
          m.context = r.bytes();
          continue;
      }
    }
    r.skip(wire);
  }
  return m;
}
