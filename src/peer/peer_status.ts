// Whether a peer is reachable, as etcd's peerStatus keeps it: any stream or pipeline that works
// activates it, any that fails deactivates it; each transition is logged once and counted.
import type { Logger } from "../log/mod.ts";
import { networkMetrics } from "../metrics/mod.ts";
import { hexId } from "./wire.ts";

/** What failed and how: etcd's failureType ("dial" on "stream Message", say). */
export interface Failure {
  source: string;
  action: string;
}

export class PeerStatus {
  #since = 0;
  readonly #pair;

  constructor(readonly id: bigint, readonly localId: bigint, readonly logger: Logger) {
    this.#pair = { Local: hexId(localId), Remote: hexId(id) };
  }

  get active(): boolean {
    return this.#since !== 0;
  }

  /** When the peer became active (ms since the epoch); 0 while it is not. */
  get activeSince(): number {
    return this.#since;
  }

  activate(): void {
    if (this.#since !== 0) return;
    const id = hexId(this.id);
    this.logger.info({
      pkg: "rafthttp",
      text: `peer ${id} became active`,
      msg: "peer became active",
      fields: { "peer-id": id },
    });
    this.#since = Date.now();
    networkMetrics.activePeers.labels(this.#pair).inc();
  }

  deactivate(failure: Failure, reason: string): void {
    const id = hexId(this.id);
    const text = `failed to ${failure.action} ${id} on ${failure.source} (${reason})`;
    if (this.#since === 0) {
      this.logger.debug({
        pkg: "rafthttp",
        text,
        msg: "peer deactivated again",
        fields: { "peer-id": id, error: text },
        only: "zap",
      });
      return;
    }
    this.logger.error({ pkg: "rafthttp", text, only: "capnslog" });
    this.logger.info({
      pkg: "rafthttp",
      text: `peer ${id} became inactive (message send to peer failed)`,
      zapLevel: "warn",
      fields: { "peer-id": id, error: text },
    });
    this.#since = 0;
    networkMetrics.activePeers.labels(this.#pair).dec();
    networkMetrics.disconnectedPeers.labels(this.#pair).inc();
  }

  /** The peer is gone from the transport: its gauge goes back down. */
  close(): void {
    if (this.#since !== 0) networkMetrics.activePeers.labels(this.#pair).dec();
    this.#since = 0;
  }
}
