// The current revision of every live key, in memory, as etcd keeps its key index (treeIndex) in
// memory: a put learns the create revision, version and lease of the key it replaces without a
// query, and fetches the old value only when someone asked for it. The `live` table stays the
// source for ranges; WriteTxn changes both together, and a store rebuilds this from the table.
import { type Backend, KV_COLUMNS_NO_VALUE, rowToKv } from "./backend.ts";
import { bytesToBinary } from "./key_range.ts";

export interface LiveKey {
  /** The rev row holding the key's current value. */
  id: number;
  createRevision: number;
  modRevision: number;
  version: number;
  lease: bigint;
}

const LOAD_ALL = `SELECT ${KV_COLUMNS_NO_VALUE}, l.id FROM live l JOIN rev r ON r.id = l.id`;

export class LiveIndex {
  readonly #keys = new Map<string, LiveKey>();

  static load(be: Backend): LiveIndex {
    const index = new LiveIndex();
    for (const row of be.all(LOAD_ALL)) {
      const { key, createRevision, modRevision, version, lease } = rowToKv(row);
      index.set(key, { id: row[6] as number, createRevision, modRevision, version, lease });
    }
    return index;
  }

  get size(): number {
    return this.#keys.size;
  }

  get(key: Uint8Array): LiveKey | undefined {
    return this.#keys.get(bytesToBinary(key));
  }

  set(key: Uint8Array, live: LiveKey): void {
    this.#keys.set(bytesToBinary(key), live);
  }

  delete(key: Uint8Array): void {
    this.#keys.delete(bytesToBinary(key));
  }
}
