// Invariant assertions, on in production: where a broken invariant would corrupt data (a log
// append out of order, an applied index going back), the member stops at once rather than
// persist or acknowledge anything after it. The error says which invariant, in a line.

/** A broken invariant: never a client's error, always a bug or corrupted state. */
export class AssertionError extends Error {
  override name = "AssertionError";
}

export function assert(condition: boolean, invariant: string): asserts condition {
  if (!condition) throw new AssertionError(`invariant broken: ${invariant}`);
}
