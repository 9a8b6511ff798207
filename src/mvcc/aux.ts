// Buckets beside the key space (etcd keeps members, leases and alarms in other bbolt buckets of
// the same file): small named maps whose writes join the batch transaction, so they commit
// atomically with the key changes and the consistent index of the same entries.
import type { Backend } from "./backend.ts";

export interface AuxBuckets {
  get(bucket: string, key: string): Uint8Array | undefined;
  put(bucket: string, key: string, value: Uint8Array): void;
  delete(bucket: string, key: string): void;
  /** Every entry of a bucket, ordered by key. */
  list(bucket: string): [string, Uint8Array][];
}

export const AUX_SCHEMA = `
CREATE TABLE IF NOT EXISTS aux (
  bucket TEXT NOT NULL,
  key TEXT NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
`;

export function auxBuckets(be: Backend): AuxBuckets {
  be.db.exec(AUX_SCHEMA);
  return {
    get: (bucket, key) =>
      be.get("SELECT value FROM aux WHERE bucket = ? AND key = ?", bucket, key)?.[0] as
        | Uint8Array
        | undefined,
    put: (bucket, key, value) => {
      be.begin();
      be.run(
        "INSERT INTO aux (bucket, key, value) VALUES (?, ?, ?) " +
          "ON CONFLICT (bucket, key) DO UPDATE SET value = excluded.value",
        bucket,
        key,
        value,
      );
    },
    delete: (bucket, key) => {
      be.begin();
      be.run("DELETE FROM aux WHERE bucket = ? AND key = ?", bucket, key);
    },
    list: (bucket) =>
      be.all("SELECT key, value FROM aux WHERE bucket = ? ORDER BY key", bucket) as [
        string,
        Uint8Array,
      ][],
  };
}
