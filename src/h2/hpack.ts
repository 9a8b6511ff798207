// HPACK (RFC 7541): header block encoder and decoder with the dynamic table, size updates and
// Huffman strings. hpack.js supplies only the static table. Role-independent: each connection
// owns one encoder (bound by the peer's SETTINGS_HEADER_TABLE_SIZE) and one decoder (bound by
// ours). Names and values are latin1 strings: HTTP/2 header fields are octet strings.

import staticTableModule from "hpack.js/lib/hpack/static-table.js";
import { ByteBuffer } from "./bytes.ts";
import { ErrorCode, H2Error, HeaderListSizeError } from "./errors.ts";
import { huffmanDecode, huffmanEncode, huffmanEncodedLength, latin1 } from "./huffman.ts";

export type Header = [name: string, value: string];
export type HeaderList = Header[];

/** RFC 7541 Appendix A, 1-based (STATIC_TABLE[0] is index 1). */
export const STATIC_TABLE: ReadonlyArray<Readonly<Header>> =
  (staticTableModule as { table: { name: string; value: string }[] }).table.map((
    e,
  ) => [e.name, e.value] as const);
const STATIC_LENGTH = STATIC_TABLE.length;
if (STATIC_LENGTH !== 61) throw new Error("unexpected hpack.js static table");

const staticExact = new Map<string, number>();
const staticName = new Map<string, number>();
STATIC_TABLE.forEach(([name, value], i) => {
  staticExact.set(name + "\0" + value, i + 1);
  if (!staticName.has(name)) staticName.set(name, i + 1);
});

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

export interface HpackDecoderOptions {
  /** Our SETTINGS_HEADER_TABLE_SIZE: the largest table the peer may use. Default 4096. */
  maxTableSize?: number;
  /** Our SETTINGS_MAX_HEADER_LIST_SIZE. Default 64 KiB. */
  maxHeaderListSize?: number;
}

const compressionError = (msg: string) => new H2Error(ErrorCode.COMPRESSION_ERROR, msg);

export class HpackDecoder {
  private table: DynamicTable;
  private limit: number;
  private mustUpdateSize = false;
  maxHeaderListSize: number;

  constructor(opts: HpackDecoderOptions = {}) {
    this.limit = 4096;
    this.table = new DynamicTable(4096); // the protocol's initial size, until the peer updates it
    this.setMaxTableSize(opts.maxTableSize ?? 4096);
    this.maxHeaderListSize = opts.maxHeaderListSize ?? 65536;
  }

  /** Our advertised table size changed (acknowledged by the peer). */
  setMaxTableSize(limit: number): void {
    this.limit = limit;
    if (limit < this.table.maxSize) this.mustUpdateSize = true;
  }

  /** The table size the peer currently uses (tests and diagnostics). */
  get tableSize(): { maxSize: number; size: number; count: number } {
    return { maxSize: this.table.maxSize, size: this.table.size, count: this.table.count };
  }

  /**
   * Decodes one complete header block. Malformed input throws H2Error(COMPRESSION_ERROR); a
   * list over maxHeaderListSize throws HeaderListSizeError after the whole block is processed.
   */
  decode(block: Uint8Array): HeaderList {
    const headers: HeaderList = [];
    const t = this.table;
    let listSize = 0;
    let i = 0;
    let first = true;
    const end = block.length;

    const int = (n: number): number => {
      if (i >= end) throw compressionError("truncated integer");
      const max = (1 << n) - 1;
      let v = block[i++] & max;
      if (v < max) return v;
      let m = 1;
      for (;;) {
        if (i >= end) throw compressionError("truncated integer");
        const b = block[i++];
        v += (b & 127) * m;
        if (v > 0x7fffffff) throw compressionError("integer overflow");
        if ((b & 128) === 0) return v;
        m *= 128;
      }
    };
    const str = (): string => {
      if (i >= end) throw compressionError("truncated string");
      const huff = (block[i] & 0x80) !== 0;
      const len = int(7);
      if (len > end - i) throw compressionError("string length exceeds the header block");
      const s = huff ? huffmanDecode(block, i, i + len) : latin1(block, i, i + len);
      i += len;
      return s;
    };
    const lookup = (index: number): Header => {
      if (index === 0) throw compressionError("index 0");
      if (index <= STATIC_LENGTH) return STATIC_TABLE[index - 1] as Header;
      const e = t.get(index - STATIC_LENGTH);
      if (!e) throw compressionError(`index ${index} is not in the table`);
      return e;
    };
    const emit = (name: string, value: string) => {
      listSize += entrySize(name, value);
      if (listSize <= this.maxHeaderListSize) headers.push([name, value]);
    };

    while (i < end) {
      const b = block[i];
      if ((b & 0xe0) !== 0x20) {
        if (this.mustUpdateSize) throw compressionError("missing dynamic table size update");
        first = false;
      }
      if (b & 0x80) {
        const [name, value] = lookup(int(7));
        emit(name, value);
      } else if ((b & 0xe0) === 0x20) {
        if (!first) throw compressionError("table size update after a header field");
        const size = int(5);
        if (size > this.limit) {
          throw compressionError(`table size update ${size} exceeds the limit ${this.limit}`);
        }
        t.setMaxSize(size);
        this.mustUpdateSize = false;
      } else {
        const incremental = (b & 0x40) !== 0;
        const index = int(incremental ? 6 : 4);
        const name = index === 0 ? str() : lookup(index)[0];
        const value = str();
        if (incremental) t.add(name, value);
        emit(name, value);
      }
    }
    if (this.mustUpdateSize) throw compressionError("missing dynamic table size update");
    if (listSize > this.maxHeaderListSize) {
      throw new HeaderListSizeError(listSize, this.maxHeaderListSize);
    }
    return headers;
  }
}
