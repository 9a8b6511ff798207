// Shared helpers for mvcc tests.
import type { KeyValue, MvccStore } from "../../src/mvcc/mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

export const b = (s: string): Uint8Array => enc.encode(s);
export const s = (u: Uint8Array): string => dec.decode(u);
export const ZERO = new Uint8Array([0]);

// A readable form of a kv for deepEqual.
export function show(kv: KeyValue | undefined) {
  if (!kv) return undefined;
  return {
    key: s(kv.key),
    create: kv.createRevision,
    mod: kv.modRevision,
    ver: kv.version,
    value: s(kv.value),
    lease: kv.lease,
  };
}

export function put(store: MvccStore, key: string, value: string, lease = 0n): number {
  const txn = store.write();
  txn.put(b(key), b(value), lease);
  txn.end();
  return store.rev();
}

export function del(store: MvccStore, key: string, end?: string): number {
  const txn = store.write();
  const n = txn.deleteRange(b(key), end === undefined ? undefined : b(end)).length;
  txn.end();
  return n;
}

export function keysAt(store: MvccStore, rev = 0, key = "\0", end = "\0"): string[] {
  return store.range(b(key), b(end), { rev }).kvs.map((kv) => `${s(kv.key)}=${s(kv.value)}`);
}
