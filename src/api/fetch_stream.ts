// Serves a non-gRPC HTTP/2 stream with a Fetch-style handler (the hono app): the stream's
// headers and body become a Request, the Response is written back with back-pressure.
// (HTTP/1.1 goes through @hono/node-server's request listener instead; HTTP/2 streams are taken
// from the session's "stream" event, which that adapter does not handle.)

import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from "node:http2";

export type FetchHandler = (req: Request) => Promise<Response>;

// Connection-specific headers are forbidden in HTTP/2 (RFC 9113 §8.2.2).
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade"]);

function requestBody(stream: ServerHttp2Stream): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      stream.on("data", (chunk: Uint8Array) => {
        controller.enqueue(new Uint8Array(chunk));
        if ((controller.desiredSize ?? 1) <= 0) stream.pause();
      });
      stream.once("end", () => controller.close());
      stream.once("error", (err) => controller.error(err));
    },
    pull() {
      stream.resume();
    },
    cancel() {
      stream.resume();
    },
  }, { highWaterMark: 4 });
}

function waitWritable(stream: ServerHttp2Stream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
  });
}

export async function serveFetchStream(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  handler: FetchHandler,
  scheme: "http" | "https",
): Promise<void> {
  stream.on("error", () => {});
  const method = String(headers[":method"] ?? "GET");
  const authority = headers[":authority"] ?? headers.host ?? "localhost";
  const reqHeaders = new Headers();
  for (const [k, v] of Object.entries(headers)) {
    if (k[0] === ":" || v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [String(v)]) reqHeaders.append(k, item);
  }
  const aborted = new AbortController();
  stream.once("close", () => aborted.abort());
  const hasBody = method !== "GET" && method !== "HEAD";

  let res: Response;
  try {
    const req = new Request(`${scheme}://${authority}${headers[":path"] ?? "/"}`, {
      method,
      headers: reqHeaders,
      body: hasBody ? requestBody(stream) : null,
      signal: aborted.signal,
      // Streaming request bodies need half-duplex mode.
      ...(hasBody ? { duplex: "half" } : {}),
    } as RequestInit);
    if (!hasBody) stream.resume();
    res = await handler(req);
  } catch {
    res = new Response("Internal Server Error", { status: 500 });
  }
  if (stream.destroyed || stream.closed) {
    await res.body?.cancel();
    return;
  }

  const out: OutgoingHttpHeaders = { ":status": res.status };
  res.headers.forEach((v, k) => {
    if (!HOP_BY_HOP.has(k) && k !== "set-cookie") out[k] = v;
  });
  const cookies = res.headers.getSetCookie();
  if (cookies.length > 0) out["set-cookie"] = cookies;
  if (!res.body || method === "HEAD") {
    await res.body?.cancel();
    stream.respond(out, { endStream: true });
    return;
  }
  stream.respond(out);
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (stream.destroyed || stream.closed) return void reader.cancel();
      if (!stream.write(value)) await waitWritable(stream);
    }
    stream.end();
  } catch {
    // The body failed mid-way: reset the stream so the client sees an incomplete response.
    if (!stream.destroyed) stream.close(2 /* INTERNAL_ERROR */);
  }
}
