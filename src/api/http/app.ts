// The HTTP side of the client port as a hono app: /health and /version as etcd 3.4 serves them,
// etcd's CORS headers on every response, and Go's 404/405 wording. Other modules add their
// routes (/metrics, /v3 gateway, /v2) to the returned app or through deps.routes.

import { type Context, Hono } from "hono";
import { serverMetrics } from "../../metrics/mod.ts";

export interface HttpDeps {
  /** etcd's version pair: etcdserver is the emulated etcd version, etcdcluster "3.4.0" or "not_decided". */
  version(): { etcdserver: string; etcdcluster: string };
  /** Health as /health reports it; `exclude` lists alarms to ignore (?exclude=NOSPACE). */
  health(opts: { exclude: string[] }): Promise<{ ok: boolean; reason?: string }>;
  /** Adds further routes; they take precedence over the 404 fallback. */
  routes?: (app: Hono) => void;
}

const CORS = {
  "access-control-allow-methods": "POST, GET, OPTIONS, PUT, DELETE",
  "access-control-allow-origin": "*",
  "access-control-allow-headers": "accept, content-type, authorization",
};

const TEXT = "text/plain; charset=utf-8";

/** Go's http.Error: text body with a newline, and nosniff. */
export function goHttpError(status: number, text: string, headers: HeadersInit = {}): Response {
  const res = new Response(`${text}\n`, { status, headers });
  res.headers.set("content-type", TEXT);
  res.headers.set("x-content-type-options", "nosniff");
  return res;
}

/** 405 with Allow, as etcd's allowMethod helper answers. */
export function methodNotAllowed(allow: string): Response {
  return goHttpError(405, "Method Not Allowed", { allow });
}

/** etcd's /health (on client URLs and on metrics URLs alike). */
function healthHandler(health: HttpDeps["health"]) {
  return async (c: Context) => {
    if (c.req.method !== "GET") return methodNotAllowed("GET");
    const exclude = c.req.queries("exclude") ?? [];
    const { ok } = await health({ exclude });
    (ok ? serverMetrics.healthSuccess : serverMetrics.healthFailed).inc();
    // etcd 3.4 writes the healthy body bare but the unhealthy one with a newline.
    return new Response(ok ? '{"health":"true"}' : '{"health":"false"}\n', {
      status: ok ? 200 : 503,
      headers: { "content-type": TEXT },
    });
  };
}

/**
 * What etcd serves on --listen-metrics-urls: /metrics (added by `routes`) and /health, nothing
 * else, and without the client port's CORS headers.
 */
export function createMetricsApp(deps: Pick<HttpDeps, "health" | "routes">): Hono {
  const app = new Hono();
  app.all("/health", healthHandler(deps.health));
  deps.routes?.(app);
  app.notFound(() => goHttpError(404, "404 page not found"));
  return app;
}

export function createHttpApp(deps: HttpDeps): Hono {
  const app = new Hono();

  app.use("*", async (c, next) => {
    if (c.req.method === "OPTIONS") {
      return new Response(null, { status: 200, headers: CORS });
    }
    await next();
    for (const [k, v] of Object.entries(CORS)) c.res.headers.set(k, v);
  });

  app.all("/health", healthHandler(deps.health));

  app.all("/version", (c) => {
    if (c.req.method !== "GET") return methodNotAllowed("GET");
    const v = deps.version();
    return new Response(JSON.stringify({ etcdserver: v.etcdserver, etcdcluster: v.etcdcluster }), {
      headers: { "content-type": "application/json" },
    });
  });

  deps.routes?.(app);
  app.notFound(() => goHttpError(404, "404 page not found"));
  return app;
}
