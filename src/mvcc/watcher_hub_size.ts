// Encoded protobuf sizes of watch responses, for stream buffer accounting and for splitting
// responses into fragments at the same size etcd does.

import type { Event, KeyValue, WatchResponse } from "./watcher_hub_types.ts";

// cluster_id, member_id and raft_term, which the transport adds to every header: at most one
// tag byte and a ten-byte varint each.
const TRANSPORT_HEADER_BYTES = 33;

function varintSize(n: number | bigint): number {
  if (typeof n === "bigint") {
    if (n < 0n) return 10;
    let size = 1;
    while (n >= 128n) {
      n >>= 7n;
      size++;
    }
    return size;
  }
  if (n < 0) return 10;
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

const encoder = new TextEncoder();
const utf8Length = (s: string) => (s === "" ? 0 : encoder.encode(s).length);

const intField = (n: number | bigint) => (n === 0 || n === 0n ? 0 : 1 + varintSize(n));
const bytesField = (len: number) => (len === 0 ? 0 : 1 + varintSize(len) + len);
const messageField = (len: number) => 1 + varintSize(len) + len;

function keyValueSize(kv: KeyValue): number {
  return bytesField(kv.key.length) + intField(kv.createRevision) + intField(kv.modRevision) +
    intField(kv.version) + bytesField(kv.value.length) + intField(kv.lease);
}

// Encoded size of one `events` entry, tag and length prefix included.
export function eventFieldSize(ev: Event): number {
  const body = intField(ev.type) + messageField(keyValueSize(ev.kv)) +
    (ev.prevKv ? messageField(keyValueSize(ev.prevKv)) : 0);
  return messageField(body);
}

// Encoded size of everything in a response but its events.
export function responseBaseSize(resp: WatchResponse): number {
  const header = intField(resp.header.revision) + TRANSPORT_HEADER_BYTES;
  return messageField(header) + intField(resp.watchId) + (resp.created ? 2 : 0) +
    (resp.canceled ? 2 : 0) + intField(resp.compactRevision) +
    bytesField(utf8Length(resp.cancelReason)) + (resp.fragment ? 2 : 0);
}

export function responseSize(resp: WatchResponse): number {
  let size = responseBaseSize(resp);
  for (const ev of resp.events) size += eventFieldSize(ev);
  return size;
}

// Splits an event response as etcd does for watchers created with `fragment`: every part but
// the last has fragment=true, each part stays under maxBytes unless it holds a single event,
// and a response that already fits (or has one event) is left whole.
export function fragmentResponse(resp: WatchResponse, maxBytes: number): WatchResponse[] {
  if (resp.events.length < 2 || responseSize(resp) < maxBytes) return [resp];
  const base = responseBaseSize({ ...resp, fragment: true });
  const parts: WatchResponse[] = [];
  let events: Event[] = [];
  let size = base;
  for (const ev of resp.events) {
    const evSize = eventFieldSize(ev);
    if (events.length > 0 && size + evSize >= maxBytes) {
      parts.push({ ...resp, fragment: true, events });
      events = [];
      size = base;
    }
    events.push(ev);
    size += evSize;
  }
  parts.push({ ...resp, fragment: false, events });
  return parts;
}
