// What a v2 proxy listener answers, in etcd's order: `/metrics` locally; in readonly mode any
// method but GET gets 501 with an empty body; then the proxy's own CORS headers (so a member's
// CORS headers appear a second time), OPTIONS answered locally, `/v2/config/local/proxy`, and
// everything else forwarded to a member.
import type http from "node:http";
import { EXPOSITION_CONTENT_TYPE, registry } from "../metrics/mod.ts";
import {
  addHeader,
  forward,
  type HeaderList,
  type ReverseProxyDeps,
  writeHeaders,
} from "./reverse.ts";

export interface HandlerOptions extends ReverseProxyDeps {
  readonly: boolean;
  /** --cors origins; "*" allows every origin. */
  cors: string[];
}

export type RequestListener = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export function proxyHandler(opts: HandlerOptions): RequestListener {
  return (req, res) => {
    const { pathname, search } = splitTarget(req.url ?? "/");
    const clean = cleanPath(pathname);
    if (clean !== pathname && req.method !== "CONNECT") return redirect(req, res, clean + search);
    if (pathname === "/metrics") return metrics(res);
    if (opts.readonly && req.method !== "GET") {
      res.writeHead(501, { "Content-Length": 0 });
      res.end();
      return;
    }
    const headers: HeaderList = new Map();
    const origin = allowedOrigin(opts.cors, req.headers.origin);
    if (origin !== undefined) {
      addHeader(headers, "Access-Control-Allow-Methods", "POST, GET, OPTIONS, PUT, DELETE");
      addHeader(headers, "Access-Control-Allow-Origin", origin);
      addHeader(headers, "Access-Control-Allow-Headers", "accept, content-type, authorization");
    }
    if (req.method === "OPTIONS") {
      writeHeaders(res, headers);
      res.writeHead(200, { "Content-Length": 0 });
      res.end();
      return;
    }
    if (pathname === "/v2/config/local/proxy") return proxyConfig(opts, req, res, headers);
    forward(opts, req, res, headers).catch((err) => {
      opts.log.warn({ pkg: "proxy/httpproxy", text: `proxy error: ${(err as Error).message}` });
      res.destroy();
    });
  };
}

/** etcd's CORS rule: "*" allows all (answered as "*"), else the request's own listed Origin. */
function allowedOrigin(cors: string[], origin: string | undefined): string | undefined {
  if (cors.includes("*")) return "*";
  const o = origin ?? "";
  return cors.includes(o) ? o : undefined;
}

function proxyConfig(
  opts: HandlerOptions,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  headers: HeaderList,
): void {
  if (req.method !== "GET") {
    addHeader(headers, "Allow", "GET");
    return plainText(res, headers, 405, "Method Not Allowed\n");
  }
  const endpoints = opts.director.endpoints().map((e) => e.url);
  plainText(res, headers, 200, `${JSON.stringify({ endpoints })}\n`, false);
}

/** A Go text answer; http.Error adds nosniff, a sniffed write does not. */
function plainText(
  res: http.ServerResponse,
  headers: HeaderList,
  status: number,
  text: string,
  isError = true,
): void {
  addHeader(headers, "Content-Type", "text/plain; charset=utf-8");
  if (isError) addHeader(headers, "X-Content-Type-Options", "nosniff");
  writeHeaders(res, headers);
  const body = new TextEncoder().encode(text);
  res.writeHead(status, { "Content-Length": body.length });
  res.end(body);
}

function metrics(res: http.ServerResponse): void {
  const body = new TextEncoder().encode(registry.expose());
  res.writeHead(200, { "Content-Type": EXPOSITION_CONTENT_TYPE, "Content-Length": body.length });
  res.end(body);
}

function redirect(req: http.IncomingMessage, res: http.ServerResponse, location: string): void {
  res.setHeader("Location", location);
  if (req.method === "GET" || req.method === "HEAD") {
    const body = new TextEncoder().encode(`<a href="${location}">Moved Permanently</a>.\n\n`);
    res.writeHead(301, {
      "Content-Type": "text/html; charset=utf-8",
      "Content-Length": body.length,
    });
    res.end(body);
    return;
  }
  res.writeHead(301, { "Content-Length": 0 });
  res.end();
}

function splitTarget(target: string): { pathname: string; search: string } {
  const q = target.indexOf("?");
  return q < 0
    ? { pathname: target, search: "" }
    : { pathname: target.slice(0, q), search: target.slice(q) };
}

/** Go's ServeMux path cleaning: no `.`/`..` or repeated slashes; a trailing slash is kept. */
export function cleanPath(p: string): string {
  if (p === "") return "/";
  if (!p.startsWith("/")) p = `/${p}`;
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  let clean = `/${out.join("/")}`;
  if (p.endsWith("/") && clean !== "/") clean += "/";
  return clean;
}
