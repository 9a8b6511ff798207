// The load generator: one workload against one target for one window, a fixed number of requests
// in flight (closed loop) over a few connections of the lean HTTP/2 client (or HTTP/1.1 for the
// JSON gateway). Runs under Node (bundled by main.ts) or Deno, so it uses only node: modules.
// Protocol with main.ts, one JSON line each on stdout:
//   {"event":"start"}  after set-up and warm-up, when the measured window begins
//   {"event":"end", ...LoadResult}  when it ends (in-flight requests are then abandoned)
// A counted workload (a preload) has no warm-up and ends when its last request is answered.
// It exits when its stdin closes, so that main.ts reads its CPU time while it still exists.

import process from "node:process";
import { type Load, type LoadConfig, Meter } from "./load_core.ts";
import { makeUnaryLoad } from "./load_unary.ts";
import { makeKeepAliveLoad, makeWatchLoad } from "./load_stream.ts";
import { makeGatewayLoad } from "./load_http.ts";

function makeLoad(cfg: LoadConfig, meter: Meter): Promise<Load> {
  switch (cfg.workload) {
    case "watch":
      return makeWatchLoad(cfg, meter);
    case "keepalive":
      return makeKeepAliveLoad(cfg, meter);
    case "gateway-put":
      return makeGatewayLoad(cfg, meter);
    default:
      return makeUnaryLoad(cfg, meter);
  }
}

/** Attempts at one request of a counted workload: a preload must not leave holes. */
const COUNTED_ATTEMPTS = 5;

/**
 * `inflight` slots each issuing requests until `more()` says no; errors are counted. A counted
 * workload retries a failed request (same `seq`) a few times before moving on.
 */
async function slots(
  load: Load,
  meter: Meter,
  inflight: number,
  more: () => number | undefined,
  counted: boolean,
) {
  const slot = async (s: number) => {
    let attempts = 0;
    for (let seq = more(); seq !== undefined;) {
      const t0 = performance.now();
      try {
        await load.op(s, seq);
        if (load.timed) meter.done(t0);
      } catch (e) {
        meter.fail(e);
        await sleep(5); // a dead connection must not spin
        if (counted && ++attempts < COUNTED_ATTEMPTS) continue;
      }
      attempts = 0;
      seq = more();
    }
  };
  await Promise.allSettled(Array.from({ length: inflight }, (_, s) => slot(s)));
}

export async function runLoad(cfg: LoadConfig, emit: (line: object) => void): Promise<void> {
  const meter = new Meter();
  const load = await makeLoad(cfg, meter);
  if (cfg.count !== undefined) {
    let next = 0;
    meter.measuring = true;
    const start = performance.now();
    emit({ event: "start" });
    await slots(load, meter, cfg.inflight, () => next < cfg.count! ? next++ : undefined, true);
    emit({ event: "end", ...meter.result((performance.now() - start) / 1000) });
    return load.close();
  }
  let running = true;
  const done = slots(load, meter, cfg.inflight, () => running ? 0 : undefined, false);
  await sleep(cfg.warmupSeconds * 1000);
  meter.measuring = true;
  const start = performance.now();
  emit({ event: "start" });
  await sleep(cfg.seconds * 1000);
  meter.measuring = false;
  emit({ event: "end", ...meter.result((performance.now() - start) / 1000) });
  running = false;
  load.close();
  await done;
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
