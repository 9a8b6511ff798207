// V8's flags are one set, whichever way the member is launched: scripts/etcd-ts (and `deno task
// start`) and the compiled executable read scripts/v8-flags; the image's source entry point
// spells them out and must say the same.
import assert from "node:assert/strict";

const repo = new URL("../../../", import.meta.url).pathname;
const read = (path: string) => Deno.readTextFileSync(`${repo}${path}`);

Deno.test("every launch path passes scripts/v8-flags to V8", () => {
  const flags = read("scripts/v8-flags").trim();
  assert.match(flags, /^--max-semi-space-size=\d+$/);
  assert.match(read("scripts/etcd-ts"), /--v8-flags="\$v8_flags"/);
  assert.match(
    read("scripts/etcd-ts"),
    /v8_flags="\$\(tr -d '\\n' <"\$repo\/scripts\/v8-flags"\)"/,
  );
  assert.match(
    read("scripts/compile.ts"),
    /--v8-flags=\$\{Deno\.readTextFileSync\(`\$\{repo\}scripts\/v8-flags`\)/,
  );
  const entrypoints = [...read("Containerfile").matchAll(/^ENTRYPOINT (\[.*\])$/gm)]
    .map((m) => JSON.parse(m[1]) as string[]);
  const source = entrypoints.find((e) => e[0].endsWith("/deno"))!;
  assert.ok(source.includes(`--v8-flags=${flags}`), source.join(" "));
  assert.deepEqual(
    JSON.parse(read("deno.json")).tasks.start.match(/scripts\/etcd-ts/)?.[0],
    "scripts/etcd-ts",
  );
});
