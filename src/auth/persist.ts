// How the auth store keeps its state in the backend's aux buckets: `auth` (the enabled flag and
// the auth revision), `authUsers` and `authRoles` (one JSON value per name). Everything that
// reads or writes that layout goes through here: the store itself, and the conversion to and
// from etcd's backend.
import { Buffer } from "node:buffer";
import type { AuxBuckets } from "../mvcc/mod.ts";
import type { Role, User } from "./store.ts";

const META = "auth";
const USERS = "authUsers";
const ROLES = "authRoles";

/** Everything the auth store holds. */
export interface AuthState {
  enabled: boolean;
  revision: number;
  users: User[];
  roles: Role[];
}

interface RoleJSON {
  name: string;
  keyPermission: { permType: number; key: string; rangeEnd: string }[];
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();
const json = (v: unknown) => utf8.encode(JSON.stringify(v));
const parse = <T>(b: Uint8Array): T => JSON.parse(fromUtf8.decode(b)) as T;

function roleToJSON(r: Role): RoleJSON {
  return {
    name: r.name,
    keyPermission: r.keyPermission.map((p) => ({
      permType: p.permType,
      key: b64(p.key),
      rangeEnd: b64(p.rangeEnd),
    })),
  };
}

function roleFromJSON(j: RoleJSON): Role {
  return {
    name: j.name,
    keyPermission: j.keyPermission.map((p) => ({
      permType: p.permType,
      key: unb64(p.key),
      rangeEnd: unb64(p.rangeEnd),
    })),
  };
}

export function loadAuthState(aux: AuxBuckets): AuthState {
  const enabled = aux.get(META, "enabled");
  const revision = aux.get(META, "revision");
  return {
    enabled: enabled !== undefined && fromUtf8.decode(enabled) === "1",
    // etcd starts a new store at revision 1: revision 0 means "no user" in permission checks.
    revision: revision ? Number(fromUtf8.decode(revision)) : 1,
    users: aux.list(USERS).map(([, v]) => parse<User>(v)),
    roles: aux.list(ROLES).map(([, v]) => roleFromJSON(parse(v))),
  };
}

/** Writes a whole state into buckets that hold none yet (a backend being imported). */
export function saveAuthState(aux: AuxBuckets, state: AuthState): void {
  saveEnabled(aux, state.enabled);
  saveRevision(aux, state.revision);
  for (const u of state.users) saveUser(aux, u);
  for (const r of state.roles) saveRole(aux, r);
}

export function saveEnabled(aux: AuxBuckets, enabled: boolean): void {
  aux.put(META, "enabled", utf8.encode(enabled ? "1" : "0"));
}

export function saveRevision(aux: AuxBuckets, revision: number): void {
  aux.put(META, "revision", utf8.encode(String(revision)));
}

export function saveUser(aux: AuxBuckets, user: User): void {
  aux.put(USERS, user.name, json(user));
}

export function deleteUser(aux: AuxBuckets, name: string): void {
  aux.delete(USERS, name);
}

export function saveRole(aux: AuxBuckets, role: Role): void {
  aux.put(ROLES, role.name, json(roleToJSON(role)));
}

export function deleteRole(aux: AuxBuckets, name: string): void {
  aux.delete(ROLES, name);
}
