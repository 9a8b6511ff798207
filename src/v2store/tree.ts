// The v2 store's key tree: finding a node by path, creating the directories on the way to a new
// one, removing nodes as etcd's node.Remove does, and keeping the set of nodes with a TTL and
// the paths changed since the persisted copy was last updated. It also turns the tree into
// node records and back, which is how snapshots and the persisted copy carry it.
import { ErrorCode, V2Error } from "./errors.ts";
import { baseName, isDir, type NodeRecord, toRecord, type TreeNode } from "./node.ts";

export class KeyTree {
  #root: TreeNode = newRoot();
  // Nodes with an expiry time, so expiring needs no walk over the tree.
  readonly #ttlNodes = new Set<TreeNode>();
  #dirty = new Set<string>();

  // Errors carry the store's index (etcd's n.store.CurrentIndex), which only the store knows.
  constructor(private readonly currentIndex: () => number) {}

  /** The node at a clean path, if any. */
  lookup(path: string): TreeNode | undefined {
    let n: TreeNode | undefined = this.#root;
    for (const part of path.split("/").filter((s) => s !== "")) {
      n = n?.children?.get(part);
      if (!n) return undefined;
    }
    return n;
  }

  /** The node at a clean path, or etcd's error for the first missing or non-directory step. */
  get(path: string): TreeNode {
    let n = this.#root;
    for (const part of path.split("/").filter((s) => s !== "")) {
      if (!n.children) throw new V2Error(ErrorCode.NotDir, n.path, this.currentIndex());
      const child = n.children.get(part);
      if (!child) {
        throw new V2Error(ErrorCode.KeyNotFound, join(n.path, part), this.currentIndex());
      }
      n = child;
    }
    return n;
  }

  /** Walks to a directory, creating missing ones at index `next` (etcd's checkDir). */
  walkCreate(dirPath: string, next: number): TreeNode {
    let n = this.#root;
    for (const part of dirPath.split("/").filter((s) => s !== "")) {
      let child = n.children!.get(part);
      if (!child) {
        child = {
          path: join(n.path, part),
          createdIndex: next,
          modifiedIndex: next,
          children: new Map(),
          parent: n,
        };
        n.children!.set(part, child);
        this.#dirty.add(child.path);
      } else if (!child.children) {
        throw new V2Error(ErrorCode.NotDir, child.path, this.currentIndex());
      }
      n = child;
    }
    return n;
  }

  /** Links a new node into its directory under `name`. */
  insert(d: TreeNode, name: string, n: TreeNode): void {
    d.children!.set(name, n);
    this.#dirty.add(n.path);
  }

  /** etcd's node.Remove: files always; directories only with dir, non-empty ones recursive. */
  remove(n: TreeNode, dir: boolean, recursive: boolean, onRemoved?: (path: string) => void) {
    if (isDir(n)) {
      if (!dir) throw new V2Error(ErrorCode.NotFile, n.path, this.currentIndex());
      if (n.children!.size > 0 && !recursive) {
        throw new V2Error(ErrorCode.DirNotEmpty, n.path, this.currentIndex());
      }
      for (const child of [...n.children!.values()]) this.remove(child, true, true, onRemoved);
    }
    const parent = n.parent;
    if (parent?.children?.get(baseName(n.path)) === n) {
      parent.children.delete(baseName(n.path));
      this.#dirty.add(n.path);
      onRemoved?.(n.path);
    }
    this.#ttlNodes.delete(n);
  }

  /** Records that a node changed in place (its value, indexes or expiry). */
  changed(n: TreeNode): void {
    this.#dirty.add(n.path);
  }

  setExpiry(n: TreeNode, expireTime: number | undefined): void {
    if (expireTime === undefined || expireTime === 0) {
      delete n.expireTime;
      this.#ttlNodes.delete(n);
    } else {
      n.expireTime = expireTime;
      this.#ttlNodes.add(n);
    }
  }

  hasTTLNodes(): boolean {
    return this.#ttlNodes.size > 0;
  }

  hasTTL(n: TreeNode): boolean {
    return this.#ttlNodes.has(n);
  }

  /** The earliest expiry time of any node, if some node has a TTL. */
  nextExpiry(): number | undefined {
    let min: number | undefined;
    for (const n of this.#ttlNodes) {
      if (min === undefined || n.expireTime! < min) min = n.expireTime;
    }
    return min;
  }

  /** Nodes expired at `now`, earliest first (ties by path, so every member agrees). */
  expiredBy(now: number): TreeNode[] {
    return [...this.#ttlNodes]
      .filter((n) => n.expireTime! <= now)
      .sort((a, b) => a.expireTime! - b.expireTime! || (a.path < b.path ? -1 : 1));
  }

  /** Paths changed since the last call, with their node now or null when it is gone. */
  takeChanged(): [string, NodeRecord | null][] {
    const nodes: [string, NodeRecord | null][] = [...this.#dirty].map((p) => {
      const n = this.lookup(p);
      return [p, n ? toRecord(n) : null];
    });
    this.#dirty = new Set();
    return nodes;
  }

  /** Every node but the root, parents before children. */
  records(): NodeRecord[] {
    const nodes: NodeRecord[] = [];
    const walk = (n: TreeNode) => {
      if (n !== this.#root) nodes.push(toRecord(n));
      n.children?.forEach(walk);
    };
    walk(this.#root);
    return nodes;
  }

  /** Replaces the whole tree with the one `records` describe. */
  load(records: NodeRecord[]): void {
    this.#root = newRoot();
    this.#ttlNodes.clear();
    // Parents are created no later than their children, and a directory lists its children
    // in the order they were added, which is createdIndex order.
    const sorted = [...records].sort((a, b) =>
      a.createdIndex - b.createdIndex || a.path.split("/").length - b.path.split("/").length
    );
    const byPath = new Map<string, TreeNode>([["/", this.#root]]);
    for (const r of sorted) {
      const parentPath = r.path.slice(0, r.path.lastIndexOf("/")) || "/";
      const parent = byPath.get(parentPath);
      if (!parent?.children) throw new Error(`v2 store: no parent directory for ${r.path}`);
      const n: TreeNode = {
        path: r.path,
        createdIndex: r.createdIndex,
        modifiedIndex: r.modifiedIndex,
        parent,
      };
      if (r.dir) n.children = new Map();
      else n.value = r.value ?? "";
      if (r.expireTime !== undefined) {
        n.expireTime = r.expireTime;
        this.#ttlNodes.add(n);
      }
      parent.children.set(baseName(r.path), n);
      byPath.set(r.path, n);
    }
    this.#dirty.clear();
  }
}

function newRoot(): TreeNode {
  return { path: "/", createdIndex: 0, modifiedIndex: 0, children: new Map() };
}

function join(dir: string, name: string): string {
  return dir === "/" ? `/${name}` : `${dir}/${name}`;
}
