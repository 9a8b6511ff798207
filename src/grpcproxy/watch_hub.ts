// Watch coalescing (etcd's watchRanges, watchBroadcasts): clients' watchers of the same key
// range share one upstream watcher where that loses nothing, and all upstream watchers of one
// auth token share one upstream Watch stream. A failed stream is opened again (on the next
// endpoint) and every upstream watcher resumes after the last revision it passed on.
import { type EtcdError, GrpcCode } from "../errors/mod.ts";
import type { WatchResponse } from "../pb/mod.ts";
import type { Logger } from "../log/mod.ts";
import { Broadcast, type Receiver } from "./watch_broadcast.ts";
import type { ProxyMetrics } from "./metrics.ts";
import type { Upstream, UpstreamCall as ClientCall } from "./upstream.ts";

// A broadcast this popular is left alone when watchers are merged (etcd's maxCoalesceReceivers).
const MAX_MERGE_RECEIVERS = 5;
const RESUME_DELAY_MS = 1000;
const NO_LEADER = "etcdserver: no leader";

const latin1 = new TextDecoder("latin1");
const rangeId = (key: Uint8Array, end: Uint8Array) =>
  `${latin1.decode(key)}\u0000${latin1.decode(end)}`;

/** One upstream Watch stream and the broadcasts whose watchers live on it. */
class UpstreamStream {
  private call: ClientCall | undefined;
  private opening = false;
  // Creates sent and not yet answered, in order: the cluster answers them in that order.
  private pending: Broadcast[] = [];
  private readonly byId = new Map<number, Broadcast>();
  readonly broadcasts = new Map<string, Broadcast[]>();
  private closed = false;

  constructor(private readonly hub: WatchHub, private readonly token: string) {}

  add(b: Broadcast): void {
    const list = this.broadcasts.get(b.id) ?? [];
    list.push(b);
    this.broadcasts.set(b.id, list);
    if (this.call) this.create(this.call, b);
    else this.open();
  }

  private create(call: ClientCall, b: Broadcast): void {
    this.pending.push(b);
    call.send({
      createRequest: {
        key: b.key,
        rangeEnd: b.rangeEnd,
        startRevision: b.resumeFrom,
        progressNotify: true,
        prevKv: true,
      },
    });
  }

  /** Stops `b`'s upstream watcher; the stream itself goes when it carries no watcher. */
  remove(b: Broadcast): void {
    const list = (this.broadcasts.get(b.id) ?? []).filter((x) => x !== b);
    if (list.length > 0) this.broadcasts.set(b.id, list);
    else this.broadcasts.delete(b.id);
    if (b.upstreamId !== undefined) {
      this.byId.delete(b.upstreamId);
      this.call?.send({ cancelRequest: { watchId: b.upstreamId } });
      b.upstreamId = undefined;
    }
    this.shutIfIdle();
  }

  private shutIfIdle(): void {
    if (this.broadcasts.size === 0 && this.pending.length === 0) this.shut();
  }

  // Opens the stream (waiting for a connection) and creates every broadcast's watcher on it.
  private open(): void {
    if (this.opening || this.closed) return;
    this.opening = true;
    const opened = this.hub.upstream.open("etcdserverpb.Watch", "Watch", {
      message: (resp) => this.onResponse(resp as WatchResponse),
      end: (err) => this.onEnd(err),
    }, { token: this.token || undefined, requireLeader: true });
    opened.then((call) => {
      this.opening = false;
      if (this.closed) return call.cancel();
      this.call = call;
      this.pending = [];
      this.byId.clear();
      for (const list of this.broadcasts.values()) for (const b of list) this.create(call, b);
    }, () => {
      this.opening = false; // the proxy is closing
    });
  }

  private onResponse(resp: WatchResponse): void {
    let b: Broadcast | undefined;
    if (resp.created) {
      b = this.pending.shift();
      if (!b) return;
      if (!this.isLive(b)) {
        if (!resp.canceled) this.call?.send({ cancelRequest: { watchId: resp.watchId } });
        return this.shutIfIdle();
      }
      if (!resp.canceled) {
        b.upstreamId = resp.watchId;
        this.byId.set(resp.watchId, b);
      }
    } else b = this.byId.get(resp.watchId);
    if (!b) return;
    if (resp.canceled) {
      this.byId.delete(resp.watchId);
      b.upstreamId = undefined;
      this.hub.ended(b);
    }
    const shared = b.onResponse(resp);
    if (shared > 1 && resp.events.length > 0) this.hub.metrics.eventsCoalescing.inc(shared - 1);
    if (!resp.canceled) this.hub.merge(b);
  }

  private isLive(b: Broadcast): boolean {
    return this.broadcasts.get(b.id)?.includes(b) ?? false;
  }

  // The stream failed: every watcher resumes on a new one, unless the cluster refused us.
  private onEnd(err: EtcdError | undefined): void {
    this.call = undefined;
    if (this.closed) return;
    const transient = !err || err.code === GrpcCode.Unavailable ||
      err.code === GrpcCode.DeadlineExceeded || err.code === GrpcCode.Canceled;
    if (transient) {
      // A member cut off from its leader ends watch streams; another member may have one.
      if (err?.message === NO_LEADER) this.hub.upstream.switchEndpoint();
      setTimeout(() => this.broadcasts.size > 0 ? this.open() : this.shut(), RESUME_DELAY_MS);
      return;
    }
    this.hub.log.warn({
      pkg: "grpcproxy",
      text: `watch stream refused (${err.message})`,
      msg: "watch stream refused",
      fields: { error: err.message },
    });
    const all = [...this.broadcasts.values()].flat();
    this.broadcasts.clear();
    this.pending = [];
    this.byId.clear();
    for (const b of all) this.hub.fail(b, err.message);
    this.shut();
  }

  shut(): void {
    this.closed = true;
    this.call?.cancel();
    this.call = undefined;
    this.hub.dropStream(this.token, this);
  }
}

export class WatchHub {
  private readonly streams = new Map<string, UpstreamStream>();
  private readonly homes = new Map<Receiver, { b: Broadcast; s: UpstreamStream }>();

  constructor(
    readonly upstream: Upstream,
    readonly metrics: ProxyMetrics,
    readonly log: Logger,
  ) {}

  /** Finds `r` a broadcast of its range (under `token`) that loses nothing, or starts one. */
  add(r: Receiver, token: string, key: Uint8Array, rangeEnd: Uint8Array): void {
    let s = this.streams.get(token);
    if (!s) this.streams.set(token, s = new UpstreamStream(this, token));
    const id = rangeId(key, rangeEnd);
    const b = s.broadcasts.get(id)?.find((b) => b.accepts(r));
    if (b) {
      if (b.receivers.size > 0) this.metrics.watchersCoalescing.inc();
      this.homes.set(r, { b, s });
      b.join(r);
      return;
    }
    const fresh = new Broadcast(id, key, rangeEnd, r.start);
    this.homes.set(r, { b: fresh, s });
    fresh.join(r);
    s.add(fresh);
  }

  /** `r` is gone (canceled, or its client stream ended). */
  remove(r: Receiver): void {
    const home = this.homes.get(r);
    if (!home) return;
    this.homes.delete(r);
    home.b.receivers.delete(r);
    if (home.b.receivers.size > 0) this.metrics.watchersCoalescing.dec();
    else home.s.remove(home.b);
  }

  /** The upstream watcher of `b` ended: so did its receivers' watches. */
  ended(b: Broadcast): void {
    if (b.receivers.size > 1) this.metrics.watchersCoalescing.dec(b.receivers.size - 1);
    for (const r of b.receivers) this.homes.delete(r);
    for (const home of this.streams.values()) {
      if (home.broadcasts.get(b.id)?.includes(b)) home.remove(b);
    }
  }

  /** Ends `b`'s receivers' watches with `reason` (the cluster refused the stream). */
  fail(b: Broadcast, reason: string): void {
    this.ended(b);
    b.onResponse({
      header: b.lastHeader,
      watchId: -1,
      created: false,
      canceled: true,
      compactRevision: 0,
      cancelReason: reason,
      fragment: false,
      events: [],
    });
  }

  /**
   * Moves `b`'s receivers onto another broadcast of the range that has passed on no more than
   * `b` has (receivers skip what they saw), and stops `b` (etcd's coalesce).
   */
  merge(b: Broadcast): void {
    if (!b.created || b.receivers.size >= MAX_MERGE_RECEIVERS) return;
    const home = [...b.receivers].map((r) => this.homes.get(r)).find((h) => h);
    const into = home?.s.broadcasts.get(b.id)?.find((o) =>
      o !== b && o.created && o.completeThrough <= b.completeThrough
    );
    if (!home || !into) return;
    for (const r of b.receivers) {
      into.receivers.add(r);
      this.homes.set(r, { b: into, s: home.s });
    }
    // Both had one uncoalesced receiver; now only `into` has.
    this.metrics.watchersCoalescing.inc();
    b.receivers.clear();
    home.s.remove(b);
  }

  dropStream(token: string, s: UpstreamStream): void {
    if (this.streams.get(token) === s) this.streams.delete(token);
  }

  close(): void {
    for (const s of [...this.streams.values()]) s.shut();
  }
}
