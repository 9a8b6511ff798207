// --experimental-enable-v2v3 beside etcd 3.4 started with the same flags: the same curl and
// `ETCDCTL_API=2 etcdctl` transcripts (v2 indexes, errors, TTLs refused, hidden keys listed, v2
// auth with its users and roles as v3 keys),
// the same v3 keys under the prefix (etcdctl get --prefix), v2 long polls and watches answered
// from v3 watches, and a key written through v3 read through v2. The requests avoid what makes
// etcd 3.4 itself crash in this mode (a watch over a revision with no v2 action, /v2/members,
// /version, /health). Address block 127.0.233.x.
import assert from "node:assert/strict";
import { startPair } from "../helpers/pair.ts";
import { ETCD_TS, itest, run } from "../helpers/process.ts";
import { etcdctl, etcdctlWith } from "../helpers/etcdctl.ts";

const ETCD_IP = "127.0.233.2";
const TS_IP = "127.0.233.1";
const V2V3 = ["--enable-v2", "--experimental-enable-v2v3", "/v2v3"];

// An in-order key is named after the member's clock.
const clockKey = /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC m=\+\d+\.\d{9}/g;
const SHOWN = ["content-type", "x-etcd-cluster-id", "x-etcd-index", "x-raft-index", "x-raft-term"];

/** One request as text: the request, status, etcd's headers and the body. */
async function exchange(base: string, method: string, path: string, form?: string) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: form ? { "content-type": "application/x-www-form-urlencoded" } : {},
    body: form,
  });
  const headers = SHOWN.filter((h) => res.headers.has(h)).map((h) => `${h}: ${res.headers.get(h)}`);
  const body = (await res.text()).replace(clockKey, "<clock>");
  return `${method} ${path} ${form ?? ""}\n${res.status}\n${headers.join("\n")}\n${body}\n`;
}

// [method, path, form]: writes of every kind, their refusals, reads, in one history.
const HTTP: [string, string, string?][] = [
  ["PUT", "/v2/keys/foo", "value=bar"],
  ["GET", "/v2/keys/foo"],
  ["GET", "/v2/keys/"],
  ["PUT", "/v2/keys/foo", "value=bar&ttl=5"],
  ["PUT", "/v2/keys/foo?refresh=true&ttl=5"],
  ["POST", "/v2/keys/q", "value=j&ttl=5"],
  ["PUT", "/v2/keys/dir1?dir=true"],
  ["PUT", "/v2/keys/dir1/a/b", "value=x"],
  ["GET", "/v2/keys/dir1?recursive=true"],
  ["GET", "/v2/keys/dir1?recursive=true&sorted=true"],
  ["GET", "/v2/keys/dir1"],
  ["POST", "/v2/keys/queue", "value=j1"],
  ["GET", "/v2/keys/queue"],
  ["PUT", "/v2/keys/foo?prevValue=bar", "value=baz"],
  ["PUT", "/v2/keys/foo?prevValue=nope", "value=baz"],
  ["PUT", "/v2/keys/foo?prevIndex=1", "value=q"],
  ["PUT", "/v2/keys/foo?prevExist=false", "value=q"],
  ["PUT", "/v2/keys/new?prevExist=false", "value=q"],
  ["PUT", "/v2/keys/new2?prevExist=true", "value=q"],
  ["PUT", "/v2/keys/new?prevExist=true", "value=upd"],
  ["DELETE", "/v2/keys/foo?prevValue=zz"],
  ["DELETE", "/v2/keys/foo?prevValue=baz"],
  ["DELETE", "/v2/keys/dir1"],
  ["DELETE", "/v2/keys/dir1?dir=true"],
  ["DELETE", "/v2/keys/dir1?recursive=true"],
  ["DELETE", "/v2/keys/new"],
  ["DELETE", "/v2/keys/gone?recursive=true"],
  ["GET", "/v2/keys/nokey"],
  ["GET", "/v2/keys/new?quorum=true"],
  ["PUT", "/v2/keys/", "value=1"],
  ["PUT", "/v2/keys/_hidden", "value=h"],
  ["GET", "/v2/keys/"],
  ["PUT", "/v2/keys/f/g", "value=1"],
  ["PUT", "/v2/keys/f?dir=true"],
  ["PUT", "/v2/keys/f/g/h", "value=1"],
  ["HEAD", "/v2/keys/f/g"],
  ["PUT", "/v2/keys/x%20y", "value=sp"],
  ["GET", "/v2/stats/self"],
  ["GET", "/v2/stats/store"],
  ["GET", "/v2/stats/leader"],
  ["GET", "/v2/auth/enable"],
  ["GET", "/v2/auth/users"],
  ["GET", "/v2/auth/roles"],
];

const CTL: string[][] = [
  ["set", "/a/b", "1"],
  ["get", "/a/b"],
  ["ls", "--recursive", "/"],
  ["mk", "/a/b", "2"],
  ["mk", "/a/c", "3"],
  ["mkdir", "/d"],
  ["mkdir", "/d"],
  ["update", "/a/b", "9"],
  ["update", "/zz", "9"],
  ["set", "/t", "1", "--ttl", "10"],
  ["set", "/a/b", "5", "--swap-with-value", "9"],
  ["set", "/a/b", "6", "--swap-with-value", "9"],
  ["rm", "/a/c"],
  ["rm", "/a/c"],
  ["setdir", "/e"],
  ["ls", "--sort", "-p", "/"],
  ["get", "/nonexist"],
  ["rm", "--dir", "/nonexist"],
];

// v2 auth, whose users and roles v2v3 keeps under "/2" in the prefix.
const AUTH: string[][] = [
  ["user", "add", "root:rootpw"],
  ["role", "add", "r1"],
  ["role", "grant", "r1", "--path", "/pub/*", "--readwrite"],
  ["user", "add", "alice:apw"],
  ["user", "grant", "alice", "--roles", "r1"],
  ["user", "list"],
  ["role", "list"],
  ["auth", "enable"],
  ["set", "/pub/a", "1"],
  ["--username", "alice:apw", "set", "/pub/a", "1"],
  ["--username", "alice:apw", "set", "/priv/a", "1"],
  ["--username", "root:rootpw", "set", "/priv/a", "1"],
  ["--username", "root:rootpw", "auth", "disable"],
  ["set", "/priv/b", "2"],
];

async function ctlTranscript(endpoint: string, commands = CTL): Promise<string> {
  const v2 = etcdctlWith({ api: 2 });
  let out = "";
  for (const args of commands) {
    const r = await v2(endpoint, ...args);
    out += `$ etcdctl ${args.join(" ")}\n${r.stdout}${r.stderr}[exit ${r.code}]\n`;
  }
  return out.replaceAll(endpoint, "<endpoint>");
}

/** What a v3 client sees under the prefix: keys, values and revisions. */
async function v3View(endpoint: string): Promise<string> {
  const r = await etcdctl(endpoint, "get", "--prefix", "/v2v3", "-w", "fields");
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.replace(/^"(ClusterID|MemberID|RaftTerm)" : .*\n/gm, "").replace(
    clockKey,
    "<clock>",
  );
}

/** A long poll: its headers once the watch is in place, then `writes`, then its `lines`. */
async function longPoll(base: string, path: string, lines: number, writes: () => Promise<void>) {
  const res = await fetch(`${base}${path}`);
  const head = SHOWN.filter((h) => res.headers.has(h)).map((h) => `${h}: ${res.headers.get(h)}`);
  await writes();
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let body = "";
  while (body.split("\n").length <= lines) {
    const { value, done } = await reader.read();
    if (done) break;
    body += value;
  }
  await reader.cancel();
  return `${res.status}\n${head.join("\n")}\n${body}`;
}

async function write(base: string, method: string, path: string, form?: string) {
  const res = await fetch(`${base}/v2/keys${path}`, {
    method,
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: form,
  });
  await res.body?.cancel();
}

itest("v2v3: etcd 3.4's v2 emulation on the v3 store, side by side", async () => {
  const pair = await startPair(ETCD_IP, TS_IP, () => V2V3);
  try {
    const [etcd, ours] = pair.members.map((m) => m.url);
    let theirs = "", mine = "";
    for (const [method, path, form] of HTTP) {
      theirs += await exchange(etcd, method, path, form);
      mine += await exchange(ours, method, path, form);
    }
    assert.equal(mine, theirs);
    assert.match(mine, /"cause":"TTLs are unsupported"/);
    assert.match(mine, /"key":"\/_hidden"/, "hidden keys are listed");
    assert.equal(await ctlTranscript(ours), await ctlTranscript(etcd));
    const view = await v3View(ours);
    assert.equal(view, await v3View(etcd));
    assert.match(view, /"Key" : "\/v2v3\/003\/k\/\/1\/f\/g"\n"CreateRevision" : \d+/);

    // A key written through v3 in the layout is a v2 key (no watcher is open: etcd 3.4 crashes
    // on a revision without its action key).
    for (const url of [etcd, ours]) {
      const r = await etcdctl(url, "put", "/v2v3/002/k//1/fromv3", "hello");
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal(
      await exchange(ours, "GET", "/v2/keys/fromv3"),
      await exchange(etcd, "GET", "/v2/keys/fromv3"),
    );

    // Long polls: one event, then a recursive stream over writes of every kind, hidden keys and
    // a sibling that only shares the path's prefix.
    const writes = (base: string) => async () => {
      await write(base, "PUT", "/wd/x/y", "value=2");
      await write(base, "PUT", "/wd/x/y", "value=3");
      await write(base, "DELETE", "/wd/x/y");
      await write(base, "PUT", "/wd/z?dir=true");
      await write(base, "PUT", "/wd/_h", "value=h");
      await write(base, "PUT", "/wdx", "value=pfx");
      await write(base, "PUT", "/wd/z/q?prevExist=false", "value=c");
      await write(base, "PUT", "/wd/z/q?prevValue=c", "value=d");
      await write(base, "DELETE", "/wd/z/q?prevValue=d");
    };
    const one = (base: string) => longPoll(base, "/v2/keys/wd/x/y?wait=true", 1, writes(base));
    const first = await one(ours);
    assert.equal(first, await one(etcd));
    assert.match(first, /^200\n[^]*\n\{"action":"set","node":\{"key":"\/wd\/x\/y","value":"2"/);
    const stream = (base: string) =>
      longPoll(base, "/v2/keys/wd?wait=true&recursive=true&stream=true", 8, writes(base));
    const streamed = await stream(ours);
    assert.equal(streamed, await stream(etcd));
    assert.equal(streamed.match(/^\{"action"/gm)?.length, 8, streamed);
    assert.match(streamed, /"action":"compareAndDelete"/);
    assert.doesNotMatch(streamed, /_h/);

    // etcdctl's watch after an index: etcd hands the v2 index to v3 unconverted, so the event at
    // that very index comes back (here the set of /wdx, which a watch of /wd takes as well).
    const index = Number((await fetch(`${ours}/v2/keys/wdx`)).headers.get("x-etcd-index"));
    const v2 = etcdctlWith({ api: 2 });
    const watched = await Promise.all(
      [ours, etcd].map((u) =>
        v2(u, "watch", "--after-index", String(index - 3), "--recursive", "/wd")
      ),
    );
    assert.equal(watched[0].stdout, watched[1].stdout);
    assert.equal(watched[0].code, 0, watched[0].stderr);
    assert.match(watched[0].stdout, /^\[set\] \/wdx\npfx\n$/);

    const auth = await ctlTranscript(ours, AUTH);
    assert.equal(auth, await ctlTranscript(etcd, AUTH));
    assert.match(auth, /set \/priv\/a 1\nError: {2}110: The request requires user authentication/);
    const keys = (url: string) => etcdctl(url, "get", "--prefix", "/v2v3/003/k//2/", "--keys-only");
    const users = (await keys(ours)).stdout;
    assert.equal(users, (await keys(etcd)).stdout);
    assert.match(users, /^\/v2v3\/003\/k\/\/2\/roles\/guest\n/);
  } finally {
    await pair.stop();
  }
});

itest("v2v3: the flag needs a value; without --enable-v2 there is no v2 API", async () => {
  const bare = await Promise.all([
    run("etcd", ["--experimental-enable-v2v3"]),
    run(ETCD_TS, ["--experimental-enable-v2v3"]),
  ]);
  const firstLine = (s: string) => s.split("\n")[0];
  assert.equal(bare[1].code, bare[0].code);
  assert.equal(firstLine(bare[1].stderr), firstLine(bare[0].stderr));
  assert.equal(firstLine(bare[0].stderr), "flag needs an argument: -experimental-enable-v2v3");

  const pair = await startPair(ETCD_IP, TS_IP, () => ["--experimental-enable-v2v3", "/v2v3"]);
  try {
    const [etcd, ours] = pair.members.map((m) => m.url);
    for (const url of [etcd, ours]) {
      const res = await fetch(`${url}/v2/keys/foo`, { method: "PUT", body: "value=1" });
      await res.body?.cancel();
      assert.equal(res.status, 404, url);
    }
  } finally {
    await pair.stop();
  }
});
