// Where the resident set goes: V8's heap per space (committed and used), the memory V8 knows of
// outside its heap (ArrayBuffer backing stores, its own malloc), the file-backed pages (the
// runtime's code), and the rest (SQLite's page cache, the runtime's native allocations, the
// allocator's free lists) as what the others leave of RSS. Read at each scrape.
import v8 from "node:v8";
import { Gauge, type Registry } from "./registry.ts";

/** The shares of etcd_debugging_resident_memory_bytes; they add up to RSS. */
export const MEMORY_SHARES = ["v8_heap", "v8_external", "v8_malloced", "file", "other"] as const;
type Share = typeof MEMORY_SHARES[number];

/** VmRSS and its file-backed and shared parts from /proc/self/status, in bytes. */
function residentSet(): { rss: number; file: number } | undefined {
  let status: string;
  try {
    status = Deno.readTextFileSync("/proc/self/status");
  } catch {
    return undefined;
  }
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb("VmRSS"), file: kb("RssFile") + kb("RssShmem") };
}

export function registerMemoryMetrics(r: Registry): void {
  const committed = r.register(
    new Gauge<"space">({
      name: "etcd_debugging_v8_heap_space_committed_bytes",
      help: "Bytes V8 has committed for each space of its heap.",
      labelNames: ["space"],
    }),
  );
  const used = r.register(
    new Gauge<"space">({
      name: "etcd_debugging_v8_heap_space_used_bytes",
      help: "Bytes of live and not yet collected objects in each space of V8's heap.",
      labelNames: ["space"],
    }),
  );
  const shares = r.register(
    new Gauge<"share">({
      name: "etcd_debugging_resident_memory_bytes",
      help: "Resident memory by holder: V8's heap, V8's external memory (ArrayBuffers), V8's " +
        "malloc, file-backed pages (code), and the other anonymous memory (SQLite, the runtime).",
      labelNames: ["share"],
    }),
  );
  r.addCollector(() => {
    for (const s of v8.getHeapSpaceStatistics()) {
      const space = s.space_name.replace(/_space$/, "");
      committed.labels({ space }).set(s.space_size);
      used.labels({ space }).set(s.space_used_size);
    }
    const rs = residentSet();
    if (!rs) return;
    const h = v8.getHeapStatistics() as v8.HeapInfo & { external_memory?: number };
    const known: Record<Exclude<Share, "other">, number> = {
      v8_heap: h.total_physical_size,
      v8_external: h.external_memory ?? 0,
      v8_malloced: h.malloced_memory,
      file: rs.file,
    };
    let rest = rs.rss;
    for (const [share, bytes] of Object.entries(known)) {
      shares.labels({ share }).set(bytes);
      rest -= bytes;
    }
    shares.labels({ share: "other" }).set(Math.max(0, rest));
  });
}
