// The data model of etcd's mvccpb, as plain objects (see contracts.md for field naming).

export interface KeyValue {
  key: Uint8Array;
  createRevision: number;
  modRevision: number;
  version: number;
  value: Uint8Array;
  lease: bigint;
}

export enum EventType {
  PUT = 0,
  DELETE = 1,
}

export interface Event {
  type: EventType;
  // DELETE events carry only `key` and `modRevision` here, as etcd sends them.
  kv: KeyValue;
  prevKv?: KeyValue;
}

export interface RangeOptions {
  // Revision to read at; 0 (or absent) = the current revision.
  rev?: number;
  // Maximum number of kvs returned; 0 (or absent) = no limit. `count` is never limited.
  limit?: number;
  // Only `count` is wanted: no kvs are read.
  countOnly?: boolean;
  // Values are not read (returned empty): saves copying them out of SQLite.
  keysOnly?: boolean;
}

export interface RangeResult {
  kvs: KeyValue[];
  // Number of keys in the range at `rev`, regardless of `limit`.
  count: number;
  // The store revision the read was answered at (etcd reports this, not the requested revision).
  rev: number;
}
