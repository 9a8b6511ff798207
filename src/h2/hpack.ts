// HPACK (RFC 7541) tables, which the encoder (hpack_encoder.ts) and the decoder
// (hpack_decoder.ts) share: the static table (hpack.js supplies it) and the dynamic table with
// its size accounting and eviction. Role-independent: each connection owns one encoder (bound
// by the peer's SETTINGS_HEADER_TABLE_SIZE) and one decoder (bound by ours), each with its own
// dynamic table. Names and values are latin1 strings: HTTP/2 header fields are octet strings.

import staticTableModule from "hpack.js/lib/hpack/static-table.js";

export type Header = [name: string, value: string];
export type HeaderList = Header[];

/** RFC 7541 Appendix A, 1-based (STATIC_TABLE[0] is index 1). */
export const STATIC_TABLE: ReadonlyArray<Readonly<Header>> =
  (staticTableModule as { table: { name: string; value: string }[] }).table.map((
    e,
  ) => [e.name, e.value] as const);
export const STATIC_LENGTH = STATIC_TABLE.length;
if (STATIC_LENGTH !== 61) throw new Error("unexpected hpack.js static table");

/** Size an entry counts against the table (§4.1). */
export function entrySize(name: string, value: string): number {
  return name.length + value.length + 32;
}

/**
 * The dynamic table (§2.3.2): a FIFO of entries bounded in size; index 1 is the newest. Entries
 * are stored as Header tuples and handed out as they are, so decoding allocates nothing for an
 * indexed field: treat returned tuples as read-only.
 */
export class DynamicTable {
  private ring: Header[] = [];
  private head = 0; // slot of the newest entry
  count = 0;
  size = 0;
  /** Entries ever added; the newest has sequence number `inserted`. */
  inserted = 0;
  /** Changes whenever the content or the size limit changes. */
  version = 0;

  constructor(public maxSize: number) {}

  get(index: number): Header | undefined {
    if (index < 1 || index > this.count) return undefined;
    return this.ring[(this.head - index + 1 + this.ring.length) % this.ring.length];
  }

  add(name: string, value: string): void {
    const size = entrySize(name, value);
    this.version++;
    this.evictTo(this.maxSize - size);
    if (size > this.maxSize) return; // an oversized entry empties the table (§4.4)
    if (this.count === this.ring.length) this.grow();
    this.head = (this.head + 1) % this.ring.length;
    this.ring[this.head] = [name, value];
    this.count++;
    this.size += size;
    this.inserted++;
  }

  setMaxSize(maxSize: number): void {
    this.version++;
    this.maxSize = maxSize;
    this.evictTo(maxSize);
  }

  private evictTo(limit: number) {
    while (this.count > 0 && this.size > limit) {
      const slot = (this.head - this.count + 1 + this.ring.length) % this.ring.length;
      const [name, value] = this.ring[slot];
      this.size -= entrySize(name, value);
      this.ring[slot] = EVICTED;
      this.count--;
    }
  }

  private grow() {
    const ring: Header[] = new Array(Math.max(16, this.ring.length * 2));
    for (let i = this.count; i >= 1; i--) ring[this.count - i] = this.get(i)!;
    this.ring = ring;
    this.head = this.count - 1;
  }
}

const EVICTED: Header = ["", ""];
