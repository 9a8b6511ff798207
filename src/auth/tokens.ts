// etcd's simple tokens: "<16 random letters>.<raft index of the Authenticate entry>", held in
// memory by every member (the Authenticate entry goes through Raft, so each member assigns the
// token when it applies it). A token lives --auth-token-ttl seconds past its last use; tokens
// vanish on restart and when auth is disabled, as in etcd.

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

interface Held {
  username: string;
  expiresAt: number;
}

export class SimpleTokens {
  readonly #tokens = new Map<string, Held>();
  #lastSweep = 0;

  constructor(readonly ttlMs: number, readonly now: () => number = Date.now) {}

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

  /** Drops the tokens of a user whose password changed or who was deleted. */
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
