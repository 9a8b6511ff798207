// The gRPC service registry and dispatcher. Services are registered by their proto name with
// transport-independent handlers; handleStream() serves one HTTP/2 stream with them.

import type { ServerStream } from "../../h2/mod.ts";
import { EtcdError, GrpcCode } from "../../errors/mod.ts";
import { toEtcdError } from "../errors.ts";
import { type Init, type MessageName, messages, schema, type ServiceTypes } from "../../pb/mod.ts";
import { Call, CALL_ENDED, type CallContext } from "./call.ts";
import { bidi, type Codec, type Runner, serverStream, unary } from "./runners.ts";
import { addHealthService } from "./health.ts";
import { messageTooLarge } from "./wire.ts";

export type { CallContext } from "./call.ts";

export type Send<Res> = (res: Init<Res>) => Promise<void>;
export type UnaryHandler<Req, Res> = (req: Req, ctx: CallContext) => Promise<Init<Res>>;
export type ServerStreamHandler<Req, Res> = (
  req: Req,
  ctx: CallContext,
  send: Send<Res>,
) => Promise<void>;
export type BidiStreamHandler<Req, Res> = (
  requests: AsyncIterable<Req>,
  send: Send<Res>,
  ctx: CallContext,
) => Promise<void>;

type HandlerOf<M> = M extends { request: infer Req; response: infer Res; clientStreaming: true }
  ? BidiStreamHandler<Req, Res>
  : M extends { request: infer Req; response: infer Res; serverStreaming: true }
    ? ServerStreamHandler<Req, Res>
  : M extends { request: infer Req; response: infer Res } ? UnaryHandler<Req, Res>
  : never;

export type ServiceName = keyof ServiceTypes;

/** grpc-prometheus' names for the four kinds of method. */
export type GrpcType = "unary" | "client_stream" | "server_stream" | "bidi_stream";

/** Follows one call for metrics: each message in and out, then the final status. */
export interface CallTracker {
  received(bytes: number): void;
  sent(bytes: number): void;
  finished(code: GrpcCode): void;
}

/** Told about every call to a registered method, on the wire or in-process. */
export interface GrpcObserver {
  callStarted(
    service: string,
    method: string,
    type: GrpcType,
    metadata: Record<string, string>,
  ): CallTracker;
}

/** A registered method as the in-process caller sees it. */
export interface MethodInfo {
  service: string;
  method: string;
  type: GrpcType;
  requestType: MessageName;
  responseType: MessageName;
}

/** The context of an in-process call; the server adds the signal that ends with the call. */
export interface InvokeContext {
  metadata?: Record<string, string>;
  /** Absolute deadline (ms since the epoch). */
  deadline?: number;
  /** Aborting it cancels the call (the HTTP client went away). */
  signal?: AbortSignal;
  peer?: string;
}

/** The handlers of one service; methods left out answer Unimplemented. */
export type ServiceHandlers<S extends ServiceName> = {
  [M in keyof ServiceTypes[S]]?: HandlerOf<ServiceTypes[S][M]>;
};

export interface GrpcServerOptions {
  /** Largest request message accepted (etcd: --max-request-bytes + 512 KiB). Default 4 MiB. */
  maxReceiveMessageSize?: number;
  /** Largest response message sent. Default 2^31 - 1. */
  maxSendMessageSize?: number;
}

// deno-lint-ignore no-explicit-any
type AnyHandler = (...args: any[]) => Promise<any>;

interface Registered {
  info: MethodInfo;
  run: Runner;
  handler: AnyHandler;
}

const NO_TRACKING: CallTracker = { received() {}, sent() {}, finished() {} };
const NO_OBSERVER: GrpcObserver = { callStarted: () => NO_TRACKING };

/** A gRPC server; grpc.health.v1.Health is registered from the start, as etcd does. */
export class GrpcServer {
  private readonly methods = new Map<string, Map<string, Registered>>();
  private readonly opts: Required<GrpcServerOptions>;
  private observer: GrpcObserver = NO_OBSERVER;

  constructor(opts: GrpcServerOptions = {}) {
    this.opts = {
      maxReceiveMessageSize: opts.maxReceiveMessageSize ?? 4 * 1024 * 1024,
      maxSendMessageSize: opts.maxSendMessageSize ?? 2 ** 31 - 1,
    };
    addHealthService(this);
  }

  /** Registers handlers for a service from the .proto files, e.g. "etcdserverpb.KV". */
  addService<S extends ServiceName>(name: S, handlers: ServiceHandlers<S>): void {
    const svc = schema.services[name];
    if (!svc) throw new Error(`unknown service ${name}`);
    let table = this.methods.get(name);
    if (!table) this.methods.set(name, table = new Map());
    for (const [method, handler] of Object.entries(handlers)) {
      const m = svc.methods[method];
      if (!m) throw new Error(`service ${name} has no method ${method}`);
      if (table.has(method)) throw new Error(`${name}/${method} is already registered`);
      const req = messages[m.requestType as MessageName] as Codec;
      const res = messages[m.responseType as MessageName] as Codec;
      const kind = m.clientStreaming ? bidi : m.serverStreaming ? serverStream : unary;
      const info: MethodInfo = {
        service: name,
        method,
        type: grpcType(m.clientStreaming, m.serverStreaming),
        requestType: m.requestType as MessageName,
        responseType: m.responseType as MessageName,
      };
      const h = handler as AnyHandler;
      table.set(method, { info, run: kind(req, res, h), handler: h });
    }
  }

  /** Reports every call from now on to `observer` (the metrics registry). */
  setObserver(observer: GrpcObserver): void {
    this.observer = observer;
  }

  /**
   * Every method of every service that has handlers, registered or not, as grpc-prometheus
   * lists them (a service's methods left out still get zero-valued series).
   */
  serviceMethods(): { service: string; method: string; type: GrpcType }[] {
    const out = [];
    for (const service of this.methods.keys()) {
      const svc = schema.services[service as ServiceName];
      for (const [method, m] of Object.entries(svc.methods)) {
        out.push({ service, method, type: grpcType(m.clientStreaming, m.serverStreaming) });
      }
    }
    return out;
  }

  /** The registered method, or the Unimplemented error a gRPC client would get. */
  lookup(service: string, method: string): MethodInfo | EtcdError {
    const found = this.find(service, method);
    return found instanceof EtcdError ? found : found.info;
  }

  private find(service: string, method: string): Registered | EtcdError {
    const table = this.methods.get(service);
    if (!table) return new EtcdError(GrpcCode.Unimplemented, `unknown service ${service}`);
    return table.get(method) ??
      new EtcdError(GrpcCode.Unimplemented, `unknown method ${method} for service ${service}`);
  }

  /**
   * Calls a unary method in-process with a decoded request (the JSON gateway), through the
   * same handler a gRPC client reaches; throws the call's EtcdError.
   */
  invoke(service: string, method: string, req: unknown, ctx: InvokeContext = {}): Promise<unknown> {
    return this.inProcess(service, method, ctx, async (m, callCtx, t) => {
      if (m.info.type !== "unary") throw notUnary(m.info);
      this.receive(m, req, t);
      const res = await m.handler(req, callCtx);
      t.sent(wireSize(m.info.responseType, res));
      return res;
    });
  }

  /**
   * Calls a streaming method in-process: `requests` are the client's messages (a
   * server-streaming method takes the first), `send` gets each response. Resolves when the
   * handler is done; aborting ctx.signal cancels the call.
   */
  async invokeStream(
    service: string,
    method: string,
    requests: AsyncIterable<unknown>,
    send: (res: unknown) => Promise<void>,
    ctx: InvokeContext = {},
  ): Promise<void> {
    const receive = this.receive.bind(this);
    await this.inProcess(service, method, ctx, async (m, callCtx, t) => {
      const sendOne = async (res: unknown) => {
        if (callCtx.signal.aborted) throw callCtx.signal.reason;
        await send(res);
        t.sent(wireSize(m.info.responseType, res));
      };
      if (m.info.type === "unary") throw notUnary(m.info);
      if (m.info.type === "server_stream") {
        let first: unknown;
        for await (const r of requests) {
          first = r;
          break;
        }
        if (first === undefined) {
          throw new EtcdError(GrpcCode.Internal, "grpc: the client sent no request message");
        }
        this.receive(m, first, t);
        await m.handler(first, callCtx, sendOne);
        return;
      }
      const counted = {
        async *[Symbol.asyncIterator]() {
          for await (const r of requests) {
            if (callCtx.signal.aborted) return;
            receive(m, r, t);
            yield r;
          }
        },
      };
      await m.handler(counted, sendOne, callCtx);
    });
  }

  // An in-process request is held to the receive limit a client's message meets on the wire:
  // etcd's gateway sends its requests to the gRPC server as messages.
  private receive(m: Registered, req: unknown, t: CallTracker): void {
    const size = wireSize(m.info.requestType, req);
    const max = this.opts.maxReceiveMessageSize;
    if (size > max) throw messageTooLarge(size, max);
    t.received(size);
  }

  // Runs `body` as a call: its own signal (fired when the call ends, as on the wire), the
  // caller's cancellation and deadline, and the observer's accounting.
  private async inProcess<T>(
    service: string,
    method: string,
    ctx: InvokeContext,
    body: (m: Registered, callCtx: CallContext, t: CallTracker) => Promise<T>,
  ): Promise<T> {
    const m = this.find(service, method);
    if (m instanceof EtcdError) throw m;
    const t = this.observer.callStarted(service, method, m.info.type, ctx.metadata ?? {});
    const abort = new AbortController();
    const cancel = () => abort.abort(new EtcdError(GrpcCode.Canceled, "context canceled"));
    ctx.signal?.addEventListener("abort", cancel);
    if (ctx.signal?.aborted) cancel();
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (ctx.deadline !== undefined) {
      timer = setTimeout(
        () => abort.abort(new EtcdError(GrpcCode.DeadlineExceeded, "context deadline exceeded")),
        Math.max(0, ctx.deadline - Date.now()),
      );
    }
    const callCtx: CallContext = {
      metadata: ctx.metadata ?? {},
      deadline: ctx.deadline,
      signal: abort.signal,
      peer: ctx.peer ?? "",
      method: `/${service}/${method}`,
      peerCertificate: () => undefined,
    };
    const ended = new Promise<never>((_, reject) => {
      abort.signal.addEventListener("abort", () => reject(abort.signal.reason), { once: true });
    });
    ended.catch(() => {});
    let code = GrpcCode.OK;
    try {
      return await Promise.race([body(m, callCtx, t), ended]);
    } catch (err) {
      const status = toEtcdError(err);
      code = status.code;
      throw status;
    } finally {
      clearTimeout(timer);
      ctx.signal?.removeEventListener("abort", cancel);
      if (!abort.signal.aborted) abort.abort(CALL_ENDED);
      t.finished(code);
    }
  }

  /** Serves one HTTP/2 stream whose content-type is application/grpc*. */
  handleStream(stream: ServerStream): void {
    const call = new Call(stream, this.opts);
    const path = String(stream.headers[":path"] ?? "");
    const match = /^\/([^/]+)\/([^/]+)$/.exec(path);
    if (!match) {
      return call.finish(GrpcCode.Unimplemented, `malformed method name: "${path}"`);
    }
    const [, service, method] = match;
    const found = this.find(service, method);
    if (found instanceof EtcdError) return call.finish(found.code, found.message);
    const encoding = call.ctx.metadata["grpc-encoding"];
    if (encoding !== undefined && encoding !== "identity") {
      return call.finish(
        GrpcCode.Unimplemented,
        `grpc: Decompressor is not installed for grpc-encoding "${encoding}"`,
      );
    }
    const t = this.observer.callStarted(service, method, found.info.type, call.ctx.metadata);
    call.onStatus = (code) => t.finished(code);
    found.run(call, t).then(
      () => call.finish(GrpcCode.OK),
      (err) => call.fail(err),
    );
  }
}

// In-process calls (the JSON gateway) never meet the wire, but etcd's gateway reaches its gRPC
// server through a client connection, so their encoded sizes count as etcd counts them.
function wireSize(name: MessageName, msg: unknown): number {
  return (messages[name] as Codec).encode(msg).length;
}

function grpcType(clientStreaming: boolean, serverStreaming: boolean): GrpcType {
  if (clientStreaming) return serverStreaming ? "bidi_stream" : "client_stream";
  return serverStreaming ? "server_stream" : "unary";
}

function notUnary(info: MethodInfo): EtcdError {
  return new EtcdError(
    GrpcCode.Internal,
    `${info.service}/${info.method} is a ${info.type} method, not what the caller expected`,
  );
}
