// etcd's auth: the auth store (users, roles, permissions, enabled flag, revision) applied from
// the log, simple and JWT tokens, passwords, and the permission checks of client requests.
export {
  type AuthInfo,
  AuthStore,
  type AuthStoreOptions,
  NO_AUTH,
  type Role,
  ROOT_ROLE,
  ROOT_USER,
  type User,
} from "./store.ts";
export { type AuthState, loadAuthState, saveAuthState } from "./persist.ts";
export { applyAuth, type AuthApplyResult, type AuthRequest, toBase64 } from "./apply.ts";
export { AuthError, type AuthErrorReason } from "./errors.ts";
export {
  authInfoOf,
  type CallIdentity,
  checkAdmin,
  checkDeleteRange,
  checkLeaseRevoke,
  checkPut,
  checkRange,
  checkTxn,
  type LeaseKeys,
  watchPermitted,
} from "./check.ts";
export { checkPassword, hashPassword, passwordMatches } from "./password.ts";
export {
  type IssuedToken,
  newTokenPrefix,
  NO_TOKENS,
  SimpleTokens,
  type TokenInfo,
  type TokenProvider,
} from "./tokens.ts";
export { JwtTokens } from "./jwt.ts";
export { JWT_METHODS, type JwtKeys, loadJwtKeys } from "./jwt_keys.ts";
export {
  authTokenOptionError,
  createTokenProvider,
  TokenOptionError,
  type TokenProviderOptions,
} from "./token_option.ts";
export { type Permission, PermType, RangeSet } from "./perms.ts";
