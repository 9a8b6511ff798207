// etcd 3.4's WAL as its encoder writes it, for tests that read one without running etcd: frames
// with a length field carrying padding bits, walpb.Record bodies, and a CRC-32C chained over every
// record's data across segments (crc records restart each segment with the chain's value).
import { crc32c } from "../../src/checksum/mod.ts";
import { messages } from "../../src/pb/mod.ts";
import { encodeEntry, encodeHardState, type Entry } from "../../src/raft/mod.ts";

const METADATA = 1, ENTRY = 2, STATE = 3, CRC = 4, SNAPSHOT = 5;

export type EtcdWalRecord = { type: number; data: Uint8Array };

export const walEntry = (e: Entry): EtcdWalRecord => ({ type: ENTRY, data: encodeEntry(e) });

export const walState = (term: number, commit: number, vote = 1n): EtcdWalRecord => ({
  type: STATE,
  data: encodeHardState({ term, vote, commit }),
});

export const walSnapshot = (index: number, term: number): EtcdWalRecord => ({
  type: SNAPSHOT,
  data: messages["walpb.Snapshot"].encode({ index, term }),
});

export function walMetadata(memberId: bigint, clusterId: bigint): Uint8Array {
  return messages["etcdserverpb.Metadata"].encode({ NodeID: memberId, ClusterID: clusterId });
}

/** One segment (crc record, metadata, `records`, preallocated zeros), its chain starting at
 * `crc`; returns the bytes and the chain's end. */
export function etcdSegment(
  metadata: Uint8Array,
  records: EtcdWalRecord[],
  crc: number,
): { bytes: Uint8Array; crc: number } {
  const parts: Uint8Array[] = [];
  const all = [
    { type: CRC, data: new Uint8Array() },
    { type: METADATA, data: metadata },
    ...records,
  ];
  for (const r of all) {
    let recCrc = crc;
    if (r.type !== CRC) recCrc = crc = crc32c(r.data, crc);
    const body = messages["walpb.Record"].encode({ type: r.type, crc: recCrc, data: r.data });
    const pad = (8 - (body.length % 8)) % 8;
    const head = new Uint8Array(8);
    const v = new DataView(head.buffer);
    v.setUint32(0, body.length, true);
    if (pad) v.setUint8(7, 0x80 | pad);
    parts.push(head, body, new Uint8Array(pad));
  }
  parts.push(new Uint8Array(4096));
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    bytes.set(p, off);
    off += p.length;
  }
  return { bytes, crc };
}

/** etcd's segment file name: sequence and first index, 16 hex digits each. */
export const segmentName = (seq: number, index: number) =>
  `${seq.toString(16).padStart(16, "0")}-${index.toString(16).padStart(16, "0")}.wal`;
