// The auth store in etcd's buckets: `auth` holds authEnabled ([1] or [0]) and authRevision
// (8 bytes big-endian); `authUsers` and `authRoles` map names to marshalled authpb.User and
// authpb.Role (the user's password is its bcrypt hash).
import type { AuthState, Role, User } from "../../auth/mod.ts";
import { messages } from "../../pb/mod.ts";
import { AUTH_KEY, EtcdDbError, readU64, u64 } from "./layout.ts";

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

type Entries = [Uint8Array, Uint8Array][];

export function authRecords(state: AuthState): { auth: Entries; users: Entries; roles: Entries } {
  const auth: Entries = [[utf8.encode(AUTH_KEY.revision), u64(state.revision)]];
  // etcd writes the flag when auth is first enabled; absent reads as disabled.
  if (state.enabled) auth.push([utf8.encode(AUTH_KEY.enabled), new Uint8Array([1])]);
  const users: Entries = state.users.map((u) => [
    utf8.encode(u.name),
    messages["authpb.User"].encode({
      name: utf8.encode(u.name),
      password: utf8.encode(u.password),
      roles: u.roles,
      options: { noPassword: u.noPassword },
    }),
  ]);
  const roles: Entries = state.roles.map((r) => [
    utf8.encode(r.name),
    messages["authpb.Role"].encode({
      name: utf8.encode(r.name),
      keyPermission: r.keyPermission.map((p) => ({ ...p, permType: Number(p.permType) })),
    }),
  ]);
  return { auth, users, roles };
}

interface AuthBuckets {
  get(key: string): Uint8Array | undefined;
  users(): Iterable<[Uint8Array, Uint8Array]>;
  roles(): Iterable<[Uint8Array, Uint8Array]>;
}

export function authStateOf(b: AuthBuckets): AuthState {
  const enabled = b.get(AUTH_KEY.enabled);
  const revision = b.get(AUTH_KEY.revision);
  const users: User[] = [...b.users()].map(([k, v]) => {
    const u = decode("authpb.User", v, `user ${fromUtf8.decode(k)}`);
    return {
      name: fromUtf8.decode(u.name),
      password: fromUtf8.decode(u.password),
      roles: [...u.roles].sort(),
      noPassword: u.options?.noPassword ?? false,
    };
  });
  const roles: Role[] = [...b.roles()].map(([k, v]) => {
    const r = decode("authpb.Role", v, `role ${fromUtf8.decode(k)}`);
    const keyPermission = r.keyPermission.map((p) => ({ ...p, permType: p.permType as number }));
    return { name: fromUtf8.decode(r.name), keyPermission };
  });
  return {
    enabled: enabled !== undefined && enabled.length === 1 && enabled[0] === 1,
    // etcd moves a store without a revision to 1 when it opens it.
    revision: revision ? Number(readU64(revision, "authRevision")) || 1 : 1,
    users,
    roles,
  };
}

function decode<K extends "authpb.User" | "authpb.Role">(name: K, v: Uint8Array, what: string) {
  try {
    return messages[name].decode(v);
  } catch (err) {
    throw new EtcdDbError(`${what}: ${(err as Error).message}`);
  }
}
