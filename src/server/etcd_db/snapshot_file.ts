// A snapshot file as `etcdctl snapshot save` (or etcd-ts's) leaves it: etcd's bbolt backend,
// then — when it came through Maintenance.Snapshot — the SHA-256 of those bytes. etcd tells the
// two apart by size alone: a backend is whole pages, so a file 32 bytes past a multiple of 512
// carries a hash. The file is checked and read in place, a page at a time.
import { createHash } from "node:crypto";
import { type Db, openDbSource } from "../../bbolt/mod.ts";
import { fileSource } from "../../bbolt/mod.ts";
import { checkEtcdBuckets } from "./import.ts";
import { EtcdDbError } from "./layout.ts";

const SHA_SIZE = 32;
const READ_BLOCK = 1 << 20;

/** etcd's hasChecksum. */
export function hasChecksum(size: number): boolean {
  return size % 512 === SHA_SIZE;
}

/** Go prints a byte slice with %v as its decimal values in brackets. */
const goBytes = (b: Uint8Array) => `[${Array.from(b).join(" ")}]`;

/**
 * Opens a snapshot for restoring: its hash checked as etcd checks it (unless skipped), its
 * content an etcd backend. Throws etcd's message, or ours where etcd has none; close the Db.
 */
export async function openSnapshotFile(path: string, skipHashCheck: boolean): Promise<Db> {
  const file = await Deno.open(path, { read: true }).catch((err) => {
    if (err instanceof Deno.errors.NotFound) {
      throw new EtcdDbError(`open ${path}: no such file or directory`);
    }
    throw err;
  });
  try {
    const size = (await file.stat()).size;
    const hashed = hasChecksum(size);
    if (!hashed && !skipHashCheck) {
      throw new EtcdDbError("snapshot missing hash but --skip-hash-check=false");
    }
    if (hashed && !skipHashCheck) await checkHash(file, size - SHA_SIZE);
    let db: Db;
    try {
      db = openDbSource(fileSource(file));
    } catch (err) {
      throw new EtcdDbError(`${path} is not an etcd snapshot: ${(err as Error).message}`);
    }
    checkEtcdBuckets(db);
    return db;
  } catch (err) {
    file.close();
    throw err;
  }
}

async function checkHash(file: Deno.FsFile, dbSize: number): Promise<void> {
  const sha = createHash("sha256");
  const buf = new Uint8Array(READ_BLOCK);
  await file.seek(0, Deno.SeekMode.Start);
  for (let done = 0; done < dbSize;) {
    const n = await file.read(buf.subarray(0, Math.min(buf.length, dbSize - done)));
    if (n === null) throw new EtcdDbError(`snapshot file ended at byte ${done}`);
    sha.update(buf.subarray(0, n));
    done += n;
  }
  const want = new Uint8Array(SHA_SIZE);
  for (let got = 0; got < SHA_SIZE;) {
    const n = await file.read(want.subarray(got));
    if (n === null) throw new EtcdDbError("snapshot file ended inside its hash");
    got += n;
  }
  const have = new Uint8Array(sha.digest());
  if (!have.every((b, i) => b === want[i])) {
    throw new EtcdDbError(`expected sha256 ${goBytes(want)}, got ${goBytes(have)}`);
  }
}
