// Passwords are stored as bcrypt hashes, as etcd stores them (so a hash is checked the same way
// by either). The proposing member hashes before proposing (etcd 3.5's order): applying a
// UserAdd is then cheap and every member stores the very same hash. bcryptjs works in slices
// between timers, so hashing does not stall the member's event loop. It is loaded on first use:
// a member without users never needs it, and loading it slows every start.
import { AuthError } from "./errors.ts";

let bcryptModule: Promise<typeof import("bcryptjs").default> | undefined;
const bcrypt = () => bcryptModule ??= import("bcryptjs").then((m) => m.default);

/** Go's bcrypt.MinCost. */
const MIN_BCRYPT_COST = 4;

/** Go's bcrypt.DefaultCost, which it uses for any cost below the minimum. */
const DEFAULT_BCRYPT_COST = 10;

export async function hashPassword(password: string, cost: number): Promise<string> {
  return (await bcrypt()).hash(password, cost < MIN_BCRYPT_COST ? DEFAULT_BCRYPT_COST : cost);
}

export async function passwordMatches(password: string, hash: string): Promise<boolean> {
  if (hash === "") return false;
  try {
    return await (await bcrypt()).compare(password, hash);
  } catch {
    // A malformed stored hash matches nothing.
    return false;
  }
}

/** A user's name and password match ones the store holds: the revision they were checked at. */
export async function checkPassword(
  store: {
    enabled: boolean;
    revision: number;
    user(name: string): { password: string; noPassword: boolean } | undefined;
  },
  name: string,
  password: string,
): Promise<number> {
  if (!store.enabled) throw new AuthError("authNotEnabled");
  const revision = store.revision;
  const user = store.user(name);
  if (!user || user.noPassword) throw new AuthError("authFailed");
  if (!(await passwordMatches(password, user.password))) throw new AuthError("authFailed");
  return revision;
}
