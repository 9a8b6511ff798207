// /v2/stats/self, /v2/stats/leader and /v2/stats/store: raw JSON, no trailing newline (etcd
// writes the marshalled bytes as they are).
import type { V2Deps } from "./deps.ts";
import { httpError, methodNotAllowed } from "./responses.ts";

function json(body: unknown): Response {
  return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
}

export function handleStats(deps: V2Deps, req: Request, which: string): Response {
  if (req.method !== "GET") return methodNotAllowed("GET");
  switch (which) {
    case "self":
      return json(deps.selfStats());
    case "store":
      return json(deps.store.stats());
    default: {
      const stats = deps.leaderStats();
      if (stats === undefined) return httpError(403, "not current leader", "");
      return json(stats);
    }
  }
}
