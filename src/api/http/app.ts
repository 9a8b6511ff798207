// The HTTP side of the client port as a hono app: /health and /version as etcd 3.4 serves them,
// behind etcd's access controller (host whitelist, CORS), and Go's 404/405 wording. Other
// modules add their routes (/metrics, /v3 gateway, /v2) to the returned app or through
// deps.routes.

import { type Context, Hono } from "hono";
import { serverMetrics } from "../../metrics/mod.ts";
import { accessController, type AccessOptions } from "./access.ts";
import { goHttpError, methodNotAllowed } from "./go_http.ts";
import { addProbeRoutes, type Probes } from "./probes.ts";

export interface HttpDeps {
  /** etcd's version pair: etcdserver is the emulated etcd version, etcdcluster "3.4.0" or "not_decided". */
  version(): { etcdserver: string; etcdcluster: string };
  /**
   * Health as /health reports it; `exclude` lists alarms to ignore (?exclude=NOSPACE) and
   * `serializable` asks for this member's own view (?serializable=true).
   */
  health(opts: { exclude: string[]; serializable: boolean }): Promise<{ ok: boolean }>;
  /** The checks of /livez and /readyz; left out, neither is served. */
  probes?: Probes;
  /** Adds further routes; they take precedence over the 404 fallback. */
  routes?: (app: Hono) => void;
  /** --cors and --host-whitelist; left out, every origin and host is allowed. */
  access?: AccessOptions;
}

const TEXT = "text/plain; charset=utf-8";
const ALLOW_ALL: AccessOptions = { cors: ["*"], hostWhitelist: ["*"] };

/** etcd's /health (on client URLs and on metrics URLs alike). */
function healthHandler(health: HttpDeps["health"]) {
  return async (c: Context) => {
    if (c.req.method !== "GET") return methodNotAllowed("GET");
    const exclude = c.req.queries("exclude") ?? [];
    const serializable = c.req.query("serializable") === "true";
    const { ok } = await health({ exclude, serializable });
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
  app.use("*", accessController(deps.access ?? ALLOW_ALL));

  app.all("/health", healthHandler(deps.health));

  app.all("/version", (c) => {
    if (c.req.method !== "GET") return methodNotAllowed("GET");
    const v = deps.version();
    return new Response(JSON.stringify({ etcdserver: v.etcdserver, etcdcluster: v.etcdcluster }), {
      headers: { "content-type": "application/json" },
    });
  });

  if (deps.probes) addProbeRoutes(app, deps.probes);
  deps.routes?.(app);
  app.notFound(() => goHttpError(404, "404 page not found"));
  return app;
}
