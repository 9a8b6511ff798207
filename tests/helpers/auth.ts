// An in-memory stand-in for the backend's aux buckets, and a store built on it.
import type { AuxBuckets } from "../../src/mvcc/mod.ts";
import { type AuthInfo, AuthStore } from "../../src/auth/mod.ts";
import { toEtcdError } from "../../src/api/errors.ts";

export function memoryAux(): AuxBuckets {
  const buckets = new Map<string, Map<string, Uint8Array>>();
  const bucket = (b: string) => {
    if (!buckets.has(b)) buckets.set(b, new Map());
    return buckets.get(b)!;
  };
  return {
    get: (b, k) => bucket(b).get(k),
    put: (b, k, v) => void bucket(b).set(k, v),
    delete: (b, k) => void bucket(b).delete(k),
    list: (b) => [...bucket(b).entries()].sort(([x], [y]) => x < y ? -1 : x > y ? 1 : 0),
  };
}

export function newStore(aux = memoryAux(), now = () => 0): AuthStore {
  return new AuthStore(() => aux, { tokenTtlMs: 300_000, clientCertAuth: true, now });
}

export const as = (store: AuthStore, username: string): AuthInfo => ({
  username,
  revision: store.revision,
});

/** Message of the error `fn` throws, as etcd's clients see it (fails when it does not throw). */
export function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return toEtcdError(err).message;
  }
  throw new Error("expected an error");
}
