// Request header checks of RFC 9113 §8.2-8.3 on the server side, and the conversion between
// HPACK header lists and the header records the stream interface uses. Any :authority is
// accepted (etcdctl 3.4 sends the whole endpoint URL there, as grpc-go allows).

import { ErrorCode, H2Error } from "./errors.ts";
import type { HeaderList } from "./hpack.ts";
import type { IncomingHeaders, OutgoingHeaders } from "./server_stream.ts";

const REQUEST_PSEUDO = new Set([":method", ":scheme", ":path", ":authority", ":protocol"]);
// Connection-specific fields are malformed in HTTP/2 (§8.2.2).
const CONNECTION_SPECIFIC = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
]);

const malformed = (msg: string, streamId: number) =>
  new H2Error(ErrorCode.PROTOCOL_ERROR, msg, streamId);

/** The request headers of stream `id` as a record; a malformed request is a stream error. */
export function requestHeaders(list: HeaderList, id: number): IncomingHeaders {
  const out: IncomingHeaders = Object.create(null);
  let regular = false;
  for (let i = 0; i < list.length; i++) {
    const [name, value] = list[i];
    if (name.length === 0) throw malformed("empty header name", id);
    if (name.charCodeAt(0) === 58 /* : */) {
      if (regular) throw malformed(`pseudo-header ${name} after a regular header`, id);
      if (!REQUEST_PSEUDO.has(name)) throw malformed(`unknown pseudo-header ${name}`, id);
      if (out[name] !== undefined) throw malformed(`repeated pseudo-header ${name}`, id);
      out[name] = value;
      continue;
    }
    regular = true;
    for (let k = 0; k < name.length; k++) {
      const c = name.charCodeAt(k);
      if (c >= 65 && c <= 90) throw malformed(`upper-case header name ${name}`, id);
    }
    if (CONNECTION_SPECIFIC.has(name)) throw malformed(`connection-specific header ${name}`, id);
    if (name === "te" && value !== "trailers") throw malformed(`te: ${value}`, id);
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (name === "cookie") out[name] = `${prev}; ${value}`;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [prev, value];
  }
  const method = out[":method"];
  if (method === undefined) throw malformed("missing :method", id);
  if (method !== "CONNECT") {
    if (out[":scheme"] === undefined) throw malformed("missing :scheme", id);
    if (!out[":path"]) throw malformed("missing :path", id);
  }
  return out;
}

// Frozen records (a gRPC response's headers, the OK trailers) map to one frozen list, whose
// HPACK block the encoder replays while its table is unchanged.
const frozenLists = new WeakMap<OutgoingHeaders, HeaderList>();

/** Response headers or trailers as an HPACK list: pseudo-headers first, names lower-cased. */
export function responseHeaderList(h: OutgoingHeaders): HeaderList {
  const frozen = Object.isFrozen(h);
  if (frozen) {
    const hit = frozenLists.get(h);
    if (hit) return hit;
  }
  const list: HeaderList = [];
  for (const k in h) if (k.charCodeAt(0) === 58) list.push([k, String(h[k])]);
  for (const k in h) {
    if (k.charCodeAt(0) === 58) continue;
    const v = h[k];
    const name = k.toLowerCase();
    if (typeof v === "object") { for (const item of v) list.push([name, item]); }
    else list.push([name, String(v)]);
  }
  if (frozen) {
    for (const e of list) Object.freeze(e);
    frozenLists.set(h, Object.freeze(list) as HeaderList);
  }
  return list;
}
