// Forwarding one client request (etcd's httpproxy reverseProxy): the body is read whole, then
// the request goes to each available member in turn until one answers; a member that cannot be
// reached is marked unavailable. The answer streams back as it arrives (long-poll watches).
import type http from "node:http";
import type { Logger } from "../log/mod.ts";
import type { Director, Endpoint } from "./director.ts";
import { concatBytes } from "../pb/mod.ts";
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
  const { director, log } = deps;
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

  const outgoing: Outgoing = { method, headers: forwardedHeaders(req, body), body };
  const endpoints = director.endpoints();
  if (endpoints.length === 0) {
    dropped("zero_endpoints");
    info(log, "zero endpoints currently available");
    writeHTTPError(res, headers, 503, "httpproxy: zero endpoints currently available");
    return;
  }

  const client = watchClient(req, res, log);
  const upstream = await sendToMembers(deps, req, outgoing, endpoints, client, dropped);
  if (client.gone) {
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
  relayAnswer(upstream, res, headers);
}

/** The request as it goes to the members: the body read whole, the headers to forward. */
interface Outgoing {
  method: string;
  headers: Record<string, string | string[]>;
  body: Uint8Array;
}

/** Whether the client went away; its going cancels the request to the member. */
interface ClientWatch {
  readonly gone: boolean;
  signal: AbortSignal;
}

function watchClient(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  log: Logger,
): ClientWatch {
  const abort = new AbortController();
  const watch = { gone: false, signal: abort.signal };
  res.on("close", () => {
    if (res.writableFinished) return;
    watch.gone = true;
    info(log, `client ${remoteAddr(req)} closed request prematurely`);
    abort.abort();
  });
  return watch;
}

/**
 * Tries each member in turn until one answers; a member that cannot be reached is marked
 * failed so the director rests it. Undefined when none answered or the client went away.
 */
async function sendToMembers(
  { transport, log }: ReverseProxyDeps,
  req: http.IncomingMessage,
  out: Outgoing,
  endpoints: Endpoint[],
  client: ClientWatch,
  dropped: (reason: DropReason) => void,
): Promise<http.IncomingMessage | undefined> {
  const path = req.url ?? "/";
  for (const ep of endpoints) {
    const target = new URL(ep.url);
    try {
      return await transport.roundTrip({
        url: new URL(`${target.protocol}//${target.host}${path.startsWith("/") ? path : "/"}`),
        method: out.method,
        headers: out.headers,
        body: out.body.length > 0 || hasBodyMethod(out.method) ? out.body : undefined,
        signal: client.signal,
      });
    } catch (err) {
      if (client.gone) return undefined;
      dropped("failed_sending_request");
      info(log, `failed to direct request to ${ep.url}: ${(err as Error).message}`, {
        error: (err as Error).message,
      });
      ep.failed();
    }
  }
  return undefined;
}

/** The member's answer to the client: its head at once, then its body as it arrives. */
function relayAnswer(
  upstream: http.IncomingMessage,
  res: http.ServerResponse,
  headers: HeaderList,
): void {
  const raw = upstream.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!SINGLE_HOP.has(raw[i].toLowerCase())) addHeader(headers, raw[i], raw[i + 1]);
  }
  writeHeaders(res, headers);
  res.writeHead(upstream.statusCode ?? 502);
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
  return concatBytes(chunks);
}
