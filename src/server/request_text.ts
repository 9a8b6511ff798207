// Requests as etcd 3.4 prints them in its slow-request warnings: Go's proto.CompactTextString
// (field by field in declaration order, proto3 zero values left out, `name:<...>` for
// messages, C-escaped strings) behind etcd's InternalRaftStringer, which replaces values by
// their size and hides passwords. v2-style requests (the member's attributes, the cluster
// version, /v2/keys) print as etcd's v2 pb.Request does.
import { type FieldSchema, schema } from "../pb/mod.ts";
import type { AuthInfo, AuthRequest } from "../auth/mod.ts";
import type { V2Request } from "../v2store/mod.ts";
import { formatId } from "./ids.ts";
import type { Proposal } from "./proposal.ts";
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
export function v2Text(id: bigint, r: V2Request): string {
  let out = `ID:${id} Method:${protoQuote(r.method)} Path:${protoQuote(r.path)} `;
  if (r.value) out += `Val:${protoQuote(r.value)} `;
  if (r.dir) out += "Dir:true ";
  if (r.prevValue) out += `PrevValue:${protoQuote(r.prevValue)} `;
  if (r.prevIndex) out += `PrevIndex:${r.prevIndex} `;
  if (r.prevExist !== undefined) out += `PrevExist:${r.prevExist} `;
  // Expiration and Time are Unix nanoseconds in etcd.
  if (r.expiration) out += `Expiration:${BigInt(r.expiration) * 1_000_000n} `;
  if (r.recursive) out += "Recursive:true ";
  if (r.sorted) out += "Sorted:true ";
  if (r.time) out += `Time:${BigInt(r.time) * 1_000_000n} `;
  if (r.refresh !== undefined) out += `Refresh:${r.refresh} `;
  return out;
}

const fromBase64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

/** An auth request without etcd's own stringer: the InternalRaftRequest field, as proto text. */
function authField(field: string, message: string, value: Record<string, unknown>): string {
  return `${field}:<${compactText(`etcdserverpb.${message}`, value)}> `;
}

/** The auth requests' InternalRaftRequest field (etcd's stringer hides passwords). */
function authText(r: AuthRequest): string {
  switch (r.op) {
    case "enable":
      return "auth_enable:<> ";
    case "disable":
      return "auth_disable:<> ";
    case "authenticate":
      return `authenticate:<name:${r.name} simple_token:${r.simpleToken}>`;
    case "userAdd":
      return `auth_user_add:<name:${r.name}>`;
    case "userChangePassword":
      return `auth_user_change_password:<name:${r.name}>`;
    case "userDelete":
      return authField("auth_user_delete", "AuthUserDeleteRequest", { name: r.name });
    case "userGrantRole":
      return authField("auth_user_grant_role", "AuthUserGrantRoleRequest", { ...r });
    case "userRevokeRole":
      return authField("auth_user_revoke_role", "AuthUserRevokeRoleRequest", { ...r });
    case "roleAdd":
      return authField("auth_role_add", "AuthRoleAddRequest", { name: r.name });
    case "roleDelete":
      return authField("auth_role_delete", "AuthRoleDeleteRequest", { role: r.role });
    case "roleGrantPermission": {
      const perm = {
        permType: r.permType,
        key: fromBase64(r.key),
        rangeEnd: fromBase64(r.rangeEnd),
      };
      return authField("auth_role_grant_permission", "AuthRoleGrantPermissionRequest", {
        name: r.name,
        perm,
      });
    }
    case "roleRevokePermission":
      return authField("auth_role_revoke_permission", "AuthRoleRevokePermissionRequest", {
        role: r.role,
        key: fromBase64(r.key),
        rangeEnd: fromBase64(r.rangeEnd),
      });
  }
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
      return v2Text(p.id, p.request);
    case "memberAttrSet": {
      const { memberId, name, clientURLs } = p.request;
      return v2Text(p.id, {
        method: "PUT",
        path: `/0/members/${formatId(memberId)}/attributes`,
        value: JSON.stringify({ name, clientURLs }),
      });
    }
    case "clusterVersionSet":
      return v2Text(p.id, { method: "PUT", path: "/0/version", value: p.request.version });
  }
}
