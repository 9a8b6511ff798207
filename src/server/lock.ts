// etcd's Lock service (v3lock over clientv3/concurrency's Mutex), on the member's own
// operations: a waiter's key is "<name>/<lease in hex>" on its lease, the oldest key under
// "<name>/" holds the lock, and unlocking is deleting one's key.
import type { AuthInfo } from "../auth/mod.ts";
import {
  concat,
  type ConcurrencyDeps,
  createdAt,
  firstCreated,
  sessionLease,
  waitDeletes,
  waiterKey,
} from "./concurrency.ts";

export class LockApi {
  constructor(readonly deps: ConcurrencyDeps) {}

  /**
   * Queues the caller's key (or finds it from an earlier lock on the same lease) and waits
   * until it is the oldest. A caller that fails or gives up while waiting leaves the queue.
   */
  async lock(req: { name: Uint8Array; lease: bigint }, ai: AuthInfo, signal: AbortSignal) {
    const { kv } = this.deps;
    const lease = await sessionLease(this.deps, req.lease);
    const prefix = concat(req.name, "/");
    const key = waiterKey(prefix, lease);
    // The owner comes back with the first write, so an uncontended lock costs one request.
    const owner = { requestRange: firstCreated(prefix) };
    const res = await kv.txn({
      compare: [createdAt(key, 0)],
      success: [{ requestPut: { key, value: new Uint8Array(), lease } }, owner],
      failure: [{ requestRange: { key } }, owner],
    }, ai);
    const rev = res.succeeded
      ? res.header.revision
      : res.responses[0].responseRange!.kvs[0].createRevision;
    const holder = res.responses[1].responseRange!.kvs[0];
    if (!holder || holder.createRevision === rev) return { header: res.header, key };
    try {
      // Held once the wait is over: the header is the one of its last look.
      return { header: await waitDeletes(this.deps, ai, prefix, rev - 1, signal), key };
    } catch (err) {
      await kv.deleteRange({ key }, ai).catch(() => {});
      throw err;
    }
  }

  /** Deletes the key a lock call answered (nothing for a key that is gone). */
  async unlock(req: { key: Uint8Array }, ai: AuthInfo) {
    const res = await this.deps.kv.deleteRange({ key: req.key }, ai);
    return { header: res.header };
  }
}
