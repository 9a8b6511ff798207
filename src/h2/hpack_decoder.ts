// The HPACK decoder (RFC 7541 §3, §6): reads a header block's representations (indexed
// fields, literals with or without indexing, dynamic table size updates) against the dynamic
// table the peer's encoder keeps in step with ours. Malformed input is a COMPRESSION_ERROR,
// which ends the connection; a list over our SETTINGS_MAX_HEADER_LIST_SIZE is reported only
// after the whole block was read, since the table must follow every block the peer sent.

import { ErrorCode, H2Error, HeaderListSizeError } from "./errors.ts";
import {
  DynamicTable,
  entrySize,
  type Header,
  type HeaderList,
  STATIC_LENGTH,
  STATIC_TABLE,
} from "./hpack.ts";
import { huffmanDecode, latin1 } from "./huffman.ts";

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
  // Read position in the block being decoded.
  private pos = 0;
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
    let listSize = 0;
    // Size updates are allowed only before the block's first field (§4.2).
    let first = true;
    this.pos = 0;
    while (this.pos < block.length) {
      const b = block[this.pos];
      if ((b & 0xe0) === 0x20) {
        if (!first) throw compressionError("table size update after a header field");
        this.sizeUpdate(block);
        continue;
      }
      if (this.mustUpdateSize) throw compressionError("missing dynamic table size update");
      first = false;
      const field = b & 0x80 ? this.indexed(block) : this.literal(block, b);
      listSize += entrySize(field[0], field[1]);
      if (listSize <= this.maxHeaderListSize) headers.push(field);
    }
    if (this.mustUpdateSize) throw compressionError("missing dynamic table size update");
    if (listSize > this.maxHeaderListSize) {
      throw new HeaderListSizeError(listSize, this.maxHeaderListSize);
    }
    return headers;
  }

  /** An indexed field (§6.1), as a fresh tuple: table entries are shared and stay read-only. */
  private indexed(block: Uint8Array): Header {
    const [name, value] = this.lookup(this.int(block, 7));
    return [name, value];
  }

  /**
   * A literal field (§6.2): a new name or an indexed one, then the value. The "incremental
   * indexing" form adds the field to the dynamic table; "without indexing" and "never
   * indexed" leave the table as it is.
   */
  private literal(block: Uint8Array, b: number): Header {
    const incremental = (b & 0x40) !== 0;
    const index = this.int(block, incremental ? 6 : 4);
    const name = index === 0 ? this.str(block) : this.lookup(index)[0];
    const value = this.str(block);
    if (incremental) this.table.add(name, value);
    return [name, value];
  }

  /** A dynamic table size update (§6.3), bounded by the size we advertised. */
  private sizeUpdate(block: Uint8Array): void {
    const size = this.int(block, 5);
    if (size > this.limit) {
      throw compressionError(`table size update ${size} exceeds the limit ${this.limit}`);
    }
    this.table.setMaxSize(size);
    this.mustUpdateSize = false;
  }

  /** An integer with an `n`-bit prefix (§5.1), capped at 2^31-1. */
  private int(block: Uint8Array, n: number): number {
    const end = block.length;
    if (this.pos >= end) throw compressionError("truncated integer");
    const max = (1 << n) - 1;
    let v = block[this.pos++] & max;
    if (v < max) return v;
    let m = 1;
    for (;;) {
      if (this.pos >= end) throw compressionError("truncated integer");
      const b = block[this.pos++];
      v += (b & 127) * m;
      if (v > 0x7fffffff) throw compressionError("integer overflow");
      if ((b & 128) === 0) return v;
      m *= 128;
    }
  }

  /** A string literal (§5.2), Huffman-coded or raw. */
  private str(block: Uint8Array): string {
    const end = block.length;
    if (this.pos >= end) throw compressionError("truncated string");
    const huff = (block[this.pos] & 0x80) !== 0;
    const len = this.int(block, 7);
    const i = this.pos;
    if (len > end - i) throw compressionError("string length exceeds the header block");
    const s = huff ? huffmanDecode(block, i, i + len) : latin1(block, i, i + len);
    this.pos = i + len;
    return s;
  }

  /** The entry at `index` in the combined index space: static first, then dynamic (§2.3.3). */
  private lookup(index: number): Header {
    if (index === 0) throw compressionError("index 0");
    if (index <= STATIC_LENGTH) return STATIC_TABLE[index - 1] as Header;
    const e = this.table.get(index - STATIC_LENGTH);
    if (!e) throw compressionError(`index ${index} is not in the table`);
    return e;
  }
}
