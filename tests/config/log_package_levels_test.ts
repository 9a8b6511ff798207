// --log-package-levels as etcd 3.4.23 takes it: a deprecation warning whatever the logger, the
// capnslog per-package levels parsed by capnslog's rules, and a setting that does not parse
// warned about (the logger's outputs then left at their default, as etcd leaves them).
import assert from "node:assert/strict";
import { parseServerArgs } from "../../src/config/mod.ts";
import { BASE, noFile } from "../helpers/config.ts";

async function parsed(flags: string[]) {
  const out = await parseServerArgs([...BASE, ...flags], {}, noFile);
  if (out.action !== "run") assert.fail(`expected run, got ${JSON.stringify(out)}`);
  return out;
}

const deprecation = (conf: string) =>
  `[WARNING] Deprecated '--log-package-levels=${conf}' flag is set; use '--logger=zap' flag instead`;

Deno.test("--log-package-levels: capnslog levels per package, after etcd's warnings", async () => {
  const conf = "etcdmain=WARNING,embed=N,raft=4,etcdserver=TRACE,*=E";
  const out = await parsed([`--log-package-levels=${conf}`, "--debug", "--log-level=debug"]);
  assert.deepEqual(out.config.logPackageLevels, {
    etcdmain: "warn",
    embed: "notice",
    raft: "debug",
    etcdserver: "trace",
    "*": "error",
  });
  // etcd's stderr order: --debug, --logger=capnslog, then --log-package-levels.
  const raw = out.notices.filter((n) => n.raw).map((n) => n.text);
  assert.deepEqual(raw, [
    "[WARNING] Deprecated '--debug' flag is set to true (use '--log-level=debug' instead",
    "[WARNING] Deprecated '--logger=capnslog' flag is set; use '--logger=zap' flag instead",
    deprecation(conf),
  ]);
  assert.deepEqual((await parsed([])).config.logPackageLevels, {});
});

Deno.test("--log-package-levels with zap: warned about, no levels", async () => {
  const out = await parsed(["--logger=zap", "--log-package-levels=etcdmain=WARNING"]);
  assert.deepEqual(out.config.logPackageLevels, {});
  assert.deepEqual(out.notices.filter((n) => n.raw).map((n) => n.text), [
    deprecation("etcdmain=WARNING"),
  ]);
});

Deno.test("--log-package-levels that does not parse: etcd's warning, default levels", async () => {
  for (
    const [conf, why] of [
      ["foo", "oddly structured `pkg=level` option: foo"],
      ["a=b=c", "oddly structured `pkg=level` option: a=b=c"],
      ["embed=WARNING,", "oddly structured `pkg=level` option: "],
      ["embed=warning", "couldn't parse log level warning"],
      ["embed=-1", "couldn't parse log level -1"],
    ]
  ) {
    // etcd returns from its logging set-up there, so even a bad output is not looked at.
    const out = await parsed([`--log-package-levels=${conf}`, "--log-outputs=nowhere"]);
    assert.deepEqual(out.config.logPackageLevels, {}, conf);
    assert.deepEqual(out.config.logOutputs, ["default"], conf);
    const logged = out.notices.filter((n) => !n.raw);
    assert.ok(
      logged.some((n) =>
        n.level === "warn" && n.pkg === "embed" &&
        n.text === `couldn't parse log level string: ${why}, continuing with default levels`
      ),
      `${conf}: ${JSON.stringify(logged)}`,
    );
  }
});
