// The gRPC service registry and dispatcher. Services are registered by their proto name with
// transport-independent handlers; handleStream() serves one HTTP/2 stream with them.

import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { EtcdError, GrpcCode } from "../../server/errors.ts";
import {
  type Init,
  type MessageCodec,
  type MessageName,
  messages,
  schema,
  type ServiceTypes,
} from "../proto/mod.ts";
import { Call, type CallContext } from "./call.ts";
import { addHealthService } from "./health.ts";

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

type Codec = MessageCodec<unknown>;
type Runner = (call: Call) => Promise<void>;

/** A gRPC server; grpc.health.v1.Health is registered from the start, as etcd does. */
export class GrpcServer {
  private readonly methods = new Map<string, Map<string, Runner>>();
  private readonly opts: Required<GrpcServerOptions>;

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
      // deno-lint-ignore no-explicit-any
      table.set(method, kind(req, res, handler as any));
    }
  }

  /** Serves one HTTP/2 stream whose content-type is application/grpc*. */
  handleStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    const call = new Call(stream, headers, this.opts);
    const path = String(headers[":path"] ?? "");
    const match = /^\/([^/]+)\/([^/]+)$/.exec(path);
    if (!match) {
      return call.finish(GrpcCode.Unimplemented, `malformed method name: "${path}"`);
    }
    const [, service, method] = match;
    const table = this.methods.get(service);
    if (!table) return call.finish(GrpcCode.Unimplemented, `unknown service ${service}`);
    const run = table.get(method);
    if (!run) {
      return call.finish(GrpcCode.Unimplemented, `unknown method ${method} for service ${service}`);
    }
    const encoding = call.ctx.metadata["grpc-encoding"];
    if (encoding !== undefined && encoding !== "identity") {
      return call.finish(
        GrpcCode.Unimplemented,
        `grpc: Decompressor is not installed for grpc-encoding "${encoding}"`,
      );
    }
    run(call).then(
      () => call.finish(GrpcCode.OK),
      (err) => call.fail(err),
    );
  }
}

function decodeRequest(codec: Codec, bytes: Uint8Array): unknown {
  try {
    return codec.decode(bytes);
  } catch (err) {
    throw new EtcdError(
      GrpcCode.Internal,
      `grpc: error unmarshalling request: ${err instanceof Error ? err.message : err}`,
    );
  }
}

async function firstRequest(call: Call, codec: Codec): Promise<unknown> {
  const bytes = await call.firstRequest();
  return bytes === undefined ? undefined : decodeRequest(codec, bytes);
}

function sender(call: Call, codec: Codec) {
  return (msg: unknown) => call.send(codec.encode(msg));
}

function unary(req: Codec, res: Codec, handler: UnaryHandler<unknown, unknown>): Runner {
  return async (call) => {
    const request = await firstRequest(call, req);
    if (call.finished) return;
    const response = await handler(request, call.ctx);
    if (!call.finished) await call.send(res.encode(response));
  };
}

function serverStream(
  req: Codec,
  res: Codec,
  handler: ServerStreamHandler<unknown, unknown>,
): Runner {
  return async (call) => {
    const request = await firstRequest(call, req);
    if (call.finished) return;
    await handler(request, call.ctx, sender(call, res));
  };
}

function bidi(req: Codec, res: Codec, handler: BidiStreamHandler<unknown, unknown>): Runner {
  return async (call) => {
    const payloads = call.requests();
    const requests = {
      async *[Symbol.asyncIterator]() {
        for await (const bytes of payloads) yield decodeRequest(req, bytes);
      },
    };
    await handler(requests, sender(call, res), call.ctx);
  };
}
