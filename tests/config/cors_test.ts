// --cors as etcd 3.4's flags.UniqueURLs with "*" as its one exception: origins are URLs with a
// port and no path, "*" is kept beside them, a value held already changes nothing; the config
// file builds it with a constructor that panics on a bad value.
import assert from "node:assert/strict";
import { fail, run } from "../helpers/config.ts";

Deno.test("--cors: URL lists replace the default, in Go's string form and sorted", async () => {
  assert.deepEqual((await run([])).cors, ["*"]);
  assert.deepEqual((await run(["--cors=https://b.example:8443,http://a.example:80"])).cors, [
    "http://a.example:80",
    "https://b.example:8443",
  ]);
  // A later URL list replaces an earlier one; "*" joins whatever is held.
  assert.deepEqual((await run(["--cors=http://a:1", "--cors=http://b:2"])).cors, ["http://b:2"]);
  assert.deepEqual((await run(["--cors=http://a:1", "--cors=*"])).cors, ["*", "http://a:1"]);
  assert.deepEqual((await run(["--cors=*"])).cors, ["*"]);
  assert.deepEqual((await run([], { ETCD_CORS: "http://env.example:1" })).cors, [
    "http://env.example:1",
  ]);
});

Deno.test("--cors: what types.NewURLs refuses is a flag error in etcd's words", async () => {
  const cases: [string, string][] = [
    ["http://example.com", 'URL address does not have the form "host:port": http://example.com'],
    ["foo", "URL scheme must be http, https, unix, or unixs: foo"],
    ["http://a:1/x", "URL must not contain a path: http://a:1/x"],
    ["", "URL scheme must be http, https, unix, or unixs: "],
    ["*,http://a:1", "URL scheme must be http, https, unix, or unixs: *"],
  ];
  for (const [value, why] of cases) {
    const out = await fail([`--cors=${value}`]);
    assert.equal(out.exitCode, 2, value);
    assert.equal(
      out.stderr.split("\n")[0],
      `invalid value ${JSON.stringify(value)} for flag -cors: ${why}`,
    );
  }
});

Deno.test("--cors in a config file: a bad value is etcd's panic", async () => {
  const out = await fail(["--config-file", "c.yml"], {}, "cors: foo\n");
  assert.equal(
    out.stderr,
    "panic: new UniqueURLs should never fail: URL scheme must be http, https, unix, or unixs: foo\n",
  );
  assert.deepEqual((await run(["--config-file", "c.yml"], {}, "cors: '*'\n")).cors, ["*"]);
});
