// Pending ReadIndex requests on the leader (etcd's ReadOnlySafe): each waits for a majority
// of heartbeat acks carrying its context, which proves the leader was still the leader when
// it recorded the commit index.

import type { Message } from "./types.ts";

export interface ReadIndexStatus {
  req: Message;
  index: number;
  acks: Set<bigint>;
}

function key(ctx: Uint8Array): string {
  let s = "";
  for (const b of ctx) s += String.fromCharCode(b);
  return s;
}

export class ReadOnly {
  private pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  /** Records a request (identified by its context) to be answered with `index`. */
  addRequest(index: number, m: Message): void {
    const k = key(m.entries[0].data);
    if (this.pending.has(k)) return;
    this.pending.set(k, { req: m, index, acks: new Set() });
    this.queue.push(k);
  }

  /** Counts a heartbeat ack for the request `ctx`; returns who acked so far. */
  recvAck(id: bigint, ctx: Uint8Array): Set<bigint> | undefined {
    const rs = this.pending.get(key(ctx));
    if (!rs) return undefined;
    rs.acks.add(id);
    return rs.acks;
  }

  /** Releases the request `ctx` and every request queued before it. */
  advance(ctx: Uint8Array): ReadIndexStatus[] {
    const k = key(ctx);
    const i = this.queue.indexOf(k);
    if (i < 0) return [];
    const released = this.queue.slice(0, i + 1);
    this.queue = this.queue.slice(i + 1);
    const out: ReadIndexStatus[] = [];
    for (const q of released) {
      const rs = this.pending.get(q);
      if (!rs) throw new Error("cannot find corresponding read state from pending map");
      this.pending.delete(q);
      out.push(rs);
    }
    return out;
  }

  /** Context of the newest pending request, piggybacked on heartbeats. */
  lastPendingRequestCtx(): Uint8Array | undefined {
    if (this.queue.length === 0) return undefined;
    return this.pending.get(this.queue[this.queue.length - 1])!.req.entries[0].data;
  }
}
