// What applying an entry may touch: the member's state machines, each one object for the life
// of the member (a snapshot restores them in place), and the log it writes to.
import type { AuthStore } from "../../auth/mod.ts";
import type { Lessor } from "../../lease/mod.ts";
import type { Logger } from "../../log/mod.ts";
import type { Backend } from "../backend.ts";
import type { KvApplyContext } from "../kv_types.ts";
import type { Membership } from "../membership.ts";
import type { MembershipStore } from "../membership_store.ts";
import type { MemberV2Store } from "../v2_store.ts";

export interface ApplyContext {
  readonly log: Logger;
  readonly memberId: bigint;
  /** The key space with what etcd keeps beside it (membership, leases, alarms). */
  readonly backend: Backend;
  readonly membership: Membership;
  /** Membership changes, kept where etcd keeps them (the v2 store's /0, the backend). */
  readonly cluster: MembershipStore;
  readonly lessor: Lessor;
  readonly auth: AuthStore;
  /** --bcrypt-cost for passwords hashed where their entries are applied. */
  readonly bcryptCost: number;
  readonly v2: MemberV2Store;
  /** The KV apply functions' view: the store, lease attachments, watchers' prev_kv wish. */
  readonly kv: KvApplyContext;
}

/** The keys attached to a lease, for the checks that guard lease revocation. */
export function leaseKeysOf(lessor: Lessor): (id: bigint) => Uint8Array[] {
  return (id) => lessor.timeToLive(id, true).keys;
}

/** What applying a membership change or a v2 request touches. */
export type ClusterApplyContext = Pick<
  ApplyContext,
  "log" | "membership" | "cluster" | "v2" | "backend"
>;
