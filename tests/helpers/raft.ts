// Test scaffolding in the manner of etcd's raft tests: Raft instances wired by an in-memory
// network that delivers messages synchronously until the cluster is quiet.

import { MemoryStorage } from "../../src/raft/storage.ts";
import { Raft } from "../../src/raft/raft.ts";
import {
  type Entry,
  type Message,
  MessageType,
  type RaftConfig,
  type RaftLogger,
} from "../../src/raft/types.ts";
import { newEntry, newMessage } from "../../src/raft/util.ts";
import { prng } from "./random.ts";

export function ids(...n: number[]): bigint[] {
  return n.map(BigInt);
}

export function newStorage(voters: bigint[], learners: bigint[] = []): MemoryStorage {
  const ms = new MemoryStorage();
  // The initial configuration lives in the (empty) snapshot's ConfState, as in etcd's tests.
  ms.snapshot().metadata.confState = { voters, learners };
  return ms;
}

export class CaptureLogger implements RaftLogger {
  lines: string[] = [];
  info(m: string) {
    this.lines.push(m);
  }
  warn(m: string) {
    this.lines.push(m);
  }
  debug(_m: string) {}
}

export function newTestRaft(
  id: number,
  election: number,
  heartbeat: number,
  storage: MemoryStorage,
  opts: Partial<RaftConfig> = {},
): Raft {
  return new Raft({
    id: BigInt(id),
    electionTick: election,
    heartbeatTick: heartbeat,
    storage,
    maxInflightMsgs: 256,
    maxSizePerMsg: Number.POSITIVE_INFINITY,
    random: prng(id),
    ...opts,
  });
}

export function readMessages(r: Raft): Message[] {
  const m = r.msgs;
  r.msgs = [];
  return m;
}

export function msg(m: Partial<Message> & { type: MessageType }): Message {
  const out = newMessage(m);
  return out;
}

export function ents(...terms: number[]): Entry[] {
  return terms.map((term, i) => newEntry({ term, index: i + 1 }));
}

/** A Raft whose storage already holds entries with the given terms (indexes 1..n). */
export function raftWithLog(id: number, terms: number[], peers: bigint[], term = 0): Raft {
  const s = newStorage(peers);
  s.append(ents(...terms));
  const r = newTestRaft(id, 10, 1, s);
  if (term > 0) r.loadState({ term, vote: 0n, commit: 0 });
  return r;
}

export class Network {
  peers = new Map<bigint, Raft | undefined>();
  storage = new Map<bigint, MemoryStorage>();
  private dropm = new Map<string, number>();
  private ignorem = new Set<MessageType>();
  private rand = prng(42);

  /** `undefined` entries become fresh Rafts with ids 1..n; a Raft is used as is. */
  constructor(peers: (Raft | undefined | "hole")[], configure?: (c: Partial<RaftConfig>) => void) {
    const all = peers.map((_, i) => BigInt(i + 1));
    peers.forEach((p, i) => {
      const id = all[i];
      if (p === undefined) {
        const s = newStorage(all);
        this.storage.set(id, s);
        const opts: Partial<RaftConfig> = {};
        configure?.(opts);
        this.peers.set(id, newTestRaft(i + 1, 10, 1, s, opts));
      } else if (p === "hole") {
        this.peers.set(id, undefined);
      } else {
        this.peers.set(id, p);
      }
    });
  }

  raft(id: number): Raft {
    return this.peers.get(BigInt(id))!;
  }

  send(...msgs: Message[]): void {
    const queue = [...msgs];
    while (queue.length > 0) {
      const m = queue.shift()!;
      const p = this.peers.get(m.to);
      if (!p) continue;
      p.step(m);
      queue.push(...this.filter(readMessages(p)));
    }
  }

  drop(from: number, to: number, perc: number): void {
    this.dropm.set(`${from}-${to}`, perc);
  }

  cut(one: number, other: number): void {
    this.drop(one, other, 2);
    this.drop(other, one, 2);
  }

  isolate(id: number): void {
    for (const other of this.peers.keys()) {
      if (other !== BigInt(id)) this.cut(id, Number(other));
    }
  }

  ignore(t: MessageType): void {
    this.ignorem.add(t);
  }

  recover(): void {
    this.dropm.clear();
    this.ignorem.clear();
  }

  private filter(msgs: Message[]): Message[] {
    return msgs.filter((m) => {
      if (this.ignorem.has(m.type)) return false;
      if (m.type === MessageType.MsgHup) throw new Error("unexpected MsgHup");
      const perc = this.dropm.get(`${m.from}-${m.to}`) ?? 0;
      return this.rand() >= perc;
    });
  }
}

export function hup(id: number): Message {
  return msg({ from: BigInt(id), to: BigInt(id), type: MessageType.MsgHup });
}

export function prop(id: number, data = "somedata"): Message {
  return msg({
    from: BigInt(id),
    to: BigInt(id),
    type: MessageType.MsgProp,
    entries: [newEntry({ data: new TextEncoder().encode(data) })],
  });
}
