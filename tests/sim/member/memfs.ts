// The simulated disks: a file system in memory that storage (the WAL, the snapshotter) runs on
// through its storageFs() seam. Each file keeps what the process wrote (the page cache) apart
// from what an fsync made durable, and each directory its entries apart from those a directory
// fsync made durable. A killed process loses nothing (the kernel keeps the page cache); a power
// cut puts every file and directory under a member's data dir back to what was durable, or
// keeps a torn part of the unsynced writes. Faults fail the next write or fsync of a disk.

import type { StorageFile, StorageFs, StorageOpenOptions } from "../../../src/storage/mod.ts";
import { Inode } from "./inode.ts";

type Node = Inode | Dir;

class Dir {
  entries = new Map<string, Node>();
  durable = new Map<string, Node>();
}

/** A failure the next matching operation on a disk meets. */
export interface DiskFault {
  op: "write" | "fsync";
  code: "EIO" | "ENOSPC";
}

/** Which unsynced sectors survive a power cut. */
export type Tear = "none" | "prefix" | "scattered";

function osError(code: "EIO" | "ENOSPC"): Error {
  const text = code === "EIO"
    ? "Input/output error (os error 5)"
    : "No space left on device (os error 28)";
  return Object.assign(new Error(text), { code });
}

const notFound = (op: string, path: string) =>
  new Deno.errors.NotFound(`No such file or directory (os error 2): ${op} '${path}'`);

function split(path: string): [string, string] {
  const i = path.lastIndexOf("/");
  return [i <= 0 ? "/" : path.slice(0, i), path.slice(i + 1)];
}

function normal(path: string): string {
  const p = path.replace(/\/+/g, "/");
  return p.length > 1 ? p.replace(/\/$/, "") : p;
}

export class MemFs implements StorageFs {
  readonly #root = new Dir();
  readonly #locks = new Set<string>();
  readonly #faults = new Map<string, DiskFault>();
  /** Bytes of a torn write a failing write lets through before its error. */
  partialWrite: (length: number) => number = () => 0;
  /** Called on every operation: a simulation checks a dead process does none. */
  guard: () => void = () => {};
  /** How long an fsync takes: a simulation makes it take virtual time. */
  latency: () => Promise<void> = () => Promise.resolve();

  constructor() {
    this.#root.durable = this.#root.entries;
  }

  /** The next `fault.op` under `prefix` fails with `fault.code`. */
  inject(prefix: string, fault: DiskFault): void {
    this.#faults.set(prefix, fault);
  }

  clearFaults(): void {
    this.#faults.clear();
  }

  #fault(path: string, op: DiskFault["op"]): DiskFault | undefined {
    for (const [prefix, f] of this.#faults) {
      if (f.op === op && path.startsWith(prefix + "/")) {
        this.#faults.delete(prefix);
        return f;
      }
    }
    return undefined;
  }

  #lookup(path: string): Node | undefined {
    let node: Node = this.#root;
    for (const part of normal(path).split("/").filter((s) => s !== "")) {
      if (!(node instanceof Dir)) return undefined;
      const next: Node | undefined = node.entries.get(part);
      if (!next) return undefined;
      node = next;
    }
    return node;
  }

  #dir(path: string, op: string): Dir {
    const d = this.#lookup(path);
    if (!(d instanceof Dir)) throw notFound(op, path);
    return d;
  }

  #file(path: string, op: string): Inode {
    const f = this.#lookup(path);
    if (!(f instanceof Inode)) throw notFound(op, path);
    return f;
  }

  open(path: string, options: StorageOpenOptions): Promise<StorageFile> {
    return this.#async(() => {
      const [parent, name] = split(normal(path));
      const dir = this.#dir(parent, "open");
      let inode = dir.entries.get(name);
      if (!inode) {
        if (!options.create) throw notFound("open", path);
        inode = new Inode();
        dir.entries.set(name, inode);
      }
      if (!(inode instanceof Inode)) throw new Error(`open '${path}': is a directory`);
      if (options.truncate) inode.truncate();
      return new MemFile(this, inode, normal(path));
    });
  }

  /** A write to `path`: fails when a fault waits for it. */
  checkWrite(path: string, length: number): number {
    this.guard();
    const f = this.#fault(path, "write");
    if (!f) return length;
    const partial = Math.min(length - 1, this.partialWrite(length));
    if (partial > 0) {
      // Part of the write goes through; the rest meets the error on the retry.
      this.#faults.set(path.slice(0, path.lastIndexOf("/")), f);
      return partial;
    }
    throw osError(f.code);
  }

  /**
   * An fsync of `inode`: it takes the disk's time (a crash meanwhile finds the bytes unsynced),
   * then makes them durable. A failing one loses them (the kernel dropped the dirty pages).
   */
  async fsync(path: string, inode: Inode): Promise<void> {
    this.guard();
    const f = this.#fault(path, "fsync");
    await this.latency();
    if (!f) return inode.sync();
    inode.lose((n) => new Array(n).fill(false));
    throw osError(f.code);
  }

  readFile(path: string): Promise<Uint8Array> {
    return this.#async(() => this.readFileSync(path));
  }

  readFileSync(path: string): Uint8Array {
    this.guard();
    const f = this.#file(path, "open");
    return f.buf.slice(0, f.size);
  }

  rename(from: string, to: string): Promise<void> {
    return this.#async(() => {
      const [fp, fn] = split(normal(from));
      const [tp, tn] = split(normal(to));
      const src = this.#dir(fp, "rename");
      const node = src.entries.get(fn);
      if (!node) throw notFound("rename", from);
      src.entries.delete(fn);
      this.#dir(tp, "rename").entries.set(tn, node);
    });
  }

  remove(path: string): Promise<void> {
    return this.#async(() => {
      const [parent, name] = split(normal(path));
      const dir = this.#dir(parent, "remove");
      if (!dir.entries.delete(name)) throw notFound("remove", path);
    });
  }

  stat(path: string): Promise<unknown> {
    return this.#async(() => {
      const node = this.#lookup(path);
      if (!node) throw notFound("stat", path);
      return { isFile: node instanceof Inode };
    });
  }

  mkdir(path: string): Promise<void> {
    return this.#async(() => {
      this.#mkdir(path);
    });
  }

  #mkdir(path: string): Dir {
    const [parent, name] = split(normal(path));
    const dir = this.#dir(parent, "mkdir");
    if (dir.entries.has(name)) {
      throw new Deno.errors.AlreadyExists(`File exists (os error 17): mkdir '${path}'`);
    }
    const made = new Dir();
    dir.entries.set(name, made);
    return made;
  }

  /** mkdir -p, durable at once: the directories a simulation starts from. */
  mkdirAll(path: string): void {
    let at = "";
    for (const part of normal(path).split("/").filter((s) => s !== "")) {
      const parent = at || "/";
      at += "/" + part;
      const dir = this.#dir(parent, "mkdir");
      if (!dir.entries.has(part)) dir.entries.set(part, new Dir());
      dir.durable.set(part, dir.entries.get(part)!);
    }
  }

  readDirSync(dir: string): string[] {
    this.guard();
    const d = this.#dir(dir, "readdir");
    return [...d.entries].filter(([, n]) => n instanceof Inode).map(([name]) => name).sort();
  }

  syncDir(dir: string): Promise<void> {
    return this.#async(() => {
      const d = this.#dir(dir, "open");
      d.durable = new Map(d.entries);
    });
  }

  tryLockDir(dir: string): (() => void) | undefined {
    this.guard();
    this.mkdirAll(dir);
    const key = normal(dir);
    if (this.#locks.has(key)) return undefined;
    this.#locks.add(key);
    return () => this.#locks.delete(key);
  }

  /** The process holding `dir`'s locks died: the kernel drops them. */
  releaseLocks(prefix: string): void {
    for (const key of [...this.#locks]) {
      if (key === prefix || key.startsWith(prefix + "/")) this.#locks.delete(key);
    }
  }

  /**
   * A power cut of the machine whose data dir is `prefix`: directories keep their durable
   * entries, files their durable bytes plus, with a tear, some sectors of the unsynced ones
   * (a prefix of them, or any of them when the disk wrote them back out of order).
   */
  powerCut(prefix: string, tear: Tear, random: () => number): void {
    const keep = (n: number): boolean[] => {
      if (tear === "none") return new Array(n).fill(false);
      if (tear === "scattered") return Array.from({ length: n }, () => random() < 0.5);
      const k = Math.floor(random() * (n + 1));
      return Array.from({ length: n }, (_, i) => i < k);
    };
    const start = this.#lookup(prefix);
    if (!(start instanceof Dir)) return;
    const visit = (d: Dir) => {
      d.entries = new Map(d.durable);
      for (const node of d.entries.values()) {
        if (node instanceof Dir) visit(node);
        else node.lose(keep);
      }
    };
    visit(start);
  }

  /** Every file under `prefix` with its durable and current sizes (for traces). */
  describe(prefix: string): string[] {
    const out: string[] = [];
    const walk = (d: Dir, at: string) => {
      for (const [name, node] of [...d.entries].sort(([a], [b]) => a < b ? -1 : 1)) {
        if (node instanceof Dir) walk(node, `${at}/${name}`);
        else out.push(`${at}/${name} ${node.size}${node.unsynced ? "*" : ""}`);
      }
    };
    const start = this.#lookup(prefix);
    if (start instanceof Dir) walk(start, prefix);
    return out;
  }

  // Operations complete in a microtask: in order, with no event-loop turn a real disk takes.
  #async<T>(op: () => T): Promise<T> {
    try {
      this.guard();
      return Promise.resolve(op());
    } catch (err) {
      return Promise.reject(err);
    }
  }
}

class MemFile implements StorageFile {
  #pos = 0;
  #closed = false;

  constructor(readonly fs: MemFs, readonly inode: Inode, readonly path: string) {}

  #open(): void {
    if (this.#closed) throw new Deno.errors.BadResource("Bad resource ID");
  }

  writeSync(p: Uint8Array): number {
    this.#open();
    const n = this.fs.checkWrite(this.path, p.length);
    this.inode.write(this.#pos, p.subarray(0, n));
    this.#pos += n;
    return n;
  }

  write(p: Uint8Array): Promise<number> {
    try {
      return Promise.resolve(this.writeSync(p));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  syncData(): Promise<void> {
    try {
      this.#open();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.fs.fsync(this.path, this.inode);
  }

  seek(offset: number, whence: Deno.SeekMode): Promise<number> {
    this.#open();
    const base = whence === Deno.SeekMode.Start
      ? 0
      : whence === Deno.SeekMode.Current
      ? this.#pos
      : this.inode.size;
    this.#pos = base + offset;
    return Promise.resolve(this.#pos);
  }

  stat(): Promise<{ size: number }> {
    this.#open();
    return Promise.resolve({ size: this.inode.size });
  }

  close(): void {
    this.#open();
    this.#closed = true;
  }
}
