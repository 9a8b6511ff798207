// etcd's gateway proxy: every accepted connection is spliced to a picked endpoint; an endpoint
// whose dial fails is deactivated and re-probed every monitor interval.
import type net from "node:net";
import type { DnsResolver, Random } from "../discovery/mod.ts";
import type { Logger } from "../log/mod.ts";
import { dialTcp } from "./dial.ts";
import { pickRemote, type PickState, type Remote } from "./pick.ts";

export interface ProxyEndpoint {
  /** host:port */
  addr: string;
  priority: number;
  weight: number;
}

export interface TcpProxyOptions {
  server: net.Server;
  endpoints: ProxyEndpoint[];
  /** Milliseconds between re-probes of inactive endpoints (0 means etcd's 5 minutes). */
  monitorInterval: number;
  log: Logger;
  resolver: DnsResolver;
  random?: Random;
}

const caller = (line: number) => `tcpproxy/userspace.go:${line}`;

export class TcpProxy {
  readonly remotes: Remote[];
  readonly interval: number;
  private readonly state: PickState = { count: 0 };
  private monitor?: ReturnType<typeof setTimeout>;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly opts: TcpProxyOptions) {
    this.interval = opts.monitorInterval === 0 ? 5 * 60_000 : opts.monitorInterval;
    this.remotes = opts.endpoints.map((e) => ({ ...e, active: true }));
  }

  /** Starts serving the (already listening) server and the re-probe timer. */
  run(): void {
    this.opts.log.info({
      pkg: "tcpproxy",
      text: "ready to proxy client requests",
      caller: caller(90),
      fields: { endpoints: this.remotes.map((r) => r.addr) },
    });
    this.opts.server.on("connection", (sock: net.Socket) => void this.serve(sock));
    const tick = () => {
      this.probeInactive();
      this.monitor = setTimeout(tick, this.interval);
    };
    this.monitor = setTimeout(tick, this.interval);
  }

  /** Stops accepting, stops probing and drops every open connection. */
  close(): Promise<void> {
    clearTimeout(this.monitor);
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.opts.server.close(() => resolve()));
  }

  private track(sock: net.Socket): void {
    this.sockets.add(sock);
    sock.once("close", () => this.sockets.delete(sock));
  }

  private async serve(client: net.Socket): Promise<void> {
    this.track(client);
    client.on("error", () => client.destroy());
    let backend: net.Socket | undefined;
    for (;;) {
      const remote = pickRemote(this.remotes, this.state, this.opts.random);
      if (!remote) break;
      try {
        backend = await dialTcp(this.opts.resolver, remote.addr);
        break;
      } catch (err) {
        remote.active = false;
        this.opts.log.warn({
          pkg: "tcpproxy",
          text: "deactivated endpoint",
          caller: caller(183),
          fields: {
            address: remote.addr,
            interval: this.interval / 1000,
            error: (err as Error).message,
          },
        });
      }
    }
    if (!backend || client.destroyed) {
      backend?.destroy();
      client.destroy();
      return;
    }
    this.track(backend);
    splice(client, backend);
  }

  private probeInactive(): void {
    for (const remote of this.remotes.filter((r) => !r.active)) {
      dialTcp(this.opts.resolver, remote.addr).then(
        (sock) => {
          sock.destroy();
          remote.active = true;
          this.opts.log.info({
            pkg: "tcpproxy",
            text: "activated",
            caller: caller(223),
            fields: { address: remote.addr },
          });
        },
        (err) => {
          this.opts.log.warn({
            pkg: "tcpproxy",
            text: "failed to activate endpoint (stay inactive for another interval)",
            caller: caller(217),
            fields: {
              address: remote.addr,
              interval: this.interval / 1000,
              error: (err as Error).message,
            },
          });
        },
      );
    }
  }
}

/**
 * Copies bytes both ways. A FIN from one side is passed on as a FIN to the other (half-close),
 * so a client that shuts down its sending side still reads the whole answer; an error or reset
 * on either side tears both down.
 */
function splice(a: net.Socket, b: net.Socket): void {
  const teardown = () => {
    a.destroy();
    b.destroy();
  };
  // Once one side is gone, whatever the other still sends has nowhere to go.
  const closeUnlessDrained = (other: net.Socket) => () => {
    if (!other.readableEnded) other.destroy();
  };
  a.on("error", teardown);
  b.on("error", teardown);
  a.on("close", closeUnlessDrained(b));
  b.on("close", closeUnlessDrained(a));
  a.pipe(b);
  b.pipe(a);
}
