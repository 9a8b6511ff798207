// Deterministic cluster simulation: RawNodes over MemoryStorage "disks", a seeded lossy
// network, crashes and restarts. One seed determines the whole run, so a failure replays.

import {
  ConfChangeType,
  type ConfState,
  decodeConfChange,
  EntryType,
  ErrProposalDropped,
  MemoryStorage,
  type Message,
  MessageType,
  type RaftLogger,
  RawNode,
  type Ready,
  StateType,
} from "../../src/raft/mod.ts";
import { chain, checkLogMatching, History, SafetyError } from "./invariants.ts";
import { prng } from "../helpers/random.ts";

export interface SimOptions {
  seed: number;
  nodes: number;
  /** Ticks of chaos before the network heals and liveness is checked. */
  ticks: number;
  electionTick?: number;
  trace?: (line: string) => void;
}

export interface SimResult {
  seed: number;
  ok: boolean;
  error?: string;
  /** Ticks after healing until a fresh proposal was applied everywhere. */
  recoveryTicks: number;
  applied: number;
  leaders: number;
  /** Snapshots sent to a member that Raft's stored snapshot did not list yet. */
  snapshotsToNewMembers: number;
}

const enc = new TextEncoder();

interface SimNode {
  id: bigint;
  disk: MemoryStorage;
  rn?: RawNode;
  incarnation: number;
  /** A Ready taken but not yet persisted/applied: the node is "writing" it. */
  inflight?: { rd: Ready; sent: boolean };
  applied: number;
  /** Term of the entry at `applied`: a snapshot sent to a follower is taken there. */
  appliedTerm: number;
  hash: number;
  confState: ConfState;
  group: number;
  /** readIndex contexts in flight, with the lowest index a correct answer may carry. */
  reads: Map<string, number>;
  /** Applied its own removal: stopped for good, as a removed etcd member is. */
  removed: boolean;
  /** A spare: not in the bootstrap configuration, started when first added. */
  spare: boolean;
}

interface Pending {
  at: number;
  seq: number;
  kind: "deliver" | "complete";
  to: bigint;
  m?: Message;
  incarnation: number;
}

export class Simulation {
  private rand: () => number;
  private nodes: SimNode[] = [];
  private queue: Pending[] = [];
  private seq = 0;
  private now = 0;
  private history = new History();
  private drop: number;
  private dup: number;
  private crashRate: number;
  private maxDelay: number;
  private proposals = 0;
  private readonly electionTick: number;
  private liveApplied = new Set<bigint>();
  private retired = new Set<bigint>();
  private snapshotsToNewMembers = 0;

  constructor(private opts: SimOptions) {
    this.rand = prng(opts.seed);
    this.electionTick = opts.electionTick ?? 10;
    this.drop = this.rand() * 0.2;
    this.dup = this.rand() * 0.05;
    this.maxDelay = 0.2 + this.rand() * 2;
    this.crashRate = this.rand() * 0.03;
    const ids = Array.from({ length: opts.nodes }, (_, i) => BigInt(i + 1));
    // Two spare nodes that join through conf changes (as learners, then promoted).
    for (let i = 1; i <= 2 + opts.nodes; i++) {
      const id = BigInt(i);
      const node: SimNode = {
        id,
        disk: new MemoryStorage(),
        incarnation: 0,
        applied: 0,
        appliedTerm: 0,
        hash: 0,
        confState: { voters: [], learners: [] },
        group: 0,
        reads: new Map(),
        removed: false,
        spare: i > opts.nodes,
      };
      this.nodes.push(node);
      if (node.spare) continue;
      this.start(node);
      node.rn!.bootstrap(ids.map((p) => ({ id: p, context: enc.encode(`member-${p}`) })));
    }
  }

  private trace(s: string): void {
    this.opts.trace?.(`[${this.now.toFixed(2)}] ${s}`);
  }

  private logger(id: bigint): RaftLogger {
    const t = this.opts.trace;
    if (!t) return { info() {}, warn() {}, debug() {} };
    return {
      info: (m) => this.trace(`${id}: ${m}`),
      warn: (m) => this.trace(`${id}: WARN ${m}`),
      debug: (m) => this.trace(`${id}: ${m}`),
    };
  }

  private start(node: SimNode): void {
    node.incarnation++;
    // The state machine restarts from the durable snapshot; the log after it is replayed.
    const snap = node.disk.snapshot();
    node.applied = snap.metadata.index;
    node.appliedTerm = snap.metadata.term;
    node.hash = snap.data.length > 0 ? Number(new TextDecoder().decode(snap.data)) : 0;
    node.confState = snap.metadata.confState;
    node.inflight = undefined;
    node.reads.clear();
    node.rn = new RawNode({
      id: node.id,
      electionTick: this.electionTick,
      heartbeatTick: 1,
      storage: node.disk,
      applied: node.applied,
      maxSizePerMsg: 64 + Math.floor(this.rand() * 256),
      maxInflightMsgs: 1 + Math.floor(this.rand() * 8),
      checkQuorum: true,
      preVote: true,
      random: prng(this.opts.seed * 7919 + Number(node.id) * 131 + node.incarnation),
      logger: this.logger(node.id),
    });
  }

  private node(id: bigint): SimNode {
    return this.nodes[Number(id) - 1];
  }

  private schedule(p: Omit<Pending, "seq">): void {
    const item = { ...p, seq: this.seq++ };
    // Insert keeping (at, seq) order; queues stay short.
    let i = this.queue.length;
    while (i > 0 && this.queue[i - 1].at > item.at) i--;
    this.queue.splice(i, 0, item);
  }

  /**
   * etcd never sends Raft's stored snapshot as it is: the leader replaces it with its state
   * machine at the applied index, with that index's term and configuration (etcd's
   * createMergedSnapshotMessage). A stored snapshot may predate the follower's own addition,
   * and the follower would refuse it every time.
   */
  private mergeSnapshot(from: SimNode, m: Message): Message {
    const stored = m.snapshot!.metadata.confState;
    if (![...stored.voters, ...stored.learners].includes(m.to)) this.snapshotsToNewMembers++;
    return {
      ...m,
      snapshot: {
        metadata: { index: from.applied, term: from.appliedTerm, confState: from.confState },
        data: enc.encode(String(from.hash)),
      },
    };
  }

  private send(from: SimNode, outgoing: Message[]): void {
    for (const out of outgoing) {
      const m = out.type === MessageType.MsgSnap ? this.mergeSnapshot(from, out) : out;
      const to = this.node(m.to);
      if (!to || from.group !== to.group || this.rand() < this.drop) {
        if (m.type === MessageType.MsgSnap) from.rn?.reportSnapshot(m.to, false);
        else if (this.rand() < 0.1) from.rn?.reportUnreachable(m.to);
        continue;
      }
      const copies = this.rand() < this.dup ? 2 : 1;
      for (let c = 0; c < copies; c++) {
        this.schedule({
          at: this.now + this.rand() * this.maxDelay,
          kind: "deliver",
          to: m.to,
          m,
          incarnation: 0,
        });
      }
    }
  }

  /** Takes the next Ready if the node is not busy writing the previous one. */
  private pump(node: SimNode): void {
    const rn = node.rn;
    if (!rn || node.inflight || !rn.hasReady()) return;
    const rd = rn.ready();
    const early = rn.maySendBeforePersist(rd) && this.rand() < 0.5;
    node.inflight = { rd, sent: early };
    if (early) this.send(node, rd.messages);
    if (this.rand() < 0.5) this.complete(node);
    else {
      this.schedule({
        at: this.now + this.rand() * 0.5,
        kind: "complete",
        to: node.id,
        incarnation: node.incarnation,
      });
    }
  }

  /** The write finished: persist, send, apply, advance. */
  private complete(node: SimNode): void {
    const rn = node.rn!;
    const { rd, sent } = node.inflight!;
    if (rd.snapshot) node.disk.applySnapshot(rd.snapshot);
    node.disk.append(rd.entries);
    if (rd.hardState) node.disk.setHardState(rd.hardState);
    if (!sent) this.send(node, rd.messages);
    this.apply(node, rd);
    node.inflight = undefined;
    rn.advance(rd);
    this.maybeCompact(node);
    if (node.removed) {
      this.trace(`${node.id} removed: stopping`);
      node.rn = undefined;
      return;
    }
    this.pump(node);
  }

  private termBound(): number {
    let t = 0;
    for (const n of this.nodes) {
      t = Math.max(t, n.rn?.raft.term ?? 0, n.disk.initialState().hardState.term);
    }
    return t;
  }

  private apply(node: SimNode, rd: Ready): void {
    const rn = node.rn!;
    if (rd.snapshot) {
      const s = rd.snapshot;
      node.applied = s.metadata.index;
      node.appliedTerm = s.metadata.term;
      node.hash = Number(new TextDecoder().decode(s.data));
      node.confState = s.metadata.confState;
      this.history.observeChain(node.id, node.applied, node.hash);
    }
    const bound = this.termBound();
    for (const e of rd.committedEntries) {
      if (e.index !== node.applied + 1) {
        throw new SafetyError(`node ${node.id} applies ${e.index} after ${node.applied}`);
      }
      if (e.type === EntryType.ConfChange) {
        const cc = decodeConfChange(e.data);
        node.confState = rn.applyConfChange(cc);
        if (cc.type === ConfChangeType.RemoveNode) {
          // IDs are never reused, as etcd's membership refuses a removed ID.
          this.retired.add(cc.nodeId);
          if (cc.nodeId === node.id) node.removed = true;
        }
      }
      node.hash = chain(node.hash, e);
      node.applied = e.index;
      node.appliedTerm = e.term;
      this.history.observeApply(node.id, e, node.hash, bound);
      if (new TextDecoder().decode(e.data).startsWith("live")) this.liveApplied.add(node.id);
    }
    for (const rs of rd.readStates) {
      const key = new TextDecoder().decode(rs.requestCtx);
      const min = node.reads.get(key);
      if (min !== undefined && rs.index < min) {
        throw new SafetyError(`node ${node.id} read ${key} at index ${rs.index} < ${min}`);
      }
      node.reads.delete(key);
    }
  }

  private maybeCompact(node: SimNode): void {
    const snapIndex = node.disk.snapshot().metadata.index;
    if (node.applied - snapIndex < 20) return;
    const data = enc.encode(String(node.hash));
    node.disk.createSnapshot(node.applied, node.confState, data);
    node.disk.compact(node.applied - Math.floor(this.rand() * 5));
  }

  private deliver(p: Pending): void {
    const node = this.node(p.to);
    if (p.kind === "complete") {
      if (node.rn && p.incarnation === node.incarnation && node.inflight) this.complete(node);
      return;
    }
    const m = p.m!;
    if (!node.rn || this.node(m.from).group !== node.group) {
      // Lost (target down, or partitioned while in flight). A snapshot sender learns of it,
      // as etcd's transport reports every snapshot's outcome.
      if (m.type === MessageType.MsgSnap) this.node(m.from).rn?.reportSnapshot(m.to, false);
      return;
    }
    try {
      node.rn.step(m);
    } catch (err) {
      if (
        err !== ErrProposalDropped && !(err instanceof Error && err.message.startsWith("raft:"))
      ) {
        throw err;
      }
    }
    if (m.type === MessageType.MsgSnap) this.node(m.from).rn?.reportSnapshot(m.to, true);
    this.pump(node);
  }

  private checkStep(full: boolean): void {
    const live = this.nodes.filter((n) => n.rn);
    for (const n of live) {
      const r = n.rn!.raft;
      if (r.state === StateType.Leader && this.history.observeLeader(r.term, n.id)) {
        this.trace(`leader ${n.id} term ${r.term}`);
        this.history.checkLeaderCompleteness(n.rn!, r.term);
      }
    }
    if (!full) return;
    for (let i = 0; i < live.length; i++) {
      for (let j = i + 1; j < live.length; j++) checkLogMatching(live[i].rn!, live[j].rn!);
    }
  }

  private propose(node: SimNode, data: string): void {
    try {
      node.rn!.propose(enc.encode(data));
    } catch (err) {
      if (err !== ErrProposalDropped) throw err;
    }
    this.pump(node);
  }

  private chaos(): void {
    const live = this.nodes.filter((n) => n.rn);
    const pick = <T>(xs: T[]): T => xs[Math.floor(this.rand() * xs.length)];
    if (live.length > 0 && this.rand() < 0.4) {
      this.propose(pick(live), `p${this.opts.seed}-${this.proposals++}`);
    }
    if (live.length > 0 && this.rand() < 0.05) {
      const n = pick(live);
      const ctx = `r${this.seq}`;
      n.reads.set(ctx, this.history.maxCommitted);
      try {
        n.rn!.readIndex(enc.encode(ctx));
      } catch { /* dropped without a leader */ }
      this.pump(n);
    }
    if (live.length > 0 && this.rand() < 0.01) {
      const n = pick(live);
      n.rn!.transferLeader(pick(this.nodes).id);
      this.pump(n);
    }
    if (live.length > 0 && this.rand() < this.crashRate) {
      const n = pick(live);
      this.trace(`crash ${n.id}`);
      n.rn = undefined;
      n.inflight = undefined;
    }
    if (live.length > 0 && this.rand() < 0.02) this.changeMembership();
    const down = this.nodes.filter((n) => !n.rn && !n.removed && !(n.spare && n.incarnation === 0));
    if (down.length > 0 && this.rand() < 0.05) {
      const n = pick(down);
      this.trace(`restart ${n.id}`);
      this.start(n);
      this.pump(n);
    }
    if (this.rand() < 0.01) {
      for (const n of this.nodes) n.group = Math.floor(this.rand() * 2);
      this.trace(`partition ${this.nodes.map((n) => n.group).join("")}`);
    } else if (this.rand() < 0.03) {
      for (const n of this.nodes) n.group = 0;
    }
  }

  private leader(): SimNode | undefined {
    return this.nodes.find((n) => n.rn?.raft.state === StateType.Leader);
  }

  /** Every member in the leader's configuration applied a post-heal entry. */
  private membersLive(): boolean {
    const l = this.leader();
    if (!l) return false;
    const cs = l.rn!.raft.prs.confState();
    return [...cs.voters, ...cs.learners].every((id) => this.liveApplied.has(id));
  }

  /** Adds a spare as learner, promotes a learner, or removes a voter (keeping >= 3). */
  private changeMembership(): void {
    const l = this.leader();
    if (!l) return;
    const cs = l.rn!.raft.prs.confState();
    const member = new Set([...cs.voters, ...cs.learners]);
    const candidates = this.nodes.filter((n) =>
      n.spare && !member.has(n.id) && !this.retired.has(n.id)
    );
    let change: { type: ConfChangeType; nodeId: bigint } | undefined;
    const roll = this.rand();
    if (roll < 0.4 && candidates.length > 0) {
      const n = candidates[0];
      if (!n.rn) {
        this.start(n);
        this.pump(n);
      }
      change = { type: ConfChangeType.AddLearnerNode, nodeId: n.id };
    } else if (roll < 0.8 && cs.learners.length > 0) {
      change = { type: ConfChangeType.AddNode, nodeId: cs.learners[0] };
    } else if (cs.voters.length > 3) {
      const victims = cs.voters.filter((id) => id !== l.id);
      change = {
        type: ConfChangeType.RemoveNode,
        nodeId: victims[Math.floor(this.rand() * victims.length)],
      };
    }
    if (!change) return;
    this.trace(`propose ${ConfChangeType[change.type]} ${change.nodeId}`);
    try {
      l.rn!.proposeConfChange({ id: 0, context: new Uint8Array(), ...change });
    } catch (err) {
      if (err !== ErrProposalDropped) throw err;
    }
    this.pump(l);
  }

  private tickAll(): void {
    for (const n of this.nodes) {
      if (!n.rn) continue;
      n.rn.tick();
      this.pump(n);
    }
  }

  private runUntil(t: number): void {
    while (this.queue.length > 0 && this.queue[0].at < t) {
      const p = this.queue.shift()!;
      this.now = p.at;
      this.deliver(p);
      this.checkStep(false);
    }
    this.now = t;
  }

  run(): SimResult {
    const result: SimResult = {
      seed: this.opts.seed,
      ok: true,
      recoveryTicks: -1,
      applied: 0,
      leaders: 0,
      snapshotsToNewMembers: 0,
    };
    try {
      for (const n of this.nodes) this.pump(n);
      for (let t = 1; t <= this.opts.ticks; t++) {
        this.runUntil(t);
        this.tickAll();
        this.chaos();
        this.checkStep(true);
      }
      result.recoveryTicks = this.heal();
    } catch (err) {
      result.ok = false;
      result.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      if (!(err instanceof SafetyError) && err instanceof Error) result.error += `\n${err.stack}`;
    }
    result.applied = this.history.maxCommitted;
    result.leaders = this.history.leaderOfTerm.size;
    result.snapshotsToNewMembers = this.snapshotsToNewMembers;
    return result;
  }

  private describe(): string {
    return this.nodes.map((n) => {
      if (!n.rn) return `\n  ${n.id} down${n.removed ? " (removed)" : ""}`;
      const r = n.rn.raft;
      const prs = r.state === StateType.Leader
        ? [...r.prs.progress].map(([id, p]) => `${id}:${p}`).join(", ")
        : "";
      return `\n  ${n.id} ${
        StateType[r.state]
      } term=${r.term} applied=${n.applied} commit=${r.raftLog.committed} last=${r.raftLog.lastIndex()} first=${r.raftLog.firstIndex()} conf=${r.prs.configString()} [${prs}]`;
    }).join("");
  }

  /** Heals everything, then requires a fresh proposal to be applied everywhere in time. */
  private heal(): number {
    this.drop = 0;
    this.dup = 0;
    this.maxDelay = 0.5;
    for (const n of this.nodes) {
      n.group = 0;
      if (!n.rn && !n.removed && n.incarnation > 0) this.start(n);
      this.pump(n);
    }
    const limit = 30 * this.electionTick;
    for (let t = 1; t <= limit; t++) {
      this.runUntil(this.opts.ticks + t);
      this.tickAll();
      if (t % this.electionTick === 0) {
        const leader = this.leader();
        if (leader) this.propose(leader, `live-${t}`);
      }
      this.checkStep(true);
      if (this.membersLive()) return t;
    }
    throw new SafetyError(`no progress within ${limit} ticks after healing: ${this.describe()}`);
  }
}

export function simulate(opts: SimOptions): SimResult {
  return new Simulation(opts).run();
}

export const replayHint = (seed: number, nodes: number) =>
  `deno task sim:raft --seeds 1 --start ${seed} --nodes ${nodes} --trace`;
