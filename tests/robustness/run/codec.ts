// The checker's requests and results (tests/robustness/types.ts) to and from etcd's wire
// messages: which RPC carries a request, its encoded message, and the result a decoded
// response stands for. Keys and values are text.

import {
  Compare_CompareResult,
  Compare_CompareTarget,
  Event_EventType,
  type Init,
  type MessageName,
  messages,
  type MessageTypes,
} from "../../../src/pb/mod.ts";
import type * as pb from "../../../src/pb/mod.ts";
import type {
  Compare,
  Event,
  KeyValue,
  RangeRequest,
  Request,
  RequestOp,
  Result,
  ResultOp,
} from "../mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

export const bytes = (s: string): Uint8Array => enc.encode(s);
export const text = (b: Uint8Array): string => dec.decode(b);

export function toKeyValue(kv: pb.KeyValue): KeyValue {
  return {
    key: text(kv.key),
    value: text(kv.value),
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    lease: Number(kv.lease),
  };
}

export function toEvent(e: pb.Event): Event {
  const kv = toKeyValue(e.kv!);
  const event: Event = { type: e.type === Event_EventType.PUT ? "PUT" : "DELETE", kv };
  if (e.prevKv) event.prevKv = toKeyValue(e.prevKv);
  return event;
}

/** One RPC: its path, the encoded request, and the response decoded to a revision and result. */
export interface Rpc {
  path: string;
  message: Uint8Array;
  decode(response: Uint8Array): { revision: number; result: Result };
}

export function rpcOf(request: Request): Rpc {
  switch (request.type) {
    case "range":
      return rpc("KV/Range", "etcdserverpb.RangeRequest", rangeMessage(request), (res) => ({
        revision: res.header!.revision,
        result: rangeResult(res),
      }));
    case "put":
      return rpc("KV/Put", "etcdserverpb.PutRequest", requestOp(request).requestPut!, (res) => ({
        revision: res.header!.revision,
        result: resultOp(request, { responsePut: res }),
      }));
    case "deleteRange":
      return rpc(
        "KV/DeleteRange",
        "etcdserverpb.DeleteRangeRequest",
        requestOp(request).requestDeleteRange!,
        (res) => ({
          revision: res.header!.revision,
          result: resultOp(request, { responseDeleteRange: res }),
        }),
      );
    case "txn":
      return rpc("KV/Txn", "etcdserverpb.TxnRequest", {
        compare: request.compare.map(compareMessage),
        success: request.success.map(requestOp),
        failure: request.failure.map(requestOp),
      }, (res) => {
        const ops = res.succeeded ? request.success : request.failure;
        return {
          revision: res.header!.revision,
          result: {
            type: "txn",
            succeeded: res.succeeded,
            responses: ops.map((op, i) => resultOp(op, res.responses[i])),
          },
        };
      });
    case "leaseGrant":
      return rpc("Lease/LeaseGrant", "etcdserverpb.LeaseGrantRequest", {
        ID: BigInt(request.id),
        TTL: request.ttl,
      }, (res) => ({
        revision: res.header!.revision,
        result: { type: "leaseGrant", id: Number(res.ID) },
      }));
    case "leaseRevoke":
      return rpc("Lease/LeaseRevoke", "etcdserverpb.LeaseRevokeRequest", {
        ID: BigInt(request.id),
      }, (res) => ({ revision: res.header!.revision, result: { type: "leaseRevoke" } }));
  }
}

/** The response message type of each request message type this file sends. */
type ResponseOf<Q extends MessageName> = Q extends `etcdserverpb.${infer B}Request`
  ? `etcdserverpb.${B}Response` extends MessageName ? MessageTypes[`etcdserverpb.${B}Response`]
  : never
  : never;

function rpc<Q extends MessageName>(
  method: string,
  name: Q,
  message: Init<MessageTypes[Q]>,
  decode: (res: ResponseOf<Q>) => { revision: number; result: Result },
): Rpc {
  const response = name.replace(/Request$/, "Response") as MessageName;
  return {
    path: `/etcdserverpb.${method}`,
    message: messages[name].encode(message),
    decode: (b) => decode(messages[response].decode(b) as ResponseOf<Q>),
  };
}

export function rangeMessage(r: RangeRequest): Init<pb.RangeRequest> {
  return {
    key: bytes(r.key),
    rangeEnd: r.rangeEnd === undefined ? undefined : bytes(r.rangeEnd),
    revision: r.revision,
    serializable: r.serializable,
    limit: r.limit,
    keysOnly: r.keysOnly,
    countOnly: r.countOnly,
  };
}

function rangeResult(res: pb.RangeResponse): Result & { type: "range" } {
  return { type: "range", kvs: res.kvs.map(toKeyValue), count: res.count, more: res.more };
}

function requestOp(op: RequestOp): Init<pb.RequestOp> {
  switch (op.type) {
    case "range":
      return { requestRange: rangeMessage(op) };
    case "put":
      return {
        requestPut: {
          key: bytes(op.key),
          value: bytes(op.value),
          lease: BigInt(op.lease ?? 0),
          prevKv: op.prevKv,
        },
      };
    case "deleteRange":
      return {
        requestDeleteRange: {
          key: bytes(op.key),
          rangeEnd: op.rangeEnd === undefined ? undefined : bytes(op.rangeEnd),
          prevKv: op.prevKv,
        },
      };
  }
}

/** What a response says, reduced to what the request asked for (prev_kv only when asked). */
function resultOp(op: RequestOp, res: pb.ResponseOp): ResultOp {
  switch (op.type) {
    case "range":
      return rangeResult(res.responseRange!);
    case "put": {
      const prev = res.responsePut?.prevKv;
      return op.prevKv && prev ? { type: "put", prevKv: toKeyValue(prev) } : { type: "put" };
    }
    case "deleteRange": {
      const del = res.responseDeleteRange!;
      const out: ResultOp = { type: "deleteRange", deleted: del.deleted };
      if (op.prevKv) out.prevKvs = del.prevKvs.map(toKeyValue);
      return out;
    }
  }
}

const TARGETS = {
  value: Compare_CompareTarget.VALUE,
  version: Compare_CompareTarget.VERSION,
  create: Compare_CompareTarget.CREATE,
  mod: Compare_CompareTarget.MOD,
  lease: Compare_CompareTarget.LEASE,
};

const RESULTS = {
  equal: Compare_CompareResult.EQUAL,
  not_equal: Compare_CompareResult.NOT_EQUAL,
  greater: Compare_CompareResult.GREATER,
  less: Compare_CompareResult.LESS,
};

function compareMessage(c: Compare): Init<pb.Compare> {
  const base = { key: bytes(c.key), target: TARGETS[c.target], result: RESULTS[c.result] };
  switch (c.target) {
    case "value":
      return { ...base, value: bytes(String(c.value)) };
    case "version":
      return { ...base, version: Number(c.value) };
    case "create":
      return { ...base, createRevision: Number(c.value) };
    case "mod":
      return { ...base, modRevision: Number(c.value) };
    case "lease":
      return { ...base, lease: BigInt(c.value) };
  }
}
