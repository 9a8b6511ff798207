// What travels between members: etcd's peer headers, and the framing of raft messages on a
// message stream (each message as a 4-byte big-endian length plus its raftpb encoding) and in a
// snapshot upload (an 8-byte length, the MsgSnap without data, then the backend file).
import { decodeMessage, encodeMessage, type Message } from "../raft/mod.ts";
import { ETCD_VERSION } from "../config/mod.ts";

export const SERVER_VERSION = ETCD_VERSION;
/** The oldest cluster version a 3.4 member works with (etcd's MinClusterVersion). */
export const MIN_CLUSTER_VERSION = "3.0.0";

/** Header names as etcd writes them (node:http lowercases them on the receiving side). */
export const H = {
  clusterId: "X-Etcd-Cluster-ID",
  from: "X-Server-From",
  serverVersion: "X-Server-Version",
  minClusterVersion: "X-Min-Cluster-Version",
  peerURLs: "X-PeerURLs",
  raftTo: "X-Raft-To",
} as const;

/** IDs on the wire are lowercase hex without leading zeros, as etcd's types.ID prints them. */
export function hexId(id: bigint): string {
  return id.toString(16);
}

/** etcd's types.IDFromString: up to 16 hex digits. */
export function parseHexId(s: string | undefined): bigint | undefined {
  if (s === undefined || !/^[0-9a-fA-F]{1,16}$/.test(s)) return undefined;
  return BigInt("0x" + s);
}

/** The headers every request to a peer carries. */
export function peerHeaders(
  localId: bigint,
  clusterId: bigint,
  localPeerURLs: string[],
): Record<string, string> {
  return {
    [H.from]: hexId(localId),
    [H.serverVersion]: SERVER_VERSION,
    [H.minClusterVersion]: MIN_CLUSTER_VERSION,
    [H.clusterId]: hexId(clusterId),
    [H.peerURLs]: localPeerURLs.join(","),
  };
}

const CRLF = [13, 10];
const latin1 = new TextEncoder();

// Frames encoded messages into a buffer with `before` and `after` spare bytes around them.
function frames(encoded: Uint8Array[], before: number, after: number) {
  const payload = encoded.reduce((n, b) => n + 4 + b.length, 0);
  const out = new Uint8Array(before + payload + after);
  const view = new DataView(out.buffer);
  let off = before;
  for (const b of encoded) {
    view.setUint32(off, b.length);
    out.set(b, off + 4);
    off += 4 + b.length;
  }
  return { out, payload };
}

/** Length-prefixed messages (the body of a message stream or batch). */
export function encodeFrames(msgs: Message[]): Uint8Array {
  return frames(msgs.map(encodeMessage), 0, 0).out;
}

/**
 * One HTTP/1.1 chunk holding many framed messages (already encoded): everything queued for a
 * peer leaves in a single socket write.
 */
export function frameChunk(encoded: Uint8Array[]): Uint8Array {
  // The chunk-size line (at most 8 hex digits) is right-aligned against the frames.
  const { out, payload } = frames(encoded, 10, 2);
  const size = latin1.encode(payload.toString(16) + "\r\n");
  const start = 10 - size.length;
  out.set(size, start);
  out.set(CRLF, out.length - 2);
  return out.subarray(start);
}

/**
 * Reassembles length-prefixed messages from arbitrarily split bytes. A frame spread over many
 * reads is copied once, when it is complete.
 */
export class FrameDecoder {
  #chunks: Uint8Array[] = [];
  #offset = 0; // consumed bytes of #chunks[0]
  #buffered = 0;
  #need = -1; // length of the frame being read, -1 while its header is incomplete
  /** Bytes of the messages the last push() completed (their length prefixes not counted). */
  lastBytes = 0;

  constructor(readonly maxFrameBytes: number) {}

  /** Feeds bytes; returns the messages they complete. Throws on a malformed stream. */
  push(chunk: Uint8Array): Message[] {
    const out: Message[] = [];
    this.lastBytes = 0;
    if (chunk.length === 0) return out;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    for (;;) {
      if (this.#need < 0) {
        if (this.#buffered < 4) return out;
        const h = this.#take(4);
        this.#need = ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0;
        if (this.#need > this.maxFrameBytes) {
          throw new Error(`raft message of ${this.#need} bytes exceeds ${this.maxFrameBytes}`);
        }
      }
      if (this.#buffered < this.#need) return out;
      const frame = this.#take(this.#need);
      this.#need = -1;
      this.lastBytes += frame.length;
      out.push(decodeMessage(frame));
    }
  }

  /** Bytes of an unfinished frame (a stream that ends here was cut). */
  get pending(): number {
    return this.#buffered;
  }

  #take(n: number): Uint8Array {
    const first = this.#chunks[0];
    if (first.length - this.#offset >= n) {
      const out = first.subarray(this.#offset, this.#offset + n);
      this.#advance(n);
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const c = this.#chunks[0];
      const k = Math.min(n - filled, c.length - this.#offset);
      out.set(c.subarray(this.#offset, this.#offset + k), filled);
      filled += k;
      this.#advance(k);
    }
    return out;
  }

  #advance(n: number): void {
    this.#offset += n;
    this.#buffered -= n;
    if (this.#offset === this.#chunks[0].length) {
      this.#chunks.shift();
      this.#offset = 0;
    }
  }
}

/** The head of a snapshot upload: 8-byte length + the MsgSnap whose data is sent after it. */
export function encodeSnapshotHead(m: Message): Uint8Array {
  if (!m.snapshot) throw new Error("MsgSnap without snapshot");
  const msg = encodeMessage({
    ...m,
    snapshot: { metadata: m.snapshot.metadata, data: new Uint8Array(0) },
  });
  const out = new Uint8Array(8 + msg.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(msg.length));
  out.set(msg, 8);
  return out;
}

/** Splits a snapshot upload into its message, whose snapshot data becomes the backend file. */
export function decodeSnapshotBody(body: Uint8Array): Message {
  if (body.length < 8) throw new Error("short snapshot upload");
  const len = new DataView(body.buffer, body.byteOffset, 8).getBigUint64(0);
  if (len > BigInt(body.length - 8)) throw new Error("short snapshot upload");
  const end = 8 + Number(len);
  const m = decodeMessage(body.subarray(8, end));
  if (!m.snapshot) throw new Error("MsgSnap without snapshot");
  m.snapshot = { metadata: m.snapshot.metadata, data: body.subarray(end) };
  return m;
}
