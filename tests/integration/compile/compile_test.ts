// scripts/compile.ts: the module graph packs into one executable, and without a denort base
// binary the script stops with a message saying how to provide one. The base used here is the
// deno executable itself (no denort can be downloaded on these machines), so the result runs
// as the deno CLI, not as etcd-ts: the test stops at the packing step (see DESIGN.md). Other
// targets cannot be packed here (no denort of theirs): their plumbing is checked up to the base
// binary (its name, its platform).
import assert from "node:assert/strict";
import { executableKind } from "../../../scripts/compile.ts";

const repo = new URL("../../../", import.meta.url).pathname;
const deno = Deno.execPath();
const script = `${repo}scripts/compile.ts`;
const denoJson = JSON.parse(Deno.readTextFileSync(`${repo}deno.json`)) as {
  imports: Record<string, string>;
};

async function compile(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(deno, {
    // --no-config: the script needs no dependencies, so nothing is installed before it runs.
    args: ["run", "-A", "--no-config", script, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, output: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

/**
 * No DENORT_BIN, an empty DENO_DIR, and no way out: a dead proxy makes the download fail at once
 * even where dl.deno.land is reachable.
 */
function compileWithoutDenort(args: string[], denoDir: string) {
  Deno.mkdirSync(denoDir);
  return compile(args, {
    DENORT_BIN: "",
    DENO_DIR: denoDir,
    HTTPS_PROXY: "http://127.0.0.1:1",
    https_proxy: "http://127.0.0.1:1",
    NO_PROXY: "",
  });
}

/** `deno compile` colours its summary; the assertions read plain text. */
// deno-lint-ignore no-control-regex
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");

function contains(haystack: Uint8Array, needle: string): boolean {
  const n = new TextEncoder().encode(needle);
  outer: for (let i = haystack.indexOf(n[0]); i >= 0; i = haystack.indexOf(n[0], i + 1)) {
    for (let j = 1; j < n.length; j++) if (haystack[i + j] !== n[j]) continue outer;
    return true;
  }
  return false;
}

Deno.test("scripts/compile.ts (deno task compile) packs main.ts, src/ and only the npm packages they use", async () => {
  const start = performance.now();
  const dir = Deno.makeTempDirSync({ prefix: "etcd-ts-compile-" });
  try {
    const output = `${dir}/etcd-ts`;
    // Type errors are `deno task check`'s business; this test is about packing.
    const r = await compile(["--output", output, "--no-check"], { DENORT_BIN: deno });
    const log = plain(r.output);
    assert.equal(r.code, 0, log);
    assert.match(
      log,
      new RegExp(`compile: base binary DENORT_BIN=${deno} for ${Deno.build.target}`),
    );

    const base = Deno.statSync(deno).size;
    const size = Deno.statSync(output).size;
    // Our code and its npm packages add a few MB; a whole node_modules would add ~90 MB.
    assert.ok(size > base + 2e6, `output ${size} B is not larger than the base ${base} B`);
    assert.ok(size < base + 30e6, `output ${size} B embeds far more than the graph needs`);
    assert.ok((Deno.statSync(output).mode! & 0o111) !== 0, "output is not executable");

    // The embedded-files summary lists the graph: our modules and the server's npm packages.
    assert.match(log, /Embedded Files/);
    const files = /Files: ([\d.]+)MB/.exec(log);
    assert.ok(files, log);
    console.log(`  embedded graph: ${files[1]} MB; executable ${(size / 1e6).toFixed(1)} MB`);
    assert.ok(Number(files[1]) < 12, `the embedded graph is ${files[1]} MB`);
    assert.match(log, /main\.ts \(/);
    for (const folder of ["src", "api", "config", "raft", "server", "storage", "mvcc"]) {
      assert.match(log, new RegExp(`[─┬] ${folder}[ /]`), `${folder} is not embedded`);
    }
    // Every server package, those main.ts loads on first use (dynamic import()) included. The
    // summary is a tree: a scoped package shows as its scope, and its name beneath.
    const serverPackages = Object.keys(denoJson.imports);
    assert.ok(serverPackages.includes("@peculiar/x509") && serverPackages.includes("bcryptjs"));
    for (const pkg of serverPackages) {
      const [scope, name] = pkg.startsWith("@") ? pkg.split("/") : [undefined, pkg];
      if (scope) assert.match(log, new RegExp(`[─┬] ${scope}[ /]`), `${pkg} is not embedded`);
      assert.match(
        log,
        new RegExp(`[─┬ /]${name.replaceAll(".", "\\.")}/`),
        `${pkg} is not embedded`,
      );
    }
    for (const testOnly of ["etcd3", "grpc-js", "fast-check", "protobufjs"]) {
      assert.doesNotMatch(log, new RegExp(testOnly), `${testOnly} is embedded`);
    }
    // And the executable carries our modules' text.
    const bin = Deno.readFileSync(output);
    assert.ok(contains(bin, "not listed in the initial cluster config"));
    assert.ok(contains(bin, "received signal; shutting down"));
  } finally {
    Deno.removeSync(dir, { recursive: true });
    console.log(`  [compile packs] ${((performance.now() - start) / 1000).toFixed(1)} s`);
  }
});

Deno.test("without a denort base binary the script says how to provide one", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "etcd-ts-compile-" });
  try {
    const output = `${dir}/etcd-ts`;
    const missing = await compile(["--output", output], { DENORT_BIN: `${dir}/no-denort` });
    assert.equal(missing.code, 1, missing.output);
    assert.match(missing.output, new RegExp(`compile: DENORT_BIN=${dir}/no-denort is not a file`));
    assert.match(missing.output, /DENORT_BIN=\/path\/to\/denort deno task compile/);

    // Nothing set, nothing cached, and no way out: the download fails at once.
    const empty = `${dir}/deno_dir`;
    const started = performance.now();
    const none = await compileWithoutDenort(["--output", output], empty);
    assert.equal(none.code, 1, none.output);
    assert.match(none.output, /compile: cannot download https:\/\/dl\.deno\.land\/release\/v/);
    assert.match(none.output, /DENORT_BIN=\/path\/to\/denort deno task compile/);
    assert.match(none.output, new RegExp(`put denort-.*\\.zip .* at ${empty}/dl/release/v`));
    assert.ok(performance.now() - started < 20_000, "the failing download took too long");
    assert.ok(!exists(output), "no output after a failure");
    assert.ok(!exists(`${empty}/dl`), "nothing half-downloaded is left in DENO_DIR/dl");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("--target picks that platform's denort and refuses a base binary of another platform", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "etcd-ts-compile-" });
  try {
    const other = Deno.build.arch === "x86_64" ? "aarch64" : "x86_64";
    const linux = `${other}-unknown-linux-gnu`;
    const wrong = await compile(["--target", linux, "--output", `${dir}/x`], { DENORT_BIN: deno });
    assert.equal(wrong.code, 1, wrong.output);
    assert.match(
      wrong.output,
      new RegExp(
        `DENORT_BIN=${deno} is an ${Deno.build.arch} ELF executable; --target ${linux} needs an ${other} ELF executable`,
      ),
    );
    const mac = await compile(["--target", "aarch64-apple-darwin"], { DENORT_BIN: deno });
    assert.equal(mac.code, 1, mac.output);
    assert.match(mac.output, /needs an aarch64 Mach-O executable/);

    // No base binary for macOS here: the message names that target's denort and where it goes.
    const empty = `${dir}/deno_dir`;
    const none = await compileWithoutDenort(["--target", "x86_64-apple-darwin"], empty);
    assert.equal(none.code, 1, none.output);
    assert.match(
      none.output,
      /cannot download https:\/\/dl\.deno\.land\/release\/v[\d.]+\/denort-x86_64-apple-darwin\.zip/,
    );
    assert.match(
      none.output,
      new RegExp(`at ${empty}/dl/release/v[\\d.]+/denort-x86_64-apple-darwin\\.zip`),
    );

    const unknown = await compile(["--target", "x86_64-pc-windows-msvc"], {});
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.output,
      /unknown target x86_64-pc-windows-msvc; one of: x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu, x86_64-apple-darwin, aarch64-apple-darwin/,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("executable headers: ELF and Mach-O, x86_64 and aarch64", () => {
  const header = (bytes: number[], at: Record<number, number>) => {
    const h = new Uint8Array(64);
    h.set(bytes);
    for (const [i, b] of Object.entries(at)) h[Number(i)] = b;
    return h;
  };
  const elf = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1];
  assert.deepEqual(executableKind(header(elf, { 18: 0x3e })), { format: "ELF", machine: "x86_64" });
  assert.deepEqual(executableKind(header(elf, { 18: 0xb7 })), {
    format: "ELF",
    machine: "aarch64",
  });
  assert.deepEqual(executableKind(header(elf, { 18: 0x28 })), {
    format: "ELF",
    machine: undefined,
  });
  const macho = [0xcf, 0xfa, 0xed, 0xfe];
  assert.deepEqual(executableKind(header(macho, { 4: 0x07, 7: 0x01 })), {
    format: "Mach-O",
    machine: "x86_64",
  });
  assert.deepEqual(executableKind(header(macho, { 4: 0x0c, 7: 0x01 })), {
    format: "Mach-O",
    machine: "aarch64",
  });
  assert.equal(executableKind(new TextEncoder().encode("#!/bin/sh\necho hi\n")), undefined);
  assert.equal(executableKind(new Uint8Array(3)), undefined);
  assert.deepEqual(executableKind(Deno.readFileSync(deno).subarray(0, 64))?.format, "ELF");
});

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
