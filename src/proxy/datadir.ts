// The data dir of a v2 proxy: `<data-dir>/proxy/cluster` remembers the cluster's peer URLs so a
// restarted proxy finds its cluster without --initial-cluster or discovery. etcd decides from
// the data dir's entries alone whether a process restarts as a member or as a proxy.
import type { Logger } from "../log/mod.ts";

export type DataDirKind = "empty" | "member" | "proxy";

/** A start-up failure; the caller logs the message as etcdmain's fatal line and exits 1. */
export class ProxyStartError extends Error {
  override name = "ProxyStartError";
}

/**
 * What the data dir holds (etcd's identifyDataDirOrDie): `member/`, `proxy/`, or neither.
 * Other entries are warned about; both directories together, or an unreadable data dir, are
 * fatal through `log.fatal`. Call it before starting either a member or a proxy.
 */
export function identifyDataDir(dataDir: string, log: Logger): DataDirKind {
  let names: string[];
  try {
    names = [...Deno.readDirSync(dataDir)].map((e) => e.name).sort();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return "empty";
    log.fatal({
      pkg: "etcdmain",
      text: `error listing data dir: ${dataDir}`,
      msg: "failed to list data directory",
      fields: { dir: dataDir, error: (err as Error).message },
    });
  }
  let member = false;
  let proxy = false;
  for (const name of names) {
    if (name === "member") member = true;
    else if (name === "proxy") proxy = true;
    else {
      log.warn({
        pkg: "etcdmain",
        text:
          `found invalid file/dir ${name} under data dir ${dataDir} (Ignore this if you are upgrading etcd)`,
        msg: "found invalid file under data directory",
        fields: { filename: name, "data-dir": dataDir },
      });
    }
  }
  if (member && proxy) {
    log.fatal({
      pkg: "etcdmain",
      text: "invalid datadir. Both member and proxy directories exist.",
      msg: "invalid datadir; both member and proxy directories exist",
    });
  }
  return member ? "member" : proxy ? "proxy" : "empty";
}

export function proxyDir(dataDir: string): string {
  return `${dataDir}/proxy`;
}

export function clusterFilePath(dataDir: string): string {
  return `${proxyDir(dataDir)}/cluster`;
}

/** The peer URLs of the cluster file, or undefined when there is none. */
export function readClusterFile(path: string): string[] | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw new ProxyStartError(`open ${path}: ${goErrnoText(err as Error)}`);
  }
  return parseClusterFile(text);
}

/** `{"PeerURLs":[...]}`, read as Go's encoding/json would (keys match case-insensitively). */
export function parseClusterFile(text: string): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new ProxyStartError(goJSONSyntaxError(text));
  }
  if (doc === null) return [];
  if (typeof doc !== "object" || Array.isArray(doc)) {
    throw new ProxyStartError(
      `json: cannot unmarshal ${
        goJSONKind(doc)
      } into Go value of type struct { PeerURLs []string }`,
    );
  }
  const key = Object.keys(doc).findLast((k) => k.toLowerCase() === "peerurls");
  const urls = key === undefined ? null : (doc as Record<string, unknown>)[key];
  if (urls === null) return [];
  if (!Array.isArray(urls) || urls.some((u) => typeof u !== "string")) {
    const bad = Array.isArray(urls) ? urls.find((u) => typeof u !== "string") : urls;
    const into = Array.isArray(urls) ? "string" : "[]string";
    throw new ProxyStartError(
      `json: cannot unmarshal ${goJSONKind(bad)} into Go struct field .PeerURLs of type ${into}`,
    );
  }
  return urls as string[];
}

/** Writes the cluster file as etcd does: to `cluster.bak`, fsync'd, then renamed over. */
export async function writeClusterFile(path: string, peerURLs: string[]): Promise<void> {
  const bytes = new TextEncoder().encode(JSON.stringify({ PeerURLs: peerURLs }));
  const tmp = `${path}.bak`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true, mode: 0o600 });
  try {
    for (let off = 0; off < bytes.length;) off += await file.write(bytes.subarray(off));
    await file.sync();
  } finally {
    file.close();
  }
  await Deno.rename(tmp, path);
}

function goJSONKind(v: unknown): string {
  if (typeof v === "string") return "string";
  if (typeof v === "number") return "number";
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) return "array";
  return "object";
}

function goJSONSyntaxError(text: string): string {
  const first = text.trimStart()[0];
  if (first === undefined) return "unexpected end of JSON input";
  if (!/[{["\-0-9tfn]/.test(first)) {
    return `invalid character '${first}' looking for beginning of value`;
  }
  return "unexpected end of JSON input";
}

/** Go's words for the errors a file read meets. */
export function goErrnoText(err: Error): string {
  if (err instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (err instanceof Deno.errors.IsADirectory) return "is a directory";
  if (err instanceof Deno.errors.NotADirectory) return "not a directory";
  return err.message;
}
