// The proxy's client of the cluster (etcd's clientv3 in grpc-proxy): one pinned HTTP/2
// connection to one endpoint at a time, the next endpoint tried when it fails, calls waiting for
// a connection until their deadline. Every call carries the proxied client's auth token, its
// deadline and its cancellation, and is held to --max-send-bytes / --max-recv-bytes.
import type tls from "node:tls";
import { type ClientConnection, connect } from "../h2/mod.ts";
import { type CallHandler, GrpcError, streamCall } from "../api/mod.ts";
import { EtcdError, GrpcCode } from "../errors/mod.ts";
import { type MessageCodec, type MessageName, messages, schema } from "../pb/mod.ts";
import type { Logger } from "../log/mod.ts";

/** One --endpoints entry: where it is and whether it speaks TLS. */
export interface Endpoint {
  host: string;
  port: number;
  secure: boolean;
  /** As given. */
  text: string;
}

/**
 * clientv3's reading of an endpoint: http:// is plain, https:// is TLS, and a bare host:port is
 * TLS exactly when the proxy has TLS settings for the cluster. Throws on anything else.
 */
export function parseEndpoint(text: string, tlsConfigured: boolean): Endpoint {
  const m = /^(?:([a-z]+):\/\/)?(\[[^\]]+\]|[^:/]*):(\d+)\/?$/.exec(text);
  if (!m || (m[1] !== undefined && m[1] !== "http" && m[1] !== "https") || Number(m[3]) > 65535) {
    throw new Error(
      `invalid endpoint ${JSON.stringify(text)} (want host:port, http:// or https://)`,
    );
  }
  const host = m[2].startsWith("[") ? m[2].slice(1, -1) : m[2];
  const secure = m[1] === undefined ? tlsConfigured : m[1] === "https";
  return { host: host === "" ? "127.0.0.1" : host, port: Number(m[3]), secure, text };
}

export interface UpstreamOptions {
  endpoints: Endpoint[];
  /** node:tls options for TLS endpoints (CA, client certificate, verification). */
  tls: tls.ConnectionOptions;
  maxSendBytes: number;
  maxRecvBytes: number;
  log: Logger;
}

/** What a proxied call brings along from the client's call. */
export interface CallOptions {
  /** The client's auth token (gRPC metadata "token"), passed on as etcd's proxy does. */
  token?: string;
  /** Absolute deadline, ms since the epoch. */
  deadline?: number;
  /** The client's call ended: the upstream call is cancelled. */
  signal?: AbortSignal;
  /** Asks the member to refuse (or end) the call while it has no leader ("hasleader"). */
  requireLeader?: boolean;
}

/** A streaming call to the cluster: decoded requests out (encoded here). */
export interface UpstreamCall {
  send(request: unknown): void;
  /** Half-closes. */
  end(): void;
  cancel(): void;
  readonly closed: boolean;
}

interface Method {
  path: string;
  request: MessageCodec<unknown>;
  response: MessageCodec<unknown>;
}

const methods = new Map<string, Method>();

/** The path and codecs of `service/method` from the .proto schema. */
export function methodOf(service: string, method: string): Method {
  const path = `/${service}/${method}`;
  let m = methods.get(path);
  if (!m) {
    const info = schema.services[service as keyof typeof schema.services]?.methods[method];
    if (!info) throw new Error(`unknown method ${path}`);
    m = {
      path,
      request: messages[info.requestType as MessageName] as MessageCodec<unknown>,
      response: messages[info.responseType as MessageName] as MessageCodec<unknown>,
    };
    methods.set(path, m);
  }
  return m;
}

// Between rounds over every endpoint, as gRPC's reconnect backoff starts.
const RETRY_DELAY_MS = 1000;
const CONNECT_TIMEOUT_MS = 5000;

/** The call failed because its connection did: another endpoint may answer it. */
class LostConnection extends EtcdError {}

// Calls that change nothing, which clientv3 also repeats on another endpoint after a failure.
const READ_ONLY = new Set([
  "/etcdserverpb.KV/Range",
  "/etcdserverpb.Lease/LeaseTimeToLive",
  "/etcdserverpb.Lease/LeaseLeases",
  "/etcdserverpb.Cluster/MemberList",
  "/etcdserverpb.Maintenance/Status",
  "/etcdserverpb.Maintenance/Hash",
  "/etcdserverpb.Maintenance/HashKV",
  "/etcdserverpb.Auth/UserGet",
  "/etcdserverpb.Auth/UserList",
  "/etcdserverpb.Auth/RoleGet",
  "/etcdserverpb.Auth/RoleList",
  "/v3electionpb.Election/Leader",
]);

const canceled = () => new EtcdError(GrpcCode.Canceled, "context canceled");
const expired = () => new EtcdError(GrpcCode.DeadlineExceeded, "context deadline exceeded");

/** An upstream gRPC error as the proxied client sees it: the same code and message. */
function asEtcdError(err: unknown): unknown {
  return err instanceof GrpcError ? new EtcdError(err.code, err.details) : err;
}

export class Upstream {
  private pinned: { endpoint: Endpoint; conn: ClientConnection } | undefined;
  private connecting: Promise<{ endpoint: Endpoint; conn: ClientConnection }> | undefined;
  private next = 0;
  private closed = false;

  constructor(private readonly opts: UpstreamOptions) {}

  get endpointCount(): number {
    return this.opts.endpoints.length;
  }

  /** The pinned connection, or a new one: endpoints in turn until one answers or time is up. */
  async connection(
    call: CallOptions = {},
  ): Promise<{ endpoint: Endpoint; conn: ClientConnection }> {
    for (;;) {
      if (this.closed) {
        throw new EtcdError(GrpcCode.Canceled, "grpc: the client connection is closing");
      }
      if (this.pinned && !this.pinned.conn.isClosed) return this.pinned;
      this.connecting ??= this.dialRound().finally(() => (this.connecting = undefined));
      const got = await raceCall(this.connecting.catch(() => undefined), call);
      if (got) return got;
      await raceCall(new Promise((r) => setTimeout(r, RETRY_DELAY_MS)), call);
    }
  }

  private async dialRound(): Promise<{ endpoint: Endpoint; conn: ClientConnection }> {
    const eps = this.opts.endpoints;
    for (let i = 0; i < eps.length; i++) {
      const endpoint = eps[(this.next + i) % eps.length];
      try {
        const conn = await connect({
          host: endpoint.host,
          port: endpoint.port,
          tls: endpoint.secure ? this.opts.tls : undefined,
          connectTimeoutMs: CONNECT_TIMEOUT_MS,
        });
        this.next = (this.next + i + 1) % eps.length;
        this.pinned = { endpoint, conn };
        conn.closed.then(() => {
          if (this.pinned?.conn === conn) this.pinned = undefined;
        });
        return this.pinned;
      } catch (err) {
        this.opts.log.warn({
          pkg: "grpcproxy",
          text: `failed to connect to ${endpoint.text} (${(err as Error).message})`,
          msg: "failed to connect to endpoint",
          fields: { endpoint: endpoint.text, error: (err as Error).message },
        });
      }
    }
    this.next = (this.next + 1) % eps.length;
    throw new Error("no endpoint answered");
  }

  /**
   * Opens a call on `service/method` once connected: `request` goes first (and alone, with
   * `halfClose`), the handler hears the decoded responses and the end. Resolves with the call.
   */
  async open(
    service: string,
    method: string,
    handler: { message(res: unknown): void; end(err?: EtcdError): void },
    call: CallOptions & { request?: unknown; halfClose?: boolean },
  ): Promise<UpstreamCall> {
    const m = methodOf(service, method);
    const encode = (req: unknown) => {
      const bytes = m.request.encode(req);
      if (bytes.length > this.opts.maxSendBytes) {
        throw new EtcdError(
          GrpcCode.ResourceExhausted,
          `trying to send message larger than max (${bytes.length} vs. ${this.opts.maxSendBytes})`,
        );
      }
      return bytes;
    };
    const first = call.request === undefined ? undefined : encode(call.request);
    const { endpoint, conn } = await this.connection(call);
    const timeoutMs = call.deadline === undefined ? undefined : call.deadline - Date.now();
    if (timeoutMs !== undefined && timeoutMs <= 0) throw expired();
    const callHandler: CallHandler = {
      message: (bytes) => handler.message(m.response.decode(bytes)),
      end: (err) => {
        call.signal?.removeEventListener("abort", cancel);
        if (err && err.code === GrpcCode.Unavailable && conn.isClosed) {
          return handler.end(new LostConnection(err.code, err.details));
        }
        handler.end(err ? asEtcdError(err) as EtcdError : undefined);
      },
    };
    const c = streamCall(conn, m.path, callHandler, {
      request: first,
      halfClose: call.halfClose,
      timeoutMs,
      maxMessageSize: this.opts.maxRecvBytes,
      scheme: endpoint.secure ? "https" : "http",
      metadata: [
        ...(call.token ? [["token", call.token] as [string, string]] : []),
        ...(call.requireLeader ? [["hasleader", "true"] as [string, string]] : []),
      ],
    });
    const cancel = () => c.cancel();
    if (call.signal?.aborted) c.cancel();
    else call.signal?.addEventListener("abort", cancel, { once: true });
    return {
      send: (req: unknown) => c.send(encode(req)),
      end: () => c.end(),
      cancel,
      get closed() {
        return c.closed;
      },
    };
  }

  /**
   * A unary call: the decoded response, or the upstream's error as an EtcdError. A read-only
   * call whose connection failed is repeated on the next endpoint, within its deadline.
   */
  async unary<Res = unknown>(
    service: string,
    method: string,
    request: unknown,
    call: CallOptions = {},
  ): Promise<Res> {
    for (let attempt = 1;; attempt++) {
      try {
        return await this.unaryOnce<Res>(service, method, request, call);
      } catch (err) {
        const again = err instanceof LostConnection && attempt < 3 &&
          READ_ONLY.has(`/${service}/${method}`) && !call.signal?.aborted;
        if (!again) {
          throw err instanceof LostConnection ? new EtcdError(err.code, err.message) : err;
        }
      }
    }
  }

  private unaryOnce<Res>(
    service: string,
    method: string,
    request: unknown,
    call: CallOptions,
  ): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      let response: unknown;
      this.open(service, method, {
        message: (res) => (response = res),
        end: (err) => err ? reject(err) : resolve(response as Res),
      }, { ...call, request, halfClose: true }).catch(reject);
    });
  }

  /** Drops the pinned connection: the next call dials the next endpoint. */
  switchEndpoint(): void {
    this.pinned?.conn.destroy();
    this.pinned = undefined;
  }

  close(): void {
    this.closed = true;
    this.pinned?.conn.destroy();
    this.pinned = undefined;
  }
}

/** `p`, unless the call is cancelled or out of time first. */
function raceCall<T>(p: Promise<T>, call: CallOptions): Promise<T> {
  if (call.deadline === undefined && call.signal === undefined) return p;
  return new Promise<T>((resolve, reject) => {
    if (call.signal?.aborted) return reject(canceled());
    const timer = call.deadline === undefined
      ? undefined
      : setTimeout(() => reject(expired()), Math.max(0, call.deadline - Date.now()));
    const onAbort = () => reject(canceled());
    call.signal?.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      call.signal?.removeEventListener("abort", onAbort);
    });
  });
}
