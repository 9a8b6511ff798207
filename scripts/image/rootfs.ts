// The image's root filesystem, laid out in a directory: everything a member needs at run time
// and nothing else. `OUT/rootfs/` becomes the image's / (owned by root, read-only to the
// member); `OUT/volume/` becomes /var/lib/etcd, the data volume owned by the member's user.
//
//   rootfs.ts [--binary FILE] OUT
//
// From source (the default): the deno executable; main.ts, the local modules it imports,
// deno.json and deno.lock under /app; and the npm packages they import (deno.lock holds only
// those) under /var/cache/deno, the image's DENO_DIR. With --binary: the compiled etcd-ts
// executable instead. Either way: the shared libraries the executable links (its ldd closure),
// the CA bundle, a passwd and group naming the unprivileged user `etcd`, nsswitch.conf and a
// world-writable /tmp. The Containerfile's last stages copy the two directories; its first
// stage runs this script.
import { deno, repo, serverGraph } from "../server_graph.ts";
import { SERVER_LOCK } from "../server_lock.ts";

export const USER = { name: "etcd", uid: 10001, gid: 10001 };
const APP_DIR = "/app";
const DENO_DIR = "/var/cache/deno";
const CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

export type Program = { kind: "source" } | { kind: "binary"; path: string };

export interface RootfsSummary {
  /** Paths inside the image of the executable and the libraries copied for it. */
  executable: string;
  libraries: string[];
  /** Local modules and npm packages (source only). */
  modules: number;
  npmPackages: string[];
}

function copyFile(from: string, to: string, mode?: number): void {
  Deno.mkdirSync(dirname(to), { recursive: true });
  Deno.copyFileSync(from, to);
  if (mode !== undefined) Deno.chmodSync(to, mode);
}

function dirname(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

function copyTree(from: string, to: string): void {
  Deno.mkdirSync(to, { recursive: true });
  for (const e of Deno.readDirSync(from)) {
    const src = `${from}/${e.name}`;
    const dst = `${to}/${e.name}`;
    if (e.isDirectory) copyTree(src, dst);
    else if (e.isSymlink) Deno.symlinkSync(Deno.readLinkSync(src), dst);
    else copyFile(src, dst, Deno.statSync(src).mode! & 0o777);
  }
}

/**
 * The shared objects `ldd` says the executable loads, the dynamic loader included, as absolute
 * paths. A library ldd cannot find would make the image fail at start, so it fails here.
 */
export async function sharedLibraries(executable: string): Promise<string[]> {
  const out = await new Deno.Command("ldd", {
    args: [executable],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (/not a dynamic executable|statically linked/.test(text)) return [];
  if (!out.success) throw new Error(`ldd ${executable} failed:\n${text.trim()}`);
  const libs: string[] = [];
  for (const line of text.split("\n")) {
    if (line.includes("=> not found")) throw new Error(`${executable} needs ${line.trim()}`);
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)", "/lib64/ld-linux-x86-64.so.2 (0x...)"
    const m = line.match(/(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/);
    if (m) libs.push(m[1]);
  }
  if (libs.length === 0) throw new Error(`ldd ${executable} listed no libraries:\n${text.trim()}`);
  return libs;
}

async function copySource(rootfs: string): Promise<Pick<RootfsSummary, "modules" | "npmPackages">> {
  const graph = await serverGraph(SERVER_LOCK);
  for (const file of graph.localFiles) {
    if (!file.startsWith(repo)) throw new Error(`${file} is outside the repository ${repo}`);
    copyFile(file, `${rootfs}${APP_DIR}/${file.slice(repo.length)}`, 0o644);
  }
  copyFile(`${repo}deno.json`, `${rootfs}${APP_DIR}/deno.json`, 0o644);
  copyFile(SERVER_LOCK, `${rootfs}${APP_DIR}/deno.lock`, 0o644);
  const copied = new Set<string>();
  for (const p of graph.npm) {
    if (copied.has(p.cachePath)) continue; // one package under several peer-dependency ids
    copied.add(p.cachePath);
    copyTree(p.localPath, `${rootfs}${DENO_DIR}/npm/${p.cachePath}`);
  }
  return { modules: graph.localFiles.length, npmPackages: graph.npm.map((p) => p.id) };
}

function writeSystemFiles(rootfs: string): void {
  const { name, uid, gid } = USER;
  const write = (path: string, text: string) => {
    Deno.mkdirSync(dirname(`${rootfs}${path}`), { recursive: true });
    Deno.writeTextFileSync(`${rootfs}${path}`, text, { mode: 0o644 });
  };
  write(
    "/etc/passwd",
    `root:x:0:0:root:/root:/sbin/nologin\n${name}:x:${uid}:${gid}:etcd-ts:/var/lib/etcd:/sbin/nologin\n`,
  );
  write("/etc/group", `root:x:0:\n${name}:x:${gid}:\n`);
  // glibc's resolver for host names in URLs: /etc/hosts first, then DNS, as Go's resolver does.
  write("/etc/nsswitch.conf", "hosts: files dns\n");
  // The build machine's own trust store (never SSL_CERT_FILE, which may name a test CA).
  try {
    copyFile(CA_BUNDLE, `${rootfs}${CA_BUNDLE}`, 0o644);
  } catch (err) {
    const why = (err as Error).message;
    throw new Error(`cannot read ${CA_BUNDLE} (Debian: apt-get install ca-certificates): ${why}`);
  }
  Deno.mkdirSync(`${rootfs}/tmp`, { recursive: true });
  Deno.chmodSync(`${rootfs}/tmp`, 0o1777);
}

function removeIfPresent(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

/** Lays out OUT/rootfs and OUT/volume afresh. */
export async function assembleRootfs(out: string, program: Program): Promise<RootfsSummary> {
  const rootfs = `${out}/rootfs`;
  removeIfPresent(rootfs);
  removeIfPresent(`${out}/volume`);
  Deno.mkdirSync(`${out}/volume`, { recursive: true });

  const executable = program.kind === "source" ? "/usr/local/bin/deno" : "/usr/local/bin/etcd-ts";
  const hostExecutable = program.kind === "source" ? deno : program.path;
  copyFile(hostExecutable, `${rootfs}${executable}`, 0o755);
  const libraries = await sharedLibraries(hostExecutable);
  // Copied to the path the loader asked for (following symlinks): ld.so finds them there.
  for (const lib of libraries) copyFile(lib, `${rootfs}${lib}`, 0o755);
  writeSystemFiles(rootfs);
  const source = program.kind === "source"
    ? await copySource(rootfs)
    : { modules: 0, npmPackages: [] };
  return { executable, libraries, ...source };
}

function parseArgs(args: string[]): { out: string; program: Program } {
  const usage = "usage: rootfs.ts [--binary FILE] OUT";
  let program: Program = { kind: "source" };
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--binary") {
      const path = args[++i];
      if (!path) throw new Error(usage);
      program = { kind: "binary", path };
    } else rest.push(args[i]);
  }
  if (rest.length !== 1) throw new Error(usage);
  return { out: rest[0], program };
}

if (import.meta.main) {
  const { out, program } = parseArgs(Deno.args);
  const s = await assembleRootfs(out, program);
  console.error(
    `rootfs: ${s.executable}, ${s.libraries.length} libraries, ${s.modules} modules, ` +
      `${s.npmPackages.length} npm packages in ${out}/rootfs`,
  );
}
