// The one process-wide registry (etcd's is process-wide too: Go's default registerer) and the
// short constructors every family file uses.

import { Counter, Gauge, Histogram, Registry } from "./registry.ts";
import { registerProcessMetrics } from "./process.ts";
import { registerRuntimeMetrics } from "./runtime.ts";
import { registerMemoryMetrics } from "./memory.ts";

export const registry = new Registry();
registerProcessMetrics(registry);
registerRuntimeMetrics(registry);
registerMemoryMetrics(registry);

export const counter = <L extends string = never>(name: string, help: string, labelNames?: L[]) =>
  registry.register(new Counter<L>({ name, help, labelNames }));

export const gauge = <L extends string = never>(name: string, help: string, labelNames?: L[]) =>
  registry.register(new Gauge<L>({ name, help, labelNames }));

export const histogram = <L extends string = never>(
  name: string,
  help: string,
  buckets: readonly number[],
  labelNames?: L[],
) => registry.register(new Histogram<L>({ name, help, buckets, labelNames }));

/** Seconds since `start` (a performance.now() reading): what the duration histograms take. */
export const secondsSince = (start: number) => (performance.now() - start) / 1000;
