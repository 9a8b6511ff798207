// etcd's Election service (v3election over clientv3/concurrency's Election), on the member's own
// operations. A candidate's key is "<name>/<lease in hex>" on its lease; the key created first
// under "<name>/" is the leader, and campaigning waits until every older key is deleted.
import type { AuthInfo } from "../auth/mod.ts";
import { EtcdError, GrpcCode } from "../errors/mod.ts";
import { bytesEqual, EventType, type KeyValue, prefixEnd } from "../mvcc/mod.ts";
import {
  concat,
  type ConcurrencyDeps,
  createdAt,
  firstCreated,
  sessionLease,
  waitDeletes,
  waiterKey,
  WatchFeed,
} from "./concurrency.ts";
import type { ResponseHeader } from "./header.ts";

/** Which campaign leads: its election, key, the key's create revision and lease. */
export interface LeaderKey {
  name: Uint8Array;
  key: Uint8Array;
  rev: number;
  lease: bigint;
}

export interface LeaderResponse {
  header: ResponseHeader;
  kv: KeyValue;
}

// etcd's texts; its election server returns them without a status, so code Unknown.
const unknown = (text: string) => new EtcdError(GrpcCode.Unknown, text);
export const electionErrors = {
  notLeader: () => unknown("election: not leader"),
  noLeader: () => unknown("election: no leader"),
  missingLeaderKey: () => unknown('"leader" field must be provided'),
};

function required(leader: LeaderKey | undefined): LeaderKey {
  if (!leader) throw electionErrors.missingLeaderKey();
  return leader;
}

export class ElectionApi {
  constructor(readonly deps: ConcurrencyDeps) {}

  /**
   * Puts the candidate's key (or finds it from an earlier campaign on the same lease, taking
   * the new value) and waits until it leads. A caller that gives up withdraws the key.
   */
  async campaign(
    req: { name: Uint8Array; lease: bigint; value: Uint8Array },
    ai: AuthInfo,
    signal: AbortSignal,
  ) {
    const lease = await sessionLease(this.deps, req.lease);
    const prefix = concat(req.name, "/");
    const key = waiterKey(prefix, lease);
    const res = await this.deps.kv.txn({
      compare: [createdAt(key, 0)],
      success: [{ requestPut: { key, value: req.value, lease } }],
      failure: [{ requestRange: { key } }],
    }, ai);
    let rev = res.header.revision;
    if (!res.succeeded) {
      const kv = res.responses[0].responseRange!.kvs[0];
      rev = kv.createRevision;
      if (!bytesEqual(kv.value, req.value)) {
        try {
          await this.#proclaim({ name: req.name, key, rev, lease }, req.value, ai);
        } catch (err) {
          await this.#resign(key, rev, ai).catch(() => {});
          throw err;
        }
      }
    }
    try {
      await waitDeletes(this.deps, ai, prefix, rev - 1, signal);
    } catch (err) {
      if (signal.aborted) await this.#resign(key, rev, ai).catch(() => {});
      throw err;
    }
    // The header is the first write's, as etcd answers (not the one of the wait's end).
    return { header: res.header, leader: { name: req.name, key, rev, lease } };
  }

  /** The leader announces a new value without another election. */
  async proclaim(req: { leader?: LeaderKey; value: Uint8Array }, ai: AuthInfo) {
    const leader = required(req.leader);
    const lease = await sessionLease(this.deps, leader.lease);
    const header = await this.#proclaim({ ...leader, lease }, req.value, ai);
    return { header };
  }

  async #proclaim(leader: LeaderKey, value: Uint8Array, ai: AuthInfo) {
    const { key, rev, lease } = leader;
    const res = await this.deps.kv.txn({
      compare: [createdAt(key, rev)],
      success: [{ requestPut: { key, value, lease } }],
    }, ai);
    if (!res.succeeded) throw electionErrors.notLeader();
    return res.header;
  }

  /** Deletes the leader's key if it still is the one created at `rev` (quietly otherwise). */
  async resign(req: { leader?: LeaderKey }, ai: AuthInfo) {
    const leader = required(req.leader);
    await sessionLease(this.deps, leader.lease);
    return { header: await this.#resign(leader.key, leader.rev, ai) };
  }

  async #resign(key: Uint8Array, rev: number, ai: AuthInfo) {
    const res = await this.deps.kv.txn({
      compare: [createdAt(key, rev)],
      success: [{ requestDeleteRange: { key } }],
    }, ai);
    return res.header;
  }

  /** The current leader's key and value. */
  async leader(req: { name: Uint8Array }, ai: AuthInfo): Promise<LeaderResponse> {
    const r = await this.deps.kv.range(firstCreated(concat(req.name, "/")), ai);
    if (r.kvs.length === 0) throw electionErrors.noLeader();
    return { header: r.header, kv: r.kvs[0] };
  }

  /**
   * Sends the leader, then each new value it proclaims, then the next leader once its key is
   * deleted, until the call ends. Like etcd, a failure of the election's own reads ends the
   * stream without an error.
   */
  async observe(
    req: { name: Uint8Array },
    ai: AuthInfo,
    signal: AbortSignal,
    send: (res: LeaderResponse) => Promise<void>,
  ): Promise<void> {
    const prefix = concat(req.name, "/");
    for (;;) {
      let leader: LeaderResponse;
      try {
        leader = await this.#nextLeader(prefix, ai, signal);
      } catch (err) {
        if (signal.aborted) throw err;
        return;
      }
      await send(leader);
      const feed = new WatchFeed(this.deps.watchers, {
        key: leader.kv.key,
        startRevision: leader.header.revision + 1,
      }, signal);
      try {
        if (!(await this.#follow(feed, send, signal))) return;
      } finally {
        feed.close();
      }
    }
  }

  // The leader now, or the first key put under the prefix from here on.
  async #nextLeader(prefix: Uint8Array, ai: AuthInfo, signal: AbortSignal) {
    const r = await this.deps.kv.range(firstCreated(prefix), ai);
    if (r.kvs.length > 0) return { header: r.header, kv: r.kvs[0] };
    const feed = new WatchFeed(this.deps.watchers, {
      key: prefix,
      rangeEnd: prefixEnd(prefix),
      startRevision: r.header.revision,
    }, signal);
    try {
      for (;;) {
        const put = (await feed.next()).events.find((e) => e.type === EventType.PUT);
        // The header names the put's revision even when its response carried later ones.
        if (put) return { header: this.deps.header(put.kv.modRevision), kv: put.kv };
      }
    } finally {
      feed.close();
    }
  }

  // Sends the leader key's new values until it is deleted (true) or its watch fails (false).
  async #follow(
    feed: WatchFeed,
    send: (res: LeaderResponse) => Promise<void>,
    signal: AbortSignal,
  ): Promise<boolean> {
    for (;;) {
      let events;
      let revision;
      try {
        ({ events, header: { revision } } = await feed.next());
      } catch (err) {
        if (signal.aborted) throw err;
        return false;
      }
      for (const ev of events) {
        if (ev.type === EventType.DELETE) return true;
        await send({ header: this.deps.header(revision), kv: ev.kv });
      }
    }
  }
}
