// `snapshot status`: what etcdctl's Status reports for a snapshot file — a CRC-32C over every
// top-level bucket's name and its keys and values in order (nested buckets count as keys with
// no value), the main revision of the `key` bucket's last key, the number of keys, and the
// file's size as its meta says — printed in etcdctl's formats.
import { crc32c } from "../checksum/mod.ts";
import { BboltError, type Bucket, openDbFile } from "../bbolt/mod.ts";
import { humanBytes } from "../log/mod.ts";

export interface DbStatus {
  hash: number;
  revision: number;
  totalKey: number;
  totalSize: number;
}

const KEY_BUCKET = "key";

export class StatusError extends Error {}

/** etcd's words for a file bbolt cannot open, with ours after them. */
function openError(err: BboltError): StatusError {
  const m = err.message;
  const why = /too short|truncated: \d+ bytes end before meta page 1/.test(m)
    ? "file size too small"
    : /not a bbolt database/.test(m)
    ? "invalid database"
    : undefined;
  return new StatusError(why ? `${why} (${m})` : m);
}

export function snapshotStatus(path: string): DbStatus {
  let db;
  try {
    Deno.statSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new StatusError(`stat ${path}: no such file or directory`);
    }
    throw err;
  }
  try {
    db = openDbFile(path);
  } catch (err) {
    if (err instanceof BboltError) throw openError(err);
    throw err;
  }
  try {
    const status = { hash: 0, revision: 0, totalKey: 0, totalSize: db.meta.pgid * db.pageSize };
    const top = db.root.cursor();
    for (let ok = top.first(); ok; ok = top.next()) {
      const name = top.key.slice();
      const bucket = db.bucket(name);
      if (!bucket) {
        throw new StatusError(`cannot get hash of bucket ${new TextDecoder().decode(name)}`);
      }
      status.hash = crc32c(name, status.hash);
      hashBucket(bucket, new TextDecoder().decode(name) === KEY_BUCKET, status);
    }
    return status;
  } catch (err) {
    if (!(err instanceof BboltError)) throw err;
    // etcd runs bbolt's consistency check first; a damaged page fails it.
    throw new StatusError(`snapshot file integrity check failed. 1 errors found.\n${err.message}`);
  } finally {
    db.close();
  }
}

function hashBucket(bucket: Bucket, isKeyBucket: boolean, status: DbStatus): void {
  const c = bucket.cursor();
  for (let ok = c.first(); ok; ok = c.next()) {
    status.hash = crc32c(c.key, status.hash);
    if (!c.isBucket) status.hash = crc32c(c.value, status.hash);
    if (isKeyBucket) {
      const k = c.key;
      status.revision = Number(new DataView(k.buffer, k.byteOffset, k.byteLength).getBigInt64(0));
    }
    status.totalKey++;
  }
}

/** The output of `-w fmt`, or undefined for a format etcdctl does not print a status in. */
export function formatStatus(s: DbStatus, format: string): string | undefined {
  const row = [
    s.hash.toString(16),
    String(s.revision),
    String(s.totalKey),
    humanBytes(s.totalSize),
  ];
  switch (format) {
    case "simple":
      return row.join(", ") + "\n";
    case "json":
      return JSON.stringify(s) + "\n";
    case "fields":
      return `"Hash" : ${s.hash}\n"Revision" : ${s.revision}\n"Keys" : ${s.totalKey}\n` +
        `"Size" : ${s.totalSize}\n`;
    case "table":
      return table(["hash", "revision", "total keys", "total size"], row);
  }
  return undefined;
}

/** tablewriter as etcdctl sets it up: upper-case centred headers, right-aligned cells. */
function table(header: string[], row: string[]): string {
  const widths = header.map((h, i) => Math.max(h.length, row[i].length));
  const line = "+" + widths.map((w) => "-".repeat(w + 2)).join("+") + "+\n";
  const center = (h: string, w: number) => {
    const left = Math.floor((w - h.length) / 2);
    return " ".repeat(left) + h + " ".repeat(w - h.length - left);
  };
  const head = "| " + header.map((h, i) => center(h.toUpperCase(), widths[i])).join(" | ") + " |\n";
  const body = "| " + row.map((c, i) => c.padStart(widths[i])).join(" | ") + " |\n";
  return line + head + line + body + line;
}
