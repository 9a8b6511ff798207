// Requests as etcd 3.4 prints them in its slow-request warnings: Go's proto.CompactTextString
// (field by field in declaration order, proto3 zero values left out, `name:<...>` for
// messages, C-escaped strings) behind etcd's InternalRaftStringer, which replaces values by
// their size and hides passwords. v2 requests (the member's attributes, the cluster version,
// /v2/keys) print as etcd's v2 pb.Request does.
import { type FieldSchema, schema } from "../pb/mod.ts";
import type { AuthInfo } from "../auth/mod.ts";
import { type AuthEntry, type Proposal, v2RequestOf } from "./proposal.ts";
import type { EtcdV2Request } from "./v2_request.ts";
import type { Compare, PutRequest, RequestOp, TxnRequest } from "./kv_types.ts";

const utf8 = new TextEncoder();

/** Go's text-format string: printable ASCII as is, \n \r \t \" \\, other bytes in octal. */
export function protoQuote(value: Uint8Array | string): string {
  const bytes = typeof value === "string" ? utf8.encode(value) : value;
  let out = '"';
  for (const c of bytes) {
    if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c >= 0x20 && c < 0x7f) out += String.fromCharCode(c);
    else out += "\\" + c.toString(8).padStart(3, "0");
  }
  return out + '"';
}

const enumNames = new Map<string, Map<number, string>>();
function enumName(ref: string, n: number): string {
  let names = enumNames.get(ref);
  if (!names) {
    names = new Map(Object.entries(schema.enums[ref] ?? {}).map(([k, v]) => [v, k]));
    enumNames.set(ref, names);
  }
  return names.get(n) ?? String(n);
}

function isZero(v: unknown): boolean {
  if (v instanceof Uint8Array) return v.length === 0;
  return v === 0 || v === 0n || v === false || v === "";
}

function valueText(f: FieldSchema, v: unknown): string {
  switch (f.kind) {
    case "message":
      return `<${compactText(f.ref!, v as Record<string, unknown>)}>`;
    case "enum":
      return enumName(f.ref!, v as number);
    case "string":
    case "bytes":
      return protoQuote(v as string | Uint8Array);
    default:
      return String(v);
  }
}

/** proto.CompactTextString of `value`, a message of type `name` (e.g. "etcdserverpb.RangeRequest"). */
export function compactText(name: string, value: Record<string, unknown>): string {
  let out = "";
  for (const f of schema.messages[name].fields) {
    const v = value[f.prop];
    if (f.repeated) {
      for (const e of (v as unknown[] | undefined) ?? []) out += `${f.name}:${valueText(f, e)} `;
      continue;
    }
    // A oneof member that is set prints even at its zero value.
    if (v === undefined || v === null || (!f.oneof && f.kind !== "message" && isZero(v))) {
      continue;
    }
    out += `${f.name}:${valueText(f, v)} `;
  }
  return out;
}

/** etcd's loggablePutRequest: the value replaced by its size. */
export function putText(r: PutRequest): string {
  let out = `key:${protoQuote(r.key)} `;
  const size = r.value?.length ?? 0;
  if (size > 0) out += `value_size:${size} `;
  if (r.lease) out += `lease:${r.lease} `;
  if (r.prevKv) out += "prev_kv:true ";
  if (r.ignoreValue) out += "ignore_value:true ";
  if (r.ignoreLease) out += "ignore_lease:true ";
  return out;
}

// etcd's loggableValueCompare: a value comparison shows the value's size.
function compareText(c: Compare): string {
  if (c.value === undefined) return compactText("etcdserverpb.Compare", { ...c });
  const { value, rangeEnd, ...rest } = c;
  let out = compactText("etcdserverpb.Compare", { ...rest, rangeEnd: undefined });
  if (value.length > 0) out += `value_size:${value.length} `;
  if (rangeEnd?.length) out += `range_end:${protoQuote(rangeEnd)} `;
  return out;
}

function requestOpText(op: RequestOp): string {
  if (op.requestPut) return `request_put:<${putText(op.requestPut)}>`;
  if (op.requestTxn) return `request_txn:<${txnText(op.requestTxn)}>`;
  return compactText("etcdserverpb.RequestOp", { ...op });
}

/** etcd's txnRequestStringer. */
export function txnText(r: TxnRequest): string {
  const compare = (r.compare ?? []).map(compareText).join(" ");
  const success = (r.success ?? []).map(requestOpText).join(" ");
  const failure = (r.failure ?? []).map(requestOpText).join(" ");
  return `compare:<${compare}> success:<${success}> failure:<${failure}>`;
}

function headerText(id: bigint, auth?: AuthInfo): string {
  let out = id !== 0n ? `ID:${id} ` : "";
  if (auth?.username) out += `username:${protoQuote(auth.username)} `;
  if (auth?.revision) out += `auth_revision:${auth.revision} `;
  return out;
}

/** Go's %016x of an int64. */
function hex16(id: bigint): string {
  const n = BigInt.asIntN(64, id);
  return n < 0n ? "-" + (-n).toString(16).padStart(15, "0") : n.toString(16).padStart(16, "0");
}

/** etcd's v2 pb.Request as Go prints it (zero fields left out). */
export function v2Text(id: bigint, r: EtcdV2Request): string {
  let out = `ID:${id} Method:${protoQuote(r.Method)} Path:${protoQuote(r.Path)} `;
  if (r.Val) out += `Val:${protoQuote(r.Val)} `;
  if (r.Dir) out += "Dir:true ";
  if (r.PrevValue) out += `PrevValue:${protoQuote(r.PrevValue)} `;
  if (r.PrevIndex) out += `PrevIndex:${r.PrevIndex} `;
  if (r.PrevExist !== undefined) out += `PrevExist:${r.PrevExist} `;
  if (r.Expiration) out += `Expiration:${r.Expiration} `;
  if (r.Wait) out += "Wait:true ";
  if (r.Since) out += `Since:${r.Since} `;
  if (r.Recursive) out += "Recursive:true ";
  if (r.Sorted) out += "Sorted:true ";
  if (r.Quorum) out += "Quorum:true ";
  if (r.Time) out += `Time:${r.Time} `;
  if (r.Stream) out += "Stream:true ";
  if (r.Refresh !== undefined) out += `Refresh:${r.Refresh} `;
  return out;
}

const INTERNAL = schema.messages["etcdserverpb.InternalRaftRequest"].fields;

/** An auth request's InternalRaftRequest field (etcd's stringer hides passwords). */
function authText(r: AuthEntry): string {
  if (r.authenticate) {
    return `authenticate:<name:${r.authenticate.name} simple_token:${r.authenticate.simpleToken}>`;
  }
  if (r.authUserAdd) return `auth_user_add:<name:${r.authUserAdd.name}>`;
  if (r.authUserChangePassword) {
    return `auth_user_change_password:<name:${r.authUserChangePassword.name}>`;
  }
  const f = INTERNAL.find((f) => r[f.prop as keyof AuthEntry] !== undefined)!;
  const value = r[f.prop as keyof AuthEntry] as Record<string, unknown>;
  return `${f.name}:<${compactText(f.ref!, { ...value })}> `;
}

/** etcd's InternalRaftStringer for the proposal (or the v2 request's text). */
export function proposalText(p: Proposal): string {
  const header = `header:<${headerText(p.id, p.auth)}>`;
  switch (p.kind) {
    case "put":
      return `${header} put:<${putText(p.request)}>`;
    case "txn":
      return `${header} txn:<${txnText(p.request)}>`;
    case "deleteRange":
      return `${header} delete_range:<${
        compactText("etcdserverpb.DeleteRangeRequest", { ...p.request })
      }> `;
    case "compaction":
      return `${header} compaction:<${
        compactText("etcdserverpb.CompactionRequest", { ...p.request })
      }> `;
    case "leaseGrant":
      return `${header} lease_grant:<ttl:${p.request.TTL}-second id:${hex16(p.request.ID)}>`;
    case "leaseRevoke":
      return `${header} lease_revoke:<id:${hex16(p.request.ID)}>`;
    case "alarm":
      return `${header} alarm:<${compactText("etcdserverpb.AlarmRequest", { ...p.request })}> `;
    case "leaseCheckpoint":
      return `${header} lease_checkpoint:<${
        compactText("etcdserverpb.LeaseCheckpointRequest", { ...p.request })
      }> `;
    case "auth":
      return `${header} ${authText(p.request)}`;
    case "v2":
    case "memberAttrSet":
    case "clusterVersionSet":
      return v2Text(p.id, v2RequestOf(p)!);
  }
}
