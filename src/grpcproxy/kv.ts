// The KV service in front of the cluster (etcd's grpcproxy/kv.go): serializable ranges are
// answered from the cache when it has them, every range's answer is cached (a linearizable one
// as if it had been serializable), and writes drop what they may have changed.
import type { CallContext, ServiceHandlers } from "../api/mod.ts";
import { Errors, EtcdError, GrpcCode } from "../errors/mod.ts";
import type {
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseOp,
  TxnRequest,
  TxnResponse,
} from "../pb/mod.ts";
import type { RangeCache } from "./cache.ts";
import type { ProxyMetrics } from "./metrics.ts";
import type { Namespace } from "./namespace.ts";
import { type CallOptions, Upstream } from "./upstream.ts";

/** What a proxied call brings from the client's: its token, deadline and cancellation. */
export function callOf(ctx: CallContext): CallOptions {
  return { token: ctx.metadata["token"], deadline: ctx.deadline, signal: ctx.signal };
}

const NO_END = new Uint8Array(0);

// etcd's ErrNoGreaterRev: no endpoint has caught up with a revision already answered.
const NO_GREATER_REV = "etcdclient: no cluster members have a revision higher than the " +
  "previously received revision";

/**
 * The cluster's KV, seen through the namespace when there is one. With ordering
 * (--experimental-serializable-ordering), a range answered at a revision older than one
 * already answered is asked again elsewhere, up to five rounds over the endpoints.
 */
class KvUpstream {
  private prevRev = 0;

  constructor(
    private readonly up: Upstream,
    private readonly ns: Namespace | undefined,
    private readonly ordering: boolean,
  ) {}

  private call<Res>(method: string, req: unknown, ctx: CallContext): Promise<Res> {
    return this.up.unary<Res>("etcdserverpb.KV", method, req, callOf(ctx));
  }

  async range(req: RangeRequest, ctx: CallContext): Promise<RangeResponse> {
    const prevRev = this.prevRev;
    for (let tries = 0;; tries++) {
      const resp = await this.rangeOnce(req, ctx);
      const rev = resp.header?.revision ?? 0;
      if (!this.ordering || rev >= prevRev) {
        this.prevRev = Math.max(this.prevRev, rev);
        return resp;
      }
      if (tries >= 5 * this.up.endpointCount) throw new EtcdError(GrpcCode.Unknown, NO_GREATER_REV);
      this.up.switchEndpoint();
    }
  }

  /** One call through the namespace when there is one: the request goes in, the answer out. */
  private async through<Req, Res>(
    method: string,
    req: Req,
    ctx: CallContext,
    into: (ns: Namespace, req: Req) => Req,
    out: (ns: Namespace, res: Res) => Res,
  ): Promise<Res> {
    const ns = this.ns;
    if (!ns) return await this.call(method, req, ctx);
    return out(ns, await this.call(method, into(ns, req), ctx));
  }

  private rangeOnce(req: RangeRequest, ctx: CallContext): Promise<RangeResponse> {
    return this.through("Range", req, ctx, (ns, r) => ns.range(r), (ns, r) => ns.rangeResponse(r));
  }

  put(req: PutRequest, ctx: CallContext): Promise<PutResponse> {
    return this.through("Put", req, ctx, (ns, r) => ns.put(r), (ns, r) => ns.putResponse(r));
  }

  deleteRange(req: DeleteRangeRequest, ctx: CallContext): Promise<DeleteRangeResponse> {
    const into = (ns: Namespace, r: DeleteRangeRequest) => ns.deleteRange(r);
    return this.through("DeleteRange", req, ctx, into, (ns, r) => ns.deleteRangeResponse(r));
  }

  txn(req: TxnRequest, ctx: CallContext): Promise<TxnResponse> {
    return this.through("Txn", req, ctx, (ns, r) => ns.txn(r), (ns, r) => ns.txnResponse(r));
  }

  compact(req: unknown, ctx: CallContext): Promise<CompactionResponse> {
    return this.call("Compact", req, ctx);
  }
}

/** The ops of the branch that ran: writes drop cached answers, reads become cached ones. */
function learnFromTxn(cache: RangeCache, ops: RequestOp[], responses: ResponseOp[]): void {
  responses.forEach((res, i) => {
    const op = ops[i];
    if (res.responsePut && op.requestPut) cache.invalidate(op.requestPut.key, NO_END);
    else if (res.responseDeleteRange && op.requestDeleteRange) {
      cache.invalidate(op.requestDeleteRange.key, op.requestDeleteRange.rangeEnd);
    } else if (res.responseRange && op.requestRange) {
      cache.add(op.requestRange, res.responseRange);
    }
  });
}

export function kvService(
  up: Upstream,
  ns: Namespace | undefined,
  cache: RangeCache,
  metrics: ProxyMetrics,
  ordering = false,
): ServiceHandlers<"etcdserverpb.KV"> {
  const kv = new KvUpstream(up, ns, ordering);
  const sized = () => metrics.cacheKeys.set(cache.size);
  // Dropped before and after: a read racing the write cannot leave the old value cached.
  const writing = async <T>(key: Uint8Array, end: Uint8Array, write: () => Promise<T>) => {
    cache.invalidate(key, end);
    try {
      return await write();
    } finally {
      cache.invalidate(key, end);
      sized();
    }
  };

  return {
    Range: async (req, ctx) => {
      if (req.serializable) {
        const cached = cache.get(req);
        if (cached !== undefined) {
          metrics.cacheHits.inc();
          if (cached === "compacted") throw Errors.compacted();
          return cached;
        }
        metrics.cacheMisses.inc();
      }
      const resp = await kv.range(req, ctx);
      cache.add(req, resp);
      sized();
      return resp;
    },
    Put: (req, ctx) => writing(req.key, NO_END, () => kv.put(req, ctx)),
    DeleteRange: (req, ctx) => writing(req.key, req.rangeEnd, () => kv.deleteRange(req, ctx)),
    Txn: async (req, ctx) => {
      const resp = await kv.txn(req, ctx);
      // A txn may claim a compared key is up to date: drop it to be safe.
      for (const cmp of req.compare) cache.invalidate(cmp.key, cmp.rangeEnd);
      learnFromTxn(cache, resp.succeeded ? req.success : req.failure, resp.responses);
      sized();
      return resp;
    },
    Compact: async (req, ctx) => {
      const resp = await kv.compact(req, ctx);
      cache.compact(req.revision);
      sized();
      return resp;
    },
  };
}
