// The v2 proxy's parsers and its data dir check, without a socket: member lists and cluster
// files as Go's encoding/json reads them, paths as Go's ServeMux cleans them.
import assert from "node:assert/strict";
import {
  cleanPath,
  identifyDataDir,
  parseClusterFile,
  parseMembers,
  ProxyStartError,
} from "../../src/proxy/mod.ts";
import { withTempDir } from "../helpers/tmp.ts";
import { FatalExit, messages, testLog } from "../helpers/log.ts";

Deno.test("parseMembers keeps uint64 member IDs exact", () => {
  const ms = parseMembers(
    '[{"id":17954829444001627354,"peerURLs":["http://a:2380"],"name":"a3","clientURLs":[]},' +
      '{"id":5158181747782263762,"peerURLs":["http://b:2380"],"name":"","clientURLs":["http://b:2379"]}]',
  );
  assert.deepEqual(ms.map((m) => m.id), [17954829444001627354n, 5158181747782263762n]);
  assert.deepEqual(ms[1].clientURLs, ["http://b:2379"]);
  assert.throws(() => parseMembers('{"id":1}'), /cannot unmarshal object/);
});

Deno.test("parseClusterFile reads etcd's cluster file as Go's encoding/json does", () => {
  assert.deepEqual(parseClusterFile('{"PeerURLs":["http://a:2380","http://b:2380"]}'), [
    "http://a:2380",
    "http://b:2380",
  ]);
  assert.deepEqual(parseClusterFile('{"peerurls":["http://a:2380"]}'), ["http://a:2380"]);
  assert.deepEqual(parseClusterFile("{}"), []);
  assert.deepEqual(parseClusterFile('{"PeerURLs":null}'), []);
  assert.throws(() => parseClusterFile(""), { message: "unexpected end of JSON input" });
  assert.throws(() => parseClusterFile("x"), {
    message: "invalid character 'x' looking for beginning of value",
  });
  assert.throws(() => parseClusterFile('{"PeerURLs":[1]}'), ProxyStartError);
});

Deno.test("cleanPath as Go's ServeMux cleans", () => {
  const cases: [string, string][] = [
    ["/v2/keys/foo", "/v2/keys/foo"],
    ["/v2/keys/", "/v2/keys/"],
    ["/v2/keys/../keys/foo", "/v2/keys/foo"],
    ["//v2//keys", "/v2/keys"],
    ["/./a/./", "/a/"],
    ["", "/"],
  ];
  for (const [p, want] of cases) assert.equal(cleanPath(p), want, p);
});

Deno.test(
  "identifyDataDir: empty, member, proxy, stray entries, and both is fatal",
  withTempDir((dir) => {
    const t = testLog();
    assert.equal(identifyDataDir(`${dir}/none`, t.log), "empty");
    assert.equal(identifyDataDir(dir, t.log), "empty");
    Deno.mkdirSync(`${dir}/member`);
    Deno.writeTextFileSync(`${dir}/junk`, "");
    assert.equal(identifyDataDir(dir, t.log), "member");
    assert.deepEqual(messages(t.lines), [
      `W | etcdmain: found invalid file/dir junk under data dir ${dir} (Ignore this if you are upgrading etcd)`,
    ]);
    Deno.mkdirSync(`${dir}/proxy`);
    assert.throws(() => identifyDataDir(dir, t.log), FatalExit);
    assert.equal(
      messages(t.lines).at(-1),
      "C | etcdmain: invalid datadir. Both member and proxy directories exist.",
    );
    Deno.removeSync(`${dir}/member`);
    assert.equal(identifyDataDir(dir, testLog().log), "proxy");
  }),
);
