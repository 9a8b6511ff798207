// Writing a new bbolt file in one pass. Pages get ids in the order they are finished, so the
// data pages reach the sink strictly in file order from page 3 on; pages 0-2 (both metas and an
// empty freelist) are written last, once the root and the high-water mark are known. The file
// is what bbolt's Tx.WriteTo produces: meta 0 at txid T, meta 1 at T-1, both valid, and exactly
// high-water-mark pages long.
import {
  BUCKET_HEADER_SIZE,
  BUCKET_LEAF,
  DEFAULT_PAGE_SIZE,
  FREELIST_PAGE,
  isPageSize,
  MAX_KEY_SIZE,
  MAX_VALUE_SIZE,
  type Name,
  nameBytes,
  showKey,
  view,
  writePageHeader,
} from "./layout.ts";
import { writeMeta } from "./meta.ts";
import type { PendingPage } from "./pending_page.ts";
import { type BuiltTree, type PageOut, TreeBuilder } from "./tree_builder.ts";

/** Where the file goes: positional writes (sequential but for the final write at 0). */
export interface Sink {
  write(position: number, bytes: Uint8Array): void | Promise<void>;
}

export interface WriterOptions {
  /** Page size in bytes, a power of two (default 4096, bbolt's on common machines). */
  pageSize?: number;
  /**
   * How full each page is filled, 0.1-1.0 (default 1.0). bbolt's 0.5 default leaves room for
   * random inserts; a file written whole from sorted keys is read and sent far more than it is
   * edited, and etcd's key bucket only grows at its right edge (etcd itself fills it to 0.9),
   * so full pages halve the file without costing bbolt later writes.
   */
  fillPercent?: number;
  /** Store small buckets inline in their parent's leaf, as bbolt does (default true). */
  inline?: boolean;
  /** Transaction id of meta 0 (meta 1 gets one less); default 1. */
  txid?: bigint;
}

/** Pages are encoded into chunks of this many bytes, each handed to the sink once full. */
const CHUNK_BYTES = 1 << 20;

interface OpenBucket {
  name: Uint8Array;
  tree: TreeBuilder;
  sequence: bigint;
}

export class DbWriter implements PageOut {
  readonly pageSize: number;
  readonly #sink: Sink;
  readonly #threshold: number;
  readonly #inlineLimit: number;
  readonly #txid: bigint;
  #nextId = 3;
  /** The chunk being filled, starting at page #chunkFirstId, and full chunks not yet sent. */
  #chunk = new Uint8Array(CHUNK_BYTES);
  #chunkUsed = 0;
  #chunkFirstId = 3;
  #full: { position: number; bytes: Uint8Array }[] = [];
  #stack: OpenBucket[];
  #finished = false;

  constructor(sink: Sink, options: WriterOptions = {}) {
    const { pageSize = DEFAULT_PAGE_SIZE, fillPercent = 1, inline = true, txid = 1n } = options;
    if (!isPageSize(pageSize)) {
      throw new RangeError(`bbolt: page size ${pageSize} is not a power of two in [512, 16M]`);
    }
    if (!(fillPercent >= 0.1 && fillPercent <= 1)) {
      throw new RangeError(`bbolt: fill percent ${fillPercent} is outside [0.1, 1.0]`);
    }
    if (txid < 1n || txid >= 2n ** 64n) throw new RangeError(`bbolt: txid ${txid} out of range`);
    this.pageSize = pageSize;
    this.#sink = sink;
    this.#threshold = Math.floor(pageSize * fillPercent);
    this.#inlineLimit = inline ? pageSize / 4 : -1;
    this.#txid = txid;
    this.#stack = [{ name: new Uint8Array(0), tree: this.#tree(""), sequence: 0n }];
  }

  /** Opens a bucket inside the current one (or at the top); its name must sort after the
   * current bucket's keys so far. */
  beginBucket(name: Name, options: { sequence?: bigint } = {}): void {
    const bytes = nameBytes(name);
    const parent = this.#top();
    if (bytes.length === 0) throw new RangeError("bbolt: bucket name required");
    if (bytes.length > MAX_KEY_SIZE) throw new RangeError("bbolt: bucket name too large");
    parent.tree.checkNext(bytes);
    const sequence = options.sequence ?? 0n;
    if (sequence < 0n || sequence >= 2n ** 64n) {
      throw new RangeError(`bbolt: bucket sequence ${sequence} is not a u64`);
    }
    const path = this.#stack.length === 1
      ? showKey(bytes)
      : `${parent.tree.path}/${showKey(bytes)}`;
    this.#stack.push({ name: bytes.slice(), tree: this.#tree(path), sequence });
  }

  /** Adds a key/value pair to the current bucket; keys must ascend. Both are copied, so the
   * caller may reuse its buffers at once. */
  async put(key: Name, value: Uint8Array): Promise<void> {
    const k = nameBytes(key);
    const b = this.#top();
    if (this.#stack.length === 1) {
      throw new RangeError(
        `bbolt: put of ${showKey(k)} outside a bucket: the top level ` +
          `holds only buckets`,
      );
    }
    if (k.length === 0) throw new RangeError(`bbolt: bucket ${b.tree.path}: key required`);
    if (k.length > MAX_KEY_SIZE) throw new RangeError(`bbolt: ${showKey(k)}: key too large`);
    if (value.length > MAX_VALUE_SIZE) {
      throw new RangeError(`bbolt: ${showKey(k)}: value too large`);
    }
    b.tree.add(k, value, 0, false);
    if (this.#full.length > 0) await this.#flush();
  }

  /** Closes the current bucket: writes its remaining pages and enters it in its parent. */
  async endBucket(): Promise<void> {
    if (this.#stack.length === 1) throw new RangeError("bbolt: endBucket with no bucket open");
    const child = this.#stack.at(-1)!;
    const value = bucketValue(child.tree.finish(this.#inlineLimit), child.sequence);
    this.#stack.pop();
    this.#top().tree.add(child.name, value, BUCKET_LEAF, true);
    if (this.#full.length > 0) await this.#flush();
  }

  /** Writes the root and pages 0-2; returns the file's page count and size in bytes. */
  async finish(): Promise<{ pages: number; size: number }> {
    if (this.#stack.length > 1) {
      throw new RangeError(`bbolt: bucket ${this.#top().tree.path} is still open`);
    }
    const built = this.#top().tree.finish(-1);
    if (!("root" in built)) throw new Error("bbolt: the root bucket was built inline");
    this.#finished = true;
    this.#seal(0);
    await this.#flush();
    const head = new Uint8Array(3 * this.pageSize);
    const meta = {
      pageSize: this.pageSize,
      flags: 0,
      root: built.root,
      rootSequence: 0n,
      freelist: 2,
      pgid: this.#nextId,
      txid: this.#txid,
    };
    writeMeta(head, 0, meta);
    writeMeta(head.subarray(this.pageSize), 1, { ...meta, txid: this.#txid - 1n });
    writePageHeader(head.subarray(2 * this.pageSize), {
      id: 2,
      flags: FREELIST_PAGE,
      count: 0,
      overflow: 0,
    });
    await this.#sink.write(0, head);
    return { pages: this.#nextId, size: this.#nextId * this.pageSize };
  }

  /** PageOut: gives the page the next ids (one per pageSize bytes) and encodes it in place. */
  writePage(page: PendingPage): number {
    const pages = Math.ceil(page.size / this.pageSize);
    const bytes = pages * this.pageSize;
    if (this.#chunkUsed + bytes > this.#chunk.length) this.#seal(bytes);
    const id = this.#nextId;
    page.encode(this.#chunk.subarray(this.#chunkUsed, this.#chunkUsed + bytes), id, pages - 1);
    this.#chunkUsed += bytes;
    this.#nextId += pages;
    return id;
  }

  #tree(path: string): TreeBuilder {
    return new TreeBuilder(this, this.#threshold, path);
  }

  #top(): OpenBucket {
    if (this.#finished) throw new Error("bbolt: the writer has finished");
    return this.#stack.at(-1)!;
  }

  /** Queues the filled part of the chunk and starts a fresh one with room for `need` bytes.
   * Chunks are never reused: a sink may keep what it was given. */
  #seal(need: number): void {
    if (this.#chunkUsed > 0) {
      if (this.#chunkFirstId + this.#chunkUsed / this.pageSize !== this.#nextId) {
        throw new Error("bbolt: encoded pages do not match the page ids handed out");
      }
      const position = this.#chunkFirstId * this.pageSize;
      this.#full.push({ position, bytes: this.#chunk.subarray(0, this.#chunkUsed) });
    }
    this.#chunk = new Uint8Array(Math.max(CHUNK_BYTES, need));
    this.#chunkUsed = 0;
    this.#chunkFirstId = this.#nextId;
  }

  async #flush(): Promise<void> {
    for (const { position, bytes } of this.#full.splice(0)) {
      await this.#sink.write(position, bytes);
    }
  }
}

/** A bucket's value in its parent: the header (root, sequence), then any inline page. */
function bucketValue(built: BuiltTree, sequence: bigint): Uint8Array {
  const inline = "inline" in built ? built.inline : new Uint8Array(0);
  const value = new Uint8Array(BUCKET_HEADER_SIZE + inline.length);
  const v = view(value);
  v.setBigUint64(0, "root" in built ? BigInt(built.root) : 0n, true);
  v.setBigUint64(8, sequence, true);
  value.set(inline, BUCKET_HEADER_SIZE);
  return value;
}
