// Serves a non-gRPC HTTP/2 stream with a Fetch-style handler (the hono app): the stream's
// headers and body become a Request, the Response is written back with back-pressure.
// (HTTP/1.1 goes through @hono/node-server's request listener instead; HTTP/2 streams come from
// the lean server or node:http2 as transport-neutral ServerStreams.)

import type { ServerStream, StreamEvents } from "../h2/mod.ts";
import { setPeerCertificate } from "./http/mod.ts";

export type FetchHandler = (req: Request) => Promise<Response>;

// Connection-specific headers are forbidden in HTTP/2 (RFC 9113 §8.2.2).
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade"]);

/** Receives the stream's events: feeds the request body, wakes the writer, aborts on close. */
class Exchange implements StreamEvents {
  readonly aborted = new AbortController();
  body: ReadableStreamDefaultController<Uint8Array> | undefined;
  private bodyDone = false;
  private drainWaiter: (() => void) | undefined;
  closed = false;

  constructor(private readonly stream: ServerStream) {}

  onData(chunk: Uint8Array): void {
    if (!this.body || this.bodyDone) return;
    this.body.enqueue(new Uint8Array(chunk));
    if ((this.body.desiredSize ?? 1) <= 0) this.stream.pause();
  }

  onEnd(): void {
    if (!this.body || this.bodyDone) return;
    this.bodyDone = true;
    this.body.close();
  }

  onDrain(): void {
    this.wake();
  }

  onClose(): void {
    this.closed = true;
    this.aborted.abort();
    if (this.body && !this.bodyDone) {
      this.bodyDone = true;
      this.body.error(new Error("stream closed before the request body ended"));
    }
    this.wake();
  }

  writable(): Promise<void> {
    return new Promise((resolve) => (this.drainWaiter = resolve));
  }

  requestBody(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.body = controller;
      },
      pull: () => this.stream.resume(),
      cancel: () => {
        this.bodyDone = true;
        this.stream.resume();
      },
    }, { highWaterMark: 4 });
  }

  private wake(): void {
    const w = this.drainWaiter;
    this.drainWaiter = undefined;
    w?.();
  }
}

export async function serveFetchStream(
  stream: ServerStream,
  handler: FetchHandler,
  scheme: "http" | "https",
): Promise<void> {
  const headers = stream.headers;
  const method = String(headers[":method"] ?? "GET");
  const authority = headers[":authority"] ?? headers.host ?? "localhost";
  const reqHeaders = new Headers();
  for (const [k, v] of Object.entries(headers)) {
    if (k[0] === ":" || v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [String(v)]) reqHeaders.append(k, item);
  }
  const ex = new Exchange(stream);
  const hasBody = method !== "GET" && method !== "HEAD";
  const body = hasBody ? ex.requestBody() : null;
  stream.attach(ex);

  let res: Response;
  try {
    const req = new Request(`${scheme}://${authority}${headers[":path"] ?? "/"}`, {
      method,
      headers: reqHeaders,
      body,
      signal: ex.aborted.signal,
      // Streaming request bodies need half-duplex mode.
      ...(hasBody ? { duplex: "half" } : {}),
    } as RequestInit);
    setPeerCertificate(req, stream.peerCertificate());
    res = await handler(req);
  } catch {
    res = new Response("Internal Server Error", { status: 500 });
  }
  if (stream.closed) {
    await res.body?.cancel();
    return;
  }

  const out: Record<string, string | number | string[]> = { ":status": res.status };
  res.headers.forEach((v, k) => {
    if (!HOP_BY_HOP.has(k) && k !== "set-cookie") out[k] = v;
  });
  const cookies = res.headers.getSetCookie();
  if (cookies.length > 0) out["set-cookie"] = cookies;
  if (!res.body || method === "HEAD") {
    await res.body?.cancel();
    stream.respond(out, true, false);
    return;
  }
  stream.respond(out, false, false);
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (stream.closed) return void reader.cancel();
      if (!stream.write(value) && !ex.closed) await ex.writable();
    }
    stream.end();
  } catch {
    // The body failed mid-way: reset the stream so the client sees an incomplete response.
    if (!stream.closed) stream.reset(2 /* INTERNAL_ERROR */);
  }
}
