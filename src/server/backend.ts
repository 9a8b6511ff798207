// The member's backend: the MVCC key space plus what etcd keeps beside it in the same database
// (membership, leases, alarms), all written in the store's batch transaction so they commit
// atomically with the consistent index.
import { type AuxBuckets, type Event, MvccStore, restoreSnapshot } from "../mvcc/mod.ts";
import type { LeasePersistence } from "../lease/mod.ts";
import { Membership, type MembershipJSON } from "./membership.ts";
import { Alarms } from "./alarms.ts";

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export class Backend {
  store: MvccStore;
  readonly alarms: Alarms;
  readonly #eventListeners: ((events: Event[]) => void)[] = [];

  constructor(readonly path: string) {
    this.store = new MvccStore(path);
    this.alarms = new Alarms(() => this.aux);
  }

  get aux(): AuxBuckets {
    return this.store.aux();
  }

  /** Events of every applied write; the registration outlives a restore from a snapshot. */
  onEvents(listener: (events: Event[]) => void): void {
    this.#eventListeners.push(listener);
    this.store.onEvents(listener);
  }

  saveMembership(m: Membership): void {
    this.aux.put("members", "membership", utf8.encode(JSON.stringify(m.toJSON())));
  }

  loadMembership(): Membership | undefined {
    const raw = this.aux.get("members", "membership");
    if (!raw) return undefined;
    return Membership.fromJSON(JSON.parse(fromUtf8.decode(raw)) as MembershipJSON);
  }

  leasePersistence(): LeasePersistence {
    const key = (id: bigint) => id.toString(16).padStart(16, "0");
    return {
      saveLease: (id, ttl) => this.aux.put("lease", key(id), utf8.encode(String(ttl))),
      deleteLease: (id) => this.aux.delete("lease", key(id)),
      loadLeases: () =>
        this.aux.list("lease").map(([k, v]) => ({
          id: BigInt.asIntN(64, BigInt("0x" + k)),
          ttl: Number(fromUtf8.decode(v)),
        })),
    };
  }

  /** Replaces the whole database with a snapshot received from the leader. */
  restore(dbBytes: Uint8Array): void {
    this.store.close();
    restoreSnapshot(this.path, dbBytes);
    this.store = new MvccStore(this.path);
    for (const l of this.#eventListeners) this.store.onEvents(l);
  }

  close(): void {
    this.store.commit({ sync: true });
    this.store.close();
  }
}
