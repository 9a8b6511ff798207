// A backend etcd-ts wrote before it kept etcd's layout, brought to it when the member restarts:
// the membership, once one JSON row, becomes etcd's members, members_removed and cluster
// buckets and the v2 store's /0; the v2 keys, once at the root of their store, move under /1;
// the v2 auth records, once a store of their own, under /2. The v2 index and every node's
// indexes stay as they were; the /0 nodes made here have index 0, as etcd's namespaces do.
import type { AuxBuckets } from "../mvcc/mod.ts";
import type { NodeRecord, V2StoreJSON } from "../v2store/mod.ts";
import { formatId } from "./ids.ts";
import { Membership, parseMemberJSON } from "./membership.ts";
import { memberNodes, saveMembershipBuckets } from "./membership_store.ts";
import {
  AUTH_PREFIX,
  CLUSTER_PREFIX,
  KEYS_PREFIX,
  readV2Rows,
  rekeyEvent,
  V2_BUCKET,
  V2_LAYOUT,
  V2_META,
  v2Rows,
} from "./v2_store.ts";

const LEGACY_MEMBERSHIP: [bucket: string, key: string] = ["members", "membership"];
const LEGACY_AUTH_BUCKET = "v2auth";

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

interface LegacyMembership {
  members: object[];
  removed: string[];
  version: string;
}

/** Whether the backend still holds the old layout. */
export function isLegacyBackend(aux: AuxBuckets): boolean {
  if (aux.get(...LEGACY_MEMBERSHIP)) return true;
  const meta = aux.get(V2_BUCKET, V2_META);
  return meta !== undefined && JSON.parse(fromUtf8.decode(meta)).layout !== V2_LAYOUT;
}

/** Rewrites an old backend in etcd's layout (in the open batch); false if it was not old. */
export function migrateLegacyBackend(aux: AuxBuckets, clusterId: bigint): boolean {
  if (!isLegacyBackend(aux)) return false;
  const raw = aux.get(...LEGACY_MEMBERSHIP);
  const membership = new Membership(clusterId);
  if (raw) {
    const old = JSON.parse(fromUtf8.decode(raw)) as LegacyMembership;
    for (const m of old.members) membership.add(parseMemberJSON(JSON.stringify(m)).member);
    for (const id of old.removed) membership.removed.add(BigInt("0x" + id));
    membership.version = old.version;
    saveMembershipBuckets(aux, membership);
    aux.delete(...LEGACY_MEMBERSHIP);
  }
  const keys = readV2Rows(aux, V2_BUCKET);
  const auth = readV2Rows(aux, LEGACY_AUTH_BUCKET);
  const store: V2StoreJSON = {
    index: keys.index,
    stats: keys.stats,
    nodes: [
      ...clusterNodes(membership),
      dir(KEYS_PREFIX),
      ...keys.nodes.map((n) => ({ ...n, path: KEYS_PREFIX + n.path })),
      ...(auth.nodes.length > 0 ? [dir(AUTH_PREFIX)] : []),
      ...auth.nodes.map((n) => ({ ...n, path: AUTH_PREFIX + n.path })),
    ],
    events: keys.events.map((e) => rekeyEvent(e, (key) => KEYS_PREFIX + key)),
  };
  for (const bucket of [V2_BUCKET, LEGACY_AUTH_BUCKET]) {
    for (const [key] of aux.list(bucket)) aux.delete(bucket, key);
  }
  for (const [key, v] of v2Rows(store)) aux.put(V2_BUCKET, key, utf8.encode(JSON.stringify(v)));
  return true;
}

const dir = (path: string): NodeRecord => ({ path, createdIndex: 0, modifiedIndex: 0, dir: true });
const file = (path: string, value: string): NodeRecord => ({
  path,
  createdIndex: 0,
  modifiedIndex: 0,
  value,
});

/** The /0 subtree of a membership, as etcd's store holds it. */
function clusterNodes(m: Membership): NodeRecord[] {
  const nodes = [dir(CLUSTER_PREFIX)];
  if (m.list().length > 0) nodes.push(dir(`${CLUSTER_PREFIX}/members`));
  for (const member of m.list()) {
    nodes.push(dir(`${CLUSTER_PREFIX}/members/${formatId(member.id)}`));
    for (const [path, value] of memberNodes(member)) nodes.push(file(path, value));
  }
  if (m.removed.size > 0) nodes.push(dir(`${CLUSTER_PREFIX}/removed_members`));
  for (const id of m.removed) {
    nodes.push(file(`${CLUSTER_PREFIX}/removed_members/${formatId(id)}`, ""));
  }
  if (m.version) nodes.push(file(`${CLUSTER_PREFIX}/version`, m.version));
  return nodes;
}
