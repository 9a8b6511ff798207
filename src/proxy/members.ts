// Reading the cluster from its members' peer ports (etcd's GetClusterFromRemotePeers): the first
// peer URL that answers `GET /members` with a member list and a cluster ID gives the cluster.
import type { Logger } from "../log/mod.ts";
import type { Transport } from "./transport.ts";
import { concatBytes } from "../pb/mod.ts";

export interface RemoteMember {
  /** Member IDs are uint64: kept exact. */
  id: bigint;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
}

export interface RemoteCluster {
  clusterId: bigint;
  members: RemoteMember[];
  /** Every member's peer URLs, sorted (etcd's RaftCluster.PeerURLs). */
  peerURLs: string[];
  /** Every member's client URLs, sorted (etcd's RaftCluster.ClientURLs). */
  clientURLs: string[];
}

/** etcd gives the whole look-up of one peer 10 seconds. */
const CLUSTER_TIMEOUT_MS = 10_000;

export class ClusterLookupError extends Error {}

/** Parses a `/members` body; IDs are JSON numbers beyond 2^53, so they are read from the source. */
export function parseMembers(text: string): RemoteMember[] {
  const reviver = (key: string, value: unknown, ctx?: { source?: string }) =>
    key === "id" && typeof value === "number" && ctx?.source !== undefined
      ? BigInt(ctx.source)
      : value;
  const doc = (JSON.parse as (t: string, r: typeof reviver) => unknown)(text, reviver);
  if (doc === null) return [];
  if (!Array.isArray(doc)) {
    throw new Error(
      `json: cannot unmarshal ${typeof doc === "object" ? "object" : typeof doc} into Go value ` +
        "of type []*membership.Member",
    );
  }
  return doc.filter((m) => m !== null).map((m: Record<string, unknown>) => ({
    id: typeof m.id === "bigint" ? m.id : 0n,
    name: typeof m.name === "string" ? m.name : "",
    peerURLs: strings(m.peerURLs),
    clientURLs: strings(m.clientURLs),
  }));
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : [];
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Asks each peer URL in turn; warnings name the peers that failed. Throws ClusterLookupError
 * with etcd's text when none answered usefully.
 */
export async function clusterFromRemotePeers(
  peerURLs: string[],
  transport: Transport,
  log: Logger,
): Promise<RemoteCluster> {
  for (const u of peerURLs) {
    const warn = (text: string, msg: string, error: string) =>
      log.warn({ pkg: "etcdserver", text, msg, fields: { address: `${u}/members`, error } });
    let text: string;
    let clusterHeader: string;
    const signal = AbortSignal.timeout(CLUSTER_TIMEOUT_MS);
    try {
      const url = new URL(`${u}/members`);
      const res = await transport.roundTrip({
        url,
        method: "GET",
        headers: { "User-Agent": "Go-http-client/1.1", "Accept-Encoding": "identity" },
        signal,
      });
      clusterHeader = String(res.headers["x-etcd-cluster-id"] ?? "");
      try {
        text = await readAll(res);
      } catch (err) {
        const e = (err as Error).message;
        warn(`could not read the body of cluster response: ${e}`, "failed to read body", e);
        continue;
      }
    } catch (err) {
      const e = signal.aborted
        ? `Get "${u}/members": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`
        : `Get "${u}/members": ${(err as Error).message}`;
      warn(`could not get cluster response from ${u}: ${e}`, "failed to get cluster response", e);
      continue;
    }
    let members: RemoteMember[];
    try {
      members = parseMembers(text);
    } catch (err) {
      const e = (err as Error).message;
      warn(`could not unmarshal cluster response: ${e}`, "failed to unmarshal cluster response", e);
      continue;
    }
    if (!/^[0-9a-fA-F]{1,16}$/.test(clusterHeader)) {
      const e = `strconv.ParseUint: parsing ${JSON.stringify(clusterHeader)}: ` +
        (clusterHeader === "" || !/^[0-9a-fA-F]+$/.test(clusterHeader)
          ? "invalid syntax"
          : "value out of range");
      warn(
        `could not parse the cluster ID from cluster res: ${e}`,
        "failed to parse cluster ID",
        e,
      );
      continue;
    }
    if (members.length === 0) {
      throw new ClusterLookupError("failed to get raft cluster member(s) from the given URLs");
    }
    return {
      clusterId: BigInt(`0x${clusterHeader}`),
      members,
      peerURLs: members.flatMap((m) => m.peerURLs).sort(byString),
      clientURLs: members.flatMap((m) => m.clientURLs).sort(byString),
    };
  }
  throw new ClusterLookupError("could not retrieve cluster information from the given URLs");
}

async function readAll(res: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of res) chunks.push(chunk);
  return new TextDecoder().decode(concatBytes(chunks));
}
