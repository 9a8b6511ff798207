// --case narrows the suites to the cases whose printed name holds the text; stages left with
// none are not started at all.
import assert from "node:assert/strict";
import { parseArgs } from "../../scripts/bench/options.ts";
import { stages } from "../../scripts/bench/suites.ts";

const names = (argv: string[]) =>
  stages(parseArgs(argv)).map((s) => s.cases.map((c) => `${c.scenario}: ${c.label}`));

Deno.test("--case keeps the matching cases and drops stages left empty", () => {
  assert.deepEqual(names(["--suite", "scaling", "--case", "JSON gateway"]), [
    ["JSON gateway put: HTTP/1.1 keep-alive, 16 clients"],
  ]);
  assert.deepEqual(names(["--suite", "core", "--case", "put"]), [
    ["put: 1 member"],
    ["put: 3 members"],
  ]);
  assert.deepEqual(names(["--suite", "all", "--case", "no such case"]), []);
});

Deno.test("without --case every case of the suites runs", () => {
  const all = names(["--suite", "core", "--members", "1"]);
  assert.deepEqual(all, [[
    "put: 1 member",
    "linearizable range: 1 member",
    "serializable range: 1 member",
  ]]);
});
