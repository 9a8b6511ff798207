// --auth-token: "simple", "jwt,pub-key=…,priv-key=…,sign-method=…,ttl=…", or "" (no tokens at
// all). Anything else, or a JWT option etcd 3.4 would not load, stops the member with etcd's
// log lines and error (etcd's NewTokenProvider and jwtOptions).
import type { Logger } from "../log/mod.ts";
import { parseGoDuration } from "../config/mod.ts";
import { JwtTokens } from "./jwt.ts";
import { JWT_METHODS, JwtKeyError, loadJwtKeys, UNSUPPORTED_METHODS } from "./jwt_keys.ts";
import { NO_TOKENS, SimpleTokens, type TokenProvider } from "./tokens.ts";

const INVALID = "auth: invalid auth options";
const INVALID_METHOD = "auth: invalid auth signature method";
const DEFAULT_JWT_TTL_MS = 5 * 60 * 1000;
const KNOWN_JWT_OPTIONS = new Set(["sign-method", "pub-key", "priv-key", "ttl"]);

export interface TokenProviderOptions {
  /** --auth-token-ttl in milliseconds, for simple tokens. */
  simpleTtlMs: number;
  now?: () => number;
  /** Where etcd's lines go when the option is first checked; silent when absent. */
  log?: Logger;
  readFile?: (path: string) => Uint8Array;
}

/** The option is one etcd would refuse: the message is the member's fatal error. */
export class TokenOptionError extends Error {
  override name = "TokenOptionError";
}

type Fail = (err: string) => never;

/** The token provider --auth-token names; throws TokenOptionError as etcd fails to start. */
export function createTokenProvider(option: string, opts: TokenProviderOptions): TokenProvider {
  const { log } = opts;
  const fail: Fail = (err) => {
    log?.warn({ pkg: "etcdserver", text: `failed to create token provider,err is ${err}` });
    throw new TokenOptionError(err);
  };
  const decomposed = decompose(option, log);
  if (!decomposed) return fail(INVALID);
  const [type, params] = decomposed;
  switch (type) {
    case "simple":
      return new SimpleTokens(opts.simpleTtlMs, opts.now);
    case "jwt":
      return jwtTokens(params, opts, fail);
    case "":
      return NO_TOKENS;
    default:
      log?.error({ pkg: "auth", text: `unknown token type: ${type}` });
      return fail(INVALID);
  }
}

/** Checks the option at start-up: logs as etcd does and returns the fatal text, if any. */
export function authTokenOptionError(option: string, log: Logger): string | undefined {
  try {
    createTokenProvider(option, { simpleTtlMs: 0, log });
    return undefined;
  } catch (err) {
    if (err instanceof TokenOptionError) return err.message;
    throw err;
  }
}

// "type,k=v,k=v": every option exactly one '=', no key twice.
function decompose(option: string, log?: Logger): [string, Map<string, string>] | undefined {
  const [type, ...rest] = option.split(",");
  const params = new Map<string, string>();
  for (const opt of rest) {
    const pair = opt.split("=");
    if (pair.length !== 2) {
      log?.error({ pkg: "auth", text: `invalid token specific option: ${option}` });
      return undefined;
    }
    if (params.has(pair[0])) {
      log?.error({
        pkg: "auth",
        text: `invalid token specific option, duplicated parameters (${pair[0]}): ${option}`,
      });
      return undefined;
    }
    params.set(pair[0], pair[1]);
  }
  return [type, params];
}

// etcd's jwtOptions.Parse order: ttl, public key file, private key file, sign method.
function jwtTokens(params: Map<string, string>, opts: TokenProviderOptions, fail: Fail) {
  const { log } = opts;
  const problem = (err: string): never => {
    log?.error({ pkg: "auth", text: `problem loading JWT options: ${err}` });
    return fail(INVALID);
  };
  let ttlMs = DEFAULT_JWT_TTL_MS;
  const ttl = params.get("ttl") ?? "";
  if (ttl !== "") {
    const parsed = parseGoDuration(ttl);
    ttlMs = typeof parsed === "number" ? parsed : problem(parsed.error);
  }
  const read = (name: string) => {
    const path = params.get(name) ?? "";
    return path === "" ? undefined : readKeyFile(path, opts.readFile, problem);
  };
  const pub = read("pub-key");
  const priv = read("priv-key");
  const name = params.get("sign-method") ?? "";
  const method = JWT_METHODS[name];
  if (!method && !(name in UNSUPPORTED_METHODS)) problem(INVALID_METHOD);
  const unknown = [...params.keys()].filter((k) => !KNOWN_JWT_OPTIONS.has(k));
  if (unknown.length > 0) {
    log?.warn({ pkg: "auth", text: `unknown JWT options: [${unknown.join(" ")}]` });
  }
  if (!method) return fail(`unsupported signing method: ${UNSUPPORTED_METHODS[name]}`);
  try {
    return new JwtTokens(loadJwtKeys(method, priv, pub), ttlMs, opts.now);
  } catch (err) {
    if (err instanceof JwtKeyError) return fail(err.message);
    throw err;
  }
}

// Go's os.ReadFile error texts for the usual failures.
function readKeyFile(
  path: string,
  readFile: ((path: string) => Uint8Array) | undefined,
  problem: (err: string) => never,
): Uint8Array {
  try {
    return (readFile ?? Deno.readFileSync)(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) problem(`open ${path}: no such file or directory`);
    if (err instanceof Deno.errors.PermissionDenied) problem(`open ${path}: permission denied`);
    if (err instanceof Deno.errors.IsADirectory) problem(`read ${path}: is a directory`);
    return problem(err instanceof Error ? err.message : String(err));
  }
}
