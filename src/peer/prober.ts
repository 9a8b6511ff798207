// etcd's peer prober: every 4 s a GET /raft/probing to the peer, folded into a smoothed round
// trip time (SRTT = 7/8 SRTT + 1/8 RTT, from 0, as etcd's probing library keeps it), which goes
// into the round trip histogram every 30 s, or every 5 s while the peer does not answer. Each
// probe opens its own connection, so its time includes connecting (etcd's reuses one).
import { networkMetrics } from "../metrics/mod.ts";
import { type PeerClientTLS, request } from "./http1.ts";
import { hexId } from "./wire.ts";

/** etcd's proberInterval (its ConnReadTimeout less a second). */
const PROBE_INTERVAL_MS = 4000;
const REPORT_INTERVAL_MS = 30_000;
const REPORT_UNHEALTHY_INTERVAL_MS = 5000;
const ALPHA = 0.125;

export interface ProberContext {
  tls?: PeerClientTLS;
  dialTimeoutMs: number;
}

export class PeerProber {
  #srttMs = 0;
  #healthy = false;
  #pinned = 0;
  #closed = false;
  readonly #probeTimer: ReturnType<typeof setInterval>;
  #reportTimer?: ReturnType<typeof setTimeout>;
  readonly #to: { To: string };

  constructor(id: bigint, readonly urls: () => string[], readonly ctx: ProberContext) {
    this.#to = { To: hexId(id) };
    this.#probeTimer = setInterval(() => void this.#probe(), PROBE_INTERVAL_MS);
    this.#scheduleReport(REPORT_UNHEALTHY_INTERVAL_MS);
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#probeTimer);
    clearTimeout(this.#reportTimer);
  }

  async #probe(): Promise<void> {
    const urls = this.urls();
    if (urls.length === 0) return;
    const url = new URL(urls[this.#pinned % urls.length]);
    const start = performance.now();
    try {
      const res = await request(url, {
        method: "GET",
        path: "/raft/probing",
        timeoutMs: PROBE_INTERVAL_MS,
        tls: this.ctx.tls,
      });
      if (res.status !== 200) throw new Error(`unexpected status ${res.status}`);
      if (JSON.parse(new TextDecoder().decode(res.body)).OK !== true) throw new Error("not OK");
    } catch {
      this.#healthy = false;
      this.#pinned++;
      return;
    }
    this.#healthy = true;
    this.#srttMs = (1 - ALPHA) * this.#srttMs + ALPHA * (performance.now() - start);
  }

  #scheduleReport(ms: number): void {
    this.#reportTimer = setTimeout(() => {
      if (this.#closed) return;
      networkMetrics.peerRoundTripSeconds.labels(this.#to).observe(this.#srttMs / 1000);
      this.#scheduleReport(this.#healthy ? REPORT_INTERVAL_MS : REPORT_UNHEALTHY_INTERVAL_MS);
    }, ms);
  }
}
