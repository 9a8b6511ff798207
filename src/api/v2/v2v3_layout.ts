// Where etcd 3.4's v2v3 emulation (--experimental-enable-v2v3 <prefix>) keeps v2 nodes in the v3
// key space: a node at path p lives at "<prefix>/<depth>/k/<p>", depth being the number of "/"
// in p (three digits), so one prefix range lists a directory's children. A directory is the key
// with a trailing "/". Each write also puts its v2 action at "<prefix>/act", which is how v3
// watch events become v2 ones. v2 indexes are v3 revisions minus one.
import type { KeyValue } from "../../mvcc/mod.ts";
import { cleanPath, type NodeExtern } from "../../v2store/mod.ts";

/** The member and cluster ID etcd's v2v3 server reports (a placeholder in etcd's code). */
export const V2V3_CLUSTER_ID = "e7cd2f00d";
/** etcd's maxPathDepth: a recursive delete reaches this deep. */
export const MAX_PATH_DEPTH = 63;

/** The v2 store's subtrees: keys under "/1", the v2 auth records under "/2". */
export const KEYS_ROOT = "/1";
export const AUTH_ROOT = "/2";

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();
export const bytes = (s: string): Uint8Array => utf8.encode(s);
export const text = (b: Uint8Array): string => fromUtf8.decode(b);

/** etcd's isRoot: the store's root and its "/0" and "/1" subtrees are read-only. */
export function isRoot(p: string): boolean {
  return p === "" || p === "/" || p === "/0" || p === "/1";
}

/** Go's path.Dir of a clean absolute path. */
export function dirOf(p: string): string {
  const i = p.lastIndexOf("/");
  return i <= 0 ? "/" : p.slice(0, i);
}

export const v2Index = (v3Rev: number): number => v3Rev === 0 ? 0 : v3Rev - 1;
export const v3Revision = (v2Index: number): number => v2Index === 0 ? 0 : v2Index + 1;

export class V2v3Layout {
  constructor(readonly prefix: string) {}

  /** The v3 key of a node, `depth` levels further down for listing (etcd's mkPathDepth). */
  key(nodePath: string, depth = 0): string {
    const normal = cleanPath(nodePath);
    const n = [...normal].filter((c) => c === "/").length + depth;
    return `${this.prefix}/${String(n).padStart(3, "0")}/k/${normal}`;
  }

  /** Where every write records its v2 action. */
  get actionKey(): string {
    return `${this.prefix}/act`;
  }

  /** A v3 key's node path (etcd's mkNodePath). */
  nodePath(key: string): string {
    return cleanPath(key.slice(this.prefix.length + "/k/000/".length));
  }

  /** A v3 key-value as a v2 node (etcd's mkV2Node); `undefined` stays undefined. */
  node(kv: KeyValue | undefined): NodeExtern | undefined {
    if (!kv) return undefined;
    const key = text(kv.key);
    const dir = key.endsWith("/");
    return node({
      key: this.nodePath(key),
      value: dir ? undefined : text(kv.value),
      dir,
      createdIndex: v2Index(kv.createRevision),
      modifiedIndex: v2Index(kv.modRevision),
    });
  }
}

/**
 * A node as etcd's NodeExtern marshals it: fields in its order, empty ones left out (the value
 * stays when it is the empty string: etcd's is a pointer).
 */
export function node(n: {
  key: string;
  value?: string;
  dir?: boolean;
  nodes?: NodeExtern[];
  modifiedIndex?: number;
  createdIndex?: number;
}): NodeExtern {
  const out: NodeExtern = {};
  if (n.key !== "") out.key = n.key;
  if (n.value !== undefined) out.value = n.value;
  if (n.dir) out.dir = true;
  if (n.nodes?.length) out.nodes = n.nodes;
  if (n.modifiedIndex) out.modifiedIndex = n.modifiedIndex;
  if (n.createdIndex) out.createdIndex = n.createdIndex;
  return out;
}

/** A node with its path's subtree prefix taken off, down its children (etcd's v2http trim). */
export function trimNode(n: NodeExtern | undefined, root: string): NodeExtern | undefined {
  if (!n) return undefined;
  return node({
    key: n.key?.startsWith(root) ? n.key.slice(root.length) : n.key ?? "",
    value: n.value,
    dir: n.dir,
    nodes: n.nodes?.map((c) => trimNode(c, root)!),
    modifiedIndex: n.modifiedIndex,
    createdIndex: n.createdIndex,
  });
}
