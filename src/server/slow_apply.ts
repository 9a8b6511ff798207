// etcd's slow-request warnings (--experimental-warning-apply-duration): an applied request, or
// a range / read-only txn served here, that took longer than the threshold is logged with
// etcd's text (`request "..." with result "size:N" took too long (d) to execute`) and counted
// in etcd_server_slow_apply_total.
//
// Applying is timed per batch of entries while batches are fast: a fast batch had no slow
// request, and a slow batch of one request is that request. In a slow batch of several the
// culprit is unknown, so each request is timed from the next batch on, until a batch is fast
// again (a member starts that way too). A member whose applies are fast thus reads the clock
// twice per batch instead of twice per request.
import type { Logger } from "../log/mod.ts";
import { serverMetrics } from "../metrics/mod.ts";
import { formatGoDuration, goQuote } from "../config/mod.ts";
import { messages } from "../pb/mod.ts";
import type { ApplyOutcome } from "./apply/mod.ts";
import type { Proposal } from "./proposal.ts";
import { compactText, proposalText, txnText } from "./request_text.ts";
import type { RangeRequest, RangeResponse, TxnRequest, TxnResponse } from "./kv_types.ts";

/** etcd's response header as its applier fills it for leases and auth (newHeader). */
export interface FullHeader {
  clusterId: bigint;
  memberId: bigint;
  revision: number;
  raftTerm: number;
}

export interface SlowApplyDeps {
  log: Logger;
  /** The threshold in milliseconds. */
  thresholdMs: number;
  header(): FullHeader;
}

const size = (name: Parameters<typeof sizeOf>[0], msg: unknown) => `size:${sizeOf(name, msg)}`;
function sizeOf<K extends keyof typeof messages>(name: K, msg: unknown): number {
  return (messages[name].encode as (m: unknown) => Uint8Array)(msg).length;
}

/** Requests etcd applies through its v2 store. */
const isV2 = (p: Proposal) =>
  p.kind === "v2" || p.kind === "memberAttrSet" || p.kind === "clusterVersionSet";

export class SlowApplyWarner {
  #perRequest = true;

  constructor(readonly deps: SlowApplyDeps) {}

  /** Whether the applier should time each request of the next batch. */
  get perRequest(): boolean {
    return this.#perRequest;
  }

  /** One applied request and its time (when the applier timed it alone). */
  applied(p: Proposal, outcome: ApplyOutcome, tookMs: number): void {
    if (tookMs > this.deps.thresholdMs) this.#warnApplied(p, outcome, tookMs);
    if (outcome.error) this.failed(p, outcome, tookMs);
  }

  /** etcd's warnOfFailedRequest, for every request whose apply failed (v2 ones excepted). */
  failed(p: Proposal, outcome: ApplyOutcome, tookMs: number): void {
    if (!outcome.error || isV2(p)) return;
    const request = proposalText(p);
    const response = this.#response(p, outcome);
    const took = formatGoDuration(tookMs);
    const error = outcome.error.message;
    this.deps.log.warn({
      pkg: "etcdserver",
      text: `failed to apply request ${goQuote(request)} with response ${
        goQuote(response)
      } took (${took}) to execute, err is ${error}`,
      msg: "failed to apply request",
      fields: { took, request, response, error },
    });
  }

  /** A whole batch: `requests` proposals applied in `tookMs`, the last of them `last`. */
  batch(tookMs: number, requests: number, last?: [Proposal, ApplyOutcome]): void {
    const slow = tookMs > this.deps.thresholdMs;
    if (this.#perRequest) {
      if (!slow) this.#perRequest = false;
      return;
    }
    if (!slow || requests === 0) return;
    if (requests === 1 && last) this.#warnApplied(last[0], last[1], tookMs);
    else this.#perRequest = true;
  }

  /** etcd's warnOfExpensiveReadOnlyRangeRequest. */
  range(req: RangeRequest, res: RangeResponse | undefined, err: unknown, tookMs: number): void {
    if (tookMs <= this.deps.thresholdMs) return;
    const response = res
      ? `range_response_count:${res.kvs.length} ${size("etcdserverpb.RangeResponse", res)}`
      : "";
    const text = compactText("etcdserverpb.RangeRequest", { ...req });
    this.#warn("read-only range ", text, response, err, tookMs);
  }

  /** etcd's warnOfExpensiveReadOnlyTxnRequest. */
  readOnlyTxn(req: TxnRequest, res: TxnResponse | undefined, err: unknown, tookMs: number) {
    if (tookMs <= this.deps.thresholdMs) return;
    let response = "";
    if (res) {
      const counts = res.responses.map((r) =>
        r.responseRange ? `range_response_count:${r.responseRange.kvs.length}` : ""
      ).filter((s) => s !== "");
      response = `responses:<${counts.join(" ")}> ${size("etcdserverpb.TxnResponse", res)}`;
    }
    this.#warn("read-only range ", txnText(req), response, err, tookMs);
  }

  #warnApplied(p: Proposal, outcome: ApplyOutcome, tookMs: number): void {
    // etcd's v2 apply reports neither a response nor an error.
    const v2 = isV2(p);
    const response = v2 ? "" : this.#response(p, outcome);
    this.#warn("", proposalText(p), response, v2 ? undefined : outcome.error, tookMs);
  }

  /**
   * The size of the response etcd's applier returns. On failure it returns none, except a
   * lease revoke (its header) and a lease grant (empty).
   */
  #response(p: Proposal, outcome: ApplyOutcome): string {
    if (!outcome.error) return this.#responseSize(p, outcome.response);
    if (p.kind === "leaseRevoke") return this.#responseSize(p, {});
    return p.kind === "leaseGrant" ? "size:0" : "";
  }

  #responseSize(p: Proposal, response: unknown): string {
    const r = response as Record<string, unknown>;
    switch (p.kind) {
      case "put":
        return size("etcdserverpb.PutResponse", r);
      case "deleteRange":
        return size("etcdserverpb.DeleteRangeResponse", r);
      case "txn":
        return size("etcdserverpb.TxnResponse", r);
      case "compaction":
        return size("etcdserverpb.CompactionResponse", { header: r.header });
      case "alarm":
        return size("etcdserverpb.AlarmResponse", r);
      case "leaseGrant":
        return size("etcdserverpb.LeaseGrantResponse", { ...r, header: this.deps.header() });
      case "leaseRevoke":
        return size("etcdserverpb.LeaseRevokeResponse", { header: this.deps.header() });
      default: // auth: the header, and the token of an Authenticate
        return size("etcdserverpb.AuthenticateResponse", {
          header: this.deps.header(),
          token: r?.token,
        });
    }
  }

  #warn(prefix: string, request: string, response: string, err: unknown, tookMs: number) {
    const { log, thresholdMs } = this.deps;
    const error = err === undefined ? undefined : (err as Error).message;
    const result = error === undefined ? response : `error:${error}`;
    const took = formatGoDuration(tookMs);
    log.warn({
      pkg: "etcdserver",
      text: `${prefix}request ${goQuote(request)} with result ${
        goQuote(result)
      } took too long (${took}) to execute`,
      msg: "apply request took too long",
      fields: {
        took,
        "expected-duration": formatGoDuration(thresholdMs),
        prefix,
        request,
        response,
        ...(error === undefined ? {} : { error }),
      },
    });
    serverMetrics.slowApplies.inc();
  }
}
