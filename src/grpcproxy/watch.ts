// The Watch service in front of the cluster (etcd's grpcproxy/watch.go, watcher.go): each
// client stream numbers its watchers from 0, checks that the client may read a range before
// watching it (a count-only serializable range with the client's token), and lets the hub put
// the watcher on a shared upstream watcher. Responses queue per client stream; one that falls
// 1024 responses behind is ended, as etcd's proxy ends a stream it cannot post to.
import type { CallContext, ServiceHandlers } from "../api/mod.ts";
import { EtcdError, GrpcCode } from "../errors/mod.ts";
import type { Event, Init, ResponseHeader, WatchCreateRequest, WatchResponse } from "../pb/mod.ts";
import { compareKeys } from "./cache.ts";
import { callOf } from "./kv.ts";
import type { Namespace } from "./namespace.ts";
import type { Receiver } from "./watch_broadcast.ts";
import type { WatchHub } from "./watch_hub.ts";
import type { Upstream } from "./upstream.ts";

const MAX_QUEUED = 1024;
// WatchCreateRequest.FilterType: NOPUT = 0, NODELETE = 1; mvccpb.Event.EventType: PUT = 0.
const NOPUT = 0;
const NODELETE = 1;
const PUT = 0;

type Post = (resp: Init<WatchResponse>) => void;

/** A client's watcher: filters what its broadcast passes on and posts it with its own id. */
export class ClientWatcher implements Receiver {
  readonly start: number;
  nextRev = 0;
  lastHeader: ResponseHeader | undefined;
  private readonly noPut: boolean;
  private readonly noDelete: boolean;

  constructor(
    readonly id: number,
    private readonly req: WatchCreateRequest,
    private readonly post: Post,
    private readonly ns: Namespace | undefined,
    private readonly gone: (w: ClientWatcher) => void,
  ) {
    this.start = req.startRevision;
    this.noPut = req.filters.includes(NOPUT);
    this.noDelete = req.filters.includes(NODELETE);
  }

  created(header: ResponseHeader): void {
    this.lastHeader = header;
    this.post({ header, watchId: this.id, created: true });
  }

  deliver(resp: WatchResponse): void {
    if (resp.events.length === 0) {
      // A progress notification, for those who asked for them.
      if (!this.req.progressNotify || resp.compactRevision !== 0) return;
      this.lastHeader = resp.header;
      return this.post({ header: resp.header, watchId: this.id });
    }
    const events: Event[] = [];
    let lastRev = 0;
    for (const ev of resp.events) {
      const rev = ev.kv?.modRevision ?? 0;
      if (rev < this.nextRev) continue; // seen already, or before this watcher began
      lastRev = rev; // not nextRev yet: one txn's events share a revision
      if (ev.type === PUT ? this.noPut : this.noDelete) continue;
      const shaped = this.req.prevKv ? ev : { type: ev.type, kv: ev.kv };
      events.push(this.ns ? this.ns.event(shaped) : shaped);
    }
    if (lastRev >= this.nextRev) this.nextRev = lastRev + 1;
    if (events.length === 0) return;
    this.lastHeader = resp.header;
    this.post({ header: resp.header, watchId: this.id, events });
  }

  ended(resp: WatchResponse): void {
    this.gone(this);
    this.post({
      header: resp.header,
      watchId: this.id,
      canceled: true,
      compactRevision: resp.compactRevision,
      cancelReason: resp.cancelReason,
    });
  }
}

/** A range is watchable if it is one key, ends after its start, or runs to the end ("\0"). */
function validRange(key: Uint8Array, end: Uint8Array): boolean {
  return end.length === 0 || compareKeys(end, key) > 0 || (end.length === 1 && end[0] === 0);
}

/** Responses to one client stream, in order; a client too far behind ends the stream. */
class Outbox {
  private readonly queue: Init<WatchResponse>[] = [];
  private pumping = false;
  private failed!: (e: unknown) => void;
  /** Rejects when the stream must end: a send failed, the client fell behind or went away. */
  readonly failure = new Promise<never>((_, reject) => (this.failed = reject));

  constructor(
    private readonly send: (r: Init<WatchResponse>) => Promise<void>,
    signal: AbortSignal,
  ) {
    this.failure.catch(() => {});
    signal.addEventListener("abort", () => this.failed(signal.reason), { once: true });
  }

  readonly post: Post = (resp) => {
    if (this.queue.length >= MAX_QUEUED) {
      return this.failed(new EtcdError(GrpcCode.Canceled, "context canceled"));
    }
    this.queue.push(resp);
    if (!this.pumping) void this.pump();
  };

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length > 0) await this.send(this.queue.shift()!);
    } catch (err) {
      this.failed(err);
    } finally {
      this.pumping = false;
    }
  }
}

export function watchService(
  up: Upstream,
  hub: WatchHub,
  ns: Namespace | undefined,
): ServiceHandlers<"etcdserverpb.Watch"> {
  // Whether the client may read the range: etcd's proxy asks the cluster, with the client's token.
  const permitted = async (cr: WatchCreateRequest, ctx: CallContext) => {
    const whole = cr.key.length === 0;
    const req = {
      key: whole ? new Uint8Array([0]) : cr.key,
      rangeEnd: whole ? new Uint8Array([0]) : cr.rangeEnd,
      serializable: true,
      countOnly: true,
      limit: 1,
    };
    await up.unary("etcdserverpb.KV", "Range", ns ? ns.range(req as never) : req, callOf(ctx));
  };

  return {
    Watch: async (requests, send, ctx) => {
      const watchers = new Map<number, ClientWatcher>();
      let nextId = 0;
      const { post, failure } = new Outbox(send, ctx.signal);
      const gone = (w: ClientWatcher) => watchers.delete(w.id);
      const create = async (cr: WatchCreateRequest) => {
        try {
          await permitted(cr, ctx);
        } catch (err) {
          const reason = err instanceof Error ? err.message : String(err);
          const refusal = { header: {}, watchId: -1, created: true, canceled: true };
          return post({ ...refusal, cancelReason: reason });
        }
        if (!validRange(cr.key, cr.rangeEnd)) {
          return post({ watchId: -1, created: true, canceled: true });
        }
        const w = new ClientWatcher(nextId++, cr, post, ns, gone);
        watchers.set(w.id, w);
        const range = ns
          ? ns.interval(cr.key, cr.rangeEnd)
          : { key: cr.key, rangeEnd: cr.rangeEnd };
        hub.add(w, ctx.metadata["token"] ?? "", range.key, range.rangeEnd);
      };
      const cancel = (id: number) => {
        const w = watchers.get(id);
        if (!w) return;
        watchers.delete(id);
        hub.remove(w);
        post({ header: w.lastHeader, watchId: id, canceled: true });
      };
      const serve = async () => {
        for await (const req of requests) {
          if (req.createRequest) await create(req.createRequest);
          else if (req.cancelRequest) cancel(req.cancelRequest.watchId);
          // Progress requests are not passed on (etcd's proxy ignores them too).
        }
      };
      try {
        await Promise.race([serve(), failure]);
      } finally {
        for (const w of watchers.values()) hub.remove(w);
        watchers.clear();
      }
      // The client half-closed: like etcd's proxy, the stream ends with it.
      throw new EtcdError(GrpcCode.Canceled, "context canceled");
    },
  };
}
