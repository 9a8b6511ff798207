// etcd's heartbeat timeout detector: a leader's heartbeat to a peer leaving more than two
// heartbeat intervals after the previous one means the leader could not keep up (a slow disk,
// a stalled event loop). etcd warns and counts it; leadership changes start afresh.
import { type Message, MessageType } from "../raft/mod.ts";
import { formatGoDuration } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import { serverMetrics } from "../metrics/mod.ts";
import { formatId } from "./ids.ts";

export class HeartbeatCheck {
  readonly #lastSent = new Map<bigint, number>();

  constructor(
    readonly heartbeatMs: number,
    readonly log: Logger,
    readonly now: () => number = () => performance.now(),
  ) {}

  reset(): void {
    this.#lastSent.clear();
  }

  /** Messages going out now. */
  sending(messages: Message[]): void {
    for (const m of messages) {
      if (m.type !== MessageType.MsgHeartbeat) continue;
      const now = this.now();
      const last = this.#lastSent.get(m.to);
      this.#lastSent.set(m.to, now);
      const exceeded = last === undefined ? 0 : now - last - 2 * this.heartbeatMs;
      if (exceeded > 0) this.#late(m.to, exceeded);
    }
  }

  #late(to: bigint, exceededMs: number): void {
    const interval = formatGoDuration(this.heartbeatMs);
    const exceeded = formatGoDuration(exceededMs);
    this.log.warn({
      pkg: "etcdserver",
      text:
        `failed to send out heartbeat on time (exceeded the ${interval} timeout for ${exceeded}, to ${
          formatId(to)
        })`,
      msg:
        "leader failed to send out heartbeat on time; took too long, leader is overloaded likely from slow disk",
      fields: {
        to: formatId(to),
        "heartbeat-interval": interval,
        "expected-duration": formatGoDuration(2 * this.heartbeatMs),
        "exceeded-duration": exceeded,
      },
    });
    serverMetrics.heartbeatSendFailures.inc();
  }
}
