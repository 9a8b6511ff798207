// etcd's corruption checks (etcdserver/corrupt.go), comparing HashKV with the other members
// over the peer port: the initial check before a restarted member serves anything
// (--experimental-initial-corrupt-check; a mismatch refuses the start), and the leader's
// periodic check (--experimental-corrupt-check-time; a mismatch raises the CORRUPT alarm
// through raft). Log lines are etcd's, in both of its formats.
import type { Logger } from "../log/mod.ts";
import { formatGoDuration, goQuote, goQuoteList } from "../config/mod.ts";
import { type Clock, realClock } from "./compactor.ts";
import { formatId } from "./ids.ts";

/** A member's HashKV as the peer port answers it. */
export interface PeerHashKV {
  revision: number;
  hash: number;
  compactRevision: number;
  /** The answer's header member ID: etcd's peer handler leaves it 0, and so do we. */
  memberId?: bigint;
}

export interface CorruptionDeps {
  log: Logger;
  memberId: bigint;
  /** HashKV of the local store at its current revision. */
  localHash(): PeerHashKV;
  /** The other members and their peer URLs. */
  peers(): { id: bigint; peerURLs: string[] }[];
  /** Asks one peer URL for its HashKV at `revision` (the peer client's hashKV). */
  peerHashKV(peerURL: string, revision: number, timeoutMs: number): Promise<PeerHashKV>;
  requestTimeoutMs: number;
  isLeader(): boolean;
  /** Waits until everything committed before the call is applied here. */
  linearizableRead(): Promise<void>;
  /** Proposes etcd's CORRUPT alarm (member 0: which member is bad is not known). */
  raiseCorruptAlarm(): Promise<unknown>;
  clock?: Clock;
}

/** A peer's answer, or why there is none. */
interface PeerResult {
  id: bigint;
  eps: string[];
  resp?: PeerHashKV;
  err?: Error;
}

const COMPACTED = "mvcc: required revision has been compacted";
const FUTURE_REV = "mvcc: required revision is a future revision";

export class CorruptionChecker {
  readonly #stop = new AbortController();

  constructor(readonly deps: CorruptionDeps) {}

  get #id(): string {
    return formatId(this.deps.memberId);
  }

  #warn(text: string, msg: string, fields: Record<string, unknown>): void {
    this.deps.log.warn({ pkg: "etcdserver", text, msg, fields });
  }

  /**
   * etcd's CheckInitialHashKV: the local hash against every peer's at the local revision.
   * Resolves to etcd's error text when a peer with the same compact revision disagrees.
   */
  async checkInitial(): Promise<string | undefined> {
    const { log, requestTimeoutMs } = this.deps;
    log.info({
      pkg: "etcdserver",
      text: `${this.#id} starting initial corruption check with timeout ${
        formatGoDuration(requestTimeoutMs)
      }...`,
      msg: "starting initial corruption check",
      fields: { "local-member-id": this.#id, timeout: formatGoDuration(requestTimeoutMs) },
    });
    let local: PeerHashKV;
    try {
      local = this.deps.localHash();
    } catch (err) {
      return `${this.#id} failed to fetch hash (${(err as Error).message})`;
    }
    let mismatch = 0;
    for (const p of await this.#peerHashes(local.revision)) {
      if (p.resp) mismatch += this.#compareInitial(local, p, p.resp) ? 0 : 1;
      else if (p.err) this.#peerBehindOrAhead(local, p, p.err);
    }
    if (mismatch > 0) return `${this.#id} found data inconsistency with peers`;
    log.info({
      pkg: "etcdserver",
      text: `${this.#id} succeeded on initial corruption checking: no corruption`,
      msg: "initial corruption checking passed; no corruption",
      fields: { "local-member-id": this.#id },
    });
  }

  /** false when the peer's hash differs at the same compact revision. */
  #compareInitial(local: PeerHashKV, p: PeerResult, resp: PeerHashKV): boolean {
    if (local.hash === resp.hash) return true;
    // etcd names the peer by the answer's header, which carries no member ID ("0").
    const peer = formatId(resp.memberId ?? 0n);
    const fields = {
      "local-member-id": this.#id,
      "local-member-revision": local.revision,
      "local-member-compact-revision": local.compactRevision,
      "local-member-hash": local.hash,
      "remote-peer-id": peer,
      "remote-peer-endpoints": p.eps,
      "remote-peer-revision": resp.revision,
      "remote-peer-compact-revision": resp.compactRevision,
      "remote-peer-hash": resp.hash,
    };
    if (local.compactRevision !== resp.compactRevision) {
      this.#warn(
        `${this.#id} cannot check hash of peer(${peer}): peer has a different compact ` +
          `revision ${resp.compactRevision} (revision:${local.revision})`,
        "found different compact revision values from remote peer",
        fields,
      );
      return true;
    }
    this.deps.log.error({
      pkg: "etcdserver",
      text:
        `${this.#id}'s hash ${local.hash} != ${peer}'s hash ${resp.hash} (revision ${local.revision}, peer revision ${resp.revision}, compact revision ${local.compactRevision})`,
      msg: "found different hash values from remote peer",
      fields,
      zapLevel: "warn",
    });
    return false;
  }

  #peerBehindOrAhead(local: PeerHashKV, p: PeerResult, err: Error): void {
    const behind = err.message.includes(FUTURE_REV);
    if (!behind && !err.message.includes(COMPACTED)) return;
    const fields = {
      "local-member-id": this.#id,
      "local-member-revision": local.revision,
      "local-member-compact-revision": local.compactRevision,
      "local-member-hash": local.hash,
      "remote-peer-id": formatId(p.id),
      "remote-peer-endpoints": p.eps,
    };
    const who = behind ? "peer is lagging behind" : "local node is lagging behind";
    this.#warn(
      `${this.#id} cannot check the hash of peer(${
        goQuoteList(p.eps)
      }) at revision ${local.revision}: ${who}(${goQuote(err.message)})`,
      behind
        ? "cannot fetch hash from slow remote peer"
        : "cannot fetch hash from remote peer; local member is behind",
      fields,
    );
  }

  /**
   * etcd's monitorKVHash: every `intervalMs`, the leader checks the members' hashes.
   * 0 (and here a negative interval, on which etcd would spin) turns it off.
   */
  startPeriodic(intervalMs: number): void {
    if (!(intervalMs > 0)) return;
    const { log } = this.deps;
    const clock = this.deps.clock ?? realClock;
    const interval = formatGoDuration(intervalMs);
    log.info({
      pkg: "etcdserver",
      text: `enabled corruption checking with ${interval} interval`,
      msg: "enabled corruption checking",
      fields: { "local-member-id": this.#id, interval },
    });
    void (async () => {
      while (await clock.sleep(intervalMs, this.#stop.signal)) {
        if (!this.deps.isLeader()) continue;
        try {
          await this.checkPeers();
        } catch (err) {
          const error = (err as Error).message;
          log.debug({
            pkg: "etcdserver",
            text: `check hash kv failed ${error}`,
            msg: "failed to check hash KV",
            fields: { error },
            zapLevel: "warn",
          });
        }
      }
    })();
  }

  stop(): void {
    this.#stop.abort();
  }

  /**
   * etcd's checkHashKV, run by the leader: its own hash before and after a linearizable read
   * must agree, and each follower must be no further on and hash alike at the same compact
   * revision. Any disagreement raises the CORRUPT alarm (once per check).
   */
  async checkPeers(): Promise<void> {
    const { localHash, linearizableRead, log } = this.deps;
    const first = localHash();
    const peers = await this.#peerHashes(first.revision);
    await linearizableRead();
    const second = localHash();
    let alarmed = false;
    const mismatch = () => {
      if (alarmed) return;
      alarmed = true;
      this.deps.raiseCorruptAlarm().catch(() => {});
    };
    if (
      second.hash !== first.hash && second.revision === first.revision &&
      second.compactRevision === first.compactRevision
    ) {
      this.#warn(
        `mismatched hashes ${first.hash} and ${second.hash} for revision ${first.revision}`,
        "found hash mismatch",
        {
          "revision-1": first.revision,
          "compact-revision-1": first.compactRevision,
          "hash-1": first.hash,
          "revision-2": second.revision,
          "compact-revision-2": second.compactRevision,
          "hash-2": second.hash,
        },
      );
      mismatch();
    }
    let checked = 0;
    for (const p of peers) {
      if (!p.resp) continue;
      checked++;
      if (!this.#followerAgrees(first, second, p.id, p.resp)) mismatch();
    }
    log.info({
      pkg: "etcdserver",
      text: "finished peer corruption check",
      fields: { "number-of-peers-checked": checked },
    });
  }

  /** The leader's three rules for a follower's answer; each broken one is logged. */
  #followerAgrees(first: PeerHashKV, second: PeerHashKV, id: bigint, resp: PeerHashKV): boolean {
    const peer = formatId(id);
    let ok = true;
    if (resp.revision > second.revision) {
      this.#warn(
        `revision ${resp.revision} from member ${peer}, expected at most ${second.revision}`,
        "revision from follower must be less than or equal to leader's",
        {
          "leader-revision": second.revision,
          "follower-revision": resp.revision,
          "follower-peer-id": peer,
        },
      );
      ok = false;
    }
    if (resp.compactRevision > second.compactRevision) {
      this.#warn(
        `compact revision ${resp.compactRevision} from member ${peer}, expected at most ${second.compactRevision}`,
        "compact revision from follower must be less than or equal to leader's",
        {
          "leader-compact-revision": second.compactRevision,
          "follower-compact-revision": resp.compactRevision,
          "follower-peer-id": peer,
        },
      );
      ok = false;
    }
    if (resp.compactRevision === first.compactRevision && resp.hash !== first.hash) {
      this.#warn(
        `hash ${resp.hash} at revision ${first.revision} from member ${peer}, expected hash ${first.hash}`,
        "same compact revision then hashes must match",
        {
          "leader-compact-revision": second.compactRevision,
          "leader-hash": first.hash,
          "follower-compact-revision": resp.compactRevision,
          "follower-hash": resp.hash,
          "follower-peer-id": peer,
        },
      );
      ok = false;
    }
    return ok;
  }

  /** etcd's getPeerHashKVs: each peer's first URL that answers; a warning per failure. */
  async #peerHashes(revision: number): Promise<PeerResult[]> {
    const { peers, peerHashKV, requestTimeoutMs } = this.deps;
    const out: PeerResult[] = [];
    for (const { id, peerURLs: eps } of peers()) {
      if (eps.length === 0) continue;
      let err: Error | undefined;
      for (const ep of eps) {
        try {
          out.push({ id, eps, resp: await peerHashKV(ep, revision, requestTimeoutMs) });
          err = undefined;
          break;
        } catch (e) {
          err = asEtcdError(e as Error);
          this.#warn(
            `${this.#id} hash-kv error ${goQuote(err.message)} on peer ${
              goQuote(ep)
            } with revision ${revision}`,
            "failed hash kv request",
            {
              "local-member-id": this.#id,
              "requested-revision": revision,
              "remote-peer-endpoint": ep,
              error: err.message,
            },
          );
        }
      }
      if (err) out.push({ id, eps, err });
    }
    return out;
  }
}

/** How etcd's client reads a peer's refusal: its mvcc errors as the API's, else unknown. */
function asEtcdError(err: Error): Error {
  if (err.message.includes(COMPACTED)) return new Error(`etcdserver: ${COMPACTED}`);
  if (err.message.includes(FUTURE_REV)) return new Error(`etcdserver: ${FUTURE_REV}`);
  return err;
}
