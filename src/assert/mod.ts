// Invariant assertions, on in production: where a broken invariant would corrupt data (a log
// append out of order, an applied index going back), the member stops at once rather than
// persist or acknowledge anything after it. The error says which invariant, in a line.
//
// A running member registers the handler that stops it (etcd's panic): it runs where the
// invariant breaks, before anyone could catch the error and carry on with the broken state.

/** A broken invariant: never a client's error, always a bug or corrupted state. */
export class AssertionError extends Error {
  override name = "AssertionError";

  /** The invariant alone, as etcd words its panics. */
  constructor(readonly invariant: string) {
    super(`invariant broken: ${invariant}`);
  }
}

let onBroken: ((err: AssertionError) => void) | undefined;

/**
 * Who stops the process when an invariant breaks (`undefined`: nobody; the error is only
 * thrown, as unit tests want). One per process: the member that runs in it.
 */
export function setInvariantHandler(handler: ((err: AssertionError) => void) | undefined): void {
  onBroken = handler;
}

export function assert(condition: boolean, invariant: string): asserts condition {
  if (!condition) {
    const err = new AssertionError(invariant);
    onBroken?.(err);
    throw err;
  }
}
