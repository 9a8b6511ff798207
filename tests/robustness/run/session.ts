// A client's connection to the cluster: one member at a time over the lean HTTP/2 client
// (tests/support/h2), moving on to the next member when a call fails in a way that may mean
// the member is unreachable. It never retries a request: each call is sent once, and its
// outcome is what came back, or unknown.

import { type ClientConnection, connect, GrpcError, unaryCall } from "../../support/h2/mod.ts";
import {
  type DefiniteError,
  ErrDuplicateKey,
  ErrFutureRev,
  ErrLeaseExist,
  ErrLeaseNotFound,
  type Operation,
  type Request,
} from "../mod.ts";
import { rpcOf } from "./codec.ts";

export interface Endpoint {
  host: string;
  port: number;
}

/** "http://10.217.0.10:2379,..." as host and port pairs. */
export function parseEndpoints(urls: string): Endpoint[] {
  return urls.split(",").map((u) => {
    const url = new URL(u);
    return { host: url.hostname, port: Number(url.port) };
  });
}

const DEFINITE: DefiniteError[] = [ErrLeaseNotFound, ErrLeaseExist, ErrFutureRev, ErrDuplicateKey];

export class Session {
  private conn?: ClientConnection;
  private connecting?: Promise<ClientConnection>;

  constructor(readonly endpoints: Endpoint[], private at: number, readonly timeoutMs: number) {}

  /** Index of the member this session talks to. */
  get member(): number {
    return this.at;
  }

  /** The open connection, or a new one to the current member (rejects if it cannot be made). */
  connection(): Promise<ClientConnection> {
    if (this.conn && !this.conn.isClosed) return Promise.resolve(this.conn);
    this.connecting ??= (async () => {
      const { host, port } = this.endpoints[this.at];
      try {
        this.conn = await connect({ host, port, connectTimeoutMs: this.timeoutMs });
        return this.conn;
      } catch (err) {
        this.next();
        throw err;
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }

  /** Leaves the current member for the next one. */
  next(): void {
    this.conn?.destroy();
    this.conn = undefined;
    this.at = (this.at + 1) % this.endpoints.length;
  }

  /** Talks to member `i` from now on. */
  moveTo(i: number): void {
    if (i === this.at) return;
    this.next();
    this.at = i;
  }

  /** One unary call on the current member; a failure that is not etcd's answer moves on. */
  async unary(path: string, message: Uint8Array, timeoutMs = this.timeoutMs): Promise<Uint8Array> {
    const conn = await this.connection();
    try {
      return await unaryCall(conn, path, message, { timeoutMs });
    } catch (err) {
      if (!(err instanceof GrpcError) || !DEFINITE.includes(err.details as DefiniteError)) {
        this.next();
      }
      throw err;
    }
  }

  /**
   * Sends `request` once and records it: call and return on the monotonic clock, the answer,
   * etcd's definite refusals as errors, anything else (deadline, reset, broken connection, a
   * server error that does not prove the request was refused) as unknown. Undefined when no
   * connection could be made, so the request was never sent.
   */
  async perform(client: number, request: Request): Promise<Operation | undefined> {
    try {
      await this.connection();
    } catch {
      return undefined;
    }
    const rpc = rpcOf(request);
    const call = performance.now();
    try {
      const response = await this.unary(rpc.path, rpc.message);
      const ret = performance.now();
      const { revision, result } = rpc.decode(response);
      return { client, call, return: ret, request, outcome: { status: "ok", revision, result } };
    } catch (err) {
      const ret = performance.now();
      const details = err instanceof GrpcError ? err.details : "";
      const definite = DEFINITE.find((e) => e === details);
      if (definite) {
        return {
          client,
          call,
          return: ret,
          request,
          outcome: { status: "error", error: definite },
        };
      }
      return { client, call, request, outcome: { status: "unknown" } };
    }
  }

  close(): void {
    this.conn?.destroy();
    this.conn = undefined;
  }
}
