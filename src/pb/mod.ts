// Protobuf codecs for etcd's wire API, built from the generated schemas: binary encode/decode
// per message and the proto3 JSON mapping the /v3 gateway uses; and the one reader and writer
// core under them, which raft's codec uses too.

import { compileSchema, makeCodec, type MessageCodec } from "./codec.ts";
import { makeJsonMapper } from "./json.ts";
import { type MessageTypes, schema } from "./generated.ts";
import { hotCodecs } from "./hot.generated.ts";
import type { Init } from "./schema.ts";

export * from "./generated.ts";
export type { FieldSchema, Init, MessageSchema, MethodSchema, ProtoSchema } from "./schema.ts";
export type { MessageCodec } from "./codec.ts";
export { ProtoJsonError } from "./json.ts";
export { ProtoDecodeError } from "./reader.ts";
// The reader and writer cores, for codecs written by hand (raft's raftpb codec).
export { Reader } from "./reader.ts";
export { concatBytes, sI64, sv32, wBytes, wI64, wv32 } from "./writer.ts";

export type MessageName = keyof MessageTypes;

const compiled = compileSchema(schema);

/**
 * `messages["etcdserverpb.PutRequest"].encode(obj)` / `.decode(bytes)` for every message: the
 * request-path messages (KV, Watch, Lease) through their specialised codecs, the rest through
 * the reflective one. Both produce the same bytes and the same objects.
 */
export const messages = {
  ...Object.fromEntries([...compiled].map(([name, m]) => [name, makeCodec(m)])),
  ...hotCodecs,
} as { [K in MessageName]: MessageCodec<MessageTypes[K]> };

const json = makeJsonMapper(schema);

function compiledOf(fullName: string) {
  const m = compiled.get(fullName);
  if (!m) throw new Error(`unknown message ${fullName}`);
  return m;
}

/** proto3 JSON of a message, as etcd's gateway prints it (proto field names, defaults omitted). */
export function toJSON<K extends MessageName>(
  fullName: K,
  msg: Init<MessageTypes[K]>,
): Record<string, unknown> {
  return json.toJSON(compiledOf(fullName), msg as Record<string, unknown>);
}

/** Parses proto3 JSON into a decoded message (defaults filled); throws ProtoJsonError. */
export function fromJSON<K extends MessageName>(fullName: K, value: unknown): MessageTypes[K] {
  return json.fromJSON(compiledOf(fullName), value) as MessageTypes[K];
}
