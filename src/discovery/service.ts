// `etcd-ts discovery-service`: a public-style discovery service (as discovery.etcd.io) in front
// of a v2 keys store. `GET /new?size=N` makes a token directory with a TTL and its size key and
// answers `<advertise URL>/<token>`; `/<token>…` is forwarded to the store's
// `/v2/keys/discovery/<token>…`, so members use `--discovery <advertise URL>/<token>`.
import { Hono } from "hono";
import { addV2Routes, localV2 } from "../api/mod.ts";

export interface ServiceOptions {
  listenAddr: string;
  advertiseURL: string;
  /** An etcd / etcd-ts client URL with the v2 API; empty = a store inside this process. */
  etcdEndpoint: string;
  tokenTTLSeconds: number;
  maxSize: number;
  /** Data dir of the embedded member that stores the tokens when no endpoint is given. */
  dataDir: string;
}

/**
 * Starts the member that stores the tokens inside this process (etcd-ts's own server: the
 * discovery module cannot import it, so main.ts passes it in). `port` is its client port.
 */
export type EmbeddedStore = (
  o: { host: string; port: number; dataDir: string },
) => Promise<{ endpoint: string; close(): Promise<void> }>;

/** How the service reaches its store: one v2 HTTP request (path starts with /v2/keys). */
export type V2Backend = (path: string, init?: RequestInit) => Promise<Response>;

const DEFAULTS: ServiceOptions = {
  listenAddr: "127.0.0.1:8087",
  advertiseURL: "",
  etcdEndpoint: "",
  tokenTTLSeconds: 7 * 24 * 3600,
  maxSize: 128,
  dataDir: "discovery-service.etcd",
};

/** What `etcd-ts discovery-service --help` (and `etcd-ts help discovery-service`) prints. */
export const DISCOVERY_SERVICE_USAGE = `Usage: etcd-ts discovery-service [flags]

A discovery service as discovery.etcd.io: GET /new?size=N returns a discovery URL.

  --listen-addr       host:port to serve on (default "${DEFAULTS.listenAddr}")
  --advertise-url     base URL printed by /new (default http://<listen-addr>)
  --etcd-endpoint     client URL of an etcd or etcd-ts with --enable-v2 that stores the tokens
                      (default: an embedded etcd-ts member, clients on the listen port + 1,
                      peers on + 2, data in --data-dir)
  --data-dir          the embedded member's data dir (default "${DEFAULTS.dataDir}")
  --token-ttl         seconds a token lives (default ${DEFAULTS.tokenTTLSeconds}, 7 days)
  --max-size          largest cluster size /new accepts (default ${DEFAULTS.maxSize})
`;

const TOKEN_PREFIX = "/v2/keys/discovery";

export async function runDiscoveryService(
  argv: string[],
  embedded?: EmbeddedStore,
): Promise<number> {
  const parsed = parseServiceFlags(argv);
  if (typeof parsed === "string") {
    console.error(parsed ? `${parsed}\n${DISCOVERY_SERVICE_USAGE}` : DISCOVERY_SERVICE_USAGE);
    return parsed ? 2 : 0;
  }
  const opts = parsed;
  let close: () => void | Promise<void> = () => {};
  let backend: V2Backend;
  const [hostname, portText] = splitAddr(opts.listenAddr);
  let endpoint = opts.etcdEndpoint;
  if (!endpoint && embedded) {
    const store = await embedded({
      host: hostname,
      port: Number(portText) + 1,
      dataDir: opts.dataDir,
    });
    endpoint = store.endpoint;
    close = store.close;
  }
  if (endpoint) {
    const base = endpoint.replace(/\/+$/, "");
    backend = (path, init) => fetch(base + path, init);
  } else {
    const local = localV2();
    const app = new Hono();
    addV2Routes(app, local.deps);
    backend = (path, init) => Promise.resolve(app.fetch(new Request(`http://local${path}`, init)));
    close = local.close;
  }
  const ac = new AbortController();
  const server = Deno.serve({
    hostname,
    port: Number(portText),
    signal: ac.signal,
    onListen: ({ hostname, port }) =>
      console.error(`discovery service listening on http://${hostname}:${port}`),
  }, discoveryHandler(backend, opts));
  const stop = () => ac.abort();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await server.finished;
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  await close();
  return 0;
}

/** Flags in Go's style (-f v, --f v, --f=v); a string is a usage error ("" = --help). */
export function parseServiceFlags(argv: string[]): ServiceOptions | string {
  const opts = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) return `unexpected argument: ${argv[i]}`;
    const name = m[1];
    if (name === "help" || name === "h") return "";
    const value = m[2] ?? argv[++i];
    if (value === undefined) return `flag needs an argument: -${name}`;
    switch (name) {
      case "listen-addr":
        opts.listenAddr = value;
        break;
      case "advertise-url":
        opts.advertiseURL = value;
        break;
      case "etcd-endpoint":
        opts.etcdEndpoint = value;
        break;
      case "data-dir":
        opts.dataDir = value;
        break;
      case "token-ttl":
      case "max-size": {
        if (!/^[0-9]+$/.test(value)) return `invalid value "${value}" for flag -${name}`;
        if (name === "token-ttl") opts.tokenTTLSeconds = Number(value);
        else opts.maxSize = Number(value);
        break;
      }
      default:
        return `flag provided but not defined: -${name}`;
    }
  }
  if (!opts.advertiseURL) opts.advertiseURL = `http://${opts.listenAddr}`;
  opts.advertiseURL = opts.advertiseURL.replace(/\/+$/, "");
  return opts;
}

function splitAddr(addr: string): [string, string] {
  const i = addr.lastIndexOf(":");
  const host = addr.slice(0, i).replace(/^\[|\]$/g, "");
  return [host === "" || host === "localhost" ? "127.0.0.1" : host, addr.slice(i + 1)];
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

/** The service's HTTP handler over a v2 backend (exported for tests and embedding). */
export function discoveryHandler(
  backend: V2Backend,
  opts: Pick<ServiceOptions, "advertiseURL" | "tokenTTLSeconds" | "maxSize">,
): (req: Request) => Promise<Response> {
  const createToken = async (size: number): Promise<string> => {
    const token = newToken();
    const form = { "content-type": "application/x-www-form-urlencoded" };
    const dir = await backend(`${TOKEN_PREFIX}/${token}?dir=true&prevExist=false`, {
      method: "PUT",
      headers: form,
      body: `ttl=${opts.tokenTTLSeconds}`,
    });
    await dir.body?.cancel();
    if (dir.status !== 201) throw new Error(`creating the token directory: ${dir.status}`);
    const sizeRes = await backend(`${TOKEN_PREFIX}/${token}/_config/size`, {
      method: "PUT",
      headers: form,
      body: `value=${size}`,
    });
    await sizeRes.body?.cancel();
    if (!sizeRes.ok) throw new Error(`setting the size: ${sizeRes.status}`);
    return token;
  };

  return async (req) => {
    const url = new URL(req.url);
    const path = url.pathname;
    try {
      if (path === "/new") {
        const s = url.searchParams.get("size") ?? "";
        let size = 3;
        if (s !== "") {
          if (!/^[+-]?[0-9]+$/.test(s)) {
            return text(400, `strconv.Atoi: parsing "${s}": invalid syntax`);
          }
          size = Number(s);
        }
        if (size < 1 || size > opts.maxSize) {
          return text(400, `size must be between 1 and ${opts.maxSize}`);
        }
        return text(200, `${opts.advertiseURL}/${await createToken(size)}`);
      }
      if (path === "/health") {
        const token = await createToken(1);
        const res = await backend(`${TOKEN_PREFIX}/${token}?recursive=true`, { method: "DELETE" });
        await res.body?.cancel();
        return res.ok ? text(200, "OK") : text(500, "NOT OK");
      }
      if (/^\/[A-Za-z0-9_-]+(\/.*)?$/.test(path)) return await forward(backend, req, url);
      return text(404, "404 page not found\n");
    } catch (err) {
      return text(500, `${(err as Error).message}\n`);
    }
  };
}

/** Forwards /<token>… to the store's token directory, streaming watches back. */
async function forward(backend: V2Backend, req: Request, url: URL): Promise<Response> {
  const init: RequestInit = { method: req.method, headers: {} };
  const ctype = req.headers.get("content-type");
  if (ctype) (init.headers as Record<string, string>)["content-type"] = ctype;
  if (req.method !== "GET" && req.method !== "HEAD") init.body = await req.text();
  init.signal = req.signal;
  const res = await backend(`${TOKEN_PREFIX}${url.pathname}${url.search}`, init);
  const headers = new Headers();
  for (const h of ["content-type", "x-etcd-index", "x-raft-index", "x-raft-term"]) {
    const v = res.headers.get(h);
    if (v !== null) headers.set(h, v);
  }
  return new Response(res.body, { status: res.status, headers });
}

/** A random 128-bit token as 32 lowercase hex digits. */
function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}
