// Just enough of a gRPC client for `snapshot save`: one HTTP/2 connection (h2c, or TLS with
// ALPN h2) to one endpoint, unary calls and server-streaming calls with length-prefixed
// messages, and the status from the trailers.
import http2 from "node:http2";
import type { SecureClientSessionOptions } from "node:http2";
import { Buffer } from "node:buffer";
import { grpcCodeName } from "../errors/mod.ts";
import { concatBytes } from "../pb/mod.ts";

export class GrpcCallError extends Error {
  constructor(readonly code: number, readonly desc: string) {
    // clientv3 shows etcd's own errors as their text, anything else as gRPC's status line.
    super(
      desc.startsWith("etcdserver: ")
        ? desc
        : `rpc error: code = ${grpcCodeName(code)} desc = ${desc}`,
    );
  }
}

const STREAM_WINDOW = 16 << 20;

export interface Target {
  /** http://host:port or https://host:port. */
  url: string;
  tls?: Pick<SecureClientSessionOptions, "ca" | "cert" | "key" | "rejectUnauthorized">;
}

export class GrpcClient {
  /** Why the connection went away, if it did. */
  private lost = "";

  private constructor(private readonly session: http2.ClientHttp2Session) {}

  /** Connects, or fails after `timeoutMs` with `context deadline exceeded` and the cause. */
  static connect(target: Target, timeoutMs: number): Promise<GrpcClient> {
    return new Promise((resolve, reject) => {
      // Large windows: a snapshot is one long stream, and 64 KiB windows would pace it by
      // round trips.
      const session = http2.connect(target.url, {
        ...target.tls,
        ALPNProtocols: ["h2"],
        settings: { initialWindowSize: STREAM_WINDOW },
      });
      const fail = (why: string) => {
        clearTimeout(timer);
        session.destroy();
        reject(new Error(`context deadline exceeded (${target.url}: ${why})`));
      };
      const timer = setTimeout(() => fail(`no connection within ${timeoutMs} ms`), timeoutMs);
      session.once("error", (err) => fail(err.message));
      session.once("connect", () => {
        clearTimeout(timer);
        session.setLocalWindowSize(STREAM_WINDOW);
        session.removeAllListeners("error");
        const client = new GrpcClient(session);
        // Reported by the call it cuts short.
        session.on("error", (err) => (client.lost = err.message));
        resolve(client);
      });
    });
  }

  async unary(path: string, request: Uint8Array, metadata: Record<string, string> = {}) {
    let out: Uint8Array | undefined;
    for await (const m of this.stream(path, request, metadata)) out ??= m;
    if (!out) throw new GrpcCallError(13, "no response message");
    return out;
  }

  /** A server-streaming call: the response messages as they arrive. */
  async *stream(
    path: string,
    request: Uint8Array,
    metadata: Record<string, string> = {},
  ): AsyncGenerator<Uint8Array> {
    const req = this.session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      te: "trailers",
      ...metadata,
    });
    let status: { code: number; desc: string } | undefined;
    const onStatus = (h: http2.IncomingHttpHeaders) => {
      if (h["grpc-status"] === undefined) return;
      const desc = decodeURIComponent(String(h["grpc-message"] ?? ""));
      status = { code: Number(h["grpc-status"]), desc };
    };
    req.on("error", (err) => (this.lost ||= err.message));
    req.on("response", onStatus);
    req.on("trailers", onStatus);
    const head = new Uint8Array(5);
    new DataView(head.buffer).setUint32(1, request.length);
    req.end(Buffer.concat([head, request]));
    try {
      yield* frames(req);
    } catch (err) {
      if (err instanceof GrpcCallError) throw err;
      throw new GrpcCallError(14, `connection error: ${(err as Error).message}`);
    } finally {
      req.close();
    }
    if (!status) {
      const why = this.lost || "the server sent no status";
      throw new GrpcCallError(14, `connection closed before the call ended (${why})`);
    }
    if (status.code !== 0) throw new GrpcCallError(status.code, status.desc);
  }

  close(): void {
    this.session.destroy();
  }
}

/** Length-prefixed messages out of the response body. */
async function* frames(req: http2.ClientHttp2Stream): AsyncGenerator<Uint8Array> {
  let buf: Uint8Array = new Uint8Array(0);
  for await (const chunk of req as AsyncIterable<Uint8Array>) {
    buf = buf.length === 0 ? new Uint8Array(chunk) : concatBytes([buf, chunk]);
    while (buf.length >= 5) {
      const len = new DataView(buf.buffer, buf.byteOffset).getUint32(1);
      if (buf.length < 5 + len) break;
      if (buf[0] !== 0) throw new GrpcCallError(12, "compressed messages are not supported");
      yield buf.subarray(5, 5 + len);
      buf = buf.subarray(5 + len);
    }
  }
  if (buf.length > 0) throw new GrpcCallError(13, "response ended inside a message");
}
