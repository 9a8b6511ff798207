// /livez and /readyz as etcd 3.5.11 serves them (etcdhttp's CheckRegistry; etcd 3.4 has neither):
// each probe runs its named checks and answers "ok" (with ?verbose, one line per check first),
// or 503 with every check's line; ?exclude=<check> leaves a check out of the probe, and each
// check has its own path (/readyz/linearizable_read). etcd keeps its checks in a Go map and so
// runs them in no fixed order; here they run in the order given.
import type { Hono } from "hono";
import { goHttpError, methodNotAllowed } from "./go_http.ts";

/** One check: resolves when healthy, throws (with etcd's error text) when not. */
export type Check = () => Promise<void> | void;

/** The checks of each probe, by probe name ("livez", "readyz") and check name. */
export type Probes = Record<string, [name: string, check: Check][]>;

async function runChecks(checks: [string, Check][]): Promise<{ ok: boolean; reason: string }> {
  let ok = true;
  let reason = "";
  for (const [name, check] of checks) {
    try {
      await check();
      reason += `[+]${name} ok\n`;
    } catch (err) {
      ok = false;
      reason += `[-]${name} failed: ${err instanceof Error ? err.message : String(err)}\n`;
    }
  }
  return { ok, reason };
}

async function answer(req: Request, checks: [string, Check][]): Promise<Response> {
  if (req.method !== "GET") return methodNotAllowed("GET");
  const { ok, reason } = await runChecks(checks);
  // A failure always shows every check; success only when asked.
  if (!ok) return goHttpError(503, reason);
  const verbose = new URL(req.url).searchParams.has("verbose");
  return new Response(`${verbose ? reason : ""}ok\n`, {
    headers: { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" },
  });
}

export function addProbeRoutes(app: Hono, probes: Probes): void {
  for (const [probe, checks] of Object.entries(probes)) {
    app.all(`/${probe}`, (c) => {
      const excluded = new URL(c.req.url).searchParams.getAll("exclude");
      return answer(c.req.raw, checks.filter(([name]) => !excluded.includes(name)));
    });
    for (const check of checks) app.all(`/${probe}/${check[0]}`, (c) => answer(c.req.raw, [check]));
  }
}
