// --help lists every subcommand; `etcd-ts help SUBCOMMAND` prints that subcommand's own help
// (main.ts's table), its usage line when it has no flags table yet, and refuses unknown names.
import assert from "node:assert/strict";
import { helpCommand, helpText, SUBCOMMANDS, USAGE } from "../../src/config/mod.ts";

Deno.test("the usage lists every subcommand with its call and one line", () => {
  const names = SUBCOMMANDS.map((c) => c.name);
  for (const name of ["gateway", "grpc-proxy", "discovery-service", "diagnose", "snapshot"]) {
    assert.ok(names.includes(name), name);
  }
  for (const c of SUBCOMMANDS) {
    assert.ok(USAGE.includes(`\n  ${c.usage}\n    ${c.summary}\n`), c.name);
  }
});

Deno.test("help SUBCOMMAND: its own text, else its usage line; unknown names refused", () => {
  const flags = { gateway: () => "gateway flags\n" };
  assert.deepEqual(helpCommand([], flags), { stdout: helpText(), exitCode: 0 });
  assert.deepEqual(helpCommand(["gateway"], flags), { stdout: "gateway flags\n", exitCode: 0 });
  assert.deepEqual(helpCommand(["snapshot"], flags), {
    stdout: "Save, check and restore v3 backend snapshots.\n\nUsage:\n" +
      "  etcd-ts snapshot COMMAND [flags]\n",
    exitCode: 0,
  });
  const unknown = helpCommand(["bogus"], flags);
  assert.equal(unknown.exitCode, 2);
  assert.match(unknown.stderr!, /^etcd-ts help: unknown subcommand "bogus" \(one of: gateway, /);
  assert.equal(helpCommand(["gateway", "diagnose"], flags).exitCode, 2);
});
