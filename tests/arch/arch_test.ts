// deno task arch's checker: it must see every kind of import and catch each broken rule, and the
// tree itself must keep to the rules.
import assert from "node:assert/strict";
import {
  checkArchitecture,
  folderOf,
  type Import,
  importsOf,
  readImports,
} from "../../scripts/arch/check.ts";
import { ALLOWED } from "../../scripts/arch.ts";

const imp = (from: string, target: string): Import => ({ from, line: 1, target });

Deno.test("arch: static, multi-line, type-only, re-exported and dynamic imports are all read", () => {
  const text = [
    'import { a } from "../mvcc/mod.ts";',
    "import {",
    "  b,",
    "  type C,",
    '} from "./local.ts";',
    'import type { D } from "../lease/mod.ts";',
    'export { e } from "../auth/mod.ts";',
    'export * from "../pb/mod.ts";',
    'import "../log/mod.ts";',
    'const f = await import("../raft/mod.ts");',
    'type G = import("../storage/mod.ts").Wal;',
    '// import { h } from "../api/mod.ts";',
    '/* import { i } from "../peer/mod.ts"; */',
    'import fs from "node:fs";',
  ].join("\n");
  const targets = importsOf("src/server/x.ts", text).map((i) => i.target);
  assert.deepEqual(targets, [
    "src/mvcc/mod.ts",
    "src/server/local.ts",
    "src/lease/mod.ts",
    "src/auth/mod.ts",
    "src/pb/mod.ts",
    "src/log/mod.ts",
    "src/raft/mod.ts",
    "src/storage/mod.ts",
  ]);
  assert.equal(importsOf("src/server/x.ts", text)[1].line, 5, "the line of the `from`");
});

Deno.test("arch: folders are src/'s first level, main.ts its own", () => {
  assert.equal(folderOf("src/api/grpc/server.ts"), "api");
  assert.equal(folderOf("main.ts"), "main");
  assert.equal(folderOf("scripts/x.ts"), undefined);
});

Deno.test("arch: a cycle, a forbidden edge and a bypassed mod.ts are each reported", () => {
  const allowed = { server: ["mvcc"], mvcc: ["server"], api: ["server"] };
  const report = checkArchitecture([
    imp("src/server/a.ts", "src/mvcc/mod.ts"),
    imp("src/mvcc/b.ts", "src/server/mod.ts"),
    imp("src/api/c.ts", "src/server/kv.ts"),
    imp("src/api/d.ts", "src/raft/mod.ts"),
    imp("src/raft/e.ts", "tests/helpers/x.ts"),
  ], allowed);
  assert.equal(report.ok, false);
  const by = (rule: string) => report.violations.filter((v) => v.rule === rule).map((v) => v.text);
  assert.deepEqual(by("cycle"), ["folders import each other: mvcc <-> server"]);
  assert.deepEqual(by("bypass"), [
    "src/api/c.ts:1 -> src/server/kv.ts: import src/server/mod.ts instead",
  ]);
  assert.deepEqual(by("forbidden"), [
    "src/api/d.ts:1 -> src/raft/mod.ts: api may not import raft",
    "src/raft/e.ts:1 -> tests/helpers/x.ts: outside src/",
  ]);
});

Deno.test("arch: imports within a folder are free; allowed edges through mod.ts pass", () => {
  const report = checkArchitecture([
    imp("src/server/a.ts", "src/server/apply/b.ts"),
    imp("src/api/c.ts", "src/server/mod.ts"),
  ], { api: ["server"] });
  assert.deepEqual(report.violations, []);
  assert.equal(report.ok, true);
});

Deno.test("arch: the tree keeps to its rules (no cycle, no forbidden edge, no bypass)", () => {
  const root = new URL("../../", import.meta.url).pathname;
  const report = checkArchitecture(readImports(root), ALLOWED);
  assert.deepEqual(report.violations, []);
});
