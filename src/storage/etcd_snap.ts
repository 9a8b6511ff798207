// Reading etcd 3.4's snap files (its snap package): `<term>-<index>.snap` in the member's snap
// dir, a snappb.snapshot whose crc is the CRC-32C of `data`, a marshalled raftpb.Snapshot
// (whose data is etcd's v2 store as JSON). A restart starts from the newest one the WAL has a
// snapshot record for. Damaged files are skipped, not renamed as etcd would: the data dir
// being read belongs to etcd and stays as it is.
import { crc32c } from "../checksum/mod.ts";
import { messages } from "../pb/mod.ts";
import { decodeSnapshot, type Snapshot } from "../raft/mod.ts";
import type { EtcdWalSnapshot } from "./etcd_wal.ts";
import { join, listDir } from "./fsutil.ts";
import { storageFs } from "./fs.ts";

/** Decodes one snap file; throws with etcd's reason when it is empty or damaged. */
function decodeEtcdSnapFile(bytes: Uint8Array): Snapshot {
  if (bytes.length === 0) throw new Error("snap: empty snapshot");
  const file = messages["snappb.snapshot"].decode(bytes);
  if (file.data.length === 0 || file.crc === 0) throw new Error("snap: empty snapshot");
  if (crc32c(file.data) !== file.crc) throw new Error("snap: crc mismatch");
  return decodeSnapshot(file.data);
}

/**
 * The newest snap file matching one of the WAL's snapshot records (etcd's
 * LoadNewestAvailable), or undefined when none does. `warn` hears of every file skipped.
 */
export function loadNewestEtcdSnap(
  snapDir: string,
  walSnaps: EtcdWalSnapshot[],
  warn: (text: string) => void,
): Snapshot | undefined {
  const names = listDir(snapDir).filter((n) => n.endsWith(".snap")).sort().reverse();
  for (const name of names) {
    const path = join(snapDir, name);
    let snap: Snapshot;
    try {
      snap = decodeEtcdSnapFile(storageFs().readFileSync(path));
    } catch (err) {
      warn(`skipped the unreadable snap file ${path} (${(err as Error).message})`);
      continue;
    }
    const { index, term } = snap.metadata;
    if (walSnaps.some((s) => s.index === index && s.term === term)) return snap;
  }
  return undefined;
}
