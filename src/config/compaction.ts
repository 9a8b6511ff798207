// --auto-compaction-retention as etcd's StartEtcd reads it.
import { parseGoDuration } from "./duration.ts";

/** Milliseconds (periodic) or revisions (revision); or etcd's error text. */
export function parseCompactionRetention(
  retention: string,
  mode: string,
): number | { error: string } {
  const text = retention === "" ? "0" : retention;
  if (/^[+-]?[0-9]+$/.test(text) && Number(text) >= 0) {
    const n = Number(text);
    if (mode === "periodic") return n * 3600_000;
    if (mode === "revision") return n;
    return { error: `unknown auto-compaction-mode "${mode}"` };
  }
  const d = parseGoDuration(text);
  if (typeof d !== "number") return { error: `error parsing CompactionRetention: ${d.error}` };
  // etcd keeps the duration's nanosecond count as the retention in revision mode.
  return mode === "revision" ? d * 1e6 : d;
}
