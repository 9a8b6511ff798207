// Maintenance.Snapshot as etcd streams it: the backend as etcd's bbolt file in pieces, each with
// the bytes still to come, then the file's SHA-256 as a last piece, which `etcdctl snapshot
// restore` checks. The file is written first, with bbolt's one-pass writer, into an unlinked
// temporary file beside the backend (so a crash leaves nothing behind and memory stays bounded
// whatever the key space's size), then read back piece by piece.
import { createHash } from "node:crypto";
import { dirname } from "node:path";
import { DbWriter, fileSink } from "../../bbolt/mod.ts";
import type { Backend } from "../backend.ts";
import { captureBackend, writeEtcdBackend } from "./export.ts";

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

/**
 * The snapshot: `onSize` hears the file's size once it is written (etcd logs it before sending).
 * The backend is captured when the generator first runs.
 */
export async function* etcdSnapshotStream(
  backend: Backend,
  onSize: (bytes: number) => void = () => {},
): AsyncGenerator<SnapshotPiece> {
  const view = captureBackend(backend);
  const path = await Deno.makeTempFile({
    dir: tempDir(backend),
    prefix: "snapshot-",
    suffix: ".db",
  });
  const file = await Deno.open(path, { read: true, write: true });
  await Deno.remove(path);
  try {
    const w = new DbWriter(fileSink(file));
    try {
      await writeEtcdBackend(view, w, pacer());
    } finally {
      view.history.close();
    }
    const { size } = await w.finish();
    onSize(size);
    yield* readBack(file, size);
  } finally {
    file.close();
  }
}

async function* readBack(file: Deno.FsFile, size: number): AsyncGenerator<SnapshotPiece> {
  const sha = createHash("sha256");
  await file.seek(0, Deno.SeekMode.Start);
  for (let sent = 0; sent < size;) {
    const blob = new Uint8Array(Math.min(SNAPSHOT_CHUNK, size - sent));
    for (let got = 0; got < blob.length;) {
      const n = await file.read(blob.subarray(got));
      if (n === null) throw new Error(`snapshot: temporary file ended at ${sent + got} of ${size}`);
      got += n;
    }
    sha.update(blob);
    sent += blob.length;
    yield { remainingBytes: size - sent, blob };
  }
  yield { remainingBytes: 0, blob: new Uint8Array(sha.digest()) };
}
