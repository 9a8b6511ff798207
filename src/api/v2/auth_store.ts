// etcd's v2 auth store (etcdserver/api/v2auth): users and roles kept as JSON in the member's v2
// auth records (/users/<name>, /roles/<name>, /enabled), changed through v2 proposals so that
// every member agrees. Reads are local, except where etcd reads through Raft (QGET) before a
// change. Passwords are bcrypt hashes made here, before proposing, at Go's default cost.
import { hashPassword, passwordMatches } from "../../auth/mod.ts";
import { ErrorCode, V2Error, type V2Request } from "../../v2store/mod.ts";
import {
  GUEST_ROLE,
  guestRole,
  mergeRole,
  mergeUser,
  parseRole,
  parseUser,
  type Role,
  roleJSON,
  ROOT_ROLE,
  ROOT_USER,
  rootRole,
  sameRole,
  sameUser,
  sortStrings,
  type User,
  userJSON,
  V2AuthError,
  withRootRole,
} from "./auth_types.ts";
import type { V2Deps } from "./deps.ts";
import { unwrap } from "./keys.ts";

/** bcrypt.DefaultCost: etcd's v2 auth hashes at it whatever --bcrypt-cost says. */
const BCRYPT_COST = 10;

const isCode = (err: unknown, code: number) => err instanceof V2Error && err.errorCode === code;

export class V2AuthStore {
  constructor(readonly deps: V2Deps) {}

  // --- the records ---

  /** A record's value; a missing one is etcd's 404 with `missing` for a message. */
  async #value(path: string, quorum: boolean, missing: string): Promise<string> {
    try {
      const e = quorum
        ? unwrap(await this.deps.apply({ method: "QGET", path, auth: true }))
        : await this.deps.authStore.get(path);
      return e.node?.value ?? "";
    } catch (err) {
      if (isCode(err, ErrorCode.KeyNotFound)) throw new V2AuthError(404, missing);
      throw err;
    }
  }

  /** Proposes a change to the records; the store error `code`, if given, becomes `error`. */
  async #propose(
    req: Omit<V2Request, "auth">,
    expected?: { code: number; error: V2AuthError },
  ): Promise<void> {
    try {
      unwrap(await this.deps.apply({ ...req, auth: true }));
    } catch (err) {
      if (expected && isCode(err, expected.code)) throw expected.error;
      throw err;
    }
  }

  /** The names under a directory of records, sorted; none when it was never made. */
  async #names(dir: string): Promise<string[]> {
    try {
      const nodes = (await this.deps.authStore.get(dir)).node?.nodes ?? [];
      return nodes.map((n) => n.key!.slice(n.key!.lastIndexOf("/") + 1));
    } catch (err) {
      if (isCode(err, ErrorCode.KeyNotFound)) return [];
      throw err;
    }
  }

  // --- users ---

  async allUsers(): Promise<string[]> {
    return sortStrings(await this.#names("/users"));
  }

  async getUser(name: string, quorum = false): Promise<User> {
    const value = await this.#value(`/users/${name}`, quorum, `User ${name} does not exist.`);
    return withRootRole(parseUser(value));
  }

  /** Creates the user, or updates it when it exists: the answer says which. */
  async createOrUpdateUser(u: User): Promise<{ user: User; created: boolean }> {
    const exists = await this.getUser(u.user, true).then(() => true, () => false);
    if (exists) return { user: await this.updateUser(u), created: false };
    return { user: await this.createUser(u), created: true };
  }

  async createUser(u: User): Promise<User> {
    if (u.user === ROOT_USER) u = withRootRole(u);
    if (u.password === "") {
      throw new V2AuthError(400, `Cannot create user ${u.user} with an empty password`);
    }
    const stored = { ...u, password: await hashPassword(u.password, BCRYPT_COST) };
    const value = JSON.stringify(userJSON(stored));
    await this.#propose({ method: "PUT", path: `/users/${u.user}`, value, prevExist: false }, {
      code: ErrorCode.NodeExist,
      error: new V2AuthError(409, `User ${u.user} already exists.`),
    });
    return stored;
  }

  async deleteUser(name: string): Promise<void> {
    if (name === ROOT_USER && await this.authEnabled()) {
      throw new V2AuthError(403, "Cannot delete root user while auth is enabled.");
    }
    await this.#propose({ method: "DELETE", path: `/users/${name}` }, {
      code: ErrorCode.KeyNotFound,
      error: new V2AuthError(404, `User ${name} does not exist`),
    });
  }

  async updateUser(change: User): Promise<User> {
    const old = await this.getUser(change.user, true);
    const hash = change.password === "" ? "" : await hashPassword(change.password, BCRYPT_COST);
    const merged = mergeUser(old, change, hash);
    if (sameUser(old, merged)) {
      throw new V2AuthError(400, "User not updated. Use grant/revoke/password to update the user.");
    }
    const value = JSON.stringify(userJSON(merged));
    await this.#propose({ method: "PUT", path: `/users/${change.user}`, value, prevExist: true });
    return merged;
  }

  async checkPassword(u: User, password: string): Promise<boolean> {
    return await passwordMatches(password, u.password);
  }

  // --- roles ---

  async allRoles(): Promise<string[]> {
    return sortStrings([ROOT_ROLE, ...await this.#names("/roles")]);
  }

  async getRole(name: string, quorum = false): Promise<Role> {
    if (name === ROOT_ROLE) return rootRole();
    return parseRole(await this.#value(`/roles/${name}`, quorum, `Role ${name} does not exist.`));
  }

  async createRole(r: Role): Promise<void> {
    if (r.role === ROOT_ROLE) throw rootRoleError(r.role);
    const value = JSON.stringify(roleJSON(r));
    await this.#propose({ method: "PUT", path: `/roles/${r.role}`, value, prevExist: false }, {
      code: ErrorCode.NodeExist,
      error: new V2AuthError(409, `Role ${r.role} already exists.`),
    });
  }

  async deleteRole(name: string): Promise<void> {
    if (name === ROOT_ROLE) throw rootRoleError(name);
    await this.#propose({ method: "DELETE", path: `/roles/${name}` }, {
      code: ErrorCode.KeyNotFound,
      error: new V2AuthError(404, `Role ${name} doesn't exist.`),
    });
  }

  async updateRole(change: Role): Promise<Role> {
    if (change.role === ROOT_ROLE) throw rootRoleError(change.role);
    const old = await this.getRole(change.role, true);
    const merged = mergeRole(old, change);
    if (sameRole(old, merged)) {
      throw new V2AuthError(400, "Role not updated. Use grant/revoke to update the role.");
    }
    const value = JSON.stringify(roleJSON(merged));
    await this.#propose({ method: "PUT", path: `/roles/${change.role}`, value, prevExist: true });
    return merged;
  }

  // --- the switch ---

  /** Read locally on every request, as etcd's detectAuth does. */
  async authEnabled(): Promise<boolean> {
    try {
      const e = await this.deps.authStore.get("/enabled");
      return JSON.parse(e.node?.value ?? "") === true;
    } catch {
      return false;
    }
  }

  async enableAuth(): Promise<void> {
    if (await this.authEnabled()) throw new V2AuthError(409, "already enabled");
    try {
      await this.getUser(ROOT_USER, true);
    } catch {
      throw new V2AuthError(409, "No root user available, please create one");
    }
    const hasGuest = await this.getRole(GUEST_ROLE, true).then(() => true, () => false);
    if (!hasGuest) await this.createRole(guestRole());
    await this.#propose({ method: "PUT", path: "/enabled", value: "true" });
  }

  async disableAuth(): Promise<void> {
    if (!(await this.authEnabled())) throw new V2AuthError(409, "already disabled");
    await this.#propose({ method: "PUT", path: "/enabled", value: "false" });
  }
}

const rootRoleError = (name: string) =>
  new V2AuthError(403, `Cannot modify role ${name}: is root role.`);
