// This member's backend written out as etcd 3.4's: the bbolt file etcd's Maintenance.Snapshot
// streams and `etcdctl snapshot restore` and etcd itself open. Everything is captured at one
// point (the store's current revision and consistent index) before the first await; the key
// bucket is then streamed from a history cursor, a page at a time, while the member goes on
// applying entries.
import { type BucketData, type DbWriter, writeBuckets } from "../../bbolt/mod.ts";
import { type AuthState, loadAuthState } from "../../auth/mod.ts";
import type { HistoryCursor } from "../../mvcc/mod.ts";
import { revisionKey, storedKeyValue } from "../../mvcc/mod.ts";
import { type AlarmMember, messages } from "../../pb/mod.ts";
import type { Backend } from "../backend.ts";
import type { Membership } from "../membership.ts";
import { authRecords } from "./auth_records.ts";
import {
  BUCKET,
  CLUSTER_VERSION_KEY,
  leaseKey,
  memberJSON,
  memberKey,
  META_KEY,
  REMOVED,
  u64,
} from "./layout.ts";

/** Changes read from the history per page; the writer yields to the event loop between pages. */
const HISTORY_PAGE = 1000;

/** The backend at one point: the key space as a cursor, the small buckets as values. */
export interface BackendView {
  history: HistoryCursor;
  alarms: AlarmMember[];
  auth: AuthState;
  membership?: Membership;
  leases: { id: bigint; ttl: number }[];
}

/** Takes the view synchronously, so nothing applied later is part of it. Close its cursor. */
export function captureBackend(backend: Backend): BackendView {
  return {
    history: backend.store.openHistory(),
    alarms: backend.alarms.list(),
    auth: loadAuthState(backend.aux),
    membership: backend.loadMembership(),
    leases: backend.leasePersistence().loadLeases(),
  };
}

const utf8 = new TextEncoder();

/** Writes the view as etcd's buckets, in name order; `pause` lets the member run meanwhile. */
export async function writeEtcdBackend(
  view: BackendView,
  w: DbWriter,
  pause: () => Promise<void>,
): Promise<void> {
  const { auth, users, roles } = authRecords(view.auth);
  const m = view.membership;
  await writeBuckets(w, [
    {
      name: BUCKET.alarm,
      entries: view.alarms.map((
        a,
      ) => [messages["etcdserverpb.AlarmMember"].encode(a), new Uint8Array()]),
    },
    { name: BUCKET.auth, entries: auth },
    { name: BUCKET.authRoles, entries: roles },
    { name: BUCKET.authUsers, entries: users },
    {
      name: BUCKET.cluster,
      entries: m?.version ? [[CLUSTER_VERSION_KEY, utf8.encode(m.version)]] : [],
    },
  ]);
  w.beginBucket(BUCKET.key);
  for (let page = view.history.next(HISTORY_PAGE); page.length > 0;) {
    for (const { main, sub, kv } of page) {
      await w.put(revisionKey(main, sub, kv.version === 0), storedKeyValue(kv));
    }
    await pause();
    page = view.history.next(HISTORY_PAGE);
  }
  await w.endBucket();
  await writeBuckets(w, [
    { name: BUCKET.lease, entries: view.leases.map((l) => leaseRecord(l.id, l.ttl)) },
    ...membershipBuckets(m),
    { name: BUCKET.meta, entries: metaRecords(view.history) },
  ]);
}

function leaseRecord(id: bigint, ttl: number): [Uint8Array, Uint8Array] {
  return [leaseKey(id), messages["leasepb.Lease"].encode({ ID: id, TTL: ttl, RemainingTTL: 0 })];
}

function membershipBuckets(m: Membership | undefined): BucketData[] {
  return [
    {
      name: BUCKET.members,
      entries: (m?.list() ?? []).map((x) => [memberKey(x.id), utf8.encode(memberJSON(x))]),
    },
    {
      name: BUCKET.membersRemoved,
      entries: [...(m?.removed ?? [])].map((id) => [memberKey(id), REMOVED]),
    },
  ];
}

function metaRecords(history: HistoryCursor): [string, Uint8Array][] {
  const { consistentIndex, compactRev, compactDone } = history.point;
  const out: [string, Uint8Array][] = [[META_KEY.consistentIndex, u64(consistentIndex)]];
  if (compactRev >= 0) out.push([META_KEY.scheduledCompact, revisionKey(compactRev, 0, false)]);
  if (compactDone >= 0) out.push([META_KEY.finishedCompact, revisionKey(compactDone, 0, false)]);
  return out;
}
