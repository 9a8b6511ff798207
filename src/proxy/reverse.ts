// Forwarding one client request (etcd's httpproxy reverseProxy): the body is read whole, then
// the request goes to each available member in turn until one answers; a member that cannot be
// reached is marked unavailable. The answer streams back as it arrives (long-poll watches).
import type http from "node:http";
import type { Logger } from "../log/mod.ts";
import type { Director } from "./director.ts";
import { concat } from "./members.ts";
import { type DropReason, proxyMetrics } from "./metrics.ts";
import type { Transport } from "./transport.ts";

/** Hop-by-hop headers: meaningful for one connection only, never forwarded (RFC 7230 §6.1). */
const SINGLE_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailers",
  "transfer-encoding",
  "upgrade",
]);

/** Header name -> values, keeping the first spelling of each name. */
export type HeaderList = Map<string, { name: string; values: string[] }>;

export function addHeader(h: HeaderList, name: string, value: string): void {
  const key = name.toLowerCase();
  const entry = h.get(key);
  if (entry) entry.values.push(value);
  else h.set(key, { name, values: [value] });
}

/** Go writes header fields sorted by name. */
export function writeHeaders(res: http.ServerResponse, h: HeaderList): void {
  const entries = [...h.values()].sort((a, b) =>
    canonical(a.name) < canonical(b.name) ? -1 : canonical(a.name) > canonical(b.name) ? 1 : 0
  );
  for (const { name, values } of entries) {
    res.setHeader(canonical(name), values.length === 1 ? values[0] : values);
  }
}

/** Go's canonical MIME header key: `x-etcd-index` -> `X-Etcd-Index`. */
function canonical(name: string): string {
  return name.toLowerCase().replace(
    /(^|-)([a-z])/g,
    (_, sep: string, c: string) => sep + c.toUpperCase(),
  );
}

/** `{"message":"..."}` with a status, as etcd's httptypes.HTTPError writes it. */
export function writeHTTPError(
  res: http.ServerResponse,
  headers: HeaderList,
  status: number,
  message: string,
): void {
  addHeader(headers, "Content-Type", "application/json");
  writeHeaders(res, headers);
  const body = new TextEncoder().encode(JSON.stringify({ message }));
  res.setHeader("Content-Length", body.length);
  res.writeHead(status);
  res.end(body);
}

export interface ReverseProxyDeps {
  director: Director;
  transport: Transport;
  log: Logger;
}

const info = (log: Logger, text: string, fields?: Record<string, unknown>) =>
  log.info({ pkg: "proxy/httpproxy", text, fields });

/** Forwards `req`; `headers` already holds the headers the proxy adds (CORS). */
export async function forward(
  deps: ReverseProxyDeps,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  headers: HeaderList,
): Promise<void> {
  const { director, transport, log } = deps;
  const method = req.method ?? "GET";
  proxyMetrics.requests.labels({ method }).inc();
  const started = performance.now();
  const dropped = (reason: DropReason) =>
    proxyMetrics.dropped.labels({ method, proxying_error: reason }).inc();

  let body: Uint8Array;
  try {
    body = await readBody(req);
  } catch (err) {
    const msg = `failed to read request body: ${(err as Error).message}`;
    info(log, msg);
    if (!res.destroyed) writeHTTPError(res, headers, 400, `httpproxy: ${msg}`);
    return;
  }

  const outHeaders = forwardedHeaders(req, body);
  const endpoints = director.endpoints();
  if (endpoints.length === 0) {
    dropped("zero_endpoints");
    info(log, "zero endpoints currently available");
    writeHTTPError(res, headers, 503, "httpproxy: zero endpoints currently available");
    return;
  }

  // A client that goes away cancels the request to the member.
  const abort = new AbortController();
  let clientGone = false;
  res.on("close", () => {
    if (res.writableFinished) return;
    clientGone = true;
    info(log, `client ${remoteAddr(req)} closed request prematurely`);
    abort.abort();
  });

  let upstream: http.IncomingMessage | undefined;
  for (const ep of endpoints) {
    const target = new URL(ep.url);
    const path = req.url ?? "/";
    try {
      upstream = await transport.roundTrip({
        url: new URL(`${target.protocol}//${target.host}${path.startsWith("/") ? path : "/"}`),
        method,
        headers: outHeaders,
        body: body.length > 0 || hasBodyMethod(method) ? body : undefined,
        signal: abort.signal,
      });
    } catch (err) {
      if (clientGone) return;
      dropped("failed_sending_request");
      info(log, `failed to direct request to ${ep.url}: ${(err as Error).message}`, {
        error: (err as Error).message,
      });
      ep.failed();
      continue;
    }
    break;
  }
  if (clientGone) {
    upstream?.destroy();
    return;
  }
  if (!upstream) {
    const msg = `unable to get response from ${endpoints.length} endpoint(s)`;
    dropped("failed_getting_response");
    info(log, msg);
    writeHTTPError(res, headers, 502, `httpproxy: ${msg}`);
    return;
  }

  const status = upstream.statusCode ?? 502;
  proxyMetrics.handled.labels({ method, code: String(status) }).inc();
  proxyMetrics.handlingSeconds.labels({ method }).observe((performance.now() - started) / 1000);
  const raw = upstream.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!SINGLE_HOP.has(raw[i].toLowerCase())) addHeader(headers, raw[i], raw[i + 1]);
  }
  writeHeaders(res, headers);
  res.writeHead(status);
  // Watches answer their head at once and the event later: let the client see the head now.
  res.flushHeaders();
  upstream.on("error", () => res.destroy());
  upstream.on("aborted", () => res.destroy());
  upstream.pipe(res);
}

function hasBodyMethod(method: string): boolean {
  return method === "POST" || method === "PUT" || method === "PATCH";
}

function forwardedHeaders(
  req: http.IncomingMessage,
  body: Uint8Array,
): Record<string, string | string[]> {
  const h: HeaderList = new Map();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i].toLowerCase();
    // The body was read whole (and any 100-continue answered): its length is known now.
    if (SINGLE_HOP.has(key) || key === "content-length" || key === "expect") continue;
    addHeader(h, raw[i], raw[i + 1]);
  }
  if (body.length > 0 || hasBodyMethod(req.method ?? "")) {
    addHeader(h, "Content-Length", String(body.length));
  }
  const ip = (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
  if (ip) {
    const prior = h.get("x-forwarded-for");
    if (prior) prior.values = [`${prior.values.join(", ")}, ${ip}`];
    else addHeader(h, "X-Forwarded-For", ip);
  }
  const out: Record<string, string | string[]> = {};
  for (const { name, values } of h.values()) {
    out[name] = values.length === 1 ? values[0] : values;
  }
  return out;
}

function remoteAddr(req: http.IncomingMessage): string {
  const ip = (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
  const host = ip.includes(":") ? `[${ip}]` : ip;
  return `${host}:${req.socket.remotePort ?? 0}`;
}

async function readBody(req: http.IncomingMessage): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of req) chunks.push(chunk as Uint8Array);
  return concat(chunks);
}
