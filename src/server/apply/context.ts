// What applying an entry may touch: the member's state machines, each one object for the life
// of the member (a snapshot restores them in place), and the log it writes to.
import type { AuthStore } from "../../auth/mod.ts";
import type { Lessor } from "../../lease/mod.ts";
import type { Logger } from "../../log/mod.ts";
import type { Backend } from "../backend.ts";
import type { KvApplyContext } from "../kv_types.ts";
import type { Membership } from "../membership.ts";
import type { MemberV2Store } from "../v2_store.ts";

export interface ApplyContext {
  readonly log: Logger;
  readonly memberId: bigint;
  /** The key space with what etcd keeps beside it (membership, leases, alarms). */
  readonly backend: Backend;
  readonly membership: Membership;
  readonly lessor: Lessor;
  readonly auth: AuthStore;
  readonly v2: MemberV2Store;
  /** The KV apply functions' view: the store, lease attachments, watchers' prev_kv wish. */
  readonly kv: KvApplyContext;
}

/** The keys attached to a lease, for the checks that guard lease revocation. */
export function leaseKeysOf(lessor: Lessor): (id: bigint) => Uint8Array[] {
  return (id) => lessor.timeToLive(id, true).keys;
}
