// The auth store's own errors, with etcd's auth messages. The client API turns them into etcd's
// client-facing errors (src/api/errors.ts); nothing here knows of gRPC.

const MESSAGES = {
  rootUserNotExist: "auth: root user does not exist",
  rootRoleNotExist: "auth: root user does not have root role",
  userAlreadyExist: "auth: user already exists",
  userEmpty: "auth: user name is empty",
  userNotFound: "auth: user not found",
  roleAlreadyExist: "auth: role already exists",
  roleNotFound: "auth: role not found",
  roleEmpty: "auth: role name is empty",
  authFailed: "auth: authentication failed, invalid user ID or password",
  permissionDenied: "auth: permission denied",
  roleNotGranted: "auth: role is not granted to the user",
  permissionNotGranted: "auth: permission is not granted to the role",
  authNotEnabled: "auth: authentication is not enabled",
  authOldRevision: "auth: revision in header is old",
  invalidAuthToken: "auth: invalid auth token",
  invalidAuthMgmt: "auth: invalid auth management",
  verifyOnly: "auth: token signing attempted with verify-only key",
  // golang-jwt's text for an ECDSA key of another size than the sign method's.
  invalidKey: "key is invalid",
} as const;

export type AuthErrorReason = keyof typeof MESSAGES;

export class AuthError extends Error {
  override name = "AuthError";
  constructor(readonly reason: AuthErrorReason) {
    super(MESSAGES[reason]);
  }
}
