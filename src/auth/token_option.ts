// --auth-token: "simple", or "jwt,pub-key=…,priv-key=…,sign-method=…". etcd refuses to start on
// any other type; etcd-ts issues simple tokens in place of JWTs (clients treat tokens as opaque).
import type { Logger } from "../log/mod.ts";

const INVALID = "auth: invalid auth options";

/** Logs as etcd does and returns the fatal text when the option names no token type we take. */
export function authTokenOptionError(option: string, log: Logger): string | undefined {
  const type = option.split(",")[0];
  if (type === "simple") return undefined;
  if (type === "jwt") {
    log.warn({
      pkg: "auth",
      text: "JWT tokens are not supported by etcd-ts; simple tokens are issued instead",
    });
    return undefined;
  }
  log.error({ pkg: "auth", text: `unknown token type: ${type}` });
  log.warn({ pkg: "etcdserver", text: `failed to create token provider,err is ${INVALID}` });
  return INVALID;
}
