// The v2 key tree: directories and files, each with its created/modified index and an optional
// absolute expiry time, and their external (JSON) form as etcd's v2 API shows it.

export interface TreeNode {
  path: string;
  createdIndex: number;
  modifiedIndex: number;
  /** Absolute expiry in ms since the epoch; undefined = permanent. */
  expireTime?: number;
  /** Files carry a value; directories carry children (in insertion order). */
  value?: string;
  children?: Map<string, TreeNode>;
  parent?: TreeNode;
}

/** etcd's NodeExtern; property order is the order etcd's JSON shows. */
export interface NodeExtern {
  key?: string;
  value?: string;
  dir?: true;
  expiration?: string;
  ttl?: number;
  nodes?: NodeExtern[];
  modifiedIndex?: number;
  createdIndex?: number;
}

export function isDir(n: TreeNode): boolean {
  return n.children !== undefined;
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** Keys whose last component starts with `_` are hidden from listings. */
export function isHiddenName(name: string): boolean {
  return name.startsWith("_");
}

/** Go's path.Clean(path.Join("/", p)). */
export function cleanPath(p: string): string {
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return "/" + out.join("/");
}

/** Go's RFC3339Nano in UTC: fractional seconds without trailing zeros. */
export function formatExpiration(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-11-27T14:49:51.143Z
  const [head, frac] = iso.slice(0, -1).split(".");
  const trimmed = frac.replace(/0+$/, "");
  return trimmed === "" ? `${head}Z` : `${head}.${trimmed}Z`;
}

/** Seconds left, rounded up as etcd does (a negative remainder truncates towards zero). */
export function ttlSeconds(expireTime: number, now: number): number {
  const left = expireTime - now;
  const whole = Math.trunc(left / 1000);
  return left % 1000 > 0 ? whole + 1 : whole;
}

/** Fills expiration/ttl of an external node (omitted for permanent nodes and ttl 0). */
export function addExpiry(e: NodeExtern, n: TreeNode, now: number): void {
  if (n.expireTime === undefined) return;
  e.expiration = formatExpiration(n.expireTime);
  const ttl = ttlSeconds(n.expireTime, now);
  if (ttl !== 0) e.ttl = ttl;
}

/** Visible children, optionally sorted by key. */
function visibleChildren(n: TreeNode, sorted: boolean): TreeNode[] {
  const kids = [...n.children!.values()].filter((c) => !isHiddenName(baseName(c.path)));
  if (sorted) kids.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return kids;
}

/** etcd's node.Repr: a directory lists its children only when recursive. */
export function repr(n: TreeNode, recursive: boolean, sorted: boolean, now: number): NodeExtern {
  const e: NodeExtern = { key: n.path };
  if (isDir(n)) {
    e.dir = true;
    addExpiry(e, n, now);
    if (recursive) {
      const nodes = visibleChildren(n, sorted).map((c) => repr(c, recursive, sorted, now));
      if (nodes.length > 0) e.nodes = nodes;
    }
  } else {
    e.value = n.value;
    addExpiry(e, n, now);
  }
  if (n.modifiedIndex !== 0) e.modifiedIndex = n.modifiedIndex;
  if (n.createdIndex !== 0) e.createdIndex = n.createdIndex;
  return e;
}

/** The node a Get answers: a directory always lists its direct children. */
export function loadForGet(
  n: TreeNode,
  recursive: boolean,
  sorted: boolean,
  now: number,
): NodeExtern {
  if (!isDir(n)) return repr(n, false, false, now);
  const e: NodeExtern = {};
  if (n.path !== "/") e.key = n.path;
  e.dir = true;
  addExpiry(e, n, now);
  const nodes = visibleChildren(n, sorted).map((c) => repr(c, recursive, sorted, now));
  if (nodes.length > 0) e.nodes = nodes;
  if (n.modifiedIndex !== 0) e.modifiedIndex = n.modifiedIndex;
  if (n.createdIndex !== 0) e.createdIndex = n.createdIndex;
  return e;
}

/** A node stripped of tree links: the persisted form. */
export interface NodeRecord {
  path: string;
  createdIndex: number;
  modifiedIndex: number;
  expireTime?: number;
  value?: string;
  dir?: true;
}

export function toRecord(n: TreeNode): NodeRecord {
  const r: NodeRecord = {
    path: n.path,
    createdIndex: n.createdIndex,
    modifiedIndex: n.modifiedIndex,
  };
  if (n.expireTime !== undefined) r.expireTime = n.expireTime;
  if (isDir(n)) r.dir = true;
  else r.value = n.value;
  return r;
}

/** The event node of a write: key, value or dir, expiry, indexes (etcd's field order). */
export function writtenNode(n: TreeNode, modifiedIndex: number, now: number): NodeExtern {
  const e: NodeExtern = { key: n.path };
  if (isDir(n)) e.dir = true;
  else e.value = n.value;
  addExpiry(e, n, now);
  e.modifiedIndex = modifiedIndex;
  e.createdIndex = n.createdIndex;
  return e;
}

/** The event node of a delete or expire: the key, dir for a directory, and the indexes. */
export function removedNode(n: TreeNode, modifiedIndex: number): NodeExtern {
  const e: NodeExtern = { key: n.path };
  if (isDir(n)) e.dir = true;
  e.modifiedIndex = modifiedIndex;
  e.createdIndex = n.createdIndex;
  return e;
}
