// `deno task start` installs only what the server needs: deno.lock is tests/deno.lock cut to the
// packages main.ts reaches (scripts/server_lock.ts), and the start task installs through it,
// offline, from a cache holding nothing else.
import assert from "node:assert/strict";
import { lockedPackages, serverGraph } from "../../../scripts/server_graph.ts";
import {
  cutLockfile,
  DEV_LOCK,
  LOCK_FIX,
  SERVER_LOCK,
  serverLockText,
} from "../../../scripts/server_lock.ts";
import { run } from "../../helpers/process.ts";
import { tempDir } from "../../helpers/tmp.ts";

const repo = new URL("../../../", import.meta.url).pathname;
const TEST_ONLY = ["etcd3@", "fast-check@", "@grpc/grpc-js@", "protobufjs@", "@types/node@"];
const isTestOnly = (id: string) => TEST_ONLY.some((p) => id.startsWith(p));
/** A proxy that refuses every connection: any download fails at once. */
const OFFLINE = {
  HTTPS_PROXY: "http://127.0.0.1:1",
  HTTP_PROXY: "http://127.0.0.1:1",
  https_proxy: "http://127.0.0.1:1",
  NO_PROXY: "",
};

Deno.test("deno.lock is tests/deno.lock cut to the server's packages, and current", async () => {
  assert.equal(
    Deno.readTextFileSync(SERVER_LOCK),
    await serverLockText(),
    `deno.lock is out of date: ${LOCK_FIX}`,
  );
  const graph = await serverGraph(DEV_LOCK);
  const server = graph.npm.map((p) => p.id);
  assert.deepEqual(await lockedPackages(SERVER_LOCK), server);
  assert.ok(
    server.some((id) => id.startsWith("hono@")) && server.some((id) => id.startsWith("yaml@")),
  );
  assert.deepEqual(server.filter(isTestOnly), []);
  // tests/deno.lock, which the tests resolve through, has them: that is why the cut exists.
  const all = await lockedPackages(DEV_LOCK);
  assert.ok(all.filter(isTestOnly).length >= 3, `tests/deno.lock: ${all}`);
});

Deno.test("cutting a lockfile keeps the named packages, their specifiers and the workspace", () => {
  const lock = {
    version: "5",
    specifiers: {
      "npm:@hono/node-server@2.1.9": "2.1.9_hono@4.13.19",
      "npm:hono@4.13.19": "4.13.19",
      "npm:etcd3@1.1.2": "1.1.2",
    },
    npm: {
      "@hono/node-server@2.1.9_hono@4.13.19": { integrity: "a", dependencies: ["hono"] },
      "hono@4.13.19": { integrity: "b" },
      "etcd3@1.1.2": { integrity: "c" },
    },
    workspace: { dependencies: ["npm:@hono/node-server@2.1.9", "npm:etcd3@1.1.2"] },
  };
  const keep = new Set(["@hono/node-server@2.1.9_hono@4.13.19", "hono@4.13.19"]);
  const cut = JSON.parse(cutLockfile(JSON.stringify(lock), keep));
  assert.deepEqual(Object.keys(cut.specifiers), [
    "npm:@hono/node-server@2.1.9",
    "npm:hono@4.13.19",
  ]);
  assert.deepEqual(Object.keys(cut.npm), [...keep]);
  assert.deepEqual(cut.workspace, lock.workspace);

  assert.throws(() => cutLockfile(JSON.stringify({ ...lock, version: "4" }), keep), /version 4/);
  const withJsr = { ...lock, jsr: { "@std/fs@1.0.0": {} } };
  assert.throws(
    () => cutLockfile(JSON.stringify(withJsr), keep),
    /sections this script cannot cut: jsr/,
  );
  assert.throws(
    () => cutLockfile(JSON.stringify(lock), new Set(["yaml@2.9.1"])),
    /lacks yaml@2.9.1/,
  );
});

Deno.test("deno task start installs and runs from a cache holding only the server's packages", async () => {
  const denoDir = tempDir({ prefix: "etcd-ts-start-" }).path;
  try {
    const graph = await serverGraph(SERVER_LOCK);
    for (const p of graph.npm) {
      const dest = `${denoDir}/npm/${p.cachePath}`;
      Deno.mkdirSync(dest.slice(0, dest.lastIndexOf("/")), { recursive: true });
      assert.equal((await run("cp", ["-r", p.localPath, dest])).code, 0);
    }
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "--quiet", "start", "--version"],
      cwd: repo,
      env: { DENO_DIR: denoDir, NO_COLOR: "1", ...OFFLINE },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    assert.equal(out.code, 0, dec.decode(out.stderr));
    assert.match(dec.decode(out.stdout), /^etcd Version: 3\.4\.23\n/);
  } finally {
    Deno.removeSync(denoDir, { recursive: true });
  }
});
