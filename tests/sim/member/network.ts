// The simulated network between members: each member's raft Transport and its LeaderClient
// (forwarded lease requests), in process. Messages travel encoded, as on the wire, with a seeded
// delay, loss, duplication and reordering; links can be cut one way or both (partitions).
// Snapshots go as a separate upload carrying the sender's merged snapshot (its backend), and
// the sender hears whether it arrived, as etcd's snapshot sender reports.

import { decodeMessage, encodeMessage, type Message, MessageType } from "../../../src/raft/mod.ts";
import type { EtcdServer, LeaderClient, RaftPeer } from "../../../src/server/mod.ts";
import { LeaseError } from "../../../src/lease/mod.ts";
import { EPOCH_MS, type Owner, type VirtualTime } from "./clock.ts";

/** A member as the network sees it: its address and, while it runs, its process. */
interface Endpoint {
  id: bigint;
  url: string;
  owner?: Owner;
  peer?: RaftPeer;
  server?: EtcdServer;
  /** When the current process started (virtual ms). */
  upAt: number;
}

export interface NetworkSettings {
  /** Probability that a message is lost. */
  loss: number;
  /** Probability that a message arrives twice. */
  duplicate: number;
  /** Probability that a message is held back long enough to be overtaken. */
  delayed: number;
}

/** How a message fared, for the trace hash. */
export type Traced = (line: string, detail?: boolean) => void;

export class SimNetwork {
  readonly #nodes = new Map<bigint, Endpoint>();
  /** Cut links, "from>to", with the time each was cut. */
  readonly #cut = new Set<string>();
  /** When each link was last healed (virtual ms). */
  readonly #healedAt = new Map<string, number>();
  settings: NetworkSettings = { loss: 0, duplicate: 0, delayed: 0 };
  sent = 0;
  delivered = 0;
  snapshots = 0;

  constructor(
    readonly time: VirtualTime,
    readonly random: () => number,
    readonly trace: Traced,
  ) {}

  register(id: bigint, url: string): void {
    this.#nodes.set(id, { id, url, upAt: 0 });
  }

  /** The member's new process is running and takes raft traffic. */
  up(id: bigint, owner: Owner, server: EtcdServer): void {
    const e = this.#nodes.get(id)!;
    Object.assign(e, { owner, server, peer: server.raftPeer(), upAt: this.time.now });
  }

  down(id: bigint): void {
    const e = this.#nodes.get(id);
    if (e) Object.assign(e, { owner: undefined, server: undefined, peer: undefined });
  }

  #alive(e: Endpoint | undefined): e is Endpoint & { owner: Owner; peer: RaftPeer } {
    return e?.owner?.alive === true && e.peer !== undefined;
  }

  isCut(from: bigint, to: bigint): boolean {
    return this.#cut.has(`${from}>${to}`);
  }

  /** Cuts every link between `side` and the rest (both ways). */
  partition(side: bigint[]): void {
    for (const a of side) {
      for (const b of this.#nodes.keys()) {
        if (side.includes(b)) continue;
        this.cut(a, b);
        this.cut(b, a);
      }
    }
  }

  cut(from: bigint, to: bigint): void {
    this.#cut.add(`${from}>${to}`);
  }

  heal(): void {
    for (const link of this.#cut) this.#healedAt.set(link, this.time.now);
    this.#cut.clear();
  }

  get cutLinks(): number {
    return this.#cut.size;
  }

  #delay(): number {
    const r = this.random();
    if (r < this.settings.delayed) return 20 + Math.floor(this.random() * 200);
    return 1 + Math.floor(this.random() * 4);
  }

  /** The raft transport of member `id`. */
  transport(id: bigint) {
    return {
      send: (messages: Message[]) => {
        for (const m of messages) this.#send(id, m);
      },
      activeSince: (peer: bigint) => this.#activeSince(id, peer),
    };
  }

  #activeSince(from: bigint, to: bigint): number {
    const e = this.#nodes.get(to);
    if (!this.#alive(e) || this.isCut(from, to) || this.isCut(to, from)) return 0;
    const healed = Math.max(
      this.#healedAt.get(`${from}>${to}`) ?? 0,
      this.#healedAt.get(`${to}>${from}`) ?? 0,
    );
    return EPOCH_MS + Math.max(e.upAt, healed, 1);
  }

  #send(from: bigint, m: Message): void {
    if (m.to === from) return;
    this.sent++;
    const sender = this.#nodes.get(from)!;
    const senderOwner = sender.owner!;
    if (m.type === MessageType.MsgSnap) return this.#sendSnapshot(sender, senderOwner, m);
    if (this.random() < this.settings.loss || this.isCut(from, m.to)) {
      this.trace(`drop ${describe(m)}`, true);
      return;
    }
    const bytes = encodeMessage(m);
    // Raft's messages are idempotent, except a forwarded proposal: etcd's streams (TCP) never
    // deliver one twice, and raft would append it twice.
    const twice = m.type !== MessageType.MsgProp && this.random() < this.settings.duplicate;
    const copies = twice ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      this.time.schedule(this.#delay(), () => this.#deliver(m.to, bytes), undefined);
    }
  }

  #deliver(to: bigint, bytes: Uint8Array): void {
    const e = this.#nodes.get(to);
    const m = decodeMessage(bytes);
    // A cut made while the message was on its way stops it too.
    if (!this.#alive(e) || this.isCut(m.from, to)) return;
    // A peer that knows the sender was removed refuses it (etcd's 410 Gone): the sender stops.
    if (e.server?.membership.removed.has(m.from)) return this.#gone(m.from);
    this.delivered++;
    this.trace(`deliver ${describe(m)}`, true);
    const peer = e.peer;
    this.time.as(e.owner, () => peer.step(m));
  }

  #gone(id: bigint): void {
    const e = this.#nodes.get(id);
    if (!this.#alive(e)) return;
    const { owner, peer } = e;
    this.time.schedule(this.#delay(), () => peer.removed(), owner);
  }

  // etcd sends the member's merged snapshot (its backend at the applied index) in place of the
  // one raft names, over its own connection; the sender learns whether it was received.
  #sendSnapshot(sender: Endpoint, senderOwner: Owner, m: Message): void {
    const taken = this.time.hold(async () => {
      const { snapshot, db } = await sender.peer!.snapshot();
      const pieces: Uint8Array[] = [];
      try {
        for await (const piece of db.pieces()) pieces.push(piece);
      } finally {
        db.close();
      }
      return { snapshot, pieces };
    });
    void taken.then(
      ({ snapshot, pieces }) =>
        this.#deliverSnapshot(sender, senderOwner, { ...m, snapshot }, pieces),
      () => {
        if (sender.owner !== senderOwner) return;
        sender.peer!.reportUnreachable(m.to);
        sender.peer!.reportSnapshot(m.to, false);
      },
    );
  }

  #deliverSnapshot(sender: Endpoint, senderOwner: Owner, m: Message, pieces: Uint8Array[]): void {
    const snapshot = m.snapshot!;
    const bytes = encodeMessage(m);
    this.snapshots++;
    this.trace(`snapshot ${describe(m)} at ${snapshot.metadata.index}`);
    const report = (ok: boolean) => {
      this.time.schedule(this.#delay(), () => {
        if (sender.owner !== senderOwner) return;
        this.trace(`snapshot to ${m.to.toString(16)} ${ok ? "received" : "failed"}`);
        const peer = sender.peer!;
        if (!ok) peer.reportUnreachable(m.to);
        peer.reportSnapshot(m.to, ok);
      }, senderOwner);
    };
    this.time.schedule(10 + Math.floor(this.random() * 50), () => {
      const e = this.#nodes.get(m.to);
      if (!this.#alive(e) || this.isCut(m.from, m.to) || this.isCut(m.to, m.from)) {
        return report(false);
      }
      const peer = e.peer;
      const owner = e.owner;
      // The database is saved as real files: held, so its step comes at the same point.
      const saving = this.time.hold(() =>
        peer.saveSnapshotDb(
          snapshot.metadata.index,
          (async function* () {
            yield* pieces;
          })(),
        )
      );
      void saving.then(
        () => {
          if (e.owner !== owner || !owner.alive) return report(false);
          this.time.as(owner, () => peer.step(decodeMessage(bytes)));
          report(true);
        },
        () => report(false),
      );
    }, undefined);
  }

  /**
   * Requests only the leader answers, from member `id` to the one at a peer URL: they need
   * the link both ways and a running target, and time out as an HTTP request would.
   */
  leaderClient(id: bigint): LeaderClient {
    const call = <T>(url: string, timeoutMs: number, ask: (s: EtcdServer) => Promise<T>) =>
      this.#call(id, url, timeoutMs, ask);
    const refused = () => Promise.reject(new Error("not available in the simulation"));
    return {
      renewLease: (url, lease, ms) => call(url, ms, (s) => s.lease.renewForwarded(lease)),
      leaseTimeToLive: (url, lease, keys, ms) =>
        call(url, ms, (s) => s.lease.timeToLiveForwarded(lease, keys)),
      promoteMember: refused,
      hashKV: refused,
    };
  }

  #call<T>(
    from: bigint,
    url: string,
    timeoutMs: number,
    ask: (s: EtcdServer) => Promise<T>,
  ): Promise<T> {
    const caller = this.time.owner!;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      // Answers reach the caller as events of its own process: a dead caller gets none.
      const settle = (fn: () => void) =>
        this.time.schedule(this.#delay(), () => {
          if (settled) return;
          settled = true;
          fn();
        }, caller);
      this.time.schedule(timeoutMs, () => {
        if (settled) return;
        settled = true;
        reject(new Error(`peer request to ${url} timed out`));
      }, caller);
      const target = [...this.#nodes.values()].find((e) => e.url === url);
      const reachable = (t: Endpoint | undefined) =>
        this.#alive(t) && t.server && !this.isCut(from, t.id) && !this.isCut(t.id, from);
      if (!reachable(target)) return;
      this.time.schedule(this.#delay(), () => {
        if (!reachable(target)) return;
        ask(target!.server!).then(
          (v) => reachable(target) && settle(() => resolve(v)),
          (err) => reachable(target) && settle(() => reject(asPeerError(err))),
        );
      }, target!.owner);
    });
  }
}

// What the HTTP client makes of the leader's answer: lease-not-found stays the lessor's
// error (it settles the request), anything else is a failure worth another try.
function asPeerError(err: unknown): Error {
  if (err instanceof LeaseError && err.reason === "notFound") return err;
  return new Error(`lease: unknown error(${(err as Error).message})`);
}

export function describe(m: Message): string {
  const t = MessageType[m.type] ?? m.type;
  return `${t} ${m.from.toString(16)}>${m.to.toString(16)} t${m.term} i${m.index} lt${m.logTerm}` +
    ` c${m.commit} n${m.entries.length}${m.reject ? " rej" : ""}`;
}
