// The clients of a fault run, as their own process in the hub namespace (only from there are
// the members reachable). Started with its settings as JSON in argv; prints JSON lines on
// stdout ({"ready": its clock}, {"ops"} now and then, {"done"}); on "finish" on stdin (or its end) it
// stops the traffic, reads the end state and writes everything the checks need to `out`.
//   ip netns exec <hub> deno run -A tests/robustness/run/workload.ts '<settings>'

import { prng } from "../../helpers/random.ts";
import type { Operation, WatchRecord } from "../mod.ts";
import { type Final, finish } from "./finish.ts";
import { parseEndpoints, Session } from "./session.ts";
import { runClient, Traffic, type TrafficOptions } from "./traffic.ts";
import { Watcher, watchOptions } from "./watchers.ts";

export interface WorkloadSettings {
  endpoints: string;
  clients: number;
  watchers: number;
  timeoutMs: number;
  seed: number;
  traffic: TrafficOptions;
  /** The first revision of the run: the member logs are read from there. */
  from: number;
  out: string;
}

export interface WorkloadResult {
  operations: Operation[];
  watches: WatchRecord[];
  final: Final;
  /** Watchers that could not reach the final revision. */
  stuck: string[];
}

function say(message: Record<string, unknown>): void {
  console.log(JSON.stringify(message));
}

async function main(settings: WorkloadSettings): Promise<void> {
  const endpoints = parseEndpoints(settings.endpoints);
  const traffic = new Traffic(settings.traffic, prng(settings.seed));
  const sessions = Array.from(
    { length: settings.clients },
    (_, c) => new Session(endpoints, c % endpoints.length, settings.timeoutMs),
  );
  const clients = sessions.map((s, c) => runClient(traffic, c, s));
  const watchers = Array.from({ length: settings.watchers }, (_, w) =>
    new Watcher(
      1000 + w,
      new Session(endpoints, w % endpoints.length, settings.timeoutMs),
      watchOptions(w, traffic.range.key, traffic.range.rangeEnd),
      prng(settings.seed + 1 + w),
    ));
  const watching = watchers.map((w) => w.run());
  say({ ready: performance.now() });
  const ticker = setInterval(() => say({ ops: traffic.operations.length }), 5_000);
  await finishRequested();
  clearInterval(ticker);
  traffic.stopping = true;
  await Promise.all(clients);
  sessions.forEach((s) => s.close());
  const final = await finish(traffic, endpoints, settings.clients, settings.from);
  watchers.forEach((w) => w.finish(final.revision));
  await Promise.all(watching);
  watchers.forEach((w) => w.session.close());
  const result: WorkloadResult = {
    operations: traffic.operations,
    watches: watchers.flatMap((w) => w.records),
    final,
    stuck: watchers.filter((w) => w.stuck).map((w) => `watcher ${w.client}: ${w.stuck}`),
  };
  await Deno.writeTextFile(settings.out, JSON.stringify(result));
  say({ done: true });
}

/** Resolves on a "finish" line or the end of stdin (the runner is gone). */
async function finishRequested(): Promise<void> {
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  for await (const chunk of lines) if (chunk.includes("finish")) return;
}

if (import.meta.main) {
  await main(JSON.parse(Deno.args[0]));
  Deno.exit(0);
}
