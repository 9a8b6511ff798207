// Applying a committed auth entry: one operation on the auth store, checked against the
// proposer's identity as it stands at this point of the log (etcd's authApplierV3). Passwords
// arrive already hashed and permissions' keys as base64, so the entry is plain JSON.
import { Buffer } from "node:buffer";
import { AuthError } from "./errors.ts";
import { type AuthInfo, type AuthStore, NO_AUTH } from "./store.ts";

export type AuthRequest =
  | { op: "enable" }
  | { op: "disable" }
  | { op: "authenticate"; name: string; simpleToken: string; revision: number }
  | { op: "userAdd"; name: string; hashedPassword: string; noPassword: boolean }
  | { op: "userDelete"; name: string }
  | { op: "userChangePassword"; name: string; hashedPassword: string }
  | { op: "userGrantRole"; user: string; role: string }
  | { op: "userRevokeRole"; name: string; role: string }
  | { op: "roleAdd"; name: string }
  | { op: "roleDelete"; role: string }
  | { op: "roleGrantPermission"; name: string; permType: number; key: string; rangeEnd: string }
  | { op: "roleRevokePermission"; role: string; key: string; rangeEnd: string };

export interface AuthApplyResult {
  /** Authenticate: the token now valid on every member. */
  token?: string;
  /** Authenticate: the store changed since the password was checked; check it again. */
  stale?: boolean;
}

export const toBase64 = (b: Uint8Array) => Buffer.from(b).toString("base64");
export const fromBase64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));

/** Applies one auth entry at raft index `index`; throws etcd's error when it is refused. */
export function applyAuth(
  store: AuthStore,
  req: AuthRequest,
  proposer: AuthInfo | undefined,
  index: number,
): AuthApplyResult {
  if (req.op === "authenticate") return authenticate(store, req, index);
  // Every other operation is the root role's (once auth is enabled).
  store.checkAdmin(proposer ?? NO_AUTH);
  switch (req.op) {
    case "enable":
      store.enable();
      break;
    case "disable":
      store.disable();
      break;
    case "userAdd":
      store.userAdd(req.name, req.hashedPassword, req.noPassword);
      break;
    case "userDelete":
      store.userDelete(req.name);
      break;
    case "userChangePassword":
      store.userChangePassword(req.name, req.hashedPassword);
      break;
    case "userGrantRole":
      store.userGrantRole(req.user, req.role);
      break;
    case "userRevokeRole":
      store.userRevokeRole(req.name, req.role);
      break;
    case "roleAdd":
      store.roleAdd(req.name);
      break;
    case "roleDelete":
      store.roleDelete(req.role);
      break;
    case "roleGrantPermission":
      store.roleGrantPermission(req.name, {
        permType: req.permType,
        key: fromBase64(req.key),
        rangeEnd: fromBase64(req.rangeEnd),
      });
      break;
    case "roleRevokePermission":
      store.roleRevokePermission(req.role, fromBase64(req.key), fromBase64(req.rangeEnd));
      break;
    default:
      throw new Error(`unknown auth operation ${(req as { op: string }).op}`);
  }
  return {};
}

// The password was checked by the proposer at `revision`. A simple token is
// "<prefix>.<index>", the same on every member because both parts come from the log; a JWT is
// signed by each member on its own, and the proposer's is the one returned.
function authenticate(
  store: AuthStore,
  req: { name: string; simpleToken: string; revision: number },
  index: number,
): AuthApplyResult {
  if (!store.enabled) throw new AuthError("authNotEnabled");
  const user = store.user(req.name);
  if (!user || user.noPassword) throw new AuthError("authFailed");
  if (req.revision !== store.revision) return { stale: true };
  const token = store.tokens.issue({
    prefix: req.simpleToken,
    index,
    username: req.name,
    revision: store.revision,
  });
  return { token };
}
