// /v2/stats/self, /v2/stats/leader and /v2/stats/store: raw JSON, no trailing newline (etcd
// writes the marshalled bytes as they are).
import type { V2Deps } from "./deps.ts";

function json(body: unknown): Response {
  return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
}

export function handleStats(deps: V2Deps, req: Request, which: string): Response {
  if (req.method !== "GET") {
    return new Response("Method Not Allowed\n", {
      status: 405,
      headers: {
        allow: "GET",
        "content-type": "text/plain; charset=utf-8",
        "x-content-type-options": "nosniff",
      },
    });
  }
  switch (which) {
    case "self":
      return json(deps.selfStats());
    case "store":
      return json(deps.store.stats());
    default: {
      const stats = deps.leaderStats();
      if (stats === undefined) {
        return new Response(JSON.stringify({ message: "not current leader" }), {
          status: 403,
          headers: { "content-type": "application/json" },
        });
      }
      return json(stats);
    }
  }
}

/** Go's time.Duration.String() for a non-negative number of milliseconds (e.g. "1.3874226s"). */
export function goDuration(ms: number): string {
  if (ms <= 0) return "0s";
  const ns = Math.round(ms * 1e6);
  if (ns < 1000) return `${ns}ns`;
  if (ns < 1e6) return `${trim(ns / 1e3)}µs`;
  if (ns < 1e9) return `${trim(ns / 1e6)}ms`;
  let secs = ns / 1e9;
  const h = Math.floor(secs / 3600);
  secs -= h * 3600;
  const m = Math.floor(secs / 60);
  secs -= m * 60;
  const s = `${trim(Number(secs.toFixed(9)))}s`;
  if (h > 0) return `${h}h${m}m${s}`;
  if (m > 0) return `${m}m${s}`;
  return s;
}

function trim(n: number): string {
  return String(Number(n.toFixed(9)));
}
