// The checks a new member's static bootstrap configuration must pass before anything opens:
// the guide's error cases, with its wording first and etcd 3.4's detail after it.
import { computeClusterId, computeMemberId } from "./ids.ts";
import type { Member } from "./membership.ts";

export interface InitialClusterEntry {
  name: string;
  urls: string[];
}

export interface InitialMembers {
  members: Member[];
  clusterId: bigint;
  localId: bigint;
}

export class BootstrapError extends Error {}

const sameList = (a: string[], b: string[]) =>
  a.length === b.length && [...a].sort().every((u, i) => u === [...b].sort()[i]);

function quoteList(urls: string[]): string {
  return "[" + urls.map((u) => JSON.stringify(u)).join(" ") + "]";
}

/** The initial cluster rendered as etcd prints it: `name=url,name=url`. */
export function formatInitialCluster(entries: InitialClusterEntry[]): string {
  return entries.flatMap((e) => e.urls.map((u) => `${e.name}=${u}`)).join(",");
}

/**
 * Validates the local member against `--initial-cluster` and computes every member's ID and the
 * cluster ID (spec/bootstrap.md §5, steps 1-5). `product` is the program name for the guide's
 * messages ("etcd-ts").
 */
export function checkInitialCluster(
  product: string,
  name: string,
  advertisePeerURLs: string[],
  cluster: InitialClusterEntry[],
  token: string,
): InitialMembers {
  const local = cluster.find((e) => e.name === name);
  if (!local) {
    throw new BootstrapError(
      `${product}: ${name} not listed in the initial cluster config ` +
        `(couldn't find local name "${name}" in the initial cluster configuration)`,
    );
  }
  if (!sameList(local.urls, advertisePeerURLs)) {
    throw new BootstrapError(
      `error setting up initial cluster: ${name} has different advertised URLs in the cluster ` +
        `and advertised peer URLs list (${urlMismatchDetail(name, local.urls, advertisePeerURLs)})`,
    );
  }
  const all = cluster.flatMap((e) => e.urls);
  if (new Set(all).size !== all.length) {
    throw new BootstrapError(
      `initial cluster ${formatInitialCluster(cluster)} has duplicate url`,
    );
  }
  if (cluster.length === 0) {
    throw new BootstrapError("initial cluster unset and no discovery URL found");
  }
  const members = cluster.map((e) => ({
    id: computeMemberId(e.urls, token),
    name: e.name,
    peerURLs: [...e.urls].sort(),
    clientURLs: [],
    isLearner: false,
  }));
  const ids = new Set(members.map((m) => m.id));
  if (ids.size !== members.length) {
    throw new BootstrapError("member exists with identical ID");
  }
  return {
    members,
    clusterId: computeClusterId(members.map((m) => m.id)),
    localId: members.find((m) => m.name === name)!.id,
  };
}

/** etcd 3.4's explanation of which URL is on one side and missing from the other. */
function urlMismatchDetail(name: string, listed: string[], advertised: string[]): string {
  const missingAdvertised = listed.find((u) => !advertised.includes(u));
  if (missingAdvertised !== undefined) {
    const why = listed.length !== advertised.length
      ? `len(${quoteList(advertised)}) != len(${quoteList(listed)})`
      : `resolved urls: ${JSON.stringify(advertised.join(","))} != ${
        JSON.stringify(listed.join(","))
      }`;
    return `--initial-cluster has ${name}=${missingAdvertised} but missing from ` +
      `--initial-advertise-peer-urls=${advertised.join(",")} (${why})`;
  }
  const extra = advertised.find((u) => !listed.includes(u))!;
  return `--initial-advertise-peer-urls has ${extra} but missing from --initial-cluster=` +
    advertised.map((u) => `${name}=${u}`).join(",");
}
