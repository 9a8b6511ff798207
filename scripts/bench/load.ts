// The load generator: a fixed number of gRPC requests in flight over a few connections of the
// lean HTTP/2 client, for one window against one target. Runs under Node (bundled by main.ts) or
// Deno, so it uses only node: modules. Protocol with main.ts, one JSON line each on stdout:
//   {"event":"start"}  after the warm-up, when the measured window begins
//   {"event":"end", ...LoadResult}  when it ends (in-flight requests are then abandoned)
// It exits when its stdin closes, so that main.ts reads its CPU time while it still exists.

import process from "node:process";
import { type ClientConnection, connect, unaryCall } from "../../tests/support/h2/mod.ts";
import { encodePutRequest, encodeRangeRequest } from "./pb.ts";
import { type ClientTLSFiles, clientTLSOptions } from "./tls.ts";

export interface LoadConfig {
  endpoints: { host: string; port: number }[];
  workload: "put" | "range";
  seconds: number;
  warmupSeconds: number;
  connections: number;
  inflight: number;
  keySpace: number;
  valueSize: number;
  /** Mutual TLS (https members); plain HTTP/2 when absent. */
  tls?: ClientTLSFiles;
}

export interface LoadResult {
  ops: number;
  errors: number;
  firstError?: string;
  elapsedSeconds: number;
  /** Latency histogram: [microseconds, count] pairs, ascending. */
  histogram: [number, number][];
}

/** 1 µs buckets up to 1 s; slower requests share the last bucket. */
const HIST_MAX_US = 1_000_000;

export const RANGE_KEY = "/bench/range";

export function benchKey(i: number): string {
  return "/bench/" + String(i).padStart(5, "0");
}

export async function runLoad(cfg: LoadConfig, emit: (line: object) => void): Promise<void> {
  const enc = new TextEncoder();
  const value = new Uint8Array(cfg.valueSize);
  for (let i = 0; i < value.length; i++) value[i] = 97 + (i % 26);

  const tls = cfg.tls && clientTLSOptions(cfg.tls);
  const conns: ClientConnection[] = [];
  for (let i = 0; i < cfg.connections; i++) {
    const ep = cfg.endpoints[i % cfg.endpoints.length];
    conns.push(await connect({ host: ep.host, port: ep.port, tls }));
  }

  // Requests are encoded up front: the window then measures transport, not setup.
  let bodies: Uint8Array[];
  let path: string;
  if (cfg.workload === "put") {
    path = "/etcdserverpb.KV/Put";
    bodies = Array.from(
      { length: cfg.keySpace },
      (_, i) => encodePutRequest({ key: enc.encode(benchKey(i)), value }),
    );
  } else {
    path = "/etcdserverpb.KV/Range";
    await unaryCall(
      conns[0],
      "/etcdserverpb.KV/Put",
      encodePutRequest({ key: enc.encode(RANGE_KEY), value }),
    );
    bodies = [encodeRangeRequest({ key: enc.encode(RANGE_KEY) })];
  }

  const hist = new Uint32Array(HIST_MAX_US + 1);
  let measuring = false, running = true;
  let ops = 0, errors = 0;
  let firstError: string | undefined;
  let seed = 0x2545f491;
  const random = () => {
    // xorshift32: cheap and deterministic, enough to spread keys
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 4294967296;
  };

  const worker = async (w: number) => {
    const conn = conns[w % conns.length];
    while (running) {
      const body = bodies.length === 1 ? bodies[0] : bodies[Math.floor(random() * bodies.length)];
      const t0 = performance.now();
      try {
        await unaryCall(conn, path, body);
        if (!measuring) continue;
        const us = Math.round((performance.now() - t0) * 1000);
        hist[us < HIST_MAX_US ? us : HIST_MAX_US]++;
        ops++;
      } catch (e) {
        if (!running) return;
        if (measuring) errors++;
        firstError ??= String((e as Error)?.message ?? e);
        if (conn.isClosed) return;
      }
    }
  };

  const workers = Array.from({ length: cfg.inflight }, (_, w) => worker(w));
  await sleep(cfg.warmupSeconds * 1000);
  measuring = true;
  const start = performance.now();
  emit({ event: "start" });
  await sleep(cfg.seconds * 1000);
  measuring = false;
  const elapsedSeconds = (performance.now() - start) / 1000;
  const histogram: [number, number][] = [];
  hist.forEach((count, us) => {
    if (count > 0) histogram.push([us, count]);
  });
  const result: LoadResult = { ops, errors, firstError, elapsedSeconds, histogram };
  emit({ event: "end", ...result });
  running = false;
  for (const c of conns) c.destroy();
  await Promise.allSettled(workers);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Entry point for the generator process: the config is the JSON argument. */
export async function main(argv: string[]): Promise<void> {
  const cfg = JSON.parse(argv[0]) as LoadConfig;
  try {
    const released = new Promise((r) => {
      process.stdin.once("end", r);
      process.stdin.once("close", r);
    });
    process.stdin.resume();
    await runLoad(cfg, (line) => process.stdout.write(JSON.stringify(line) + "\n"));
    await released;
    process.exit(0);
  } catch (e) {
    process.stderr.write(`load generator: ${(e as Error)?.stack ?? e}\n`);
    process.exit(1);
  }
}
