// The load generator: a fixed number of gRPC requests in flight over a few connections of the
// lean HTTP/2 client (or, with transport "gateway-http1", JSON gateway requests over HTTP/1.1:
// gateway_http1.ts), for one window against one target. Runs under Node (bundled by main.ts) or
// Deno, so it uses only node: modules. Protocol with main.ts, one JSON line each on stdout:
//   {"event":"start"}  after the warm-up, when the measured window begins
//   {"event":"end", ...LoadResult}  when it ends (in-flight requests are then abandoned)
// It exits when its stdin closes, so that main.ts reads its CPU time while it still exists.

import process from "node:process";
import { type ClientConnection, connect, unaryCall } from "../../tests/support/h2/mod.ts";
import { prepareGateway } from "./gateway_http1.ts";
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
  /** gRPC (the default), or the JSON gateway over HTTP/1.1 (a connection per request in flight). */
  transport?: "grpc" | "gateway-http1";
}

/** One connection's way to send the window's request. */
export interface Caller {
  call(body: Uint8Array): Promise<void>;
  readonly isClosed: boolean;
  destroy(): void;
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

function grpcCaller(conn: ClientConnection, path: string): Caller {
  return {
    call: async (body) => void await unaryCall(conn, path, body),
    get isClosed() {
      return conn.isClosed;
    },
    destroy: () => conn.destroy(),
  };
}

/** The connections and the requests, encoded up front: the window then measures transport. */
async function prepare(cfg: LoadConfig): Promise<{ callers: Caller[]; bodies: Uint8Array[] }> {
  const enc = new TextEncoder();
  const value = new Uint8Array(cfg.valueSize);
  for (let i = 0; i < value.length; i++) value[i] = 97 + (i % 26);
  const keys = cfg.workload === "put"
    ? Array.from({ length: cfg.keySpace }, (_, i) => benchKey(i))
    : [RANGE_KEY];
  if (cfg.transport === "gateway-http1") return await prepareGateway(cfg, keys, value);

  const tls = cfg.tls && clientTLSOptions(cfg.tls);
  const conns: ClientConnection[] = [];
  for (let i = 0; i < cfg.connections; i++) {
    const ep = cfg.endpoints[i % cfg.endpoints.length];
    conns.push(await connect({ host: ep.host, port: ep.port, tls }));
  }
  const put = (key: string) => encodePutRequest({ key: enc.encode(key), value });
  if (cfg.workload === "put") {
    return {
      callers: conns.map((c) => grpcCaller(c, "/etcdserverpb.KV/Put")),
      bodies: keys.map(put),
    };
  }
  await unaryCall(conns[0], "/etcdserverpb.KV/Put", put(RANGE_KEY));
  return {
    callers: conns.map((c) => grpcCaller(c, "/etcdserverpb.KV/Range")),
    bodies: [encodeRangeRequest({ key: enc.encode(RANGE_KEY) })],
  };
}

export async function runLoad(cfg: LoadConfig, emit: (line: object) => void): Promise<void> {
  const { callers, bodies } = await prepare(cfg);
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
    const conn = callers[w % callers.length];
    while (running) {
      const body = bodies.length === 1 ? bodies[0] : bodies[Math.floor(random() * bodies.length)];
      const t0 = performance.now();
      try {
        await conn.call(body);
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
  for (const c of callers) c.destroy();
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
