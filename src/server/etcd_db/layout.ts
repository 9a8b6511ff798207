// etcd 3.4's backend layout: the bbolt buckets its packages create (mvcc, lease, alarm, auth,
// membership) and how each encodes its keys and values. Facts from etcd's sources; the
// conversions from and to this member's own state are in export.ts and import.ts.
import { type Member, Membership } from "../membership.ts";
import { formatId } from "../ids.ts";

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
export const CLUSTER_VERSION_KEY = "clusterVersion";
/** The value etcd stores under a removed member's ID. */
export const REMOVED = new TextEncoder().encode("removed");

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

/**
 * etcd's membership.Member as JSON (Go field order; isLearner, name and clientURLs only when
 * set). The ID is a JSON number above 2^53, written from the bigint as digits.
 */
export function memberJSON(m: Member): string {
  const fields = [`"id":${m.id}`, `"peerURLs":${JSON.stringify(m.peerURLs)}`];
  if (m.isLearner) fields.push(`"isLearner":true`);
  if (m.name !== "") fields.push(`"name":${JSON.stringify(m.name)}`);
  if (m.clientURLs.length > 0) fields.push(`"clientURLs":${JSON.stringify(m.clientURLs)}`);
  return `{${fields.join(",")}}`;
}

/** Reads etcd's member JSON; the ID is taken from the digits, as JSON.parse would round it. */
export function parseMemberJSON(text: string): Member {
  const id = /"id"\s*:\s*(\d+)/.exec(text)?.[1];
  let j: { peerURLs?: string[]; isLearner?: boolean; name?: string; clientURLs?: string[] } | null =
    null;
  try {
    j = JSON.parse(text);
  } catch {
    // reported below
  }
  if (id === undefined || typeof j !== "object" || j === null) {
    throw new EtcdDbError(`not an etcd member: ${text.slice(0, 200)}`);
  }
  return {
    id: BigInt(id),
    name: j.name ?? "",
    peerURLs: j.peerURLs ?? [],
    clientURLs: j.clientURLs ?? [],
    isLearner: j.isLearner ?? false,
  };
}

/** The member bucket's key: the ID in hex, as etcd's types.ID prints it. */
export function memberKey(id: bigint): string {
  return formatId(id);
}

/** A membership rebuilt from etcd's buckets, in the cluster `clusterId`. */
export function membershipOf(
  clusterId: bigint,
  members: Member[],
  removed: bigint[],
  version: string,
): Membership {
  const m = new Membership(clusterId);
  for (const member of members) m.add(member);
  for (const id of removed) m.removed.add(id);
  m.version = version;
  return m;
}
