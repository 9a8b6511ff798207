// Connections kept open between requests to one peer, as Go's http.Transport keeps them for
// etcd's pipeline: a post per raft message would otherwise pay a TCP (and TLS) handshake each.
import type net from "node:net";
import { dial, exchange, type PeerClientTLS, type RequestOptions, type Response } from "./http1.ts";

/** Idle connections kept per peer URL (the pipeline has at most four requests in flight). */
const MAX_IDLE = 4;

export class KeepAlive {
  readonly #idle = new Map<string, net.Socket[]>();
  /** Connections that end quietly on an error while idle (the peer closing them). */
  readonly #guarded = new WeakSet<net.Socket>();
  #closed = false;

  constructor(readonly tls: PeerClientTLS | undefined) {}

  /**
   * One request on an idle connection to `url`'s origin, or a new one. A reused connection the
   * peer had closed meanwhile fails at once: the request is sent again on a new one.
   */
  async request(url: URL, opts: Omit<RequestOptions, "tls" | "stream">): Promise<Response> {
    const deadline = Date.now() + opts.timeoutMs;
    for (;;) {
      const reused = this.#take(url.origin);
      const socket = reused ?? await dial(url, this.tls, opts.timeoutMs);
      let res: Response;
      try {
        res = await exchange(socket, url, opts, deadline, true);
      } catch (err) {
        socket.destroy();
        if (reused && !opts.signal?.aborted && Date.now() < deadline) continue;
        throw err;
      }
      if (/close/i.test(res.headers.get("connection") ?? "")) socket.destroy();
      else this.#put(url.origin, socket);
      return res;
    }
  }

  close(): void {
    this.#closed = true;
    for (const list of this.#idle.values()) for (const s of list) s.destroy();
    this.#idle.clear();
  }

  #take(origin: string): net.Socket | undefined {
    const list = this.#idle.get(origin) ?? [];
    for (let s = list.pop(); s; s = list.pop()) if (!s.destroyed) return s;
    return undefined;
  }

  #put(origin: string, socket: net.Socket): void {
    const list = this.#idle.get(origin) ?? [];
    if (this.#closed || socket.destroyed || list.length >= MAX_IDLE) return void socket.destroy();
    if (!this.#guarded.has(socket)) {
      this.#guarded.add(socket);
      socket.on("error", () => socket.destroy());
    }
    list.push(socket);
    this.#idle.set(origin, list);
  }
}
