// etcd's v2 auth records (v2auth.User, v2auth.Role) as Go shapes them: lists are null or arrays
// and the two differ (Go's reflect.DeepEqual tells a nil slice from an empty one, which decides
// whether an update changed anything); JSON in Go's field order, with its omitempty rules; the
// merges a grant or revoke makes; and the key patterns a role grants.

export const ROOT_USER = "root";
export const ROOT_ROLE = "root";
export const GUEST_ROLE = "guest";

/** etcd's httptypes.HTTPError: an HTTP status and the message of a `{"message":...}` body. */
export class HTTPError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** An error of etcd's v2 auth store: its messages start with "auth: ". */
export class V2AuthError extends HTTPError {
  constructor(status: number, message: string) {
    super(status, `auth: ${message}`);
  }
}

/** A request body etcd's JSON decoder would refuse. */
export class BadJSON extends Error {}

type List = string[] | null;

export interface User {
  user: string;
  /** A bcrypt hash once stored; the plain password in a request. */
  password: string;
  roles: List;
  grant: List;
  revoke: List;
}

export interface Permissions {
  kv: { read: List; write: List };
}

export interface Role {
  role: string;
  permissions: Permissions;
  grant: Permissions | null;
  revoke: Permissions | null;
}

const ALL: Permissions = { kv: { read: ["/*"], write: ["/*"] } };
export const rootRole = (): Role => ({
  role: ROOT_ROLE,
  permissions: ALL,
  grant: null,
  revoke: null,
});
export const guestRole = (): Role => ({
  role: GUEST_ROLE,
  permissions: ALL,
  grant: null,
  revoke: null,
});

// --- JSON in and out ---

/** Go's len(l) > 0. */
export const hasItems = (l: List): l is string[] => l !== null && l.length > 0;

/** The user as etcd marshals it (password, grant and revoke omitted when empty). */
export function userJSON(u: User): Record<string, unknown> {
  const out: Record<string, unknown> = { user: u.user };
  if (u.password !== "") out.password = u.password;
  out.roles = u.roles;
  if (hasItems(u.grant)) out.grant = u.grant;
  if (hasItems(u.revoke)) out.revoke = u.revoke;
  return out;
}

export function roleJSON(r: Role): Record<string, unknown> {
  const out: Record<string, unknown> = {
    role: r.role,
    permissions: permissionsJSON(r.permissions),
  };
  if (r.grant) out.grant = permissionsJSON(r.grant);
  if (r.revoke) out.revoke = permissionsJSON(r.revoke);
  return out;
}

const permissionsJSON = (p: Permissions) => ({ kv: { read: p.kv.read, write: p.kv.write } });

/**
 * Go's json decoding into a struct: field names match without regard to case, unknown fields
 * are ignored, null leaves a field at its zero value, and a value of the wrong type fails.
 */
function fields(v: unknown): Map<string, unknown> {
  if (v === null) return new Map();
  if (typeof v !== "object" || Array.isArray(v)) throw new BadJSON();
  return new Map(Object.entries(v as object).map(([k, x]) => [k.toLowerCase(), x]));
}

function str(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v !== "string") throw new BadJSON();
  return v;
}

function list(v: unknown): List {
  if (v === null || v === undefined) return null;
  if (!Array.isArray(v)) throw new BadJSON();
  return v.map(str);
}

function permissions(v: unknown): Permissions {
  const kv = fields(fields(v).get("kv") ?? null);
  return { kv: { read: list(kv.get("read")), write: list(kv.get("write")) } };
}

const optionalPermissions = (v: unknown) => v === null || v === undefined ? null : permissions(v);

export function parseUser(text: string): User {
  const f = fields(parseJSON(text));
  return {
    user: str(f.get("user")),
    password: str(f.get("password")),
    roles: list(f.get("roles")),
    grant: list(f.get("grant")),
    revoke: list(f.get("revoke")),
  };
}

export function parseRole(text: string): Role {
  const f = fields(parseJSON(text));
  return {
    role: str(f.get("role")),
    permissions: permissions(f.get("permissions") ?? null),
    grant: optionalPermissions(f.get("grant")),
    revoke: optionalPermissions(f.get("revoke")),
  };
}

function parseJSON(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new BadJSON();
  }
}

// --- merges ---

/** Go's sort.Strings: byte order of the UTF-8 forms, which is code point order. */
export function sortStrings(l: string[]): string[] {
  const points = (s: string) => Array.from(s, (c) => c.codePointAt(0)!);
  return l.sort((a, b) => {
    const x = points(a), y = points(b);
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
    return x.length - y.length;
  });
}

/** The user after `change`'s password, grants and revokes (etcd's User.merge). */
export function mergeUser(old: User, change: User, hash: string): User {
  const roles = new Set(old.roles ?? []);
  for (const g of change.grant ?? []) {
    if (roles.has(g)) {
      throw new V2AuthError(409, `Granting duplicate role ${g} for user ${change.user}`);
    }
    roles.add(g);
  }
  for (const r of change.revoke ?? []) {
    if (!roles.has(r)) {
      throw new V2AuthError(409, `Revoking ungranted role ${r} for user ${change.user}`);
    }
    roles.delete(r);
  }
  const password = change.password !== "" ? hash : old.password;
  return { user: old.user, password, roles: sortStrings([...roles]), grant: null, revoke: null };
}

/** The role after `change`'s grants, then its revokes (etcd's Role.merge). */
export function mergeRole(old: Role, change: Role): Role {
  let kv = old.permissions.kv;
  if (change.grant) {
    kv = {
      read: grantList(kv.read, change.grant.kv.read, "read"),
      write: grantList(kv.write, change.grant.kv.write, "write"),
    };
  }
  if (change.revoke) {
    // Revoking what was never granted changes nothing, and is no error.
    const revoked = (l: List, gone: List) =>
      sortStrings([...new Set(l ?? [])].filter((p) => !gone?.includes(p)));
    kv = {
      read: revoked(kv.read, change.revoke.kv.read),
      write: revoked(kv.write, change.revoke.kv.write),
    };
  }
  return { role: old.role, permissions: { kv }, grant: null, revoke: null };
}

function grantList(current: List, add: List, kind: string): string[] {
  const out = new Set(current ?? []);
  for (const p of add ?? []) {
    if (out.has(p)) throw new V2AuthError(409, `Granting duplicate ${kind} permission ${p}`);
    out.add(p);
  }
  return sortStrings([...out]);
}

const sameList = (a: List, b: List) =>
  a === null || b === null ? a === b : a.length === b.length && a.every((x, i) => x === b[i]);

const samePermissions = (a: Permissions | null, b: Permissions | null) =>
  a === null || b === null
    ? a === b
    : sameList(a.kv.read, b.kv.read) && sameList(a.kv.write, b.kv.write);

/** reflect.DeepEqual on two users. */
export function sameUser(a: User, b: User): boolean {
  return a.user === b.user && a.password === b.password && sameList(a.roles, b.roles) &&
    sameList(a.grant, b.grant) && sameList(a.revoke, b.revoke);
}

/** reflect.DeepEqual on two roles. */
export function sameRole(a: Role, b: Role): boolean {
  return a.role === b.role && samePermissions(a.permissions, b.permissions) &&
    samePermissions(a.grant, b.grant) && samePermissions(a.revoke, b.revoke);
}

/** Whether permissions grant or revoke nothing (etcd's Permissions.IsEmpty; null too). */
export function isEmpty(p: Permissions | null): boolean {
  return p === null || (!hasItems(p.kv.read) && !hasItems(p.kv.write));
}

// --- access ---

/** A pattern ending in `*` matches keys with its prefix; any other only the very key. */
function simpleMatch(pattern: string, key: string): boolean {
  if (pattern.endsWith("*")) return key.startsWith(pattern.slice(0, -1));
  return pattern !== "" && key === pattern;
}

/** A recursive request needs a `*` pattern covering the key's prefix. */
function prefixMatch(pattern: string, key: string): boolean {
  return pattern.endsWith("*") && key.startsWith(pattern.slice(0, -1));
}

export function hasKeyAccess(r: Role, key: string, write: boolean, recursive: boolean): boolean {
  if (r.role === ROOT_ROLE) return true;
  const match = recursive ? prefixMatch : simpleMatch;
  return (write ? r.permissions.kv.write : r.permissions.kv.read)?.some((p) => match(p, key)) ??
    false;
}

/** etcd gives the root user the root role whatever its record says. */
export function withRootRole(u: User): User {
  if (u.user !== ROOT_USER || u.roles?.includes(ROOT_ROLE)) return u;
  return { ...u, roles: [...(u.roles ?? []), ROOT_ROLE] };
}
