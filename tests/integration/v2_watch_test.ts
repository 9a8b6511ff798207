// v2 watches as etcdctl v2 issues them, side by side with etcd 3.4: `watch` (one event, from
// now or from --after-index), `watch --forever --recursive`, `exec-watch` (a command per change
// with the ETCD_WATCH_* variables), `-o json`; and the long poll on the wire: headers flushed
// before any event, one event then the end, or a chunk per event with stream=true. Each watch is
// started once the member counts it (/v2/stats/store's watchers), so no write can precede it.
import assert from "node:assert/strict";
import { makeCluster } from "../helpers/cluster.ts";
import { itest, type Proc, spawn } from "../helpers/process.ts";
import { type Pair, startPair, v2ctl } from "../helpers/v2_compare.ts";

const BLOCK = "127.0.152";
const CLUSTER_BLOCK = "127.0.153";

/** The member's v2 index and its count of waiting watchers. */
async function storeState(endpoint: string): Promise<{ index: number; watchers: number }> {
  const keys = await fetch(`${endpoint}/v2/keys/`);
  await keys.body?.cancel();
  const stats = await (await fetch(`${endpoint}/v2/stats/store`)).json();
  return { index: Number(keys.headers.get("x-etcd-index")), watchers: stats.watchers };
}

/** Resolves once `n` watchers wait on the member (polled: nothing announces a registration). */
async function watchersReach(endpoint: string, n: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await storeState(endpoint)).watchers < n) {
    if (Date.now() > deadline) throw new Error(`${endpoint}: ${n} watchers never registered`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function etcdctl(endpoint: string, args: string[]): Proc {
  return spawn("etcdctl", ["--endpoints", endpoint, ...args], { env: { ETCDCTL_API: "2" } });
}

/** One member's run of every watch; its output with indexes relative to where it started. */
async function watchSession(endpoint: string): Promise<string> {
  // A write first, so that the base is not 0 (an --after-index of 0 means "from now").
  await v2ctl(endpoint, ["set", "/start", "x"]);
  const base = (await storeState(endpoint)).index;
  const rel = (s: string) =>
    s.replace(/("(?:modified|created)Index":|IDX=)(\d+)/g, (_, k, n) => `${k}${Number(n) - base}`);
  const set = (...args: string[]) => v2ctl(endpoint, args);
  let out = "";

  // A single watch from now ends with the first change.
  const once = etcdctl(endpoint, ["watch", "/k"]);
  await watchersReach(endpoint, 1);
  await set("set", "/k", "v1");
  // Its output is read once it has exited: the event may reach it after `set` has returned.
  const onceEnd = await within(once.status, "watch's end");
  out += `watch: ${once.stdout.join("|")} exit ${onceEnd.code}\n`;

  // Forever, recursive, and a command per change, all from the same moment.
  const forever = etcdctl(endpoint, ["watch", "--forever", "--recursive", "/dir"]);
  const json = etcdctl(endpoint, ["-o", "json", "watch", "--forever", "/dir/a"]);
  const exec = etcdctl(endpoint, [
    ...["exec-watch", "--recursive", "/dir", "--", "sh", "-c"],
    'echo "$ETCD_WATCH_ACTION $ETCD_WATCH_KEY=$ETCD_WATCH_VALUE IDX=$ETCD_WATCH_MODIFIED_INDEX"',
  ]);
  try {
    await watchersReach(endpoint, 3);
    for (
      const args of [["set", "/dir/a", "1"], ["mkdir", "/dir/sub"], ["set", "/dir/sub/b", "2"]]
    ) {
      await set(...args);
    }
    await set("rm", "/dir/a");
    await forever.waitFor("PrevNode.Value: 1");
    await exec.waitFor(/^delete \/dir\/a=/);
    await json.waitFor(/"action":"delete"/);
    out += `forever:\n${forever.stdout.join("\n")}\n`;
    out += `json:\n${json.stdout.join("\n")}\n`;
    // The commands run concurrently, so their lines may come in any order.
    out += `exec-watch:\n${exec.stdout.toSorted().join("\n")}\n${exec.lines.join("\n")}\n`;
  } finally {
    for (const p of [forever, json, exec]) p.kill("SIGKILL");
    await Promise.all([forever.status, json.status, exec.status]);
  }

  // From history: the first change of /k after the session's start.
  const after = etcdctl(endpoint, ["watch", "--after-index", String(base), "/k"]);
  try {
    const { code } = await within(after.status, "the watch from history");
    out += `after-index: ${code} ${after.stdout.join("|")}\n`;
  } finally {
    after.kill("SIGKILL");
  }
  return rel(out);
}

/** `p`, or a failure naming what did not come within 10 s. */
function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not come`)), 10_000);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** A long poll on the wire: when its headers come, what they say, and the body. */
async function longPoll(endpoint: string, query: string, writes: string[]): Promise<string> {
  const res = await within(fetch(`${endpoint}/v2/keys/lp?wait=true${query}`), "the headers");
  // The headers came before any write: the member flushed them at once.
  const head = `${res.status} ${res.headers.get("content-type")} ` +
    `cluster-id:${res.headers.has("x-etcd-cluster-id")} index:${res.headers.has("x-etcd-index")}`;
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let body = "";
  for (const value of writes) {
    await v2ctl(endpoint, ["set", "/lp", value]);
    // Each event arrives by itself, before the next write.
    const events = () => body.split("\n").length;
    for (const before = events(); events() === before;) {
      const chunk = await within(reader.read(), "an event");
      if (chunk.done) return `${head}\n${body}[ended early]`;
      body += chunk.value;
    }
  }
  const rest = query.includes("stream") ? "" : await readAll(reader);
  if (query.includes("stream")) await reader.cancel();
  return `${head}\n${body}${rest}[end]`.replace(/Index":\d+/g, 'Index":<n>');
}

/**
 * The same over a bare HTTP/1.1 connection: the head the member flushes at once (header names and
 * the framing; values that differ between clusters left out), then the chunk an event comes in.
 */
async function rawLongPoll(endpoint: string): Promise<string> {
  const url = new URL(endpoint);
  const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  const reader = conn.readable.pipeThrough(new TextDecoderStream()).getReader();
  try {
    const request = `GET /v2/keys/raw?wait=true HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`;
    await conn.write(new TextEncoder().encode(request));
    let text = "";
    while (!text.includes("\r\n\r\n")) text += (await within(reader.read(), "the head")).value;
    const [head, early] = text.split("\r\n\r\n");
    await v2ctl(endpoint, ["set", "/raw", "r"]);
    let chunk = early;
    while (!chunk.includes("}\n\r\n")) chunk += (await within(reader.read(), "the chunk")).value;
    // Connection handling and dates are the server's own; the rest is compared.
    const names = head.split("\r\n").slice(1).map((l) => l.slice(0, l.indexOf(":")).toLowerCase())
      .filter((n) => !["date", "connection"].includes(n) && !n.startsWith("access-control"));
    const framing = /transfer-encoding: *(\S+)/i.exec(head)?.[1];
    const event = chunk.replace(/Index":\d+/g, 'Index":<n>').replace(
      /^[0-9a-f]+\r\n/,
      "<size>\r\n",
    );
    return `${head.split("\r\n")[0]}\n${names.sort().join(",")}\n${framing}\n${event}`;
  } finally {
    await reader.cancel().catch(() => {});
  }
}

async function readAll(reader: ReadableStreamDefaultReader<string>): Promise<string> {
  let text = "";
  for (let r = await reader.read(); !r.done; r = await reader.read()) text += r.value;
  return text;
}

async function both<T>(pair: Pair, f: (endpoint: string) => Promise<T>): Promise<[T, T]> {
  return await Promise.all([f(pair.ours), f(pair.theirs)]);
}

itest(
  "etcdctl v2 watch, watch --forever and exec-watch print what they print with etcd 3.4",
  async () => {
    const pair = await startPair(BLOCK);
    try {
      const [ours, theirs] = await both(pair, watchSession);
      assert.equal(ours, theirs);
      assert.match(ours, /^watch: v1 exit 0\n/);
      assert.match(ours, /\[delete\] \/dir\/a\nPrevNode.Value: 1/);
      assert.match(ours, /set \/dir\/sub\/b=2 IDX=\d+/);
      assert.match(ours, /Ignored dir \/dir\/sub change/);
      assert.match(ours, /after-index: 0 v1\n/);

      const [once, theirsOnce] = await both(pair, (e) => longPoll(e, "", ["x"]));
      assert.equal(once, theirsOnce);
      assert.match(
        once,
        /^200 application\/json cluster-id:true index:true\n\{"action":"set".*\n\[end\]$/,
      );
      const [stream, theirsStream] = await both(
        pair,
        (e) => longPoll(e, "&stream=true", ["1", "2"]),
      );
      assert.equal(stream, theirsStream);
      assert.equal(
        stream.split("\n").filter((l) => l.startsWith('{"action":"set"')).length,
        2,
      );
      const [raw, theirsRaw] = await both(pair, rawLongPoll);
      assert.equal(raw, theirsRaw);
      assert.match(raw, /^HTTP\/1.1 200 OK\n.*x-etcd-index.*\nchunked\n<size>\r\n\{"action":"set"/);
    } finally {
      await pair.stop();
    }
  },
);

itest(
  "three etcd-ts members: v2 watches wake on every member, and all agree on v2 auth",
  async () => {
    const cluster = await makeCluster(CLUSTER_BLOCK, 3);
    const procs: Proc[] = [];
    try {
      for (let i = 0; i < 3; i++) cluster.start(i, ["--enable-v2"]);
      await Promise.all(
        cluster.members.map((m) => m.proc!.waitFor("ready to serve client requests")),
      );
      const { member: leader } = await cluster.leader();
      const [a, b] = cluster.members.filter((m) => m !== leader).map((m) => m.clientURL);
      const on = (endpoint: string, line: string) =>
        v2ctl(endpoint, ["--no-sync", ...line.split(" ")]);

      // A watch on each member (--no-sync keeps etcdctl on it); one write through a follower.
      for (const m of cluster.members) {
        procs.push(etcdctl(m.clientURL, ["--no-sync", "watch", "/c"]));
        await watchersReach(m.clientURL, 1);
      }
      await on(a, "set /c v");
      for (const p of procs) {
        assert.equal((await within(p.status, "a follower's watch")).code, 0);
        assert.deepEqual(p.stdout, ["v"]);
      }

      // Users and roles made through one follower, auth enabled through the other.
      let out = "";
      for (const line of ["user add root:pw", "user add u:pw", "role add r"]) {
        out += await on(
          a,
          line,
        );
      }
      out += await on(a, "role grant r --path /c --read");
      out += await on(a, "user grant u --roles r");
      out += await on(b, "auth enable");
      // A quorum read on the leader is applied after the enable: a barrier, not a wait.
      out += await on(leader.clientURL, "get --quorum /c");
      for (const line of ["user list", "--username root:pw user list", "--username u:pw get /c"]) {
        out += await on(leader.clientURL, line);
      }
      out += await on(leader.clientURL, "--username u:pw set /c x");
      assert.match(out, /auth enable\nAuthentication Enabled\n\[exit 0\]/);
      assert.match(out, /\$ etcdctl --no-sync user list\nInsufficient credentials\n\[exit 1\]/);
      assert.match(out, /root:pw user list\nroot\nu\n\[exit 0\]/);
      assert.match(out, /u:pw get \/c\nv\n\[exit 0\]/);
      assert.match(out, /u:pw set \/c x\nError: {2}110: The request requires user authentication/);
    } finally {
      for (const p of procs) p.kill("SIGKILL");
      await cluster.stopAll();
    }
  },
);
