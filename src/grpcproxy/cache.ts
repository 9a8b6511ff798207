// The KV proxy's cache of range responses (etcd's grpcproxy/cache): the most recently used
// 2048 responses, keyed by the whole serializable request, and an index from each cached key
// range to the requests that read it, so a write to a key drops every response that saw it.
// Requests at a fixed revision never change and are not indexed; a compaction makes those below
// it answer "compacted".
import { messages, type RangeRequest, type RangeResponse } from "../pb/mod.ts";

const DEFAULT_MAX_ENTRIES = 2048;

/** A key range [start, end); an empty end is the single key, "\0" is every key from start. */
interface KeyRange {
  start: Uint8Array;
  end: Uint8Array;
}

/** Byte-wise order of keys, as the cluster orders them. */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

const toInfinity = (end: Uint8Array) => end.length === 1 && end[0] === 0;

// Whether key k lies before the range's end.
function beforeEnd(k: Uint8Array, r: KeyRange): boolean {
  if (r.end.length === 0) return compareKeys(k, r.start) === 0;
  return toInfinity(r.end) || compareKeys(k, r.end) < 0;
}

/** Whether two key ranges share a key. */
export function overlaps(a: KeyRange, b: KeyRange): boolean {
  // Each range starts before the other one ends.
  return (compareKeys(a.start, b.start) >= 0 ? beforeEnd(a.start, b) : beforeEnd(b.start, a));
}

const latin1 = new TextDecoder("latin1");

/** The cache key: the request's bytes, read as a serializable request. */
function cacheKey(req: RangeRequest): string {
  return latin1.decode(
    messages["etcdserverpb.RangeRequest"].encode({ ...req, serializable: true }),
  );
}

export class RangeCache {
  // Cache key -> the response and the id of the key range it is indexed under.
  private readonly lru = new Map<string, { resp: RangeResponse; rangeId?: string }>();
  // Key range (as text) -> the range and the cache keys of the requests that read it.
  private readonly ranges = new Map<string, { range: KeyRange; keys: Set<string> }>();
  private compactedRev = -1;

  constructor(private readonly maxEntries = DEFAULT_MAX_ENTRIES) {}

  get size(): number {
    return this.lru.size;
  }

  /** Caches `resp` as the answer to `req` (unless `req` reads below the compaction). */
  add(req: RangeRequest, resp: RangeResponse): void {
    if (req.revision !== 0 && req.revision < this.compactedRev) return;
    const key = cacheKey(req);
    this.remove(key);
    // Only requests for the latest revision change when keys are written.
    const rangeId = req.revision === 0
      ? `${latin1.decode(req.key)}\u0000${latin1.decode(req.rangeEnd)}`
      : undefined;
    this.lru.set(key, { resp, rangeId });
    if (this.lru.size > this.maxEntries) this.remove(this.lru.keys().next().value!);
    if (rangeId === undefined) return;
    let entry = this.ranges.get(rangeId);
    if (!entry) {
      entry = { range: { start: req.key, end: req.rangeEnd }, keys: new Set() };
      this.ranges.set(rangeId, entry);
    }
    entry.keys.add(key);
  }

  private remove(key: string): void {
    const cached = this.lru.get(key);
    if (!cached) return;
    this.lru.delete(key);
    if (cached.rangeId === undefined) return;
    const entry = this.ranges.get(cached.rangeId);
    entry?.keys.delete(key);
    if (entry?.keys.size === 0) this.ranges.delete(cached.rangeId);
  }

  /** The cached answer; "compacted" for a revision below the last compaction. */
  get(req: RangeRequest): RangeResponse | "compacted" | undefined {
    const key = cacheKey(req);
    if (req.revision > 0 && req.revision < this.compactedRev) {
      this.remove(key);
      return "compacted";
    }
    const cached = this.lru.get(key);
    if (cached === undefined) return undefined;
    this.lru.delete(key); // most recently used again
    this.lru.set(key, cached);
    return cached.resp;
  }

  /** Drops every response that read a key in [key, end). */
  invalidate(key: Uint8Array, end: Uint8Array): void {
    const written = { start: key, end };
    for (const entry of [...this.ranges.values()]) {
      if (overlaps(entry.range, written)) { for (const k of [...entry.keys]) this.remove(k); }
    }
  }

  /** Requests below `revision` now answer "compacted" (lazily, when asked). */
  compact(revision: number): void {
    if (revision > this.compactedRev) this.compactedRev = revision;
  }
}
