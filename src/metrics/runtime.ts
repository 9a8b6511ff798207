// The go_memstats_* families whose meaning holds for V8's heap, read at each scrape. Go's heap
// counts objects not yet collected as allocated, as V8's used heap size does. The rest of Go's
// runtime families (goroutines, GC pauses, allocator internals) have no V8 counterpart.
import v8 from "node:v8";
import { Counter, Gauge, type Registry } from "./registry.ts";

export function registerRuntimeMetrics(r: Registry): void {
  const gauge = (name: string, help: string) => r.register(new Gauge({ name, help }));
  const alloc = gauge("go_memstats_alloc_bytes", "Number of bytes allocated and still in use.");
  const allocTotal = r.register(
    new Counter({
      name: "go_memstats_alloc_bytes_total",
      help: "Total number of bytes allocated, even if freed.",
    }),
  );
  const heapAlloc = gauge(
    "go_memstats_heap_alloc_bytes",
    "Number of heap bytes allocated and still in use.",
  );
  const heapSys = gauge("go_memstats_heap_sys_bytes", "Number of heap bytes obtained from system.");
  const heapIdle = gauge("go_memstats_heap_idle_bytes", "Number of heap bytes waiting to be used.");
  r.addCollector(() => {
    const h = v8.getHeapStatistics() as v8.HeapInfo & { total_allocated_bytes?: number };
    alloc.set(h.used_heap_size);
    heapAlloc.set(h.used_heap_size);
    heapSys.set(h.total_heap_size);
    heapIdle.set(Math.max(0, h.total_heap_size - h.used_heap_size));
    if (h.total_allocated_bytes !== undefined) allocTotal.mirror(h.total_allocated_bytes);
  });
}
