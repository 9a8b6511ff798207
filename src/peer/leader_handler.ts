// The peer paths that serve what other members forward to the leader (etcd's leasehttp
// handler, peerMemberPromoteHandler and hashKVHandler): lease keep-alives and time-to-live
// answers from the leader's lessor, learner promotion, and HashKV for corruption checks.
// Statuses and bodies follow etcd 3.4, so the forwarding member can tell a final answer
// ("lease not found", "member not found") from one worth retrying elsewhere.
import type http from "node:http";
import type { LeaseTimeToLiveResponse } from "../pb/mod.ts";
import { messages } from "../pb/mod.ts";
import { Errors, EtcdError } from "../errors/mod.ts";
import { LeaseError } from "../lease/mod.ts";
import type { Logger } from "../log/mod.ts";
import { decodeLeaseInternalRequest, encodeLeaseInternalResponse } from "./leader_wire.ts";
import { formatHashKVJSON, parseHashKVRequest, type PeerHashKV } from "./leader_wire.ts";
import { formatMembersJSON, type PeerMember } from "./members_json.ts";
import { allowMethod, httpError, readBody, sendBody, sendJSON } from "./respond.ts";
import { H, hexId } from "./wire.ts";

/**
 * What this member answers for its peers. The lease calls throw the lessor's errors (not found,
 * not primary) or `Errors.timeoutWaitAppliedIndex` when the member could not apply what it
 * committed in time; promotion throws `Errors.memberNotFound`, `Errors.memberNotLearner`,
 * `Errors.learnerNotReady`; any call throws `Errors.notLeader` on a member still starting.
 */
export interface PeerLeaderApi {
  /** Renews a lease on this member's (primary) lessor: its TTL in seconds. */
  renewLease(id: bigint): Promise<number>;
  /** A lease's remaining time on this member's (primary) lessor. */
  leaseTimeToLive(id: bigint, keys: boolean): Promise<LeaseTimeToLiveResponse>;
  /** Promotes a learner (on the leader): the members afterwards. */
  promoteMember(id: bigint): Promise<PeerMember[]>;
  /** HashKV at `revision` (0: the current one); throws the mvcc errors. */
  hashKV(revision: number): PeerHashKV;
}

type Req = http.IncomingMessage;
type Res = http.ServerResponse;

// etcd's lease package errors, as leasehttp writes them.
export const LEASE_NOT_FOUND = "lease not found";
export const NOT_PRIMARY = "not a primary lessor";
export const LEASE_HTTP_TIMEOUT = "waiting for node to catch up its applied index has timed out";
// etcd's membership errors, as the promote handler writes them.
export const MEMBER_NOT_FOUND = "membership: ID not found";
export const MEMBER_NOT_LEARNER = "membership: can only promote a learner member";

const is = (err: unknown, make: () => EtcdError) =>
  err instanceof EtcdError && err.message === make().message;

/** etcd's error text without the `etcdserver: ` prefix its gRPC layer adds. */
const bare = (err: unknown) => String((err as Error)?.message ?? err).replace(/^etcdserver: /, "");

const isLease = (err: unknown, reason: LeaseError["reason"]) =>
  err instanceof LeaseError && err.reason === reason;

function leaseError(res: Res, err: unknown): void {
  if (isLease(err, "notFound")) return httpError(res, 404, LEASE_NOT_FOUND);
  if (isLease(err, "notPrimary") || is(err, Errors.notLeader)) {
    return httpError(res, 400, NOT_PRIMARY);
  }
  if (is(err, Errors.timeoutWaitAppliedIndex)) return httpError(res, 408, LEASE_HTTP_TIMEOUT);
  httpError(res, 400, bare(err));
}

/** The promote handler's status and text for an error (etcd's, or what etcd-ts peers read). */
function promoteRefusal(err: unknown): [number, string] {
  if (is(err, Errors.memberNotFound)) return [404, MEMBER_NOT_FOUND];
  if (is(err, Errors.memberNotLearner)) return [412, MEMBER_NOT_LEARNER];
  if (is(err, Errors.learnerNotReady)) return [412, Errors.learnerNotReady().message];
  // No longer the leader: the sender retries with the leader it sees next.
  if (is(err, Errors.notLeader)) return [412, Errors.notLeader().message];
  return [500, bare(err)];
}

/**
 * Routes the forwarded-request paths; false for any other path. `clusterId` names the cluster
 * in the answers that carry it.
 */
export function createLeaderRoutes(
  api: PeerLeaderApi,
  clusterId: () => bigint,
  log: Logger,
): (path: string, req: Req, res: Res) => boolean {
  const fail = (res: Res) => () => res.destroy();
  return (path, req, res) => {
    if (path === "/leases" || path === "/leases/internal") {
      serveLeases(api, req, res, path === "/leases/internal").catch(fail(res));
    } else if (path.startsWith("/members/promote/")) {
      const idText = path.slice("/members/promote/".length);
      servePromote(api, clusterId, log, req, res, idText).catch(fail(res));
    } else if (path === "/members/hashkv") {
      serveHashKV(api, clusterId, req, res).catch(fail(res));
    } else return false;
    return true;
  };
}

// leasehttp's handler: a keep-alive (/leases) or a time-to-live (/leases/internal) that a
// member forwarded to the primary lessor, both in protobuf.
async function serveLeases(api: PeerLeaderApi, req: Req, res: Res, internal: boolean) {
  if (req.method !== "POST") return httpError(res, 405, "Method Not Allowed");
  let body: Uint8Array;
  try {
    body = await readBody(req);
  } catch {
    return httpError(res, 400, "error reading body");
  }
  let answer: () => Promise<Uint8Array>;
  try {
    answer = leaseCall(api, body, internal);
  } catch {
    return httpError(res, 400, "error unmarshalling request");
  }
  let out: Uint8Array;
  try {
    out = await answer();
  } catch (err) {
    return leaseError(res, err);
  }
  sendBody(res, "application/protobuf", out);
}

/** Decodes a forwarded lease request (throws if it is none); the call answers it. */
function leaseCall(
  api: PeerLeaderApi,
  body: Uint8Array,
  internal: boolean,
): () => Promise<Uint8Array> {
  if (internal) {
    const lreq = decodeLeaseInternalRequest(body);
    return async () => {
      const ttl = await api.leaseTimeToLive(lreq.ID, lreq.keys);
      return encodeLeaseInternalResponse({ ...ttl, header: {} });
    };
  }
  const lreq = messages["etcdserverpb.LeaseKeepAliveRequest"].decode(body);
  return async () => {
    const TTL = await api.renewLease(lreq.ID);
    return messages["etcdserverpb.LeaseKeepAliveResponse"].encode({ ID: lreq.ID, TTL });
  };
}

// etcd's peerMemberPromoteHandler: the member ID in decimal, the members afterwards in JSON.
async function servePromote(
  api: PeerLeaderApi,
  clusterId: () => bigint,
  log: Logger,
  req: Req,
  res: Res,
  idText: string,
) {
  if (!allowMethod(req, res, "POST")) return;
  res.setHeader(H.clusterId, hexId(clusterId()));
  const notFound = () => httpError(res, 404, `member ${idText} not found in cluster`);
  if (!/^\d+$/.test(idText) || BigInt(idText) >= 1n << 64n) return notFound();
  try {
    const members = await api.promoteMember(BigInt(idText));
    sendJSON(res, formatMembersJSON(members));
  } catch (err) {
    const [status, text] = promoteRefusal(err);
    log.error({
      pkg: "etcdserver/api/etcdhttp",
      text: `error promoting member ${BigInt(idText).toString(16)} (${text})`,
    });
    if (status === 500) {
      sendBody(res, "application/json", `{"message":"Internal Server Error"}`, {}, 500);
    } else httpError(res, status, text);
  }
}

// etcd's hashKVHandler: GET with a JSON HashKVRequest body, as etcd's corruption checker
// sends it.
async function serveHashKV(api: PeerLeaderApi, clusterId: () => bigint, req: Req, res: Res) {
  if (!allowMethod(req, res, "GET")) return;
  let text: string;
  try {
    text = new TextDecoder().decode(await readBody(req));
  } catch {
    return httpError(res, 400, "error reading body");
  }
  let revision: number;
  try {
    revision = parseHashKVRequest(text);
  } catch {
    return httpError(res, 400, "error unmarshalling request");
  }
  let h: PeerHashKV;
  try {
    h = api.hashKV(revision);
  } catch (err) {
    return httpError(res, 400, bare(err));
  }
  sendJSON(res, formatHashKVJSON(h), { [H.clusterId]: hexId(clusterId()) });
}
