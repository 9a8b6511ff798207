// etcd's v2 HTTP API (served with --enable-v2): /v2/keys, /v2/members, /v2/machines, /v2/stats/*
// and /v2/auth, on a hono app. While v2 auth is on, keys and member changes are checked against
// it as etcd's v2http checks them. With --experimental-enable-v2v3 the keys and auth records are
// v3 keys under a prefix instead (v2v3.ts).
import type { Hono } from "hono";
import { handleAuth } from "./auth.ts";
import { V2AuthStore } from "./auth_store.ts";
import type { V2Deps } from "./deps.ts";
import { handleKeys } from "./keys.ts";
import { handleMachines, handleMembers } from "./members.ts";
import { handleStats } from "./stats.ts";

export { MemberChangeError, type V2Deps, type V2KeyStore, type V2Member } from "./deps.ts";
export { v2v3Deps } from "./v2v3.ts";
export { type LocalV2, localV2 } from "./local.ts";

export function addV2Routes(app: Hono, deps: V2Deps): void {
  const auth = new V2AuthStore(deps);
  app.all("/v2/keys", (c) => handleKeys(deps, auth, c.req.raw));
  app.all("/v2/keys/*", (c) => handleKeys(deps, auth, c.req.raw));
  app.all("/v2/members", (c) => handleMembers(deps, auth, c.req.raw));
  app.all("/v2/members/*", (c) => handleMembers(deps, auth, c.req.raw));
  app.all("/v2/machines", (c) => handleMachines(deps, c.req.raw));
  for (const which of ["self", "leader", "store"]) {
    app.all(`/v2/stats/${which}`, (c) => handleStats(deps, c.req.raw, which));
  }
  app.all("/v2/auth/*", (c) => handleAuth(auth, c.req.raw, deps.clusterId));
}
