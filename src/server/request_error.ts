// The errors that answer a request rather than stop the member: etcd's client-facing errors,
// and the state machines' own (the key space's, the lessor's, the auth store's, the v2 store's).
// Anything else thrown while applying is a broken invariant.
import { EtcdError } from "../errors/mod.ts";
import { MvccError } from "../mvcc/mod.ts";
import { LeaseError } from "../lease/mod.ts";
import { AuthError } from "../auth/mod.ts";
import { V2Error } from "../v2store/mod.ts";

export function isRequestError(err: unknown): err is Error {
  return err instanceof EtcdError || err instanceof MvccError || err instanceof LeaseError ||
    err instanceof AuthError || err instanceof V2Error;
}
