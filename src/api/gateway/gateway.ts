// The /v3 JSON gateway: POST /v3/<path> with a proto3-JSON body reaches the same handlers a
// gRPC client reaches (GrpcServer.invoke), and the answer goes back as proto3 JSON. Streaming
// methods take the body's JSON values as the client's messages and answer one
// {"result":...} line per message until the call ends or the HTTP client goes away.

import type { Hono } from "hono";
import { type GrpcServer, parseGrpcTimeout, type ServiceName } from "../grpc/mod.ts";
import { type MessageName, type MethodSchema, schema, toJSON } from "../../pb/mod.ts";
import { decodeRequest, GatewayDecodeError } from "./decode.ts";
import { GoJsonSyntaxError, jsonValues } from "./json_scan.ts";
import { GATEWAY_PATHS, type GatewayRoute } from "./paths.ts";
import {
  badRequestBody,
  GRPC_FORWARDED,
  resultChunk,
  streamErrorChunk,
  unaryError,
} from "./respond.ts";

/** grpc-gateway's own plain-text answers (not Go's "404 page not found"). */
function plain(status: number, text: string): Response {
  return new Response(`${text}\n`, {
    status,
    headers: {
      "content-type": "text/plain; charset=utf-8",
      "x-content-type-options": "nosniff",
    },
  });
}

/** Adds POST /v3/* (and /v3beta/*, the same paths) to the client port's HTTP app. */
export function addGatewayRoutes(app: Hono, grpc: GrpcServer): void {
  const handle = (prefix: string) => (req: Request) => {
    const path = new URL(req.url).pathname.slice(prefix.length);
    const route = GATEWAY_PATHS[path];
    if (!route) return plain(404, "Not Found");
    if (req.method !== "POST") return plain(405, "Method Not Allowed");
    return serve(grpc, route, req);
  };
  const v3 = handle("/v3/");
  const v3beta = handle("/v3beta/");
  app.all("/v3/*", (c) => v3(c.req.raw));
  app.all("/v3beta/*", (c) => v3beta(c.req.raw));
}

// What grpc-gateway forwards as metadata: Authorization as is, Grpc-Metadata-* without prefix.
function metadataOf(req: Request): Record<string, string> {
  const md: Record<string, string> = {};
  req.headers.forEach((value, key) => {
    if (key === "authorization") md[key] = value;
    else if (key.startsWith("grpc-metadata-")) md[key.slice("grpc-metadata-".length)] = value;
  });
  return md;
}

async function serve(grpc: GrpcServer, route: GatewayRoute, req: Request): Promise<Response> {
  const m = schema.services[route.service as ServiceName].methods[route.method];
  const values = jsonValues(await req.text());
  const timeout = parseGrpcTimeout(req.headers.get("grpc-timeout") ?? undefined);
  const ctx = {
    metadata: metadataOf(req),
    deadline: timeout === undefined ? undefined : Date.now() + timeout,
    signal: req.signal,
  };
  const requestType = m.requestType as MessageName;
  if (m.clientStreaming) return bidi(grpc, route, m, values, ctx);
  let request;
  try {
    const first = values.next();
    request = decodeRequest(requestType, first.done ? undefined : first.value);
  } catch (err) {
    return undecodable(err, false);
  }
  if (m.serverStreaming) {
    return stream(grpc, route, m, oneMessage(request), ctx);
  }
  try {
    const res = await grpc.invoke(route.service, route.method, request, ctx);
    // deno-lint-ignore no-explicit-any
    const body = JSON.stringify(toJSON(m.responseType as MessageName, res as any));
    return new Response(body, { headers: GRPC_FORWARDED });
  } catch (err) {
    return unaryError(err);
  }
}

function undecodable(err: unknown, streaming: boolean): Response {
  if (err instanceof GatewayDecodeError || err instanceof GoJsonSyntaxError) {
    return badRequestBody(err.message, streaming);
  }
  // The proto mapping refused what the Go decoder would have taken: still the client's fault.
  return badRequestBody(err instanceof Error ? err.message : String(err), streaming);
}

async function* nothing(): AsyncGenerator<unknown> {}

function oneMessage(msg: unknown): AsyncIterable<unknown> {
  return {
    async *[Symbol.asyncIterator]() {
      yield msg;
    },
  };
}

type Ctx = { metadata: Record<string, string>; deadline?: number; signal: AbortSignal };

// A bidi call: the first message must decode (else 500/Unknown); later ones are sent while
// they decode, and the client's side ends at the first that does not (grpc-gateway's loop).
function bidi(
  grpc: GrpcServer,
  route: GatewayRoute,
  m: MethodSchema,
  values: Generator<unknown>,
  ctx: Ctx,
): Promise<Response> | Response {
  const requestType = m.requestType as MessageName;
  let first;
  try {
    const next = values.next();
    if (next.done) return stream(grpc, route, m, nothing(), ctx);
    first = decodeRequest(requestType, next.value as never);
  } catch (err) {
    return undecodable(err, true);
  }
  const requests = {
    async *[Symbol.asyncIterator]() {
      yield first;
      for (;;) {
        let next;
        try {
          const v = values.next();
          if (v.done) return;
          next = decodeRequest(requestType, v.value as never);
        } catch {
          return;
        }
        yield next;
      }
    },
  };
  return stream(grpc, route, m, requests, ctx);
}

// Runs a streaming call and answers once its first message (or its end) is known, so that a
// call failing at once gets the status of its error, as grpc-gateway answers it.
function stream(
  grpc: GrpcServer,
  route: GatewayRoute,
  m: MethodSchema,
  requests: AsyncIterable<unknown>,
  ctx: Ctx,
): Promise<Response> {
  const responseType = m.responseType as MessageName;
  const cancel = new AbortController();
  let wake: (() => void) | undefined;
  const resume = () => {
    wake?.();
    wake = undefined;
  };
  const onAbort = () => cancel.abort();
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  cancel.signal.addEventListener("abort", resume, { once: true });
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    pull: resume,
    cancel() {
      cancel.abort();
    },
  }, { highWaterMark: 0 });
  let answer!: (res: Response) => void;
  const answered = new Promise<Response>((resolve) => (answer = resolve));
  let started = false;
  const start = (status = 200) => {
    if (started) return;
    started = true;
    answer(new Response(body, { status, headers: GRPC_FORWARDED }));
  };
  const send = async (res: unknown) => {
    // deno-lint-ignore no-explicit-any
    controller.enqueue(resultChunk(toJSON(responseType, res as any)));
    start();
    // Back-pressure: a chunk still queued means the HTTP client reads slower than we produce.
    while ((controller.desiredSize ?? 0) < 0 && !cancel.signal.aborted) {
      await new Promise<void>((r) => (wake = r));
    }
  };
  grpc.invokeStream(route.service, route.method, requests, send, {
    ...ctx,
    signal: cancel.signal,
  }).then(
    () => {
      start();
      close(controller);
    },
    (err) => {
      if (!cancel.signal.aborted) {
        const { status, chunk } = streamErrorChunk(err);
        controller.enqueue(chunk);
        start(status);
      }
      start(); // nobody reads it when the client is gone, but the handler must return
      close(controller);
    },
  ).finally(() => ctx.signal.removeEventListener("abort", onAbort));
  return answered;
}

function close(c: ReadableStreamDefaultController<Uint8Array>): void {
  try {
    c.close();
  } catch {
    // already closed or cancelled
  }
}
