// An etcd 3.4 backend (a bbolt file: a snapshot, or the db of a data dir etcd wrote) read into
// this member's empty backend: the key space with its revisions and compaction points, leases,
// alarms and auth. Membership is returned rather than stored: a restore replaces it with the
// new cluster, a takeover keeps it with the cluster ID from etcd's WAL.
import type { Bucket, Db } from "../../bbolt/mod.ts";
import { saveAuthState } from "../../auth/mod.ts";
import { parseRevisionKey, type StoredChange } from "../../mvcc/mod.ts";
import { messages } from "../../pb/mod.ts";
import { AlarmAction } from "../alarms.ts";
import type { Backend } from "../backend.ts";
import type { Member } from "../membership.ts";
import { authStateOf } from "./auth_records.ts";
import {
  BUCKET,
  CLUSTER_VERSION_KEY,
  EtcdDbError,
  META_KEY,
  parseMemberJSON,
  readU64,
  REQUIRED_BUCKETS,
} from "./layout.ts";

export interface ImportedBackend {
  consistentIndex: number;
  members: Member[];
  removed: bigint[];
  clusterVersion: string;
}

const fromUtf8 = new TextDecoder();

/** Refuses a bbolt file that does not hold etcd's key space. */
export function checkEtcdBuckets(db: Db): void {
  const names = db.buckets().map((n) => fromUtf8.decode(n));
  const missing = REQUIRED_BUCKETS.filter((b) => !names.includes(b));
  if (missing.length > 0) {
    throw new EtcdDbError(
      `not an etcd backend: no ${missing.map((b) => JSON.stringify(b)).join(" or ")} bucket ` +
        `(its buckets: ${
          names.length > 0 ? names.map((n) => JSON.stringify(n)).join(", ") : "none"
        })`,
    );
  }
}

/**
 * Reads `db` into `backend` (an empty one) with etcd's consistent index, or with
 * `consistentIndex` when the log it will follow is a new one (a restore); the caller commits.
 */
export function importEtcdBackend(
  db: Db,
  backend: Backend,
  consistentIndex = Number(metaNumber(db.bucket(BUCKET.meta), META_KEY.consistentIndex)),
): ImportedBackend {
  checkEtcdBuckets(db);
  const meta = db.bucket(BUCKET.meta)!;
  const compactRev = revisionOf(meta, META_KEY.scheduledCompact);
  const compactDone = revisionOf(meta, META_KEY.finishedCompact);
  const store = backend.store;
  store.loadHistory(changes(db.bucket(BUCKET.key)!), compactRev, compactDone);
  importLeases(db.bucket(BUCKET.lease), backend);
  for (const [k] of db.bucket(BUCKET.alarm)?.entries() ?? []) {
    const a = decode("etcdserverpb.AlarmMember", k, "alarm");
    backend.alarms.apply({ action: AlarmAction.ACTIVATE, memberID: a.memberID, alarm: a.alarm });
  }
  const auth = db.bucket(BUCKET.auth);
  saveAuthState(
    backend.aux,
    authStateOf({
      get: (key) => auth?.get(key),
      users: () => db.bucket(BUCKET.authUsers)?.entries() ?? [],
      roles: () => db.bucket(BUCKET.authRoles)?.entries() ?? [],
    }),
  );
  store.setConsistentIndex(consistentIndex);
  const version = db.bucket(BUCKET.cluster)?.get(CLUSTER_VERSION_KEY);
  return {
    consistentIndex,
    members: [...db.bucket(BUCKET.members)?.entries() ?? []].map(([, v]) =>
      parseMemberJSON(fromUtf8.decode(v))
    ),
    removed: [...db.bucket(BUCKET.membersRemoved)?.entries() ?? []].map(([k]) =>
      BigInt("0x" + fromUtf8.decode(k))
    ),
    clusterVersion: version ? fromUtf8.decode(version) : "",
  };
}

/** The key bucket as stored changes, in the bucket's (revision) order. */
function* changes(bucket: Bucket): Generator<StoredChange> {
  for (const [k, v] of bucket.entries()) {
    let rev;
    try {
      rev = parseRevisionKey(k);
    } catch (err) {
      throw new EtcdDbError(`key bucket: ${(err as Error).message}`);
    }
    const kv = decode("mvccpb.KeyValue", v, `key bucket at revision ${rev.main}_${rev.sub}`);
    // Copied: the pages they were read from are not kept.
    const stored = {
      ...kv,
      key: kv.key.slice(),
      value: kv.value.slice(),
      modRevision: rev.main,
      version: rev.tombstone ? 0 : kv.version,
    };
    yield { main: rev.main, sub: rev.sub, kv: stored };
  }
}

function importLeases(bucket: Bucket | undefined, backend: Backend): void {
  const leases = backend.leasePersistence();
  for (const [k, v] of bucket?.entries() ?? []) {
    const l = decode("leasepb.Lease", v, `lease ${fromUtf8.decode(k)}`);
    const id = BigInt.asIntN(64, readU64(k, "a lease key"));
    if (l.ID !== id) throw new EtcdDbError(`lease bucket: key ${id} holds lease ${l.ID}`);
    leases.saveLease(id, l.TTL);
  }
}

function metaNumber(meta: Bucket | undefined, key: string): bigint {
  const v = meta?.get(key);
  return v === undefined ? 0n : readU64(v, key);
}

/** A compaction point: a revision key with sub 0; -1 when etcd never wrote one. */
function revisionOf(meta: Bucket, key: string): number {
  const v = meta.get(key);
  if (v === undefined) return -1;
  try {
    return parseRevisionKey(v).main;
  } catch (err) {
    throw new EtcdDbError(`meta ${key}: ${(err as Error).message}`);
  }
}

type Decodable = "mvccpb.KeyValue" | "leasepb.Lease" | "etcdserverpb.AlarmMember";

function decode<K extends Decodable>(name: K, bytes: Uint8Array, what: string) {
  try {
    return messages[name].decode(bytes);
  } catch (err) {
    throw new EtcdDbError(`${what}: not a ${name} (${(err as Error).message})`);
  }
}
