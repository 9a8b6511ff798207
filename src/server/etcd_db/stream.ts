// The backend as etcd's bbolt file, as Maintenance.Snapshot streams it (in pieces, each with the
// bytes still to come, then the file's SHA-256 as a last piece, which `etcdctl snapshot restore`
// checks) and as a leader sends it to a follower in a snapshot (the file alone). The file is
// written first, with bbolt's one-pass writer, into an unlinked temporary file beside the
// backend (so a crash leaves nothing behind and memory stays bounded whatever the key space's
// size), then read back piece by piece.
import { createHash } from "node:crypto";
import { dirname } from "node:path";
import { DbWriter, fileSink } from "../../bbolt/mod.ts";
import type { Backend } from "../backend.ts";
import { type BackendView, captureBackend, writeEtcdBackend } from "./export.ts";

/** etcd's snapshotSendBufferSize. */
const SNAPSHOT_CHUNK = 32 * 1024;
/** Longest stretch the writer works before letting the member run. */
const WORK_SLICE_MS = 10;

export interface SnapshotPiece {
  remainingBytes: number;
  blob: Uint8Array;
}

/** Where the temporary file goes: beside the backend, whose disk has room for a copy of it. */
function tempDir(backend: Backend): string | undefined {
  return backend.path === ":memory:" || backend.path === "" ? undefined : dirname(backend.path);
}

/** Yields to the event loop once WORK_SLICE_MS have passed since the last time. */
function pacer(): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < WORK_SLICE_MS) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    since = performance.now();
  };
}

/** The backend written out as etcd's bbolt file, in a temporary file: read it, then close it. */
export interface EtcdDatabase {
  size: number;
  /** The file's bytes, SNAPSHOT_CHUNK at a time. */
  pieces(): AsyncGenerator<Uint8Array>;
  close(): void;
}

/**
 * The backend as etcd's bbolt file (a peer's snapshot sends it). The backend is captured before
 * this returns its promise, so it is the state of the moment of the call.
 */
export function writeEtcdDatabase(backend: Backend): Promise<EtcdDatabase> {
  return writeView(captureBackend(backend), tempDir(backend));
}

async function writeView(view: BackendView, dir: string | undefined): Promise<EtcdDatabase> {
  let file: Deno.FsFile | undefined;
  try {
    const path = await Deno.makeTempFile({ dir, prefix: "snapshot-", suffix: ".db" });
    file = await Deno.open(path, { read: true, write: true });
    await Deno.remove(path);
    const w = new DbWriter(fileSink(file));
    await writeEtcdBackend(view, w, pacer());
    const { size } = await w.finish();
    const f = file;
    return { size, pieces: () => readBack(f, size), close: () => f.close() };
  } catch (err) {
    file?.close();
    throw err;
  } finally {
    view.history.close();
  }
}

/**
 * The snapshot: `onSize` hears the file's size once it is written (etcd logs it before sending).
 * The backend is captured when the generator first runs.
 */
export async function* etcdSnapshotStream(
  backend: Backend,
  onSize: (bytes: number) => void = () => {},
): AsyncGenerator<SnapshotPiece> {
  const db = await writeEtcdDatabase(backend);
  try {
    onSize(db.size);
    const sha = createHash("sha256");
    let sent = 0;
    for await (const blob of db.pieces()) {
      sha.update(blob);
      sent += blob.length;
      yield { remainingBytes: db.size - sent, blob };
    }
    yield { remainingBytes: 0, blob: new Uint8Array(sha.digest()) };
  } finally {
    db.close();
  }
}

async function* readBack(file: Deno.FsFile, size: number): AsyncGenerator<Uint8Array> {
  await file.seek(0, Deno.SeekMode.Start);
  for (let sent = 0; sent < size;) {
    const blob = new Uint8Array(Math.min(SNAPSHOT_CHUNK, size - sent));
    for (let got = 0; got < blob.length;) {
      const n = await file.read(blob.subarray(got));
      if (n === null) throw new Error(`snapshot: temporary file ended at ${sent + got} of ${size}`);
      got += n;
    }
    sent += blob.length;
    yield blob;
  }
}
