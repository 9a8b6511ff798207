// Nothing in `--help` is ignored silently: every flag of the server's table (src/config/flags.ts)
// has its row in the audit (tests/helpers/flag_audit.ts), and each row holds. A used flag sets
// its Config field, and the files named read it (outside src/config, comments left out); a flag
// with no meaning here warns when given; the legacy flags warn in etcd's words and change
// nothing. A flag added to the table without a row fails here.
import assert from "node:assert/strict";
import { type Config, helpText, parseServerArgs } from "../../src/config/mod.ts";
import { FLAGS } from "../../src/config/flags.ts";
import { FLAG_AUDIT, type FlagUse } from "../helpers/flag_audit.ts";
import { BASE, noFile } from "../helpers/config.ts";

const repo = new URL("../../", import.meta.url).pathname;

async function parsed(flags: string[]) {
  const out = await parseServerArgs([...BASE, ...flags], {}, noFile);
  if (out.action !== "run") assert.fail(`${flags.join(" ")}: ${JSON.stringify(out)}`);
  return out;
}

/** A Config value in a comparable form (URLs as their text). */
function valueAt(config: Config, path: string): string {
  let v: unknown = config;
  for (const name of path.split(".")) {
    assert.ok(v !== null && typeof v === "object" && name in v, `Config has no ${path}`);
    v = (v as Record<string, unknown>)[name];
  }
  return JSON.stringify(v);
}

const sourceCache = new Map<string, string>();

/** A file's code without its comments. */
function code(path: string): string {
  let text = sourceCache.get(path);
  if (text === undefined) {
    text = Deno.readTextFileSync(`${repo}${path}`)
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
    sourceCache.set(path, text);
  }
  return text;
}

/** `.name` read (not assigned) somewhere in the file. */
function reads(path: string, name: string): boolean {
  return new RegExp(String.raw`\.${name}\b(?!\s*=[^=>])`).test(code(path));
}

function checkReaders(flag: string, u: FlagUse): void {
  const names = u.field.split(".");
  let readsField = false;
  for (const reader of u.readers) {
    const [path, name = names.at(-1)!] = reader.split("#");
    assert.ok(!path.startsWith("src/config/"), `--${flag}: ${path} is the parser's own`);
    assert.ok(reads(path, name), `--${flag}: ${path} does not read .${name}`);
    readsField ||= name === names[0];
  }
  assert.ok(readsField, `--${flag}: no reader of Config's ${names[0]}`);
}

Deno.test("every flag of the table has its row in the audit, and no row is stale", () => {
  const table = FLAGS.map((f) => f.name).sort();
  assert.deepEqual(Object.keys(FLAG_AUDIT).sort(), table);
  // --help shows no flag beyond the table (the hidden ones it leaves out are audited too).
  const shown = [...helpText().matchAll(/^ {2}--([a-z0-9-]+)/gm)].map((m) => m[1]);
  assert.ok(shown.length > 80, `help lists ${shown.length} flags`);
  for (const name of shown) assert.ok(table.includes(name), `--help shows unknown --${name}`);
});

Deno.test("each used flag sets its Config field, and code outside src/config reads it", async () => {
  for (const [flag, audit] of Object.entries(FLAG_AUDIT)) {
    if (!("use" in audit)) continue;
    const u = audit.use;
    const without = await parsed(u.with ?? []);
    const withIt = await parsed([...(u.with ?? []), `--${flag}=${u.sample}`]);
    assert.notEqual(
      valueAt(withIt.config, u.field),
      valueAt(without.config, u.field),
      `--${flag}=${u.sample} does not change ${u.field}`,
    );
    checkReaders(flag, u);
  }
});

Deno.test("a flag with no meaning here warns when given, and only then", async () => {
  let warned = 0;
  for (const [flag, audit] of Object.entries(FLAG_AUDIT)) {
    if (!("warning" in audit) || audit.warning === undefined) continue;
    const sample = "use" in audit ? audit.use.sample : audit.sample;
    const texts = (out: { notices: { text: string }[] }) => out.notices.map((n) => n.text);
    assert.ok(
      texts(await parsed([`--${flag}=${sample}`])).some((t) => t.includes(audit.warning!)),
      `--${flag}=${sample} logs no warning "${audit.warning}"`,
    );
    assert.ok(!texts(await parsed([])).some((t) => t.includes(audit.warning!)));
    warned++;
  }
  assert.ok(warned >= 3);
  // A v2 proxy presents the client pair, so it does not warn.
  const proxy = await parsed(["--proxy=on", "--client-cert-file=/cc.pem"]);
  assert.ok(!proxy.notices.some((n) => n.text.includes("has no effect on a member")));
});

Deno.test("legacy flags: etcd's warning, and no effect on the Config", async () => {
  const { explicit: _, ...base } = (await parsed([])).config;
  for (const [flag, audit] of Object.entries(FLAG_AUDIT)) {
    if (!("legacy" in audit)) continue;
    const out = await parsed([`--${flag}`]);
    assert.ok(
      out.notices.some((n) =>
        n.pkg === "pkg/flags" && n.text === `flag "-${flag}" is no longer supported - ignoring.`
      ),
      flag,
    );
    const { explicit: __, ...config } = out.config;
    assert.equal(JSON.stringify(config), JSON.stringify(base), flag);
  }
});

Deno.test("the parser's own flags: --version prints, --config-file is read", async () => {
  const version = await parseServerArgs(["--version"], {}, noFile);
  assert.equal(version.action, "print");
  assert.match(version.action === "print" ? version.stdout : "", /^etcd Version: 3\.4\.23\n/);
  const read: string[] = [];
  const file = await parseServerArgs(["--config-file", "m.yml"], {}, (p) => {
    read.push(p);
    return "name: from-file\n";
  });
  assert.deepEqual(read, ["m.yml"]);
  assert.equal(file.action === "run" ? file.config.name : file.action, "from-file");
});
