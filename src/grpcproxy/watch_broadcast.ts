// One upstream watcher shared by many clients' watchers of the same key range (etcd's
// watchBroadcast): it asks the cluster for everything (prev_kv, progress notifications) and
// hands each receiver its share. `completeThrough` is the revision through which it has passed
// on every event; a receiver may join while what it wants starts after that revision.
import type { ResponseHeader, WatchResponse } from "../pb/mod.ts";

/** A client's watcher, as a broadcast sees it. */
export interface Receiver {
  /** The client's start revision; 0 is "from now". */
  readonly start: number;
  /** Events below it were delivered already (or precede the watch); 0 until created. */
  nextRev: number;
  /** The upstream's created answer, or a join: `revision` is where the watcher starts. */
  created(header: ResponseHeader): void;
  /** Events (and progress) for this watcher; it filters and shapes them itself. */
  deliver(resp: WatchResponse): void;
  /** The upstream watcher ended: compacted, refused or canceled. */
  ended(resp: WatchResponse): void;
}

export class Broadcast {
  readonly receivers = new Set<Receiver>();
  /** Set once the cluster has answered the create. */
  created = false;
  completeThrough = 0;
  lastHeader: ResponseHeader | undefined;
  /** The watch id on the upstream stream, while there is one. */
  upstreamId: number | undefined;

  constructor(
    /** The range key, for the hub's table. */
    readonly id: string,
    readonly key: Uint8Array,
    readonly rangeEnd: Uint8Array,
    /** Where the upstream watcher started (0: from the cluster's revision at the time). */
    readonly start: number,
  ) {}

  /** The start revision to ask for when the upstream watcher is (re)created. */
  get resumeFrom(): number {
    return this.created ? this.completeThrough + 1 : this.start;
  }

  /** Whether `r` can join without missing an event or seeing one from before its start. */
  accepts(r: Receiver): boolean {
    if (this.created) return r.start === 0 || r.start > this.completeThrough;
    return this.start === 0 ? r.start === 0 : r.start >= this.start;
  }

  /** Adds `r`; on a created broadcast it is told at once where it starts. */
  join(r: Receiver): void {
    this.receivers.add(r);
    if (!this.created) return;
    r.nextRev = r.start === 0 ? this.completeThrough + 1 : r.start;
    r.created({ ...this.header(), revision: this.completeThrough });
  }

  private header(): ResponseHeader {
    return this.lastHeader ?? { clusterId: 0n, memberId: 0n, revision: 0, raftTerm: 0 };
  }

  /** One response of the upstream watcher; returns how many receivers shared it. */
  onResponse(resp: WatchResponse): number {
    if (resp.header) this.lastHeader = resp.header;
    const rev = resp.header?.revision ?? 0;
    if (resp.created && !resp.canceled) {
      // A resumed watcher's create is not news to anyone.
      if (this.created) return 0;
      this.created = true;
      this.completeThrough = this.start === 0 ? rev : this.start - 1;
      for (const r of this.receivers) {
        r.nextRev = r.start === 0 ? rev + 1 : r.start;
        r.created(this.header());
      }
      return this.receivers.size;
    }
    if (resp.canceled) {
      for (const r of this.receivers) r.ended(resp);
      return this.receivers.size;
    }
    const events = resp.events;
    const last = events.length > 0 ? events[events.length - 1].kv?.modRevision ?? 0 : rev;
    // Catch-up batches end at a revision boundary; a synced watcher's last event is the header's.
    this.completeThrough = Math.max(this.completeThrough, last === rev ? rev : last);
    for (const r of this.receivers) r.deliver(resp);
    return this.receivers.size;
  }
}
