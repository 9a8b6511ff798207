// Passwords are stored as bcrypt hashes, as etcd stores them (so a hash is checked the same way
// by either). etcd 3.4 proposes a new password in clear and every member hashes it where it
// applies the entry, with its own salt and --bcrypt-cost (hashPasswordSync: applying is
// synchronous). Checking a password works in slices between timers, so a login does not stall
// the member's event loop.
import bcrypt from "bcryptjs";
import { AuthError } from "./errors.ts";

/** Go's bcrypt.MinCost. */
const MIN_BCRYPT_COST = 4;

/** Go's bcrypt.DefaultCost, which it uses for any cost below the minimum. */
const DEFAULT_BCRYPT_COST = 10;

const effectiveCost = (cost: number) => cost < MIN_BCRYPT_COST ? DEFAULT_BCRYPT_COST : cost;

export function hashPassword(password: string, cost: number): Promise<string> {
  return bcrypt.hash(password, effectiveCost(cost));
}

/** Hashes where an entry is applied (etcd 3.4's bcrypt.GenerateFromPassword in UserAdd). */
export function hashPasswordSync(password: string, cost: number): string {
  return bcrypt.hashSync(password, effectiveCost(cost));
}

export async function passwordMatches(password: string, hash: string): Promise<boolean> {
  if (hash === "") return false;
  try {
    return await bcrypt.compare(password, hash);
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
