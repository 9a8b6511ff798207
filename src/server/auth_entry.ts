// An auth change as etcd's message in its InternalRaftRequest field: what AuthApi proposes (a
// new password in clear), and what an old entry held (its password already a bcrypt hash).
import { type AuthRequest, fromBase64 } from "../auth/mod.ts";
import type { AuthChange } from "./auth.ts";
import type { AuthEntry } from "./proposal.ts";

export function authEntryOf(c: AuthChange | AuthRequest): AuthEntry {
  switch (c.op) {
    case "enable":
      return { authEnable: {} };
    case "disable":
      return { authDisable: {} };
    case "authenticate":
      return { authenticate: { name: c.name, password: "", simpleToken: c.simpleToken } };
    case "userAdd": {
      const password = "password" in c ? c.password : c.hashedPassword;
      return { authUserAdd: { name: c.name, password, options: { noPassword: c.noPassword } } };
    }
    case "userChangePassword": {
      const password = "password" in c ? c.password : c.hashedPassword;
      return { authUserChangePassword: { name: c.name, password } };
    }
    case "userDelete":
      return { authUserDelete: { name: c.name } };
    case "userGrantRole":
      return { authUserGrantRole: { user: c.user, role: c.role } };
    case "userRevokeRole":
      return { authUserRevokeRole: { name: c.name, role: c.role } };
    case "roleAdd":
      return { authRoleAdd: { name: c.name } };
    case "roleDelete":
      return { authRoleDelete: { role: c.role } };
    case "roleGrantPermission": {
      const perm = {
        permType: c.permType,
        key: fromBase64(c.key),
        rangeEnd: fromBase64(c.rangeEnd),
      };
      return { authRoleGrantPermission: { name: c.name, perm } };
    }
    case "roleRevokePermission": {
      const { role, key, rangeEnd } = c;
      return {
        authRoleRevokePermission: { role, key: fromBase64(key), rangeEnd: fromBase64(rangeEnd) },
      };
    }
  }
}
