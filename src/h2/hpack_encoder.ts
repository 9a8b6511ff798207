// The HPACK encoder (RFC 7541 §6): each header field as an index into the static or dynamic
// table when an entry matches, else as a literal that is added to the dynamic table unless its
// name is sensitive (§7.1.3), with Huffman strings when shorter and the table size updates the
// peer's SETTINGS_HEADER_TABLE_SIZE calls for. Repeated frozen header lists reuse their block.

import { ByteBuffer } from "./bytes.ts";
import { DynamicTable, entrySize, type HeaderList, STATIC_LENGTH, STATIC_TABLE } from "./hpack.ts";
import { huffmanEncode, huffmanEncodedLength } from "./huffman.ts";

// Static entries by name and value, and by name alone (the lowest index for a name).
const staticExact = new Map<string, number>();
const staticName = new Map<string, number>();
STATIC_TABLE.forEach(([name, value], i) => {
  staticExact.set(name + "\0" + value, i + 1);
  if (!staticName.has(name)) staticName.set(name, i + 1);
});

/** Appends an HPACK integer (§5.1) with an `n`-bit prefix; `first` holds the pattern bits. */
export function encodeInteger(out: ByteBuffer, value: number, n: number, first: number): void {
  const max = (1 << n) - 1;
  if (value < max) {
    out.u8(first | value);
    return;
  }
  out.u8(first | max);
  value -= max;
  while (value >= 128) {
    out.u8((value % 128) | 128);
    value = Math.floor(value / 128);
  }
  out.u8(value);
}

function encodeString(out: ByteBuffer, s: string, huffman: boolean) {
  if (huffman) {
    const hlen = huffmanEncodedLength(s);
    if (hlen < s.length) {
      encodeInteger(out, hlen, 7, 0x80);
      huffmanEncode(s, out);
      return;
    }
  }
  encodeInteger(out, s.length, 7, 0);
  out.ensure(s.length);
  const b = out.buf;
  let p = out.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new TypeError(`header string has a non-latin1 character: ${s}`);
    b[p++] = c;
  }
  out.length = p;
}

/** Headers a careful encoder never indexes (§7.1.3): credentials, whatever their value. */
export const SENSITIVE_HEADERS: ReadonlySet<string> = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "token",
]);

export interface HpackEncoderOptions {
  /** Upper bound we choose for our table, below the peer's limit. Default 4096. */
  maxTableSize?: number;
  /** Huffman-code strings when that is shorter. Default true. */
  huffman?: boolean;
  /** Names sent as never-indexed literals. Default SENSITIVE_HEADERS. */
  neverIndex?: ReadonlySet<string>;
}

export class HpackEncoder {
  private table: DynamicTable;
  private readonly cap: number;
  private readonly huffman: boolean;
  private readonly neverIndex: ReadonlySet<string>;
  private dynExact = new Map<string, number>(); // name\0value -> sequence number
  private dynName = new Map<string, number>();
  private pendingMin = -1; // smallest size chosen since the last block, -1 = no update pending
  private readonly out = new ByteBuffer(256);
  // Frozen lists sent again and again (a gRPC client's request headers) encode to the same bytes
  // as long as the table is unchanged: once their entries are indexed, that is every time.
  private readonly cache = new WeakMap<HeaderList, { version: number; block: Uint8Array }>();

  constructor(opts: HpackEncoderOptions = {}) {
    this.cap = opts.maxTableSize ?? 4096;
    this.huffman = opts.huffman ?? true;
    this.neverIndex = opts.neverIndex ?? SENSITIVE_HEADERS;
    this.table = new DynamicTable(4096); // the peer's initial limit
    this.setPeerMaxTableSize(4096);
  }

  /** The peer's SETTINGS_HEADER_TABLE_SIZE changed: signal our new size in the next block. */
  setPeerMaxTableSize(peerMax: number): void {
    const size = Math.min(this.cap, peerMax);
    if (size === this.table.maxSize && this.pendingMin < 0) return;
    this.pendingMin = this.pendingMin < 0 ? size : Math.min(this.pendingMin, size);
    this.table.setMaxSize(size);
  }

  /** Appends a header block for `headers` to `out`. */
  encodeInto(headers: HeaderList, out: ByteBuffer): void {
    const t = this.table;
    if (this.pendingMin >= 0) {
      if (this.pendingMin < t.maxSize) encodeInteger(out, this.pendingMin, 5, 0x20);
      encodeInteger(out, t.maxSize, 5, 0x20);
      this.pendingMin = -1;
    }
    for (let h = 0; h < headers.length; h++) {
      const [name, value] = headers[h];
      const key = name + "\0" + value;
      const st = staticExact.get(key);
      if (st !== undefined) {
        encodeInteger(out, st, 7, 0x80);
        continue;
      }
      const live = t.inserted - t.count; // sequence numbers above this are still in the table
      const seq = this.dynExact.get(key);
      if (seq !== undefined && seq > live) {
        encodeInteger(out, STATIC_LENGTH + t.inserted - seq + 1, 7, 0x80);
        continue;
      }
      let nameIndex = staticName.get(name) ?? 0;
      if (nameIndex === 0) {
        const nseq = this.dynName.get(name);
        if (nseq !== undefined && nseq > live) nameIndex = STATIC_LENGTH + t.inserted - nseq + 1;
      }
      const sensitive = this.neverIndex.has(name);
      const indexed = !sensitive && entrySize(name, value) <= t.maxSize;
      if (indexed) encodeInteger(out, nameIndex, 6, 0x40);
      else encodeInteger(out, nameIndex, 4, sensitive ? 0x10 : 0);
      if (nameIndex === 0) encodeString(out, name, this.huffman);
      encodeString(out, value, this.huffman);
      if (indexed) {
        t.add(name, value);
        this.dynExact.set(key, t.inserted);
        this.dynName.set(name, t.inserted);
        if (this.dynExact.size > 4 * t.count + 64) this.pruneMaps(t.inserted - t.count);
      }
    }
  }

  /**
   * A header block for `headers`. For a frozen list (Object.freeze on the list and its tuples),
   * the bytes may be a cached array shared between calls: do not modify them.
   */
  encode(headers: HeaderList): Uint8Array {
    const cacheable = this.pendingMin < 0 && Object.isFrozen(headers);
    const version = this.table.version;
    if (cacheable) {
      const hit = this.cache.get(headers);
      if (hit && hit.version === version) return hit.block;
    }
    this.encodeInto(headers, this.out);
    const block = this.out.take();
    // only a block that left the table as it found it can be replayed
    if (cacheable && this.table.version === version) this.cache.set(headers, { version, block });
    return block;
  }

  // Evicted entries leave stale map keys; drop them now and then so the maps stay small.
  private pruneMaps(live: number) {
    for (const [k, s] of this.dynExact) if (s <= live) this.dynExact.delete(k);
    for (const [k, s] of this.dynName) if (s <= live) this.dynName.delete(k);
  }
}
