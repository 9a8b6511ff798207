// scripts/image/rootfs.ts: the image's root filesystem holds the executable, the libraries it
// links, the CA bundle, the unprivileged user and, from source, only the server's modules and npm
// packages. Each layout is then run as the image runs it (the Containerfile's ENTRYPOINT and ENV,
// as uid 10001, chrooted with a /proc of its own), without podman.
import assert from "node:assert/strict";
import { assembleRootfs, USER } from "../../../scripts/image/rootfs.ts";
import { serverGraph } from "../../../scripts/server_graph.ts";
import { SERVER_LOCK } from "../../../scripts/server_lock.ts";
import { CONTAINERFILE } from "../../../scripts/image/main.ts";
import { type Run, run } from "../../helpers/process.ts";
import { tempDir } from "../../helpers/tmp.ts";

const repo = new URL("../../../", import.meta.url).pathname;
const deno = Deno.execPath();
const TEST_ONLY = ["etcd3", "fast-check", "@grpc/grpc-js", "protobufjs"];

/** The ENTRYPOINT of a final stage and the ENV of the stage it builds on, from the Containerfile. */
function stage(name: "source" | "binary"): { entrypoint: string[]; env: Record<string, string> } {
  const text = Deno.readTextFileSync(CONTAINERFILE);
  const body = text.split(/^FROM /m).find((s) => s.includes(` AS ${name}\n`));
  assert.ok(body, `no ${name} stage`);
  const entrypoint = JSON.parse(/^ENTRYPOINT (.*)$/m.exec(body)![1]);
  const envLine = /^ENV (.*)$/m.exec(text)![1];
  const env = Object.fromEntries(envLine.split(/\s+/).map((kv) => kv.split("=", 2)));
  return { entrypoint, env };
}

/** A command's absolute path (the chrooted run gets no PATH of the host's). */
async function which(cmd: string): Promise<string> {
  const r = await run("sh", ["-c", `command -v ${cmd}`]);
  assert.equal(r.code, 0, `${cmd} is not installed`);
  return r.stdout.trim();
}

/** Runs the command inside the root filesystem as the image would: its user, its env only. */
async function inRootfs(rootfs: string, command: string[], env: Record<string, string>) {
  Deno.mkdirSync(`${rootfs}/proc`, { recursive: true });
  const r = await new Deno.Command(await which("unshare"), {
    args: [
      "--mount",
      "--pid",
      "--fork",
      `--mount-proc=${rootfs}/proc`,
      await which("chroot"),
      `--userspec=${USER.uid}:${USER.gid}`,
      rootfs,
      ...command,
    ],
    clearEnv: true,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) } as Run;
}

function listFiles(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const rel = `${prefix}${e.name}`;
    if (e.isDirectory) out.push(...listFiles(`${dir}/${e.name}`, `${rel}/`));
    else out.push(rel);
  }
  return out.sort();
}

const read = (path: string) => Deno.readFileSync(path);

function assertSystemFiles(rootfs: string, libraries: string[]): void {
  for (const lib of libraries) assert.ok(Deno.statSync(`${rootfs}${lib}`).isFile, lib);
  assert.ok(libraries.some((l) => /\/libc\.so\.6$/.test(l)), "libc is not among the libraries");
  assert.ok(libraries.some((l) => /\/ld-linux[^/]*\.so/.test(l)), "no dynamic loader");
  const passwd = Deno.readTextFileSync(`${rootfs}/etc/passwd`);
  assert.match(passwd, new RegExp(`^etcd:x:${USER.uid}:${USER.gid}:`, "m"));
  assert.match(
    Deno.readTextFileSync(`${rootfs}/etc/group`),
    new RegExp(`^etcd:x:${USER.gid}:`, "m"),
  );
  const bundle = "/etc/ssl/certs/ca-certificates.crt";
  assert.deepEqual(read(`${rootfs}${bundle}`), read(bundle));
  assert.equal(Deno.statSync(`${rootfs}/tmp`).mode! & 0o7777, 0o1777);
}

Deno.test("the source layout: deno, its libraries, the server's modules and npm packages only", async () => {
  const out = tempDir({ prefix: "etcd-ts-rootfs-" }).path;
  try {
    const summary = await assembleRootfs(out, { kind: "source" });
    const rootfs = `${out}/rootfs`;
    assert.equal(summary.executable, "/usr/local/bin/deno");
    assert.deepEqual(read(`${rootfs}/usr/local/bin/deno`), read(deno));
    assertSystemFiles(rootfs, summary.libraries);
    assert.deepEqual(listFiles(`${out}/volume`), []);

    // /app: main.ts and the modules it imports, nothing of tests/ or scripts/.
    const graph = await serverGraph(SERVER_LOCK);
    const app = listFiles(`${rootfs}/app`);
    const modules = graph.localFiles.map((f) => f.slice(repo.length));
    assert.deepEqual(app, [...modules, "deno.json", "deno.lock"].sort());
    assert.ok(app.includes("main.ts") && app.includes("src/embed/run.ts"));
    assert.ok(!app.some((f) => f.startsWith("tests/") || f.startsWith("scripts/")));
    assert.deepEqual(read(`${rootfs}/app/deno.lock`), read(SERVER_LOCK));

    // DENO_DIR holds the npm packages and nothing else (no caches of the build machine).
    assert.deepEqual([...Deno.readDirSync(`${rootfs}/var/cache/deno`)].map((e) => e.name), ["npm"]);
    const npm = `${rootfs}/var/cache/deno/npm/registry.npmjs.org`;
    for (
      const pkg of ["hono", "@hono/node-server", "yaml", "@peculiar/x509", "bcryptjs", "hpack.js"]
    ) {
      assert.ok(Deno.statSync(`${npm}/${pkg}`).isDirectory, `${pkg} is missing`);
    }
    for (const pkg of TEST_ONLY) assert.throws(() => Deno.statSync(`${npm}/${pkg}`), pkg);

    const { entrypoint, env } = stage("source");
    const r = await inRootfs(rootfs, [...entrypoint, "--version"], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^etcd Version: 3\.4\.23\netcd-ts Version: /);
  } finally {
    Deno.removeSync(out, { recursive: true });
  }
});

Deno.test("the binary layout: the executable and its libraries, no deno, no sources", async () => {
  const out = tempDir({ prefix: "etcd-ts-rootfs-" }).path;
  try {
    // Stands in for a compiled etcd-ts: no denort here, and it links the same libraries.
    const binary = `${out}/etcd-ts`;
    Deno.copyFileSync(deno, binary);
    const summary = await assembleRootfs(out, { kind: "binary", path: binary });
    const rootfs = `${out}/rootfs`;
    assert.equal(summary.executable, "/usr/local/bin/etcd-ts");
    assertSystemFiles(rootfs, summary.libraries);
    for (const absent of ["app", "var", "usr/local/bin/deno"]) {
      assert.throws(() => Deno.statSync(`${rootfs}/${absent}`), absent);
    }
    const { entrypoint, env } = stage("binary");
    assert.deepEqual(entrypoint, ["/usr/local/bin/etcd-ts"]);
    const r = await inRootfs(rootfs, [...entrypoint, "--version"], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^deno ${Deno.version.deno} `));
  } finally {
    Deno.removeSync(out, { recursive: true });
  }
});

const image = (...args: string[]) =>
  run(deno, ["run", "-A", "--no-config", `${repo}scripts/image/main.ts`, ...args]);

Deno.test("deno task image --binary refuses an executable that is not etcd-ts", async () => {
  const r = await image("--binary", deno);
  assert.equal(r.code, 1, r.stderr);
  const printed = `its --version printed "deno ${Deno.version.deno} `;
  assert.match(r.stderr, new RegExp(`image: ${deno} is not an etcd-ts executable: ${printed}`));
  const unknown = await image("--push");
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /image: unknown argument --push; usage: deno task image/);
});
