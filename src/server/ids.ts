// Member and cluster identities, computed exactly as etcd computes them so that
// `etcdctl member list` shows the same IDs for the same flags (spec/bootstrap.md §1-3).
import { createHash } from "node:crypto";

/** First 8 bytes of a SHA-1 digest, big-endian: etcd's way of turning a hash into an ID. */
function idFromDigest(input: Uint8Array): bigint {
  const digest = createHash("sha1").update(input).digest();
  return digest.readBigUInt64BE(0);
}

/**
 * A member's ID: SHA-1 over its sorted peer URLs, concatenated without separator, then the
 * cluster token, then (for members added at runtime) the Unix time in seconds.
 */
export function computeMemberId(peerURLs: string[], token: string, unixSeconds?: number): bigint {
  const sorted = [...peerURLs].sort();
  const suffix = unixSeconds === undefined ? "" : String(unixSeconds);
  return idFromDigest(new TextEncoder().encode(sorted.join("") + token + suffix));
}

/** The cluster ID: SHA-1 over the initial member IDs, sorted as unsigned, each 8 bytes big-endian. */
export function computeClusterId(memberIds: bigint[]): bigint {
  const sorted = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const buf = new Uint8Array(8 * sorted.length);
  const view = new DataView(buf.buffer);
  sorted.forEach((id, i) => view.setBigUint64(8 * i, id));
  return idFromDigest(buf);
}

/** etcd prints IDs as lowercase hex without leading zeros (Go's FormatUint(id, 16)). */
export function formatId(id: bigint): string {
  return id.toString(16);
}

/** Parses a hex ID as etcd does (up to 16 hex digits); undefined when it is not one. */
export function parseId(hex: string): bigint | undefined {
  if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) return undefined;
  return BigInt("0x" + hex);
}
