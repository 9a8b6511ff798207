// The file system under the WAL and the snapshotter, behind one seam: Deno's by default. A
// deterministic simulation installs its own for the whole process (files in memory, what was
// fsync'd kept apart from what was only written, crashes and disk faults), so the same code
// paths run there as on a real disk.

/** An open file, as storage uses one (Deno.FsFile has this shape). */
export interface StorageFile {
  write(p: Uint8Array): Promise<number>;
  writeSync(p: Uint8Array): number;
  syncData(): Promise<void>;
  seek(offset: number, whence: Deno.SeekMode): Promise<number>;
  stat(): Promise<{ size: number }>;
  close(): void;
}

export interface StorageOpenOptions {
  read?: boolean;
  write?: boolean;
  create?: boolean;
  truncate?: boolean;
  mode?: number;
}

/**
 * What storage asks of a file system. Errors are Deno's: Deno.errors.NotFound and
 * AlreadyExists where callers tell them apart, an Error with an errno `code` otherwise.
 */
export interface StorageFs {
  open(path: string, options: StorageOpenOptions): Promise<StorageFile>;
  readFile(path: string): Promise<Uint8Array>;
  readFileSync(path: string): Uint8Array;
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
  /** Resolves when `path` exists; NotFound otherwise. */
  stat(path: string): Promise<unknown>;
  mkdir(path: string, mode: number): Promise<void>;
  /** Names of the regular files in `dir`; NotFound when it is missing. */
  readDirSync(dir: string): string[];
  /** Makes the directory's entries (created, renamed, removed files) durable. */
  syncDir(dir: string): Promise<void>;
  /**
   * Creates `dir` (and parents) and locks it for this process until the returned release is
   * called; undefined when another holder has it.
   */
  tryLockDir(dir: string, mode: number): (() => void) | undefined;
}

/** Deno's file system: what a member runs on. */
export const denoFs: StorageFs = {
  open: (path, options) => Deno.open(path, options),
  readFile: (path) => Deno.readFile(path),
  readFileSync: (path) => Deno.readFileSync(path),
  rename: (from, to) => Deno.rename(from, to),
  remove: (path) => Deno.remove(path),
  stat: (path) => Deno.stat(path),
  mkdir: (path, mode) => Deno.mkdir(path, { mode }),
  readDirSync: (dir) => [...Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) => e.name),
  async syncDir(dir) {
    const d = await Deno.open(dir, { read: true });
    try {
      await d.sync();
    } finally {
      d.close();
    }
  },
  tryLockDir(dir, mode) {
    Deno.mkdirSync(dir, { recursive: true, mode });
    const fd = Deno.openSync(dir, { read: true });
    let locked = false;
    try {
      locked = fd.tryLockSync(true);
    } finally {
      if (!locked) fd.close();
    }
    return locked ? () => fd.close() : undefined;
  },
};

let current: StorageFs = denoFs;

/** The file system storage uses now. */
export function storageFs(): StorageFs {
  return current;
}

/** Installs `fs` for every WAL and snapshotter of the process (Deno's when omitted). */
export function useStorageFs(fs?: StorageFs): void {
  current = fs ?? denoFs;
}
