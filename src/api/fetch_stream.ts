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
  const method = String(stream.headers[":method"] ?? "GET");
  const ex = new Exchange(stream);
  let res: Response;
  try {
    res = await handler(requestOf(stream, ex, method, scheme));
  } catch {
    res = new Response("Internal Server Error", { status: 500 });
  }
  if (stream.closed) {
    await res.body?.cancel();
    return;
  }
  await respond(stream, ex, res, method);
}

/**
 * The stream's request as a Fetch Request: its headers, and its body read as it arrives (the
 * exchange is attached to the stream before anything can fail, so a 500 still finds it).
 */
function requestOf(
  stream: ServerStream,
  ex: Exchange,
  method: string,
  scheme: "http" | "https",
): Request {
  const headers = stream.headers;
  const authority = headers[":authority"] ?? headers.host ?? "localhost";
  const reqHeaders = new Headers();
  for (const [k, v] of Object.entries(headers)) {
    if (k[0] === ":" || v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [String(v)]) reqHeaders.append(k, item);
  }
  const hasBody = method !== "GET" && method !== "HEAD";
  const body = hasBody ? ex.requestBody() : null;
  stream.attach(ex);
  const req = new Request(`${scheme}://${authority}${headers[":path"] ?? "/"}`, {
    method,
    headers: reqHeaders,
    body,
    signal: ex.aborted.signal,
    // Streaming request bodies need half-duplex mode.
    ...(hasBody ? { duplex: "half" } : {}),
  } as RequestInit);
  setPeerCertificate(req, stream.peerCertificate());
  return req;
}

/** Writes the response's headers and body to the stream, with HTTP/2 flow control. */
async function respond(stream: ServerStream, ex: Exchange, res: Response, method: string) {
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
  const reader = res.body.getReader();
  let ahead: ReadAhead;
  try {
    ahead = await readAhead(reader);
  } catch {
    ahead = { chunks: [], failed: true };
  }
  if (ahead.next === undefined && !ahead.failed) {
    // Go's HTTP/2 server names the length of a body its handler finished before the first flush.
    out["content-length"] = ahead.chunks.reduce((n, c) => n + c.length, 0);
  }
  stream.respond(out, false, false);
  try {
    if (ahead.failed) throw new Error("the response body failed");
    for (const chunk of ahead.chunks) {
      if (stream.closed) return void reader.cancel();
      if (!stream.write(chunk) && !ex.closed) await ex.writable();
    }
    for (let next = ahead.next; next !== undefined; next = reader.read()) {
      const { done, value } = await next;
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

interface ReadAhead {
  chunks: Uint8Array[];
  /** The read in flight when the body was still open after a turn of the event loop. */
  next?: Promise<ReadableStreamReadResult<Uint8Array>>;
  failed?: boolean;
}

const STILL_OPEN = Symbol("still open");
/** Go's HTTP/2 handler buffer: a body that outgrows it is flushed without a length. */
const HANDLER_BUFFER_BYTES = 4096;

/**
 * The body's chunks until it ends, keeps the reader waiting past a turn of the event loop, or
 * outgrows Go's handler buffer.
 */
async function readAhead(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<ReadAhead> {
  const chunks: Uint8Array[] = [];
  for (let size = 0;;) {
    const next = reader.read();
    if (size > HANDLER_BUFFER_BYTES) return { chunks, next };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const turn = new Promise<typeof STILL_OPEN>((r) => (timer = setTimeout(r, 0, STILL_OPEN)));
    const got = await Promise.race([next, turn]);
    clearTimeout(timer);
    if (got === STILL_OPEN) return { chunks, next };
    if (got.done) return { chunks };
    chunks.push(got.value);
    size += got.value.length;
  }
}
