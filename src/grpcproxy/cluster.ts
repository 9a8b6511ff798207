// The Cluster service in front of the cluster (etcd's grpcproxy/cluster.go). A proxy with an
// advertised URL answers MemberList with proxies, not members, so that clients that sync their
// endpoints stay on proxies: the proxies registered under --resolver-prefix (watched here), or
// else itself. With an empty --advertise-client-url the cluster's own list passes through.
// Membership changes pass through; MemberPromote is refused as etcd 3.4's proxy refuses it.
import type { ServiceHandlers } from "../api/mod.ts";
import { EtcdError, GrpcCode } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { Init, Member, RangeResponse } from "../pb/mod.ts";
import { type Namespace, prefixEnd } from "./namespace.ts";
import { callOf } from "./kv.ts";
import { passThrough } from "./passthrough.ts";
import type { Upstream } from "./upstream.ts";
import { ClientWatcher } from "./watch.ts";
import type { WatchHub } from "./watch_hub.ts";

const REWATCH_DELAY_MS = 1000;
const utf8 = new TextEncoder();
const text = new TextDecoder();
const latin1 = new TextDecoder("latin1");

/** A registration record's address and host name; undefined when it is not one. */
function readRecord(value: Uint8Array): { addr: string; name: string } | undefined {
  try {
    const rec = JSON.parse(text.decode(value));
    const meta = typeof rec.Metadata === "string" ? JSON.parse(rec.Metadata) : {};
    if (typeof rec.Addr !== "string") return undefined;
    return { addr: rec.Addr, name: typeof meta.name === "string" ? meta.name : "" };
  } catch {
    return undefined;
  }
}

export interface ClusterProxyOptions {
  up: Upstream;
  hub: WatchHub;
  ns: Namespace | undefined;
  advertiseClientUrl: string;
  resolverPrefix: string;
  hostname: string;
  log: Logger;
}

export class ClusterProxy {
  // Registration key -> the proxy it names.
  private readonly registered = new Map<string, { addr: string; name: string }>();
  private watcher: ClientWatcher | undefined;
  private closed = false;

  constructor(private readonly o: ClusterProxyOptions) {}

  /** Follows the registrations under the prefix (a snapshot, then a watch from after it). */
  async follow(): Promise<void> {
    const { up, hub, ns, resolverPrefix } = this.o;
    if (this.closed || resolverPrefix === "" || this.o.advertiseClientUrl === "") return;
    const key = utf8.encode(resolverPrefix);
    const end = prefixEnd(key);
    const range = ns ? ns.interval(key, end) : { key, rangeEnd: end };
    let snapshot: RangeResponse;
    try {
      snapshot = await up.unary<RangeResponse>("etcdserverpb.KV", "Range", {
        ...range,
        serializable: true,
      });
    } catch (err) {
      this.o.log.warn({
        pkg: "grpcproxy",
        text: `failed to resolve ${JSON.stringify(resolverPrefix)} (${(err as Error).message})`,
      });
      return this.refollow();
    }
    this.registered.clear();
    for (const kv of snapshot.kvs) this.apply(kv.key, kv.value, true);
    const request = {
      key: range.key,
      rangeEnd: range.rangeEnd,
      startRevision: (snapshot.header?.revision ?? 0) + 1,
      progressNotify: false,
      filters: [],
      prevKv: false,
      watchId: 0,
      fragment: false,
    };
    this.watcher = new ClientWatcher(
      0,
      request,
      (resp) => {
        for (const ev of resp.events ?? []) {
          this.apply(ev.kv!.key!, ev.kv?.value ?? new Uint8Array(0), (ev.type ?? 0) === 0);
        }
        if (resp.canceled) this.refollow();
      },
      undefined,
      () => {},
    );
    hub.add(this.watcher, "", range.key, range.rangeEnd);
  }

  private refollow(): void {
    this.watcher = undefined;
    if (!this.closed) setTimeout(() => void this.follow(), REWATCH_DELAY_MS);
  }

  private apply(key: Uint8Array, value: Uint8Array, put: boolean): void {
    const id = latin1.decode(key);
    const rec = put ? readRecord(value) : undefined;
    if (rec) this.registered.set(id, rec);
    else this.registered.delete(id);
  }

  service(): ServiceHandlers<"etcdserverpb.Cluster"> {
    return {
      ...passThrough(this.o.up, "etcdserverpb.Cluster", ["MemberList", "MemberPromote"]),
      MemberList: async (req, ctx) => {
        const { advertiseClientUrl, hostname, resolverPrefix } = this.o;
        if (advertiseClientUrl === "") {
          return await this.o.up.unary("etcdserverpb.Cluster", "MemberList", req, callOf(ctx));
        }
        const members: Init<Member>[] = resolverPrefix === "" ? [] : [...this.registered.values()]
          .sort((a, b) => a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0)
          .map((r) => ({ name: r.name, clientURLs: [r.addr] }));
        if (members.length === 0) {
          members.push({ name: hostname, clientURLs: [advertiseClientUrl] });
        }
        return { members };
      },
      MemberPromote: () => Promise.reject(new EtcdError(GrpcCode.Unknown, "not implemented")),
    };
  }

  close(): void {
    this.closed = true;
    if (this.watcher) this.o.hub.remove(this.watcher);
  }
}
