// The auth store: users, roles, their key permissions, the enabled flag and the auth revision.
// It changes only by applying committed entries (every member the same way, in log order) and
// keeps everything in the backend's aux buckets, so it commits atomically with the consistent
// index. Reads are served from memory; the cache of merged permissions is dropped on change.
import type { AuxBuckets } from "../mvcc/mod.ts";
import { bytesEqual, compareBytes } from "../mvcc/mod.ts";
import { AuthError } from "./errors.ts";
import { grantsRead, grantsWrite, type Permission, RangeSet } from "./perms.ts";
import { SimpleTokens, type TokenProvider } from "./tokens.ts";
import * as persist from "./persist.ts";

export const ROOT_USER = "root";
export const ROOT_ROLE = "root";

export interface User {
  name: string;
  /** bcrypt hash; empty for a user added with no password. */
  password: string;
  /** Sorted, as etcd keeps them. */
  roles: string[];
  noPassword: boolean;
}

export interface Role {
  name: string;
  keyPermission: Permission[];
}

/** Who a request runs as, and the auth revision it was checked at (0: nobody). */
export interface AuthInfo {
  username: string;
  revision: number;
}

export const NO_AUTH: AuthInfo = Object.freeze({ username: "", revision: 0 });

export interface AuthStoreOptions {
  /** --auth-token-ttl in milliseconds (simple tokens). */
  tokenTtlMs: number;
  /** The tokens --auth-token chose; simple tokens when absent. */
  tokens?: TokenProvider;
  /** --client-cert-auth: a verified client certificate's CN names the user. */
  clientCertAuth: boolean;
  now?: () => number;
}

export class AuthStore {
  readonly tokens: TokenProvider;
  readonly clientCertAuth: boolean;
  #enabled = false;
  #revision = 1;
  #users = new Map<string, User>();
  #roles = new Map<string, Role>();
  #merged = new Map<string, { read: RangeSet; write: RangeSet }>();

  constructor(private readonly aux: () => AuxBuckets, opts: AuthStoreOptions) {
    this.tokens = opts.tokens ?? new SimpleTokens(opts.tokenTtlMs, opts.now);
    this.clientCertAuth = opts.clientCertAuth;
    this.reload();
  }

  /** Reads the whole store from the backend (at start and after a snapshot replaced it). */
  reload(): void {
    const state = persist.loadAuthState(this.aux());
    this.#enabled = state.enabled;
    this.#revision = state.revision;
    this.#users = new Map(state.users.map((u) => [u.name, u]));
    this.#roles = new Map(state.roles.map((r) => [r.name, r]));
    this.#merged.clear();
    if (!this.#enabled) this.tokens.clear();
  }

  get enabled(): boolean {
    return this.#enabled;
  }
  get revision(): number {
    return this.#revision;
  }

  user(name: string): User | undefined {
    return this.#users.get(name);
  }
  role(name: string): Role | undefined {
    return this.#roles.get(name);
  }
  userNames(): string[] {
    return [...this.#users.keys()].sort();
  }
  roleNames(): string[] {
    return [...this.#roles.keys()].sort();
  }

  hasRole(username: string, role: string): boolean {
    return this.#users.get(username)?.roles.includes(role) ?? false;
  }

  // ---- Mutations: called only from the apply path. ----

  enable(): void {
    if (this.#enabled) return;
    const root = this.#users.get(ROOT_USER);
    if (!root) throw new AuthError("rootUserNotExist");
    if (!root.roles.includes(ROOT_ROLE)) throw new AuthError("rootRoleNotExist");
    this.#enabled = true;
    persist.saveEnabled(this.aux(), true);
    this.tokens.clear();
  }

  disable(): void {
    if (!this.#enabled) return;
    this.#enabled = false;
    persist.saveEnabled(this.aux(), false);
    this.#commitRevision();
    this.tokens.clear();
  }

  userAdd(name: string, password: string, noPassword: boolean): void {
    if (name === "") throw new AuthError("userEmpty");
    if (this.#users.has(name)) throw new AuthError("userAlreadyExist");
    this.#putUser({ name, password: noPassword ? "" : password, roles: [], noPassword });
    this.#commitRevision();
  }

  userDelete(name: string): void {
    if (this.#enabled && name === ROOT_USER) throw new AuthError("invalidAuthMgmt");
    if (!this.#users.has(name)) throw new AuthError("userNotFound");
    this.#users.delete(name);
    persist.deleteUser(this.aux(), name);
    this.#commitRevision();
    this.tokens.invalidateUser(name);
  }

  userChangePassword(name: string, password: string): void {
    const user = this.#users.get(name);
    if (!user) throw new AuthError("userNotFound");
    this.#putUser({ ...user, password, noPassword: false });
    this.#commitRevision();
    this.tokens.invalidateUser(name);
  }

  userGrantRole(name: string, role: string): void {
    const user = this.#users.get(name);
    if (!user) throw new AuthError("userNotFound");
    // The root role need not exist as a role to be granted (etcd 3.4).
    if (role !== ROOT_ROLE && !this.#roles.has(role)) throw new AuthError("roleNotFound");
    if (user.roles.includes(role)) return; // etcd ignores a duplicate grant
    this.#putUser({ ...user, roles: [...user.roles, role].sort() });
    this.#commitRevision();
  }

  userRevokeRole(name: string, role: string): void {
    if (this.#enabled && name === ROOT_USER && role === ROOT_ROLE) {
      throw new AuthError("invalidAuthMgmt");
    }
    const user = this.#users.get(name);
    if (!user) throw new AuthError("userNotFound");
    if (!user.roles.includes(role)) throw new AuthError("roleNotGranted");
    this.#putUser({ ...user, roles: user.roles.filter((r) => r !== role) });
    this.#commitRevision();
  }

  roleAdd(name: string): void {
    if (name === "") throw new AuthError("roleEmpty");
    if (this.#roles.has(name)) throw new AuthError("roleAlreadyExist");
    this.#putRole({ name, keyPermission: [] });
    this.#commitRevision();
  }

  roleDelete(name: string): void {
    if (this.#enabled && name === ROOT_ROLE) throw new AuthError("invalidAuthMgmt");
    if (!this.#roles.has(name)) throw new AuthError("roleNotFound");
    this.#roles.delete(name);
    persist.deleteRole(this.aux(), name);
    // Users keep no dangling grants of a deleted role.
    for (const user of this.#users.values()) {
      if (user.roles.includes(name)) {
        this.#putUser({ ...user, roles: user.roles.filter((r) => r !== name) });
      }
    }
    this.#commitRevision();
  }

  roleGrantPermission(name: string, perm: Permission): void {
    const role = this.#roles.get(name);
    if (!role) throw new AuthError("roleNotFound");
    const same = (p: Permission) =>
      bytesEqual(p.key, perm.key) && bytesEqual(p.rangeEnd, perm.rangeEnd);
    const perms = role.keyPermission.some(same)
      // Granting the same range again replaces its type (read then write leaves write only).
      ? role.keyPermission.map((p) => same(p) ? { ...p, permType: perm.permType } : p)
      : [...role.keyPermission, perm].sort((a, b) =>
        compareBytes(a.key, b.key) || compareBytes(a.rangeEnd, b.rangeEnd)
      );
    this.#putRole({ name, keyPermission: perms });
    this.#commitRevision();
  }

  roleRevokePermission(name: string, key: Uint8Array, rangeEnd: Uint8Array): void {
    const role = this.#roles.get(name);
    if (!role) throw new AuthError("roleNotFound");
    const kept = role.keyPermission.filter((p) =>
      !(bytesEqual(p.key, key) && bytesEqual(p.rangeEnd, rangeEnd))
    );
    if (kept.length === role.keyPermission.length) throw new AuthError("permissionNotGranted");
    this.#putRole({ name, keyPermission: kept });
    this.#commitRevision();
  }

  #putUser(user: User): void {
    this.#users.set(user.name, user);
    persist.saveUser(this.aux(), user);
  }

  #putRole(role: Role): void {
    this.#roles.set(role.name, role);
    persist.saveRole(this.aux(), role);
  }

  // Every change of who may do what moves the revision: requests checked at an older one are
  // refused at apply and retried by the client with a fresh check.
  #commitRevision(): void {
    this.#revision++;
    persist.saveRevision(this.aux(), this.#revision);
    this.#merged.clear();
  }

  // ---- Permission checks (etcd's isOpPermitted / IsAdminPermitted). ----

  /** Throws unless auth is off or the user may do `kind` on [key, rangeEnd). */
  checkKeys(ai: AuthInfo, key: Uint8Array, rangeEnd: Uint8Array, kind: "read" | "write"): void {
    if (!this.#enabled) return;
    if (ai.revision === 0) throw new AuthError("userEmpty");
    if (ai.revision < this.#revision) throw new AuthError("authOldRevision");
    const user = this.#users.get(ai.username);
    if (!user) throw new AuthError("permissionDenied");
    if (user.roles.includes(ROOT_ROLE)) return;
    if (!this.#mergedPerms(user)[kind].covers(key, rangeEnd)) {
      throw new AuthError("permissionDenied");
    }
  }

  /** Throws unless auth is off or the user has the root role. */
  checkAdmin(ai: AuthInfo): void {
    if (!this.#enabled) return;
    if (ai.username === "") throw new AuthError("userEmpty");
    const user = this.#users.get(ai.username);
    if (!user) throw new AuthError("userNotFound");
    if (!user.roles.includes(ROOT_ROLE)) throw new AuthError("permissionDenied");
  }

  #mergedPerms(user: User): { read: RangeSet; write: RangeSet } {
    let merged = this.#merged.get(user.name);
    if (!merged) {
      const perms = user.roles.flatMap((r) => this.#roles.get(r)?.keyPermission ?? []);
      merged = {
        read: new RangeSet(perms.filter((p) => grantsRead(p.permType))),
        write: new RangeSet(perms.filter((p) => grantsWrite(p.permType))),
      };
      this.#merged.set(user.name, merged);
    }
    return merged;
  }

  // ---- Identities. ----

  /** The request's user at the current revision: from its token, else its certificate's CN. */
  authInfo(token: string | undefined, certCN: () => string | undefined): AuthInfo {
    if (!this.#enabled) return NO_AUTH;
    if (token !== undefined) {
      const info = this.tokens.info(token);
      if (info === undefined) throw new AuthError("invalidAuthToken");
      // A JWT was checked at the revision it carries; a simple token is as good as the store.
      return { username: info.username, revision: info.revision ?? this.#revision };
    }
    if (!this.clientCertAuth) return NO_AUTH;
    const cn = certCN();
    return cn ? { username: cn, revision: this.#revision } : NO_AUTH;
  }
}
