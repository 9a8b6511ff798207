// --namespace (etcd's clientv3/namespace): every key a client names gets the prefix on its way to
// the cluster and loses it on the way back, so each namespace looks like a whole key space.
// "\0" as a range end (every key from here) becomes the end of the prefix's own range.
import { Errors } from "../errors/mod.ts";
import type {
  Compare,
  DeleteRangeRequest,
  DeleteRangeResponse,
  Event,
  KeyValue,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseOp,
  TxnRequest,
  TxnResponse,
} from "../pb/mod.ts";
import { concatBytes } from "../pb/mod.ts";

/** The smallest key after every key starting with `prefix`; "\0" when there is none. */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  const end = prefix.slice();
  for (let i = end.length - 1; i >= 0; i--) {
    if (++end[i] !== 256 && end[i] !== 0) return end.subarray(0, i + 1);
    end[i] = 0;
  }
  return new Uint8Array([0]);
}

export class Namespace {
  constructor(private readonly prefix: Uint8Array) {}

  /** [key, end) in the client's key space -> the same range under the prefix. */
  interval(key: Uint8Array, end: Uint8Array): { key: Uint8Array; rangeEnd: Uint8Array } {
    const rangeEnd = end.length === 1 && end[0] === 0
      ? prefixEnd(this.prefix)
      : end.length > 0
      ? concatBytes([this.prefix, end])
      : end;
    return { key: concatBytes([this.prefix, key]), rangeEnd };
  }

  private nonEmpty(key: Uint8Array): void {
    if (key.length === 0) throw Errors.emptyKey();
  }

  range(req: RangeRequest): RangeRequest {
    this.nonEmpty(req.key);
    return { ...req, ...this.interval(req.key, req.rangeEnd) };
  }

  put(req: PutRequest): PutRequest {
    this.nonEmpty(req.key);
    return { ...req, key: concatBytes([this.prefix, req.key]) };
  }

  deleteRange(req: DeleteRangeRequest): DeleteRangeRequest {
    this.nonEmpty(req.key);
    return { ...req, ...this.interval(req.key, req.rangeEnd) };
  }

  txn(req: TxnRequest): TxnRequest {
    return {
      compare: req.compare.map((c: Compare) => {
        const p = this.interval(c.key, c.rangeEnd);
        return { ...c, key: p.key, rangeEnd: c.rangeEnd.length > 0 ? p.rangeEnd : c.rangeEnd };
      }),
      success: req.success.map((op) => this.op(op)),
      failure: req.failure.map((op) => this.op(op)),
    };
  }

  private op(op: RequestOp): RequestOp {
    if (op.requestRange) return { requestRange: this.range(op.requestRange) };
    if (op.requestPut) return { requestPut: this.put(op.requestPut) };
    if (op.requestDeleteRange) {
      return { requestDeleteRange: this.deleteRange(op.requestDeleteRange) };
    }
    if (op.requestTxn) return { requestTxn: this.txn(op.requestTxn) };
    return op;
  }

  /** A key from the cluster without the prefix. */
  strip(key: Uint8Array): Uint8Array {
    return key.subarray(this.prefix.length);
  }

  kv(kv: KeyValue): KeyValue;
  kv(kv: KeyValue | undefined): KeyValue | undefined;
  kv(kv: KeyValue | undefined): KeyValue | undefined {
    return kv && { ...kv, key: this.strip(kv.key) };
  }

  rangeResponse(r: RangeResponse): RangeResponse {
    return { ...r, kvs: r.kvs.map((kv) => this.kv(kv)) };
  }

  putResponse(r: PutResponse): PutResponse {
    return { ...r, prevKv: this.kv(r.prevKv) };
  }

  deleteRangeResponse(r: DeleteRangeResponse): DeleteRangeResponse {
    return { ...r, prevKvs: r.prevKvs.map((kv) => this.kv(kv)) };
  }

  txnResponse(r: TxnResponse): TxnResponse {
    return { ...r, responses: r.responses.map((op) => this.opResponse(op)) };
  }

  private opResponse(op: ResponseOp): ResponseOp {
    if (op.responseRange) return { responseRange: this.rangeResponse(op.responseRange) };
    if (op.responsePut) return { responsePut: this.putResponse(op.responsePut) };
    if (op.responseDeleteRange) {
      return { responseDeleteRange: this.deleteRangeResponse(op.responseDeleteRange) };
    }
    if (op.responseTxn) return { responseTxn: this.txnResponse(op.responseTxn) };
    return op;
  }

  event(ev: Event): Event {
    return { ...ev, kv: this.kv(ev.kv), prevKv: this.kv(ev.prevKv) };
  }
}
