// /v2/auth: etcd 3.4's v2 auth API (v2http/client_auth.go) — /enable (GET, PUT, DELETE),
// /users[/name] and /roles[/name] — with its order of checks (method, then root access, then
// the request), its JSON shapes, statuses and messages.
import { cleanPath, V2Error } from "../../v2store/mod.ts";
import { goHttpError } from "../http/mod.ts";
import { hasRootAccess, hasWriteRootAccess } from "./auth_access.ts";
import type { V2AuthStore } from "./auth_store.ts";
import {
  BadJSON,
  hasItems,
  HTTPError,
  isEmpty,
  parseRole,
  parseUser,
  type Role,
  roleJSON,
  type User,
  userJSON,
} from "./auth_types.ts";
import { errorResponse } from "./keys.ts";
import {
  emptyOk,
  httpError,
  insufficientCredentials,
  json,
  methodNotAllowed,
} from "./responses.ts";

const AUTH_PREFIX = "/v2/auth";

type Handler = (store: V2AuthStore, req: Request, cid: string, name: string) => Promise<Response>;

interface Route {
  /** The collection (`/users`) and one member of it (`/users/<name>`). */
  base: Handler;
  one: Handler;
  allow: string[];
  /** Root access for every method; else only for changes (/enable reads are open). */
  rootOnly: boolean;
}

const ROUTES: Record<string, Route> = {
  enable: {
    base: enableDisable,
    one: enableDisable,
    allow: ["GET", "PUT", "DELETE"],
    rootOnly: false,
  },
  users: { base: baseUsers, one: forUser, allow: ["GET", "PUT", "DELETE"], rootOnly: true },
  roles: { base: baseRoles, one: forRole, allow: ["GET", "PUT", "DELETE"], rootOnly: true },
};

export async function handleAuth(
  store: V2AuthStore,
  req: Request,
  clusterId: () => string,
): Promise<Response> {
  const path = urlPath(req);
  // Go's ServeMux patterns: /enable exactly; /users and /roles with anything below them.
  const kind = path.slice(AUTH_PREFIX.length + 1).split("/")[0];
  const route = Object.hasOwn(ROUTES, kind) ? ROUTES[kind] : undefined;
  const prefix = `${AUTH_PREFIX}/${kind}`;
  if (!route || (path !== prefix && (kind === "enable" || !path.startsWith(`${prefix}/`)))) {
    return goHttpError(404, "404 page not found");
  }
  return await guarded(store, req, clusterId(), path, route);
}

/** The request's path, decoded as Go's URL.Path is. */
function urlPath(req: Request): string {
  const raw = new URL(req.url).pathname;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * Splits `/users/<name>` (a bare `/users` is the collection, which only GETs), checks the method
 * and the caller's access, then runs the handler and answers its errors as etcd does.
 */
async function guarded(
  store: V2AuthStore,
  req: Request,
  cid: string,
  path: string,
  r: Route,
): Promise<Response> {
  const pieces = cleanPath(path.slice(AUTH_PREFIX.length)).split("/");
  if (pieces.length > 3) return httpError(400, "Invalid path", "");
  const name = pieces[2] ?? "";
  const allow = name === "" && r.rootOnly ? ["GET"] : r.allow;
  if (!allow.includes(req.method)) return methodNotAllowed(allow.join(","));
  const allowed = r.rootOnly ? hasRootAccess(store, req) : hasWriteRootAccess(store, req);
  if (!(await allowed)) return insufficientCredentials();
  try {
    return await (name === "" ? r.base : r.one)(store, req, cid, name);
  } catch (err) {
    if (err instanceof HTTPError) return httpError(err.status, err.message, cid);
    if (err instanceof V2Error) return errorResponse(err, cid);
    return httpError(500, "Internal Server Error", cid);
  }
}

/** A request body as etcd's JSON decoder reads it into a user or role. */
async function body<T>(req: Request, parse: (text: string) => T): Promise<T> {
  try {
    return parse(await req.text());
  } catch (err) {
    if (err instanceof BadJSON) throw new HTTPError(400, "Invalid JSON in request body.");
    throw err;
  }
}

async function enableDisable(store: V2AuthStore, req: Request, cid: string): Promise<Response> {
  switch (req.method) {
    case "GET":
      return json(200, { enabled: await store.authEnabled() }, cid);
    case "PUT":
      await store.enableAuth();
      return emptyOk(cid);
    default:
      await store.disableAuth();
      return emptyOk(cid);
  }
}

/** A user with its roles spelled out; roles that do not resolve are left out of a listing. */
async function userWithRoles(store: V2AuthStore, u: User, skipMissing: boolean) {
  const roles: Record<string, unknown>[] = [];
  for (const name of u.roles ?? []) {
    const role = await store.getRole(name).catch((err) => {
      if (skipMissing) return undefined;
      throw err;
    });
    if (role) roles.push(roleJSON(role));
  }
  return roles.length > 0 ? { user: u.user, roles } : { user: u.user };
}

async function baseUsers(store: V2AuthStore, _req: Request, cid: string): Promise<Response> {
  const users = [];
  for (const name of await store.allUsers()) {
    users.push(await userWithRoles(store, await store.getUser(name), true));
  }
  return json(200, { users: users.length > 0 ? users : null }, cid);
}

async function forUser(
  store: V2AuthStore,
  req: Request,
  cid: string,
  name: string,
): Promise<Response> {
  if (req.method === "GET") {
    return json(200, await userWithRoles(store, await store.getUser(name), false), cid);
  }
  if (req.method === "DELETE") {
    await store.deleteUser(name);
    return emptyOk(cid);
  }
  const u = await body(req, parseUser);
  if (u.user !== name) {
    return httpError(400, "User JSON name does not match the name in the URL", cid);
  }
  let out: User, created = false;
  if (!hasItems(u.grant) && !hasItems(u.revoke)) {
    // Roles given: a new user; a password alone may be a new user or a new password.
    if (hasItems(u.roles)) out = await store.createUser(u);
    else ({ user: out, created } = await store.createOrUpdateUser(u));
  } else {
    if (hasItems(u.roles)) {
      return httpError(400, "User JSON contains both roles and grant/revoke", cid);
    }
    out = await store.updateUser(u);
  }
  return json(created ? 201 : 200, userJSON({ ...out, password: "" }), cid);
}

async function baseRoles(store: V2AuthStore, _req: Request, cid: string): Promise<Response> {
  const roles = [];
  for (const name of await store.allRoles()) roles.push(roleJSON(await store.getRole(name)));
  return json(200, { roles: roles.length > 0 ? roles : null }, cid);
}

async function forRole(
  store: V2AuthStore,
  req: Request,
  cid: string,
  name: string,
): Promise<Response> {
  if (req.method === "GET") return json(200, roleJSON(await store.getRole(name)), cid);
  if (req.method === "DELETE") {
    await store.deleteRole(name);
    return emptyOk(cid);
  }
  const r: Role = await body(req, parseRole);
  if (r.role !== name) {
    return httpError(400, "Role JSON name does not match the name in the URL", cid);
  }
  if (isEmpty(r.grant) && isEmpty(r.revoke)) {
    await store.createRole(r);
    return json(201, roleJSON(r), cid);
  }
  if (!isEmpty(r.permissions)) {
    return httpError(400, "Role JSON contains both permissions and grant/revoke", cid);
  }
  return json(200, roleJSON(await store.updateRole(r)), cid);
}
