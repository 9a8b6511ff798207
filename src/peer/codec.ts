// etcd's stream encodings (rafthttp's msg_codec.go and msgappv2_codec.go). `message`: each
// message as an 8-byte big-endian length and its raftpb encoding. `msgappv2`, for MsgApp only:
// a type byte, then a link heartbeat (nothing more), a whole message (8-byte length + raftpb),
// or — when a MsgApp continues the previous one at the same term — just its entries (a count,
// each with its length) and the commit index; the reader rebuilds the rest.
import {
  decodeEntry,
  decodeMessage,
  encodeMessage,
  type Entry,
  entrySize,
  type Message,
  MessageType,
  writeEntry,
} from "../raft/mod.ts";

export type StreamType = "message" | "msgappv2";

/** How etcd names a stream in its log lines. */
export function streamName(t: StreamType): string {
  return t === "msgappv2" ? "stream MsgApp v2" : "stream Message";
}

/** etcd's readBytesLimit: the largest message a `message` stream accepts. */
export const MAX_STREAM_MESSAGE = 512 * 1024 * 1024;

const EMPTY = new Uint8Array(0);

/**
 * The link-layer heartbeat a stream writer sends when idle: a MsgHeartbeat without From and To,
 * which raft never sends. Readers drop it.
 */
export function linkHeartbeat(): Message {
  // An empty encoding decodes to a message with every field at its default.
  return { ...decodeMessage(EMPTY), type: MessageType.MsgHeartbeat };
}

export function isLinkHeartbeat(m: Message): boolean {
  return m.type === MessageType.MsgHeartbeat && m.from === 0n && m.to === 0n;
}

const TWO_32 = 2 ** 32;

/** Writes a big-endian uint64 (a safe integer) at `p`; returns the end. */
function putU64(view: DataView, p: number, n: number): number {
  view.setUint32(p, Math.floor(n / TWO_32));
  view.setUint32(p + 4, n >>> 0);
  return p + 8;
}

function readU64(b: Uint8Array, what: string): number {
  const view = new DataView(b.buffer, b.byteOffset, 8);
  const hi = view.getUint32(0);
  if (hi >= 2 ** 21) throw new Error(`${what} is out of range`);
  return hi * TWO_32 + view.getUint32(4);
}

/** One message as the `message` stream and the snapshot upload's head carry it. */
export function encodeMessageFrame(m: Message): Uint8Array {
  const out = encodeMessage(m, 8);
  putU64(new DataView(out.buffer), 0, out.length - 8);
  return out;
}

/** Appends a message's encoding to `out`; returns the bytes added. */
export interface StreamEncoder {
  encode(m: Message, out: Uint8Array[]): number;
}

export const messageEncoder: StreamEncoder = {
  encode(m, out) {
    const b = encodeMessageFrame(m);
    out.push(b);
    return b.length;
  },
};

const APP_TYPE = { linkHeartbeat: 0, appEntries: 1, app: 2 } as const;

/** msgappv2's writer: remembers the term and last index it sent, to send only entries next. */
export class MsgAppV2Encoder implements StreamEncoder {
  #term = 0;
  #index = 0;

  encode(m: Message, out: Uint8Array[]): number {
    if (isLinkHeartbeat(m)) {
      out.push(new Uint8Array([APP_TYPE.linkHeartbeat]));
      return 1;
    }
    if (this.#index === m.index && this.#term === m.logTerm && m.logTerm === m.term) {
      // Entries only: the type, their count, each with its length, the commit index. Each
      // entry is encoded in place, not into a buffer of its own first.
      const entries = m.entries;
      let size = 1 + 8 + 8;
      for (const e of entries) size += 8 + entrySize(e);
      const b = new Uint8Array(size);
      const view = new DataView(b.buffer);
      b[0] = APP_TYPE.appEntries;
      let p = putU64(view, 1, entries.length);
      for (const e of entries) {
        const end = writeEntry(b, p + 8, e);
        putU64(view, p, end - p - 8);
        p = end;
      }
      putU64(view, p, m.commit);
      this.#index += entries.length;
      out.push(b);
      return size;
    }
    const b = encodeMessage(m, 9);
    b[0] = APP_TYPE.app;
    putU64(new DataView(b.buffer), 1, b.length - 9);
    out.push(b);
    this.#term = m.term;
    this.#index = m.entries.length > 0 ? m.entries[m.entries.length - 1].index : m.index;
    return b.length;
  }
}

/** A decoder step: yields how many bytes it needs next, receives them, returns the message. */
type Reads = Generator<number, Message, Uint8Array>;

function* readMessageFrame(limit: number): Reads {
  const length = readU64(yield 8, "message length");
  if (length > limit) throw new Error("rafthttp: error limit exceeded");
  return decodeMessage(yield length);
}

/** `message` stream reader. */
export function messageReader(limit = MAX_STREAM_MESSAGE): () => Reads {
  return () => readMessageFrame(limit);
}

/** msgappv2's reader: rebuilds entry-only MsgApps from the last full one, as etcd's does. */
export function msgAppV2Reader(local: bigint, remote: bigint): () => Reads {
  let term = 0;
  let index = 0;
  function* appEntries(): Reads {
    const start = index;
    const count = readU64(yield 8, "entry count");
    const entries: Entry[] = [];
    for (let i = 0; i < count; i++) {
      const size = readU64(yield 8, "entry size");
      entries.push(decodeEntry(yield size));
      index++;
    }
    const commit = readU64(yield 8, "commit index");
    return {
      ...linkHeartbeat(),
      type: MessageType.MsgApp,
      from: remote,
      to: local,
      term,
      logTerm: term,
      index: start,
      entries,
      commit,
    };
  }
  return function* (): Reads {
    const [type] = yield 1;
    if (type === APP_TYPE.linkHeartbeat) return linkHeartbeat();
    if (type === APP_TYPE.appEntries) return yield* appEntries();
    if (type !== APP_TYPE.app) throw new Error(`failed to parse type ${type} in msgappv2 stream`);
    const m = yield* readMessageFrame(Number.MAX_SAFE_INTEGER);
    term = m.term;
    index = m.entries.length > 0 ? m.entries[m.entries.length - 1].index : m.index;
    return m;
  };
}

/**
 * Reads one `message` frame from the front of a byte stream (a snapshot upload's head); the
 * bytes after it are left in `rest`. Go's io errors name a stream that ends too soon.
 */
export async function readMessageFrom(
  source: AsyncIterable<Uint8Array>,
  limit: number,
): Promise<{ message: Message; rest: AsyncIterable<Uint8Array> }> {
  const it = source[Symbol.asyncIterator]();
  const q = new ByteQueue();
  const step = readMessageFrame(limit);
  for (let r = step.next();;) {
    if (r.done) {
      const leftover = q.drain();
      return { message: r.value, rest: restOf(leftover, it) };
    }
    while (q.length < r.value) {
      const c = await it.next();
      if (c.done) throw new Error(q.length === 0 ? "EOF" : "unexpected EOF");
      q.push(c.value);
    }
    r = step.next(q.take(r.value));
  }
}

async function* restOf(
  first: Uint8Array,
  it: AsyncIterator<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  if (first.length > 0) yield first;
  for (let c = await it.next(); !c.done; c = await it.next()) yield c.value;
}

/**
 * Turns arbitrarily split bytes into messages with one of the readers above. A piece spread
 * over several chunks is copied once, when it is complete.
 */
export class StreamDecoder {
  readonly #queue = new ByteQueue();
  #step?: Reads;
  #need = 0;
  /** Bytes of the messages the last push() completed. */
  lastBytes = 0;

  constructor(readonly reader: () => Reads) {}

  /** Feeds bytes; returns the messages they complete. Throws on a malformed stream. */
  push(chunk: Uint8Array): Message[] {
    const out: Message[] = [];
    this.lastBytes = 0;
    this.#queue.push(chunk);
    for (;;) {
      if (!this.#step) {
        this.#step = this.reader();
        this.#need = this.#step.next().value as number;
        this.#queue.mark();
      }
      if (this.#queue.length < this.#need) return out;
      const r = this.#step.next(this.#queue.take(this.#need));
      if (!r.done) {
        this.#need = r.value;
        continue;
      }
      out.push(r.value);
      this.lastBytes += this.#queue.sinceMark();
      this.#step = undefined;
    }
  }

  /** Bytes of an unfinished message (a stream that ends here was cut). */
  get pending(): number {
    return this.#step ? this.#queue.sinceMark() + this.#queue.length : this.#queue.length;
  }
}

/** Buffered chunks read from the front. */
export class ByteQueue {
  #chunks: Uint8Array[] = [];
  #offset = 0; // consumed bytes of #chunks[0]
  #length = 0;
  #taken = 0;
  #mark = 0;

  get length(): number {
    return this.#length;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** Remembers the position; sinceMark() counts the bytes taken after it. */
  mark(): void {
    this.#mark = this.#taken;
  }

  sinceMark(): number {
    return this.#taken - this.#mark;
  }

  /** The next `n` bytes (n <= length): a view when one chunk holds them, a copy otherwise. */
  take(n: number): Uint8Array {
    this.#taken += n;
    if (n === 0) return EMPTY;
    const first = this.#chunks[0];
    if (first.length - this.#offset >= n) {
      const out = first.subarray(this.#offset, this.#offset + n);
      this.#advance(n);
      return out;
    }
    const out = new Uint8Array(n);
    for (let filled = 0; filled < n;) {
      const c = this.#chunks[0];
      const k = Math.min(n - filled, c.length - this.#offset);
      out.set(c.subarray(this.#offset, this.#offset + k), filled);
      filled += k;
      this.#advance(k);
    }
    return out;
  }

  /** Everything buffered, in one piece. */
  drain(): Uint8Array {
    return this.take(this.#length);
  }

  #advance(n: number): void {
    this.#offset += n;
    this.#length -= n;
    if (this.#offset === this.#chunks[0].length) {
      this.#chunks.shift();
      this.#offset = 0;
    }
  }
}
