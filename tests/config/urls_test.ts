import assert from "node:assert/strict";
import { EtcdURL, formatURL, parseURLList } from "../../src/config/mod.ts";

Deno.test("parseURLList: Go url.Parse and types.NewURLs errors", () => {
  const cases: [string, string][] = [
    ["", "URL scheme must be http, https, unix, or unixs: "],
    ["127.0.5.3:2380", 'parse "127.0.5.3:2380": first path segment in URL cannot contain colon'],
    ["localhost:2380", "URL scheme must be http, https, unix, or unixs: localhost:2380"],
    ["://x", 'parse "://x": missing protocol scheme'],
    ["http://a:b", 'parse "http://a:b": invalid port ":b" after host'],
    ["http://a b:1", 'parse "http://a b:1": invalid character " " in host name'],
    ["http://a:1/%zz", 'parse "http://a:1/%zz": invalid URL escape "%zz"'],
    ["http://[::1:1", `parse "http://[::1:1": missing ']' in host`],
    ["http://a\x01:1", 'parse "http://a\\x01:1": net/url: invalid control character in URL'],
    ["ftp://a:1", "URL scheme must be http, https, unix, or unixs: ftp://a:1"],
    ["http://a", 'URL address does not have the form "host:port": http://a'],
    ["http://a:1:2", 'URL address does not have the form "host:port": http://a:1:2'],
    ["http://a:1/", "URL must not contain a path: http://a:1/"],
    ["http://a:1/x", "URL must not contain a path: http://a:1/x"],
  ];
  for (const [input, want] of cases) {
    assert.deepEqual(parseURLList([input]), { error: want }, JSON.stringify(input));
  }
  assert.deepEqual(parseURLList([]), { error: "no valid URLs given" });
});

Deno.test("parseURLList: normalises like Go's URL.String and sorts, keeping duplicates", () => {
  assert.deepEqual(
    parseURLList(["HTTP://b:1", " http://a:1", "http://a:1", "unixs://s:0", "http://[::1]:2"]),
    [
      "http://[::1]:2",
      "http://a:1",
      "http://a:1",
      "http://b:1",
      "unixs://s:0",
    ],
  );
  assert.deepEqual(parseURLList(["http://a:1?x=y"]), ["http://a:1?x=y"]);
});

Deno.test("EtcdURL prints Go's form; formatURL handles plain URLs", () => {
  const u = new EtcdURL("http://127.0.0.1:80");
  assert.equal(String(u), "http://127.0.0.1:80");
  assert.equal(`${u}`, "http://127.0.0.1:80");
  assert.equal(formatURL(u), "http://127.0.0.1:80");
  assert.equal(formatURL(new URL("http://127.0.0.1:2379")), "http://127.0.0.1:2379");
  assert.equal(u.hostname, "127.0.0.1");
});
