// Auth tokens: what an applied Authenticate entry hands out, and who a token speaks for. etcd's
// simple tokens are "<16 random letters>.<raft index of the Authenticate entry>", held in
// memory by every member (the Authenticate entry goes through Raft, so each member assigns the
// token when it applies it). A token lives --auth-token-ttl seconds past its last use; tokens
// vanish on restart and when auth is disabled, as in etcd. JWTs are in jwt.ts.
import { AuthError } from "./errors.ts";

const LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const PREFIX_LENGTH = 16;
// Expired tokens are swept at most this often (lookups drop an expired token at once).
const SWEEP_INTERVAL_MS = 10_000;

/** The random part of a token, chosen by the member that proposes the Authenticate entry. */
export function newTokenPrefix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(PREFIX_LENGTH));
  let s = "";
  // 256 is not a multiple of 52: the slight bias is harmless for an unguessable handle.
  for (const b of bytes) s += LETTERS[b % LETTERS.length];
  return s;
}

export function isTokenPrefix(s: unknown): s is string {
  return typeof s === "string" && s.length === PREFIX_LENGTH &&
    [...s].every((c) => LETTERS.includes(c));
}

/** An applied Authenticate entry: its proposer's random prefix, its index, who and when. */
export interface IssuedToken {
  prefix: string;
  index: number;
  username: string;
  /** The auth revision the password was checked at. */
  revision: number;
}

/** Who a token speaks for; a token without a revision is checked at the current one. */
export interface TokenInfo {
  username: string;
  revision?: number;
}

/** etcd's TokenProvider: the kind of token --auth-token chose. */
export interface TokenProvider {
  /** The token of an applied Authenticate entry; throws etcd's error when none can be made. */
  issue(entry: IssuedToken): string;
  info(token: string): TokenInfo | undefined;
  invalidateUser(username: string): void;
  /** Auth was enabled or disabled. */
  clear(): void;
}

/** --auth-token '': no token is ever valid, and authenticating always fails (etcd's nop). */
export const NO_TOKENS: TokenProvider = {
  issue: () => {
    throw new AuthError("authFailed");
  },
  info: () => undefined,
  invalidateUser: () => {},
  clear: () => {},
};

interface Held {
  username: string;
  expiresAt: number;
}

export class SimpleTokens implements TokenProvider {
  readonly #tokens = new Map<string, Held>();
  #lastSweep = 0;

  constructor(readonly ttlMs: number, readonly now: () => number = Date.now) {}

  issue(entry: IssuedToken): string {
    if (!isTokenPrefix(entry.prefix)) throw new AuthError("authFailed");
    const token = `${entry.prefix}.${entry.index}`;
    this.assign(token, entry.username);
    return token;
  }

  info(token: string): TokenInfo | undefined {
    const username = this.username(token);
    return username === undefined ? undefined : { username };
  }

  assign(token: string, username: string): void {
    const now = this.now();
    this.#sweep(now);
    this.#tokens.set(token, { username, expiresAt: now + this.ttlMs });
  }

  /** The user a live token belongs to (its lifetime restarts), or undefined. */
  username(token: string): string | undefined {
    const held = this.#tokens.get(token);
    if (!held) return undefined;
    const now = this.now();
    if (held.expiresAt <= now) {
      this.#tokens.delete(token);
      return undefined;
    }
    held.expiresAt = now + this.ttlMs;
    return held.username;
  }

  invalidateUser(username: string): void {
    for (const [token, held] of this.#tokens) {
      if (held.username === username) this.#tokens.delete(token);
    }
  }

  clear(): void {
    this.#tokens.clear();
  }

  get size(): number {
    return this.#tokens.size;
  }

  #sweep(now: number): void {
    if (now - this.#lastSweep < SWEEP_INTERVAL_MS) return;
    this.#lastSweep = now;
    for (const [token, held] of this.#tokens) {
      if (held.expiresAt <= now) this.#tokens.delete(token);
    }
  }
}
