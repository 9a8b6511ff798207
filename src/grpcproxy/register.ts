// --resolver-prefix registration (etcd's grpcproxy/register.go): the proxy writes
// PREFIX/ADDR under a lease of --resolver-ttl seconds and keeps the lease alive; gRPC's etcd
// resolver and the other proxies' member lists read those keys. A lease that expired (a
// partition, a restarted cluster) is replaced by a new one, at most once a second. The lease is
// left to expire when the proxy stops, as etcd's does.
import type { Logger } from "../log/mod.ts";
import type { LeaseGrantResponse, LeaseKeepAliveResponse } from "../pb/mod.ts";
import type { Namespace } from "./namespace.ts";
import type { Upstream, UpstreamCall } from "./upstream.ts";

/** The value etcd's endpoints manager stores: an Add update with the proxy's host name. */
function endpointRecord(addr: string, hostname: string): string {
  return JSON.stringify({ Op: 0, Addr: addr, Metadata: JSON.stringify({ name: hostname }) });
}

export interface RegistrationOptions {
  up: Upstream;
  ns: Namespace | undefined;
  prefix: string;
  addr: string;
  /** Seconds. */
  ttl: number;
  hostname: string;
  /** capnslog, as etcd's grpcproxy package logs. */
  log: Logger;
}

const RETRY_EVERY_MS = 1000;
const utf8 = new TextEncoder();

export class Registration {
  private closed = false;
  private keepAlive: UpstreamCall | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly o: RegistrationOptions) {}

  /** Registers and stays registered until close(). */
  async run(): Promise<void> {
    let last = 0;
    while (!this.closed) {
      await this.sleep(Math.max(0, last + RETRY_EVERY_MS - Date.now()));
      last = Date.now();
      if (this.closed) return;
      let id: bigint;
      try {
        id = await this.register();
      } catch (err) {
        this.o.log.warn({
          pkg: "grpcproxy",
          text: `failed to create a session ${(err as Error).message}`,
        });
        continue;
      }
      await this.keepAliveUntilExpired(id);
      if (this.closed) return;
      this.o.log.warn({
        pkg: "grpcproxy",
        text: "session expired; possible network partition or server restart",
      });
      this.o.log.warn({ pkg: "grpcproxy", text: "creating a new session to rejoin" });
    }
  }

  private async register(): Promise<bigint> {
    const { up, ns, prefix, addr, ttl, hostname } = this.o;
    const lease = await up.unary<LeaseGrantResponse>("etcdserverpb.Lease", "LeaseGrant", {
      TTL: ttl,
    });
    if (lease.error) throw new Error(lease.error);
    const key = utf8.encode(`${prefix}/${addr}`);
    const put = {
      key: ns ? ns.interval(key, new Uint8Array(0)).key : key,
      value: utf8.encode(endpointRecord(addr, hostname)),
      lease: lease.ID,
    };
    await up.unary("etcdserverpb.KV", "Txn", { success: [{ requestPut: put }] });
    this.o.log.info({
      pkg: "grpcproxy",
      text: `registered ${JSON.stringify(addr)} with ${ttl}-second lease`,
    });
    return lease.ID;
  }

  // Keeps the lease alive every third of its TTL; resolves once the cluster says it is gone, or
  // nothing renewed it for a whole TTL.
  private keepAliveUntilExpired(id: bigint): Promise<void> {
    const ttlMs = this.o.ttl * 1000;
    return new Promise<void>((resolve) => {
      let renewed = Date.now();
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearInterval(timer);
        this.keepAlive?.cancel();
        this.keepAlive = undefined;
        this.wake = undefined;
        resolve();
      };
      this.wake = finish;
      let opening = false;
      const open = () => {
        if (opening) return;
        opening = true;
        this.o.up.open("etcdserverpb.Lease", "LeaseKeepAlive", {
          message: (res) => {
            if ((res as LeaseKeepAliveResponse).TTL <= 0) return finish();
            renewed = Date.now();
          },
          end: () => (this.keepAlive = undefined),
        }, {}).then((call) => {
          opening = false;
          if (done) return call.cancel();
          this.keepAlive = call;
          call.send({ ID: id });
        }, finish);
      };
      const timer = setInterval(() => {
        if (Date.now() - renewed > ttlMs) return finish();
        if (this.keepAlive) this.keepAlive.send({ ID: id });
        else open();
      }, Math.max(ttlMs / 3, 100));
      open();
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }
}
