// A write transaction: the changes of one applied request, all at revision beginRev + 1
// (etcd's storeTxnWrite). Reads inside it see its own earlier writes.
import { TxnTally } from "../metrics/mod.ts";
import type { Backend } from "./backend.ts";
import { tombstone } from "./history.ts";
import { bytesToBinary, keyRange } from "./key_range.ts";
import { rangeKeys, readRange, valueOf } from "./read.ts";
import type { TreeIndex } from "./tree_index.ts";
import {
  type Event,
  EventType,
  type KeyValue,
  type RangeOptions,
  type RangeResult,
} from "./types.ts";

// What a write txn needs from its store; the store finishes the txn in `finish`.
export interface TxnHost {
  be: Backend;
  index: TreeIndex;
  compactRevision(): number;
  takeId(): number;
  finish(txn: WriteTxn, events: Event[]): void;
}

const INSERT_REV = "INSERT INTO rev (id, main, sub, key, create_rev, version, lease, value) " +
  "VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
const EMPTY = new Uint8Array();

export class WriteTxn {
  private events: Event[] = [];
  private ended = false;
  // `tally`: what this txn did, for etcd's mvcc counters (callers add reads they answered
  // otherwise).
  constructor(
    private readonly host: TxnHost,
    readonly beginRev: number,
    readonly tally = new TxnTally(),
  ) {}

  // Number of key changes so far (etcd's len(Changes())).
  changes(): number {
    return this.events.length;
  }

  // The revision reads inside this txn answer at.
  private curRev(): number {
    return this.events.length > 0 ? this.beginRev + 1 : this.beginRev;
  }

  range(key: Uint8Array, rangeEnd?: Uint8Array, opts: RangeOptions = {}): RangeResult {
    this.assertOpen();
    this.tally.ranges++;
    const r = keyRange(key, rangeEnd);
    const { be, index } = this.host;
    return rangeKeys(be, index, r, this.curRev(), this.host.compactRevision(), opts);
  }

  // Returns the new kv, and the one it replaced when `withPrevKv` (the old value is read only
  // then); prevLease is the replaced revision's lease (0 if the key did not exist).
  put(
    key: Uint8Array,
    value: Uint8Array,
    lease: bigint,
    withPrevKv = true,
  ): { kv: KeyValue; prev?: KeyValue; prevLease: bigint } {
    this.assertOpen();
    this.tally.put(key, value);
    const { be, index } = this.host;
    be.begin();
    const main = this.beginRev + 1;
    const entry = index.entry(bytesToBinary(key));
    const cur = entry.current();
    const kv: KeyValue = {
      key,
      createRevision: cur ? cur.createRevision : main,
      modRevision: main,
      version: cur ? cur.version + 1 : 1,
      value,
      lease,
    };
    const id = this.host.takeId();
    // The sub revision is the change's position in the txn, as etcd numbers it.
    const sub = this.events.length;
    be.run(INSERT_REV, id, main, sub, key, kv.createRevision, kv.version, lease, value);
    index.put(entry, main, id, kv.createRevision, kv.version, lease);
    const prev = cur && withPrevKv
      ? {
        key,
        createRevision: cur.createRevision,
        modRevision: cur.modRevision,
        version: cur.version,
        value: valueOf(be, cur.id),
        lease: cur.lease,
      }
      : undefined;
    this.events.push(
      prev ? { type: EventType.PUT, kv, prevKv: prev } : { type: EventType.PUT, kv },
    );
    return { kv, prev, prevLease: cur?.lease ?? 0n };
  }

  // Deletes every existing key in the range; returns the deleted kvs in key order.
  deleteRange(key: Uint8Array, rangeEnd?: Uint8Array): KeyValue[] {
    this.assertOpen();
    this.tally.deletes++;
    const { be, index } = this.host;
    const r = keyRange(key, rangeEnd);
    const { entries, kvs: deleted } = readRange(be, index, r, this.curRev(), true, 0, false);
    if (deleted.length === 0) return deleted;
    be.begin();
    const main = this.beginRev + 1;
    deleted.forEach((prev, i) => {
      const id = this.host.takeId();
      be.run(INSERT_REV, id, main, this.events.length, prev.key, 0, 0, 0n, EMPTY);
      index.tombstone(entries[i], main, id);
      this.events.push({ type: EventType.DELETE, kv: tombstone(prev.key, main), prevKv: prev });
    });
    return deleted;
  }

  // Ends the txn; the store advances its revision if anything changed. Returns the events.
  end(): Event[] {
    this.assertOpen();
    this.ended = true;
    this.tally.end();
    this.host.finish(this, this.events);
    return this.events;
  }

  private assertOpen(): void {
    if (this.ended) throw new Error("mvcc: write txn already ended");
  }
}
