// How a member validates a peer's request before acting on it, in etcd's order
// (spec/bootstrap.md §8): version compatibility, cluster ID, then the sender's standing.
import type { Logger } from "../log/mod.ts";
import {
  compareSemVer,
  majorMinor,
  MIN_CLUSTER_VERSION,
  parseSemVer,
  type SemVer,
} from "../config/mod.ts";
import { H, hexId, SERVER_VERSION } from "./wire.ts";

export interface Rejection {
  status: number;
  body: string;
}

export const REJECT = {
  incompatibleVersion: { status: 412, body: "incompatible version" },
  clusterIdMismatch: { status: 412, body: "cluster ID mismatch" },
  removedMember: { status: 410, body: "removed member" },
  senderNotFound: { status: 404, body: "error sender not found" },
  toFieldMismatch: { status: 412, body: "to field mismatch" },
  invalidPath: { status: 404, body: "invalid path" },
  invalidFrom: { status: 404, body: "invalid from" },
} as const satisfies Record<string, Rejection>;

/** Logs a line the first time a key is seen, then at most once per interval. */
export class LogLimiter {
  readonly #last = new Map<string, number>();
  constructor(readonly intervalMs = 5000, readonly now: () => number = Date.now) {}

  allow(key: string): boolean {
    const t = this.now();
    const last = this.#last.get(key);
    if (last !== undefined && t - last < this.intervalMs) return false;
    if (this.#last.size > 1000) this.#last.clear();
    this.#last.set(key, t);
    return true;
  }
}

/** etcd's compareMajorMinorVersion. */
const compareMajorMinor = (a: SemVer, b: SemVer) => compareSemVer(majorMinor(a), majorMinor(b));

/**
 * etcd's checkVersionCompatibility: the peer must run at least our minimum cluster version, and
 * must not require a cluster version above ours. Absent headers mean an etcd 2.0 peer.
 * Returns the reason for a refusal.
 */
export function versionIncompatibility(
  from: string,
  serverHeader: string | undefined,
  minClusterHeader: string | undefined,
): string | undefined {
  const serverText = serverHeader || "2.0.0";
  const server = parseSemVer(serverText);
  const minCluster = parseSemVer(minClusterHeader || "2.0.0");
  if (!server || !minCluster) return `malformed version: remote[${from}]=${serverText}`;
  const local = parseSemVer(SERVER_VERSION)!;
  if (compareMajorMinor(server, parseSemVer(MIN_CLUSTER_VERSION)!) < 0) {
    return `remote version is too low: remote[${from}]=${serverText}, local=${SERVER_VERSION}`;
  }
  if (compareMajorMinor(minCluster, local) > 0) {
    return `local version is too low: remote[${from}]=${serverText}, local=${SERVER_VERSION}`;
  }
  return undefined;
}

export interface CompatContext {
  clusterId(): bigint;
  logger: Logger;
  limiter: LogLimiter;
}

export type Headers = Record<string, string | string[] | undefined>;

/** A request header's (first) value; node:http keys are lowercase. */
export function firstHeader(h: Headers, name: string): string | undefined {
  const v = h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** etcd's checkClusterCompatibilityFromHeader: version, then cluster ID; logs refusals. */
export function checkCompatibility(h: Headers, ctx: CompatContext): Rejection | undefined {
  const from = firstHeader(h, H.from) ?? "";
  const server = firstHeader(h, H.serverVersion);
  const minCluster = firstHeader(h, H.minClusterVersion);
  const why = versionIncompatibility(from, server, minCluster);
  if (why) {
    if (ctx.limiter.allow(`version:${from}:${why}`)) {
      ctx.logger.error({
        pkg: "rafthttp",
        text: `request version incompatibility (${why})`,
        msg: "failed to check version compatibility",
        fields: {
          "local-member-cluster-id": hexId(ctx.clusterId()),
          "local-member-server-version": SERVER_VERSION,
          "local-member-server-minimum-cluster-version": MIN_CLUSTER_VERSION,
          "remote-peer-server-name": from,
          "remote-peer-server-version": server || "2.0.0",
          "remote-peer-server-minimum-cluster-version": minCluster || "2.0.0",
          error: why,
        },
        zapLevel: "warn",
      });
    }
    return REJECT.incompatibleVersion;
  }
  const got = firstHeader(h, H.clusterId) ?? "";
  const want = hexId(ctx.clusterId());
  if (got !== want) {
    if (ctx.limiter.allow("cid:" + got)) {
      ctx.logger.error({
        pkg: "rafthttp",
        text: `request cluster ID mismatch (got ${got} want ${want})`,
        msg: "request cluster ID mismatch",
        fields: {
          "remote-peer-id": from,
          "remote-peer-cluster-id": got,
          "local-member-cluster-id": want,
        },
      });
    }
    return REJECT.clusterIdMismatch;
  }
  return undefined;
}
