// What the generator's workloads share: the window's configuration and result, the Meter that
// counts while a window is measured, the keys and values written, and the connections.

import { type ClientConnection, connect } from "../../tests/support/h2/mod.ts";
import { type ClientTLSFiles, clientTLSOptions } from "./tls.ts";

export type WorkloadName =
  | "put"
  | "range"
  | "range-serializable"
  | "range-10k"
  | "txn-cas"
  | "preload"
  | "lease-grant"
  | "keepalive"
  | "watch"
  | "gateway-put";

export interface LoadConfig {
  endpoints: { host: string; port: number }[];
  workload: WorkloadName;
  seconds: number;
  warmupSeconds: number;
  connections: number;
  inflight: number;
  /** Keys the workload touches: /bench/0000000 up to keySpace - 1. */
  keySpace: number;
  valueSize: number;
  /** Mutual TLS (https members); plain HTTP/2 when absent. */
  tls?: ClientTLSFiles;
  /** Requests of a counted workload (preload batches, lease grants); timed windows when absent. */
  count?: number;
  /** preload: puts per Txn. */
  batch?: number;
  /** watch: watch streams on the one key the writer writes. */
  watchers?: number;
  /** txn-cas: the keys the transactions compete for. */
  hotKeys?: number;
  /** lease-grant, keepalive: lease IDs 1..leases. */
  leases?: number;
}

export interface LoadResult {
  ops: number;
  errors: number;
  firstError?: string;
  elapsedSeconds: number;
  /** Latency histogram: [microseconds, count] pairs, ascending; empty when ops are not timed. */
  histogram: [number, number][];
  /** Counters a workload adds (the writer's puts under watch, CAS successes, new sockets). */
  counters: Record<string, number>;
}

/** A workload once set up: the request of one in-flight slot, and the teardown. */
export interface Load {
  /** One request; `seq` numbers the requests of a counted workload (0..count-1). */
  op(slot: number, seq: number): Promise<void>;
  /** False when ops are not the unit counted (watch counts delivered events itself). */
  timed: boolean;
  close(): void;
}

/** 1 µs buckets up to 1 s, then 1 ms buckets up to 60 s; slower requests share the last. */
const FINE_US = 1_000_000;
const COARSE_US = 1000;
const HIST_BUCKETS = FINE_US + 59_000;

const bucketOf = (us: number) =>
  Math.min(us < FINE_US ? us : FINE_US + Math.floor((us - FINE_US) / COARSE_US), HIST_BUCKETS);
const usOf = (bucket: number) =>
  bucket < FINE_US ? bucket : FINE_US + (bucket - FINE_US) * COARSE_US;

/** What a window counts: only while `measuring`. */
export class Meter {
  measuring = false;
  ops = 0;
  errors = 0;
  firstError?: string;
  readonly counters: Record<string, number> = {};
  private readonly hist = new Uint32Array(HIST_BUCKETS + 1);

  /** One timed op that began at `t0` (performance.now()). */
  done(t0: number): void {
    if (!this.measuring) return;
    const us = Math.round((performance.now() - t0) * 1000);
    this.hist[bucketOf(us)]++;
    this.ops++;
  }

  /** `n` untimed units (events delivered). */
  add(n: number): void {
    if (this.measuring) this.ops += n;
  }

  count(name: string, n = 1): void {
    if (this.measuring) this.counters[name] = (this.counters[name] ?? 0) + n;
  }

  fail(e: unknown): void {
    this.firstError ??= String((e as Error)?.message ?? e);
    if (this.measuring) this.errors++;
  }

  result(elapsedSeconds: number): LoadResult {
    const histogram: [number, number][] = [];
    this.hist.forEach((n, bucket) => {
      if (n > 0) histogram.push([usOf(bucket), n]);
    });
    const { ops, errors, firstError, counters } = this;
    return { ops, errors, firstError, elapsedSeconds, histogram, counters };
  }
}

export function benchKey(i: number): string {
  return "/bench/" + String(i).padStart(7, "0");
}

export function benchValue(size: number): Uint8Array {
  const value = new Uint8Array(size);
  for (let i = 0; i < size; i++) value[i] = 97 + (i % 26);
  return value;
}

export async function openConnections(cfg: LoadConfig): Promise<ClientConnection[]> {
  const tls = cfg.tls && clientTLSOptions(cfg.tls);
  const conns: ClientConnection[] = [];
  for (let i = 0; i < cfg.connections; i++) {
    const ep = cfg.endpoints[i % cfg.endpoints.length];
    conns.push(await connect({ host: ep.host, port: ep.port, tls }));
  }
  return conns;
}

/** xorshift32: cheap and deterministic, enough to spread keys. */
export function xorshift(seed = 0x2545f491): () => number {
  return () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 4294967296;
  };
}
