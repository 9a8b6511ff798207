// What the parts of the transport share: the member's identity and hooks (PeerContext), the
// choice among a peer's URLs (etcd's urlPicker), and how a peer's refusal is read.
import { STATUS_CODES } from "node:http";
import type { Message } from "../raft/mod.ts";
import type { Logger } from "../log/mod.ts";
import { goQuote } from "../config/mod.ts";
import type { LogLimiter } from "./checks.ts";
import type { PeerClientTLS, Response } from "./http1.ts";
import { hexId, parseHexId, peerHeaders } from "./wire.ts";

export interface PeerContext {
  localId: bigint;
  /** Read on every request: a joining member adopts the cluster's ID after start. */
  clusterId(): bigint;
  localPeerURLs: string[];
  tls?: PeerClientTLS;
  logger: Logger;
  limiter: LogLimiter;
  dialTimeoutMs: number;
  /** A message read from a peer's stream: Raft steps it (etcd's Process). */
  receive(m: Message): void;
  reportUnreachable(id: bigint): void;
  reportSnapshot(id: bigint, ok: boolean): void;
  /** A peer refused us with `412 cluster ID mismatch`; the member decides. */
  onClusterIdMismatch(peerId: bigint, remoteClusterId: bigint): void;
  /** A peer says this member was removed (410 on a stream, 403 on a post). */
  onRemoved(): void;
}

/** The headers of a request to a peer, at the time it is made. */
export function requestHeaders(ctx: PeerContext): Record<string, string> {
  return peerHeaders(ctx.localId, ctx.clusterId(), ctx.localPeerURLs);
}

/** etcd's errMemberRemoved. */
export const ERR_MEMBER_REMOVED = "the member has been permanently removed from the cluster";

/** etcd's urlPicker: keeps using one of the peer's URLs until it fails, then the next. */
export class UrlPicker {
  #picked = 0;
  constructor(readonly urls: () => string[]) {}

  pick(): string | undefined {
    const urls = this.urls();
    return urls.length === 0 ? undefined : urls[this.#picked % urls.length];
  }

  unreachable(url: string): void {
    const urls = this.urls();
    if (urls.length > 0 && urls[this.#picked % urls.length] === url) this.#picked++;
  }
}

/**
 * A 412 from a peer: its body says why. Logs as etcd does (`where` is "peer" for a stream,
 * "remote" for a post), tells the member of a cluster ID mismatch, returns the error.
 */
export function preconditionFailed(
  ctx: PeerContext,
  peerId: bigint,
  body: string,
  remoteClusterId: string,
  where: "peer" | "remote",
): Error {
  const text = body.replace(/\n$/, "");
  const id = hexId(peerId);
  if (text === "incompatible version") {
    if (ctx.limiter.allow(`version:${id}`)) {
      ctx.logger.error({
        pkg: "rafthttp",
        text: `request sent was ignored by peer ${id} (server version incompatible)`,
        msg: "request sent was ignored by remote peer due to server version incompatibility",
        fields: { "remote-peer-id": id, error: text },
        zapLevel: "warn",
      });
    }
    return new Error(text);
  }
  if (text === "cluster ID mismatch") {
    const local = hexId(ctx.clusterId());
    if (ctx.limiter.allow(`ignored:${where}:${id}:${remoteClusterId}`)) {
      ctx.logger.error({
        pkg: "rafthttp",
        text:
          `request sent was ignored (cluster ID mismatch: ${where}[${id}]=${remoteClusterId}, ` +
          `local=${local})`,
        msg: "request sent was ignored by remote peer due to cluster ID mismatch",
        fields: {
          "remote-peer-id": id,
          "remote-peer-cluster-id": remoteClusterId,
          "local-member-id": hexId(ctx.localId),
          "local-member-cluster-id": local,
          error: text,
        },
        zapLevel: "warn",
      });
    }
    ctx.onClusterIdMismatch(peerId, parseHexId(remoteClusterId) ?? 0n);
    return new Error(text);
  }
  return new Error(`unhandled error ${goQuote(body)} when precondition failed`);
}

/** etcd's checkPostResponse (pipeline and snapshot posts): throws unless the peer took it. */
export function checkPostResponse(ctx: PeerContext, peerId: bigint, res: Response, url: URL) {
  if (res.status === 204) return;
  if (res.status === 412) {
    const body = new TextDecoder().decode(res.body);
    throw preconditionFailed(
      ctx,
      peerId,
      body,
      res.headers.get("x-etcd-cluster-id") ?? "",
      "remote",
    );
  }
  if (res.status === 403) {
    ctx.onRemoved();
    throw new Error(ERR_MEMBER_REMOVED);
  }
  throw new Error(
    `unexpected http status ${STATUS_CODES[res.status] ?? ""} while posting to "${url}"`,
  );
}
