// etcdserverpb.Auth over gRPC. Changes go through Raft as auth entries (checked for the root
// role where they are applied); passwords are hashed here first, so the entry carries the hash.
// Authenticate checks the password here and proposes the token, so every member learns it.
// User/role reads are answered from this member's auth store after a linearizable read.
import type { CallContext, GrpcServer } from "../grpc/mod.ts";
import type { EtcdServer } from "../../server/mod.ts";
import { Errors } from "../../server/mod.ts";
import {
  authInfoOf,
  type AuthRequest,
  checkAdmin,
  checkPassword,
  hashPassword,
  newTokenPrefix,
  toBase64,
} from "../../auth/mod.ts";

// Authenticate re-checks the password when the store changed while it was being checked.
const AUTHENTICATE_ATTEMPTS = 10;

export function addAuthService(grpc: GrpcServer, server: EtcdServer, bcryptCost: number): void {
  const store = server.auth;

  const propose = async (ctx: CallContext, req: AuthRequest) => {
    const res = await server.propose("auth", req, ctx.signal, authInfoOf(store, ctx));
    if (res.error) throw res.error;
    return res.response;
  };
  const change = async (ctx: CallContext, req: AuthRequest) => {
    await server.serving(ctx.metadata);
    await propose(ctx, req);
    return { header: server.header() };
  };
  // Hashing costs tens of milliseconds: refuse a non-root caller before paying for it.
  const hashFor = async (ctx: CallContext, password: string) => {
    await server.serving(ctx.metadata);
    checkAdmin(store, ctx);
    return await hashPassword(password, bcryptCost);
  };
  const read = async (ctx: CallContext) => {
    await server.serving(ctx.metadata);
    await server.linearizableRead();
    return authInfoOf(store, ctx);
  };

  grpc.addService("etcdserverpb.Auth", {
    AuthEnable: (_req, ctx) => change(ctx, { op: "enable" }),
    AuthDisable: (_req, ctx) => change(ctx, { op: "disable" }),
    Authenticate: async (req, ctx) => {
      await server.serving(ctx.metadata);
      await server.linearizableRead();
      for (let i = 0; i < AUTHENTICATE_ATTEMPTS; i++) {
        const revision = await checkPassword(store, req.name, req.password);
        const res = await propose(ctx, {
          op: "authenticate",
          name: req.name,
          simpleToken: newTokenPrefix(),
          revision,
        });
        if (!res.stale) return { header: server.header(), token: res.token };
      }
      throw Errors.authOldRevision();
    },
    UserAdd: async (req, ctx) => {
      const noPassword = req.options?.noPassword ?? false;
      const hashedPassword = noPassword ? "" : await hashFor(ctx, req.password);
      return await change(ctx, { op: "userAdd", name: req.name, hashedPassword, noPassword });
    },
    UserChangePassword: async (req, ctx) => {
      const hashedPassword = await hashFor(ctx, req.password);
      return await change(ctx, { op: "userChangePassword", name: req.name, hashedPassword });
    },
    UserDelete: (req, ctx) => change(ctx, { op: "userDelete", name: req.name }),
    UserGrantRole: (req, ctx) =>
      change(ctx, { op: "userGrantRole", user: req.user, role: req.role }),
    UserRevokeRole: (req, ctx) =>
      change(ctx, { op: "userRevokeRole", name: req.name, role: req.role }),
    RoleAdd: (req, ctx) => change(ctx, { op: "roleAdd", name: req.name }),
    RoleDelete: (req, ctx) => change(ctx, { op: "roleDelete", role: req.role }),
    RoleGrantPermission: (req, ctx) =>
      change(ctx, {
        op: "roleGrantPermission",
        name: req.name,
        permType: req.perm?.permType ?? 0,
        key: toBase64(req.perm?.key ?? new Uint8Array()),
        rangeEnd: toBase64(req.perm?.rangeEnd ?? new Uint8Array()),
      }),
    RoleRevokePermission: (req, ctx) =>
      change(ctx, {
        op: "roleRevokePermission",
        role: req.role,
        key: toBase64(req.key),
        rangeEnd: toBase64(req.rangeEnd),
      }),
    // A user may read itself, and the roles it has; everything else is root's.
    UserGet: async (req, ctx) => {
      const ai = await read(ctx);
      if (ai.username !== req.name) store.checkAdmin(ai);
      const user = store.user(req.name);
      if (!user) throw Errors.userNotFound();
      return { header: server.header(), roles: user.roles };
    },
    RoleGet: async (req, ctx) => {
      const ai = await read(ctx);
      if (!store.hasRole(ai.username, req.role)) store.checkAdmin(ai);
      const role = store.role(req.role);
      if (!role) throw Errors.roleNotFound();
      const perm = role.keyPermission.map((p) => ({ ...p, permType: p.permType as number }));
      return { header: server.header(), perm };
    },
    UserList: async (_req, ctx) => {
      store.checkAdmin(await read(ctx));
      return { header: server.header(), users: store.userNames() };
    },
    RoleList: async (_req, ctx) => {
      store.checkAdmin(await read(ctx));
      return { header: server.header(), roles: store.roleNames() };
    },
  });
}
