// etcd 3.4's backend layout: the bbolt buckets its packages create (mvcc, lease, alarm, auth,
// membership) and how each encodes its keys and values. Facts from etcd's sources; the
// conversions from and to this member's own state are in export.ts and import.ts (membership's,
// which the member keeps as etcd does, in membership_store.ts).

export const BUCKET = {
  alarm: "alarm",
  auth: "auth",
  authRoles: "authRoles",
  authUsers: "authUsers",
  cluster: "cluster",
  key: "key",
  lease: "lease",
  members: "members",
  membersRemoved: "members_removed",
  meta: "meta",
} as const;

/** Without these two there is no key space: the file is not an etcd backend. */
export const REQUIRED_BUCKETS = [BUCKET.key, BUCKET.meta];

export const META_KEY = {
  consistentIndex: "consistent_index",
  scheduledCompact: "scheduledCompactRev",
  finishedCompact: "finishedCompactRev",
} as const;

export const AUTH_KEY = { enabled: "authEnabled", revision: "authRevision" } as const;

export class EtcdDbError extends Error {
  override name = "EtcdDbError";
}

/** Whether anything (a file, a directory, a dangling link) is at `path`. */
export function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

export function u64(n: number | bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(n)));
  return out;
}

export function readU64(bytes: Uint8Array, what: string): bigint {
  if (bytes.length !== 8) throw new EtcdDbError(`${what} has ${bytes.length} bytes, want 8`);
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0);
}

/** A lease ID as the lease bucket's key: the int64, big-endian. */
export function leaseKey(id: bigint): Uint8Array {
  return u64(id);
}
