// etcdserverpb.Auth over gRPC: each call is one operation of the member's AuthApi.
import type { CallContext, GrpcServer } from "../grpc/mod.ts";
import { toBase64 } from "../../auth/mod.ts";
import type { AuthApi, AuthChange } from "../../server/mod.ts";
import type { Gate } from "./gate.ts";

export function addAuthService(grpc: GrpcServer, gate: Gate, auth: AuthApi): void {
  const change = async (ctx: CallContext, c: AuthChange) => {
    await gate.serving(ctx.metadata);
    return await auth.change(ctx, ctx.signal, c);
  };
  const read = async <T>(ctx: CallContext, f: () => Promise<T>) => {
    await gate.serving(ctx.metadata);
    return await f();
  };

  grpc.addService("etcdserverpb.Auth", {
    AuthEnable: (_req, ctx) => change(ctx, { op: "enable" }),
    AuthDisable: (_req, ctx) => change(ctx, { op: "disable" }),
    Authenticate: (req, ctx) =>
      read(ctx, () => auth.authenticate(ctx, ctx.signal, req.name, req.password)),
    UserAdd: (req, ctx) =>
      change(ctx, {
        op: "userAdd",
        name: req.name,
        password: req.password,
        noPassword: req.options?.noPassword ?? false,
      }),
    UserChangePassword: (req, ctx) =>
      change(ctx, { op: "userChangePassword", name: req.name, password: req.password }),
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
    UserGet: (req, ctx) => read(ctx, () => auth.userGet(ctx, req.name)),
    RoleGet: (req, ctx) => read(ctx, () => auth.roleGet(ctx, req.role)),
    UserList: (_req, ctx) => read(ctx, () => auth.userList(ctx)),
    RoleList: (_req, ctx) => read(ctx, () => auth.roleList(ctx)),
  });
}
