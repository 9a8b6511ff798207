// `snapshot save`: Maintenance.Snapshot from one member into `<file>.part`, checked to end in a
// SHA-256 (the stream's last piece), synced, and renamed to `<file>` — what clientv3's
// snapshot.Save does. The part file is removed whatever happens.
import { messages } from "../pb/mod.ts";
import { hasChecksum } from "../server/mod.ts";
import { humanBytes, type Logger } from "../log/mod.ts";
import { GrpcClient, type Target } from "./grpc_client.ts";

export interface SaveOptions {
  endpoints: string[];
  target: Target;
  dialTimeoutMs: number;
  /** Only when --command-timeout was given: etcdctl's save waits as long as it takes. */
  commandTimeoutMs?: number;
  user?: { name: string; password: string };
}

export class SaveError extends Error {}

export async function saveSnapshot(opts: SaveOptions, path: string, log: Logger): Promise<void> {
  if (opts.endpoints.length !== 1) {
    throw new SaveError(
      `snapshot must be requested to one selected node, not multiple [${opts.endpoints.join(" ")}]`,
    );
  }
  const part = `${path}.part`;
  const file = await Deno.open(part, { write: true, create: true, truncate: true, mode: 0o600 })
    .catch((err) => {
      throw new SaveError(`could not open ${part} (${(err as Error).message})`);
    });
  log.info({
    pkg: "snapshot",
    text: `created temporary db file ${part}`,
    msg: "created temporary db file",
    fields: { path: part },
  });
  const fetching: { client?: GrpcClient } = {};
  try {
    const start = performance.now();
    const size = await withDeadline(fetchInto(file, opts, log, fetching), opts.commandTimeoutMs);
    if (!hasChecksum(size)) throw new SaveError(`sha256 checksum not found [bytes: ${size}]`);
    await file.sync();
    log.info({
      pkg: "snapshot",
      text: `fetched snapshot from ${opts.endpoints[0]}: ${humanBytes(size)}`,
      msg: "fetched snapshot",
      fields: {
        endpoint: opts.endpoints[0],
        size: humanBytes(size),
        took: (performance.now() - start) / 1000,
      },
    });
  } catch (err) {
    await Deno.remove(part).catch(() => {});
    throw err;
  } finally {
    fetching.client?.close();
    file.close();
  }
  try {
    await Deno.rename(part, path);
  } catch (err) {
    await Deno.remove(part).catch(() => {});
    throw new SaveError(`could not rename ${part} to ${path} (${(err as Error).message})`);
  }
  log.info({ pkg: "snapshot", text: `saved ${path}`, msg: "saved", fields: { path } });
}

/** Streams the member's snapshot into `file`; the bytes written. `into.client` is its client. */
async function fetchInto(
  file: Deno.FsFile,
  opts: SaveOptions,
  log: Logger,
  into: { client?: GrpcClient },
): Promise<number> {
  const client = into.client = await GrpcClient.connect(opts.target, opts.dialTimeoutMs);
  const metadata = opts.user ? { token: await authenticate(client, opts.user) } : undefined;
  log.info({
    pkg: "snapshot",
    text: `fetching snapshot from ${opts.endpoints[0]}`,
    msg: "fetching snapshot",
    fields: { endpoint: opts.endpoints[0] },
  });
  let size = 0;
  for await (
    const m of client.stream("/etcdserverpb.Maintenance/Snapshot", new Uint8Array(), metadata)
  ) {
    const { blob } = messages["etcdserverpb.SnapshotResponse"].decode(m);
    for (let done = 0; done < blob.length;) done += await file.write(blob.subarray(done));
    size += blob.length;
  }
  return size;
}

/** `work`, or etcdctl's "context deadline exceeded" once --command-timeout passes. */
async function withDeadline<T>(work: Promise<T>, timeoutMs: number | undefined): Promise<T> {
  if (timeoutMs === undefined) return await work;
  // After a timeout the abandoned fetch fails as the connection closes; that is expected.
  work.catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SaveError("context deadline exceeded")), timeoutMs);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function authenticate(client: GrpcClient, user: { name: string; password: string }) {
  const req = messages["etcdserverpb.AuthenticateRequest"].encode(user);
  const res = await client.unary("/etcdserverpb.Auth/Authenticate", req);
  return messages["etcdserverpb.AuthenticateResponse"].decode(res).token;
}
