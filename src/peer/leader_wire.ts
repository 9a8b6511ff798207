// Bodies of the requests a member forwards to the leader (etcd's leasehttp and hashKV paths):
// lease keep-alives as etcdserverpb protobufs, time-to-live requests wrapped in leasepb's
// LeaseInternalRequest/Response (one message field, number 1), and the HashKV JSON.
import {
  type Init,
  type LeaseTimeToLiveRequest,
  type LeaseTimeToLiveResponse,
  messages,
} from "../pb/mod.ts";

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** A message whose only field is message field 1 holding `inner`. */
function wrapField1(inner: Uint8Array): Uint8Array {
  const head = [0x0a, ...varint(inner.length)];
  const out = new Uint8Array(head.length + inner.length);
  out.set(head);
  out.set(inner, head.length);
  return out;
}

/** Field 1 of a wrapper message (the last occurrence, as protobuf merges); unknown fields skipped. */
function unwrapField1(b: Uint8Array): Uint8Array | undefined {
  let off = 0;
  const readVarint = (): number => {
    let n = 0;
    for (let shift = 1;; shift *= 128) {
      if (off >= b.length) throw new Error("unexpected EOF");
      const byte = b[off++];
      n += (byte & 0x7f) * shift;
      if (byte < 0x80) return n;
      if (shift > 2 ** 56) throw new Error("varint overflow");
    }
  };
  let field1: Uint8Array | undefined;
  while (off < b.length) {
    const tag = readVarint();
    const wireType = tag % 8;
    if (wireType === 0) readVarint();
    else if (wireType === 1) off += 8;
    else if (wireType === 5) off += 4;
    else if (wireType === 2) {
      const len = readVarint();
      if (off + len > b.length) throw new Error("unexpected EOF");
      if (Math.floor(tag / 8) === 1) field1 = b.subarray(off, off + len);
      off += len;
    } else throw new Error(`illegal wire type ${wireType}`);
    if (off > b.length) throw new Error("unexpected EOF");
  }
  return field1;
}

export function encodeLeaseInternalRequest(req: Init<LeaseTimeToLiveRequest>): Uint8Array {
  return wrapField1(messages["etcdserverpb.LeaseTimeToLiveRequest"].encode(req));
}

/** Throws on a malformed body or one without the inner request. */
export function decodeLeaseInternalRequest(b: Uint8Array): LeaseTimeToLiveRequest {
  const inner = unwrapField1(b);
  if (!inner) throw new Error("no LeaseTimeToLiveRequest");
  return messages["etcdserverpb.LeaseTimeToLiveRequest"].decode(inner);
}

export function encodeLeaseInternalResponse(res: Init<LeaseTimeToLiveResponse>): Uint8Array {
  return wrapField1(messages["etcdserverpb.LeaseTimeToLiveResponse"].encode(res));
}

export function decodeLeaseInternalResponse(b: Uint8Array): LeaseTimeToLiveResponse {
  const inner = unwrapField1(b);
  if (!inner) throw new Error("no LeaseTimeToLiveResponse");
  return messages["etcdserverpb.LeaseTimeToLiveResponse"].decode(inner);
}

/** A member's HashKV as the corruption check exchanges it. */
export interface PeerHashKV {
  /** The member's current revision (the response header's). */
  revision: number;
  hash: number;
  /** -1 before the first compaction. */
  compactRevision: number;
}

/** Go's encoding/json of etcd's HashKVResponse: zero fields omitted, only the header's revision. */
export function formatHashKVJSON(h: PeerHashKV): string {
  let out = `{"header":{${h.revision !== 0 ? `"revision":${h.revision}` : ""}}`;
  if (h.hash !== 0) out += `,"hash":${h.hash}`;
  if (h.compactRevision !== 0) out += `,"compact_revision":${h.compactRevision}`;
  return out + "}";
}

export function parseHashKVJSON(text: string): PeerHashKV {
  const raw = JSON.parse(text);
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new Error("hashKV response is not a JSON object");
  }
  const num = (v: unknown) => (typeof v === "number" ? v : 0);
  return {
    revision: num(raw.header?.revision),
    hash: num(raw.hash),
    compactRevision: num(raw.compact_revision),
  };
}

/**
 * The revision of a HashKVRequest body, read as Go's encoding/json would (field names match
 * case-insensitively, `null` leaves the zero value); throws where Go's Unmarshal fails.
 */
export function parseHashKVRequest(text: string): number {
  const raw = JSON.parse(text);
  if (raw === null) return 0;
  if (typeof raw !== "object" || Array.isArray(raw)) throw new Error("not a JSON object");
  let revision = 0;
  for (const [k, v] of Object.entries(raw)) {
    if (k.toLowerCase() !== "revision" || v === null) continue;
    if (typeof v !== "number" || !Number.isSafeInteger(v)) throw new Error("revision not an int64");
    revision = v;
  }
  return revision;
}
