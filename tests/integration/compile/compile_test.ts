// scripts/compile.ts: the module graph packs into one executable, and without a denort base
// binary the script stops with a message saying how to provide one. The base used here is the
// deno executable itself (no denort can be downloaded on these machines), so the result runs
// as the deno CLI, not as etcd-ts: the test stops at the packing step (see DESIGN.md).
import assert from "node:assert/strict";

const repo = new URL("../../../", import.meta.url).pathname;
const deno = Deno.execPath();
const script = `${repo}scripts/compile.ts`;

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
    assert.match(log, new RegExp(`compile: base binary DENORT_BIN=${deno}`));

    const base = Deno.statSync(deno).size;
    const size = Deno.statSync(output).size;
    // Our code and its npm packages add a few MB; a whole node_modules would add ~90 MB.
    assert.ok(size > base + 2e6, `output ${size} B is not larger than the base ${base} B`);
    assert.ok(size < base + 30e6, `output ${size} B embeds far more than the graph needs`);
    assert.ok((Deno.statSync(output).mode! & 0o111) !== 0, "output is not executable");

    // The embedded-files summary lists the graph.
    assert.match(log, /Embedded Files/);
    assert.match(log, /main\.ts \(/);
    for (const folder of ["src", "api", "config", "raft", "server", "storage", "mvcc"]) {
      assert.match(log, new RegExp(`[─┬] ${folder}[ /]`), `${folder} is not embedded`);
    }
    for (const pkg of ["yaml", "hono"]) assert.match(log, new RegExp(`${pkg}/`));
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

    // Nothing set, nothing cached, and no way out: the download fails at once (a dead proxy
    // makes sure of it even where dl.deno.land is reachable).
    const empty = `${dir}/deno_dir`;
    Deno.mkdirSync(empty);
    const started = performance.now();
    const none = await compile(["--output", output], {
      DENORT_BIN: "",
      DENO_DIR: empty,
      HTTPS_PROXY: "http://127.0.0.1:1",
      https_proxy: "http://127.0.0.1:1",
      NO_PROXY: "",
    });
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

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
