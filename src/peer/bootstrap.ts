// What a starting member asks its peers (spec/bootstrap.md §5.6, §6): the running cluster's
// ID and members (`GET /members`), whether we were bootstrapped before, and peers' versions.
import type { Logger } from "../log/mod.ts";
import { dialErrorText, type PeerClientTLS, request } from "./http1.ts";
import { parseMembersJSON, type PeerMember } from "./members_json.ts";
import { parseHexId } from "./wire.ts";

/** etcd's errors; the caller's fatal line is `cannot fetch cluster info from peer urls: <msg>`. */
export const ERR_CLUSTER_UNREACHABLE = "could not retrieve cluster information from the given URLs";
export const ERR_CLUSTER_EMPTY = "failed to get raft cluster member(s) from the given URLs";

export interface RemoteCluster {
  clusterId: bigint;
  members: PeerMember[];
}

export interface PeerQueryOptions {
  tls?: PeerClientTLS;
  /** Per-peer failures are logged as etcd logs them; silent without a logger. */
  logger?: Logger;
}

/** Go's http.Client error text: `Get "<url>": <cause>`. */
function getErrorText(address: string, url: URL, err: unknown): string {
  const cause = (err as { code?: string })?.code === "ETIMEDOUT"
    ? "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
    : dialErrorText(url, err);
  return `Get "${address}": ${cause}`;
}

function warn(opts: PeerQueryOptions, text: string, msg: string, fields: Record<string, unknown>) {
  opts.logger?.warn({ pkg: "etcdserver", text, msg, fields });
}

/**
 * etcd's getClusterFromRemotePeers: `GET <url>/members` on each URL in turn; the first answer
 * that parses wins. An empty member list ends the search with ERR_CLUSTER_EMPTY; no usable
 * answer at all gives ERR_CLUSTER_UNREACHABLE.
 */
export async function fetchClusterFromPeers(
  urls: string[],
  timeoutMs: number,
  opts: PeerQueryOptions = {},
): Promise<RemoteCluster> {
  for (const u of urls) {
    const address = u + "/members";
    const failed = (why: string) =>
      warn(
        opts,
        `could not get cluster response from ${u}: ${why}`,
        "failed to get cluster response",
        {
          address,
          error: why,
        },
      );
    let url: URL;
    try {
      url = new URL(address);
    } catch (err) {
      failed(String(err));
      continue;
    }
    let res;
    try {
      res = await request(url, { method: "GET", path: url.pathname, timeoutMs, tls: opts.tls });
    } catch (err) {
      failed(getErrorText(address, url, err));
      continue;
    }
    let members: PeerMember[];
    try {
      members = parseMembersJSON(new TextDecoder().decode(res.body));
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      warn(
        opts,
        `could not unmarshal cluster response: ${why}`,
        "failed to unmarshal cluster response",
        {
          address,
          error: why,
        },
      );
      continue;
    }
    const header = res.headers.get("x-etcd-cluster-id");
    const clusterId = parseHexId(header);
    if (clusterId === undefined) {
      const why = `strconv.ParseUint: parsing ${JSON.stringify(header ?? "")}: invalid syntax`;
      warn(
        opts,
        `could not parse the cluster ID from cluster res: ${why}`,
        "failed to parse cluster ID",
        {
          address,
          header: header ?? "",
          error: why,
        },
      );
      continue;
    }
    if (members.length === 0) throw new Error(ERR_CLUSTER_EMPTY);
    return { clusterId, members };
  }
  throw new Error(ERR_CLUSTER_UNREACHABLE);
}

/**
 * etcd's isMemberBootstrapped: asks the *other* members' peer URLs (silently); true when a
 * running cluster lists `localId` with client URLs, i.e. this member published itself before.
 */
export async function isMemberBootstrapped(
  otherPeerURLs: string[],
  localId: bigint,
  timeoutMs: number,
  opts: { tls?: PeerClientTLS } = {},
): Promise<boolean> {
  let cluster: RemoteCluster;
  try {
    cluster = await fetchClusterFromPeers(otherPeerURLs, timeoutMs, { tls: opts.tls });
  } catch {
    return false;
  }
  const m = cluster.members.find((x) => x.id === localId);
  return m !== undefined && m.clientURLs.length > 0;
}

/** A peer's `GET /version`, or undefined when it cannot be had (etcd's getVersion). */
export async function fetchPeerVersion(
  peerURL: string,
  timeoutMs: number,
  opts: { tls?: PeerClientTLS } = {},
): Promise<{ etcdserver: string; etcdcluster: string } | undefined> {
  try {
    const res = await request(new URL(peerURL + "/version"), {
      method: "GET",
      path: "/version",
      timeoutMs,
      tls: opts.tls,
    });
    const v = JSON.parse(new TextDecoder().decode(res.body));
    if (typeof v?.etcdserver !== "string" || typeof v?.etcdcluster !== "string") return undefined;
    return { etcdserver: v.etcdserver, etcdcluster: v.etcdcluster };
  } catch {
    return undefined;
  }
}
