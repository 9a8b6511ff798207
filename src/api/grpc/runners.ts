// How each kind of method runs on a call from the wire (grpc-go's processUnaryRPC and
// processStreamingRPC): the request messages decoded and counted, the handler called, each
// response encoded, counted and sent.

import { EtcdError, GrpcCode } from "../../errors/mod.ts";
import type { MessageCodec } from "../../pb/mod.ts";
import type { Call } from "./call.ts";
import type {
  BidiStreamHandler,
  CallTracker,
  ServerStreamHandler,
  UnaryHandler,
} from "./server.ts";

export type Codec = MessageCodec<unknown>;
/** Serves one call of a registered method, reporting its messages to the tracker. */
export type Runner = (call: Call, t: CallTracker) => Promise<void>;

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

async function firstRequest(call: Call, codec: Codec, t: CallTracker): Promise<unknown> {
  const bytes = await call.firstRequest();
  if (bytes === undefined) return undefined;
  t.received(bytes.length);
  return decodeRequest(codec, bytes);
}

function sender(call: Call, codec: Codec, t: CallTracker) {
  return async (msg: unknown) => {
    const bytes = codec.encode(msg);
    await call.send(bytes);
    t.sent(bytes.length);
  };
}

export function unary(req: Codec, res: Codec, handler: UnaryHandler<unknown, unknown>): Runner {
  return async (call, t) => {
    const request = await firstRequest(call, req, t);
    if (call.finished) return;
    const response = await handler(request, call.ctx);
    if (!call.finished) await sender(call, res, t)(response);
  };
}

export function serverStream(
  req: Codec,
  res: Codec,
  handler: ServerStreamHandler<unknown, unknown>,
): Runner {
  return async (call, t) => {
    const request = await firstRequest(call, req, t);
    if (call.finished) return;
    await handler(request, call.ctx, sender(call, res, t));
  };
}

export function bidi(req: Codec, res: Codec, handler: BidiStreamHandler<unknown, unknown>): Runner {
  return async (call, t) => {
    const payloads = call.requests();
    const requests = {
      async *[Symbol.asyncIterator]() {
        for await (const bytes of payloads) {
          t.received(bytes.length);
          yield decodeRequest(req, bytes);
        }
      },
    };
    await handler(requests, sender(call, res, t), call.ctx);
  };
}
