// A follower's side of forwarding (etcd's leasehttp.RenewHTTP/TimeToLiveHTTP and
// promoteMemberHTTP): one request to one of the leader's peer URLs. Answers that settle the
// request are thrown as the lessor's and etcd's errors (LeaseError "notFound",
// `Errors.memberNotFound`, ...);
// anything else is a plain Error, which the caller may retry on another URL or leader.
import { type LeaseTimeToLiveResponse, messages } from "../pb/mod.ts";
import { Errors } from "../errors/mod.ts";
import { LeaseError } from "../lease/mod.ts";
import { type PeerClientTLS, request, type Response } from "./http1.ts";
import {
  decodeLeaseInternalResponse,
  encodeLeaseInternalRequest,
  parseHashKVJSON,
  type PeerHashKV,
} from "./leader_wire.ts";
import { LEASE_HTTP_TIMEOUT, MEMBER_NOT_LEARNER } from "./leader_handler.ts";
import { parseMembersJSON, type PeerMember } from "./members_json.ts";

export interface LeaderClient {
  renewLease(peerURL: string, id: bigint, timeoutMs: number): Promise<number>;
  leaseTimeToLive(
    peerURL: string,
    id: bigint,
    keys: boolean,
    timeoutMs: number,
  ): Promise<LeaseTimeToLiveResponse>;
  promoteMember(peerURL: string, id: bigint, timeoutMs: number): Promise<PeerMember[]>;
  hashKV(peerURL: string, revision: number, timeoutMs: number): Promise<PeerHashKV>;
}

const text = (r: Response) => new TextDecoder().decode(r.body);

/** A client that dials with the member's peer client TLS; `signal` aborts every request. */
export function createLeaderClient(
  opts: { tls?: PeerClientTLS; signal?: AbortSignal } = {},
): LeaderClient {
  const post = (peerURL: string, path: string, body: Uint8Array | undefined, timeoutMs: number) =>
    request(new URL(peerURL), {
      method: "POST",
      path,
      headers: body ? { "Content-Type": "application/protobuf" } : {},
      body: body ? [body] : [],
      timeoutMs,
      tls: opts.tls,
      signal: opts.signal,
    });

  // Statuses every lease path shares: 404 is final, the rest is worth another try.
  const leaseAnswer = (r: Response): Uint8Array => {
    if (r.status === 404) throw new LeaseError("notFound");
    if (r.status === 408) throw new Error(`lease: ${LEASE_HTTP_TIMEOUT}`);
    if (r.status !== 200) throw new Error(`lease: unknown error(${text(r).trimEnd()})`);
    return r.body;
  };

  return {
    async renewLease(peerURL, id, timeoutMs) {
      const body = messages["etcdserverpb.LeaseKeepAliveRequest"].encode({ ID: id });
      const answer = leaseAnswer(await post(peerURL, "/leases", body, timeoutMs));
      const res = messages["etcdserverpb.LeaseKeepAliveResponse"].decode(answer);
      if (res.ID !== id) throw new Error("lease: renew id mismatch");
      return res.TTL;
    },

    async leaseTimeToLive(peerURL, id, keys, timeoutMs) {
      const body = encodeLeaseInternalRequest({ ID: id, keys });
      const answer = leaseAnswer(await post(peerURL, "/leases/internal", body, timeoutMs));
      const res = decodeLeaseInternalResponse(answer);
      if (res.ID !== id) throw new Error("lease: timetolive id mismatch");
      return res;
    },

    async promoteMember(peerURL, id, timeoutMs) {
      const r = await post(peerURL, `/members/promote/${id}`, undefined, timeoutMs);
      const b = text(r);
      if (r.status === 408) throw Errors.timeout();
      if (r.status === 412) {
        // Both refusals share the status; the text tells them apart, as etcd reads them.
        if (b.includes(Errors.learnerNotReady().message)) throw Errors.learnerNotReady();
        if (b.includes(MEMBER_NOT_LEARNER)) throw Errors.memberNotLearner();
      }
      if (r.status === 404) throw Errors.memberNotFound();
      if (r.status !== 200) throw new Error(`member promote: unknown error(${b.trimEnd()})`);
      return parseMembersJSON(b);
    },

    async hashKV(peerURL, revision, timeoutMs) {
      const r = await request(new URL(peerURL), {
        method: "GET",
        path: "/members/hashkv",
        headers: { "Content-Type": "application/json" },
        body: [new TextEncoder().encode(JSON.stringify({ revision }))],
        timeoutMs,
        tls: opts.tls,
        signal: opts.signal,
      });
      if (r.status !== 200) throw new Error(`hashkv: ${text(r).trimEnd()} (status ${r.status})`);
      return parseHashKVJSON(text(r));
    },
  };
}
