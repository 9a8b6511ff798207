// etcd's Auth operations on one member. Changes go through Raft as etcd 3.4 proposes them (its
// messages, a new password in clear: every member hashes it where it applies the entry, after
// checking the proposer is root). Authenticate checks the password here and proposes the token,
// so every member learns it; if the auth store changed meanwhile it tries again, as etcd does.
// User and role reads are answered from this member's auth store after a linearizable read.
import { Errors } from "../errors/mod.ts";
import {
  AuthError,
  type AuthInfo,
  authInfoOf,
  type AuthRequest,
  type AuthStore,
  type CallIdentity,
  checkAdmin,
  checkPassword,
  newTokenPrefix,
  watchPermitted,
} from "../auth/mod.ts";
import type { HeaderOf } from "./header.ts";
import { authEntryOf } from "./auth_entry.ts";
import type { AuthEntry } from "./proposal.ts";
import type { Propose } from "./proposer.ts";
import type { ReadBarrier } from "./reads.ts";

// Authenticate re-checks the password when the store changed while it was being checked.
const AUTHENTICATE_ATTEMPTS = 10;

export interface AuthApiDeps {
  store: AuthStore;
  proposer: Propose;
  reads: ReadBarrier;
  header: HeaderOf;
}

/** An auth change as its call describes it; passwords still in clear. */
export type AuthChange =
  | Exclude<AuthRequest, { op: "authenticate" | "userAdd" | "userChangePassword" }>
  | { op: "userAdd"; name: string; password: string; noPassword: boolean }
  | { op: "userChangePassword"; name: string; password: string };

export class AuthApi {
  constructor(readonly deps: AuthApiDeps) {}

  /** The caller's identity: its token, or its client certificate's CN. */
  identify(call: CallIdentity): AuthInfo {
    return authInfoOf(this.deps.store, call);
  }

  /** Membership changes and auth management are the root role's. */
  checkAdmin(call: CallIdentity): AuthInfo {
    return checkAdmin(this.deps.store, call);
  }

  watchPermitted(call: CallIdentity, r: { key: Uint8Array; rangeEnd?: Uint8Array }): boolean {
    return watchPermitted(this.deps.store, call, r);
  }

  async authenticate(call: CallIdentity, signal: AbortSignal, name: string, password: string) {
    const { store, reads, header } = this.deps;
    await reads.linearizableRead();
    for (let i = 0; i < AUTHENTICATE_ATTEMPTS; i++) {
      const revision = await checkPassword(store, name, password);
      // The entry never holds the password: it was checked here.
      const res = await this.#propose(call, signal, {
        authenticate: { name, password: "", simpleToken: newTokenPrefix() },
      });
      if (revision === store.revision) return { header: header(), token: res.token };
    }
    throw Errors.authOldRevision();
  }

  /** Proposes a change, checked for the root role where it is applied. */
  async change(call: CallIdentity, signal: AbortSignal, change: AuthChange) {
    await this.#propose(call, signal, authEntryOf(change));
    return { header: this.deps.header() };
  }

  #propose(call: CallIdentity, signal: AbortSignal, req: AuthEntry) {
    return this.deps.proposer.propose("auth", req, { signal, auth: this.identify(call) });
  }

  // A user may read itself, and the roles it has; everything else is root's.
  async userGet(call: CallIdentity, name: string) {
    const { store, header } = this.deps;
    const ai = await this.#read(call);
    if (ai.username !== name) store.checkAdmin(ai);
    const user = store.user(name);
    if (!user) throw new AuthError("userNotFound");
    return { header: header(), roles: user.roles };
  }

  async roleGet(call: CallIdentity, name: string) {
    const { store, header } = this.deps;
    const ai = await this.#read(call);
    if (!store.hasRole(ai.username, name)) store.checkAdmin(ai);
    const role = store.role(name);
    if (!role) throw new AuthError("roleNotFound");
    const perm = role.keyPermission.map((p) => ({ ...p, permType: p.permType as number }));
    return { header: header(), perm };
  }

  async userList(call: CallIdentity) {
    this.deps.store.checkAdmin(await this.#read(call));
    return { header: this.deps.header(), users: this.deps.store.userNames() };
  }

  async roleList(call: CallIdentity) {
    this.deps.store.checkAdmin(await this.#read(call));
    return { header: this.deps.header(), roles: this.deps.store.roleNames() };
  }

  async #read(call: CallIdentity): Promise<AuthInfo> {
    await this.deps.reads.linearizableRead();
    return this.identify(call);
  }
}
