// The guide's "Discovery" commands with etcd-ts members on loopback (127.0.22.10-13 stand for
// 10.0.1.10-13; each member listens on its own address only, since three members cannot share
// 127.0.0.1:2379). The discovery backend is a real etcd 3.4, an etcd-ts member, or
// `etcd-ts discovery-service`; real etcd 3.4 members bootstrap from etcd-ts too. Members run in
// a temporary working directory with the default data dir (<name>.etcd), as the guide's commands.
import assert from "node:assert/strict";
import {
  itest,
  type Proc,
  singleMemberFlags,
  spawn,
  startEtcdTs,
  startReady,
  startReadyEtcd,
  stop,
} from "../helpers/process.ts";
import { computeClusterId, computeMemberId, formatId } from "../../src/server/ids.ts";
import { tempDir } from "../helpers/tmp.ts";
import { etcdctlWith, memberList, spawnEtcdctl } from "../helpers/etcdctl.ts";
import { curlOutput } from "../helpers/curl.ts";

/** infra<i> of a cluster whose members sit at 127.0.22.<base + i>. */
const ip = (i: number, base = 10) => `127.0.22.${base + i}`;
const ETCD_BACKEND = "127.0.22.1";
const SERVICE = "127.0.22.2:8087";
const TS_BACKEND = "127.0.22.3";

/** The guide's discovery flags for infra<i>. */
function guideFlags(i: number, discovery: string, extra: string[] = [], base = 10): string[] {
  const at = ip(i, base);
  return words(`--name infra${i} --initial-advertise-peer-urls http://${at}:2380
    --listen-peer-urls http://${at}:2380
    --listen-client-urls http://${at}:2379
    --advertise-client-urls http://${at}:2379`)
    .concat(discovery ? ["--discovery", discovery] : [], extra);
}

const words = (text: string) => text.trim().split(/\s+/);

/** A one-member cluster with the v2 API on `host`, etcd's ports. */
const oneMember = (name: string, host: string) => [
  ...singleMemberFlags(name, host),
  "--enable-v2",
];

/** infra<i>'s flags without --discovery; the URL comes as ETCD_DISCOVERY (the guide's other form). */
const viaEnv = (url: string) => ({ env: { ETCD_DISCOVERY: url } });

/** A single-member backend with the v2 API: real etcd 3.4 or etcd-ts, on its own data dir. */
async function startBackend(bin: "etcd" | "etcd-ts", host: string, cwd: string): Promise<Proc> {
  const args = oneMember("backend", host);
  return await (bin === "etcd-ts" ? startReady : startReadyEtcd)(args, { cwd });
}

/** The cluster ID and the sorted member IDs that `endpoint` lists. */
async function clusterIds(endpoint: string): Promise<{ cluster: bigint; members: bigint[] }> {
  const list = await memberList(endpoint);
  return { cluster: list.clusterId, members: list.members.map((m) => m.ID).sort() };
}

/** Every member reports the one cluster whose IDs etcd computes with the URL as token. */
async function assertOneCluster(discovery: string, base = 10): Promise<void> {
  const ids = [0, 1, 2].map((i) => computeMemberId([`http://${ip(i, base)}:2380`], discovery));
  const want = { cluster: computeClusterId(ids), members: [...ids].sort() };
  for (let i = 0; i < 3; i++) {
    const got = await clusterIds(`http://${ip(i, base)}:2379`);
    assert.deepEqual(
      { cluster: formatId(got.cluster), members: got.members.map(formatId) },
      { cluster: formatId(want.cluster), members: want.members.map(formatId) },
      `member list from infra${i}`,
    );
  }
}

/** Starts infra0..2 at once (each waits for the others) and awaits their readiness. */
async function startMembers(
  discovery: string,
  dir: string,
  opts: { extra?: string[]; bin?: "etcd" | "etcd-ts"; base?: number; envFor2?: boolean } = {},
): Promise<Proc[]> {
  const procs = [0, 1, 2].map((i) => {
    const env = i === 2 && opts.envFor2;
    const args = guideFlags(i, env ? "" : discovery, opts.extra, opts.base);
    const how = { cwd: dir, ...(env ? viaEnv(discovery) : {}) };
    return opts.bin === "etcd" ? spawn("etcd", args, how) : startEtcdTs(args, how);
  });
  await Promise.all(procs.map((p) => p.waitFor("ready to serve client requests", 30_000)));
  return procs;
}

/** Stops etcd-ts processes with SIGTERM; `killed` ones (real etcd, not under test) SIGKILL. */
async function cleanup(procs: Proc[], dir: string, killed: Proc[] = []): Promise<void> {
  for (const p of killed) p.kill("SIGKILL");
  await Promise.all([...procs, ...killed].map((p) => killed.includes(p) ? p.status : stop(p)));
  await Deno.remove(dir, { recursive: true });
}

itest(
  "custom discovery on real etcd 3.4: one cluster, no-size error, restart warning",
  async () => {
    const dir = tempDir().path;
    const procs: Proc[] = [];
    const real: Proc[] = [];
    try {
      real.push(await startBackend("etcd", ETCD_BACKEND, dir));
      const token = "6c007a14875d53d9bf0ef5a6fc0257c817f0fb83";
      const url = `http://${ETCD_BACKEND}:2379/v2/keys/discovery/${token}`;
      const put = await curlOutput("-X", "PUT", `${url}/_config/size`, "-d", "value=3");
      assert.match(
        put,
        /"action":"set","node":\{"key":"\/discovery\/[0-9a-f]+\/_config\/size","value":"3"/,
      );
      const members = await startMembers(url, dir);
      procs.push(...members);
      assert.ok(members[0].lines.some((l) => l.includes("found 3 needed peer(s)")));
      await assertOneCluster(url);

      // A URL without _config/size: the guide's error, exit 1.
      const bare = `http://${ETCD_BACKEND}:2379/v2/keys/discovery/nosize`;
      const lone = startEtcdTs(guideFlags(3, bare), { cwd: dir });
      await lone.waitFor(
        `etcdmain: error: the cluster doesn't have a size configuration value in ${bare}/_config`,
      );
      assert.equal((await lone.status).code, 1);

      // Restart infra0 with --discovery still set: the guide's warning, then it serves again.
      assert.equal((await stop(members[0])).code, 143);
      const again = startEtcdTs(guideFlags(0, url), { cwd: dir });
      procs[0] = again;
      await again.waitFor(
        "etcdserver: discovery token ignored since a cluster has already been initialized. " +
          "Valid log found at infra0.etcd/member/wal",
      );
      await again.waitFor("ready to serve client requests", 30_000);
      await assertOneCluster(url);
    } finally {
      await cleanup(procs, dir, real);
    }
  },
);

itest(
  "etcd-ts as the custom discovery backend: etcd-ts members and real etcd 3.4 members",
  async () => {
    const dir = tempDir().path;
    const procs: Proc[] = [];
    const real: Proc[] = [];
    try {
      procs.push(await startBackend("etcd-ts", TS_BACKEND, dir));
      const ours =
        `http://${TS_BACKEND}:2379/v2/keys/discovery/3f0c2a1b9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a`;
      const theirs = `http://${TS_BACKEND}:2379/v2/keys/discovery/real-etcd-members`;
      for (const url of [ours, theirs]) {
        const put = await curlOutput("-X", "PUT", `${url}/_config/size`, "-d", "value=3");
        assert.match(
          put,
          /"action":"set","node":\{"key":"\/discovery\/[^"]+\/_config\/size","value":"3"/,
        );
      }
      // Both clusters bootstrap at the same time; the real members sit at 127.0.22.30-32 and
      // work in their own directory (same names, hence the same default data dirs).
      Deno.mkdirSync(`${dir}/real`);
      const [a, b] = await Promise.all([
        startMembers(ours, dir),
        startMembers(theirs, `${dir}/real`, { bin: "etcd", base: 30 }),
      ]);
      procs.push(...a);
      real.push(...b);
      await assertOneCluster(ours);
      await assertOneCluster(theirs, 30);
      // The registrations as the backend holds them: <member id hex> = name=peerURL.
      const listing = JSON.parse(await curlOutput(`${theirs}?sorted=true`));
      const want = [0, 1, 2].map((i) => {
        const peer = `http://${ip(i, 30)}:2380`;
        return { key: formatId(computeMemberId([peer], theirs)), value: `infra${i}=${peer}` };
      }).sort((x, y) => x.key < y.key ? -1 : 1);
      assert.deepEqual(
        listing.node.nodes.map((n: { key: string; value: string }) => ({
          key: n.key.slice(n.key.lastIndexOf("/") + 1),
          value: n.value,
        })),
        want,
      );
    } finally {
      await cleanup(procs, dir, real);
    }
  },
);

function startService(extra: string[] = []): Proc {
  return startEtcdTs([
    ...words(`discovery-service --listen-addr ${SERVICE} --advertise-url http://${SERVICE}`),
    ...extra,
  ]);
}

itest("public-style service: /new?size=3, three members, a fourth proxies or exits", async () => {
  const dir = tempDir().path;
  const procs: Proc[] = [];
  try {
    // Without --etcd-endpoint the tokens live in an embedded member under --data-dir.
    const service = startService(["--data-dir", `${dir}/service.etcd`]);
    procs.push(service);
    await service.waitFor(`discovery service listening on http://${SERVICE}`);
    const url = await curlOutput(`http://${SERVICE}/new?size=3`);
    assert.match(url, new RegExp(`^http://${SERVICE.replaceAll(".", "\\.")}/[0-9a-f]{32}$`));
    // Without a size, /new makes a token for 3 members, as the guide says.
    const dflt = await curlOutput(`http://${SERVICE}/new`);
    assert.equal(JSON.parse(await curlOutput(`${dflt}/_config/size`)).node.value, "3");
    // infra2 is given the URL as ETCD_DISCOVERY.
    procs.push(...await startMembers(url, dir, { extra: ["--enable-v2"], envFor2: true }));
    await assertOneCluster(url);

    // infra3 finds the cluster full: by default it becomes a v2 proxy to it; infra4, told to
    // exit instead, fails as etcd does.
    const proxy = startEtcdTs(guideFlags(3, url), { cwd: dir });
    procs.push(proxy);
    const exits = startEtcdTs(guideFlags(4, url, ["--discovery-fallback", "exit"]), { cwd: dir });
    await proxy.waitFor("etcdmain: discovery cluster full, falling back to proxy");
    await proxy.waitFor(`v2 proxy started listening on client requests on "http://${ip(3)}:2379"`);
    assert.equal((await exits.status).code, 1);
    assert.deepEqual(exits.lines.slice(-3).map((l) => l.slice(27)), [
      "E | etcdmain: failed to join discovery cluster (discovery: cluster is full)",
      `I | etcdmain: discovery token ${url} was used, but failed to bootstrap the cluster.`,
      "I | etcdmain: please generate a new discovery token and try to bootstrap again.",
    ]);
    assert.ok(!exits.lines.some((l) => l.includes("proxy")), exits.lines.join("\n"));

    const set = JSON.parse(
      await curlOutput(
        "-X",
        "PUT",
        `http://${ip(3)}:2379/v2/keys/message`,
        "-d",
        "value=through the proxy",
      ),
    );
    assert.deepEqual([set.action, set.node.key, set.node.value], [
      "set",
      "/message",
      "through the proxy",
    ]);
    for (const i of [0, 1, 2, 3]) {
      const got = JSON.parse(await curlOutput(`http://${ip(i)}:2379/v2/keys/message?quorum=true`));
      assert.equal(got.node.value, "through the proxy", `read from ${ip(i)}`);
    }

    // Restarted with the same command, the proxy takes its members from its cluster file.
    await stop(proxy);
    const again = startEtcdTs(guideFlags(3, url), { cwd: dir });
    procs[procs.indexOf(proxy)] = again;
    await again.waitFor(/proxy: using peer urls \[[^\]]+\] from cluster file/);
    await again.waitFor("v2 proxy started listening on client requests");
    const read = JSON.parse(await curlOutput(`http://${ip(3)}:2379/v2/keys/message`));
    assert.equal(read.node.value, "through the proxy");

    // The embedded member keeps the tokens across a restart of the service.
    await stop(service);
    const restarted = startService(["--data-dir", `${dir}/service.etcd`]);
    procs[procs.indexOf(service)] = restarted;
    await restarted.waitFor(`discovery service listening on http://${SERVICE}`);
    assert.equal(JSON.parse(await curlOutput(`${url}/_config/size`)).node.value, "3");
  } finally {
    await cleanup(procs, dir);
  }
});

itest(
  "service unreachable at first: the member retries with backoff, then bootstraps",
  async () => {
    const dir = tempDir().path;
    const procs: Proc[] = [];
    try {
      // Tokens of the service live in an etcd-ts member; this one is made before the service runs.
      procs.push(await startBackend("etcd-ts", TS_BACKEND, dir));
      const token = "0123456789abcdef0123456789abcdef";
      await curlOutput(
        "-X",
        "PUT",
        `http://${TS_BACKEND}:2379/v2/keys/discovery/${token}/_config/size`,
        "-d",
        "value=1",
      );
      const url = `http://${SERVICE}/${token}`;
      const member = startEtcdTs(guideFlags(0, url), { cwd: dir });
      procs.push(member);
      await member.waitFor(`discovery: error #0: dial tcp ${SERVICE}: connect: connection refused`);
      await member.waitFor(
        `discovery: cluster status check: error connecting to http://${SERVICE}, retrying in 2s`,
      );
      const service = startService(["--etcd-endpoint", `http://${TS_BACKEND}:2379`]);
      procs.push(service);
      await member.waitFor("discovery: found 1 needed peer(s)", 30_000);
      await member.waitFor("ready to serve client requests", 30_000);
      const id = computeMemberId([`http://${ip(0)}:2380`], url);
      const got = await clusterIds(`http://${ip(0)}:2379`);
      assert.deepEqual(got.members.map(formatId), [formatId(id)]);
      assert.equal(formatId(got.cluster), formatId(computeClusterId([id])));
    } finally {
      await cleanup(procs, dir);
    }
  },
);

/** One `ETCDCTL_API=2 etcdctl` command as a transcript entry: command, output, exit code. */
async function v2ctl(endpoint: string, args: string[]): Promise<string> {
  const r = await etcdctlWith({ api: 2 })(endpoint, ...args);
  return `$ etcdctl ${args.join(" ")}\n${r.stdout}${r.stderr}rc=${r.code}\n`;
}

const V2_SCRIPT = [
  "set /a/b hello",
  "get /a/b",
  "mk /a/d x",
  "mk /a/d x",
  "mkdir /e",
  "mkdir /e",
  "ls --sort /a", // unsorted order is Go map order in etcd
  "ls -r --sort /",
  "update /a/b v2",
  "update /a/zz v2",
  "updatedir --ttl 100 /e",
  "-o json ls --sort /",
  "-o json get /a/b",
  "rm /a/b",
  "rm /a",
  "rmdir /e",
  "get /a/b",
  "mk --in-order /q v",
  "ls /q",
  "set --swap-with-value nope /a/d y",
  "member list",
  "cluster-health",
].map((c) => c.split(" "));

/** The script, then watch and exec-watch from the current index; a transcript to compare. */
async function v2Index(endpoint: string): Promise<number> {
  const res = await fetch(`${endpoint}/v2/keys/`);
  await res.body?.cancel();
  return Number(res.headers.get("x-etcd-index"));
}

async function v2Session(endpoint: string): Promise<{ out: string; base: number }> {
  const base = await v2Index(endpoint);
  let out = "";
  for (const args of V2_SCRIPT) out += await v2ctl(endpoint, args);
  const after = String(await v2Index(endpoint));
  const v2 = { api: 2 } as const;
  const watch = spawnEtcdctl(endpoint, ["watch", "--after-index", after, "/w1"], v2);
  const exec = spawnEtcdctl(endpoint, [
    ...words(`exec-watch --after-index ${after} --recursive /w -- sh -c`),
    'echo "$ETCD_WATCH_ACTION $ETCD_WATCH_KEY=$ETCD_WATCH_VALUE"',
  ], v2);
  try {
    out += await v2ctl(endpoint, ["set", "/w1", "first"]);
    out += await v2ctl(endpoint, ["set", "/w/x", "second"]);
    // Its output is read once it has exited: the event may reach it after `set` has returned.
    const { code } = await watch.status;
    out += `watch: ${watch.stdout.join("\n")} rc=${code}\n`;
    out += `exec-watch: ${await exec.waitFor("/w/x")}\n`;
  } finally {
    exec.kill("SIGKILL");
    watch.kill("SIGKILL");
    await exec.status;
  }
  return { out, base };
}

itest("ETCDCTL_API=2 etcdctl against an etcd-ts member, compared with etcd 3.4", async () => {
  const dir = tempDir().path;
  const procs: Proc[] = [];
  const real: Proc[] = [];
  const ours = "127.0.22.20";
  const theirs = "127.0.22.21";
  try {
    // Both are named s1, so each works in its own directory (default data dir s1.etcd).
    Deno.mkdirSync(`${dir}/theirs`);
    const etcd = spawn("etcd", oneMember("s1", theirs), { cwd: `${dir}/theirs` });
    real.push(etcd);
    const member = await startReady(oneMember("s1", ours), { cwd: dir });
    procs.push(member);
    // The cluster-version write, which also advances the v2 index (in etcd-ts too, since it
    // keeps etcd's v2 store), can follow readiness on either.
    await Promise.all(
      [etcd, member].map((p) => p.waitFor("set the initial cluster version to 3.4", 30_000)),
    );

    const [got, want] = await Promise.all([
      v2Session(`http://${ours}:2379`),
      v2Session(`http://${theirs}:2379`),
    ]);
    // etcd's v2 index also counts its internal membership writes, so indexes are compared
    // relative to where each store stood before the script; addresses and IDs differ too.
    const normal = ({ out, base }: { out: string; base: number }, host: string) => {
      const rel = (n: string) => String(Number(n) === 0 ? 0 : Number(n) - base);
      return out.replaceAll(host, "<ip>").replace(/\b[0-9a-f]{16}\b/g, "<id>")
        .replace(/\[(\d+)\]/g, (_, n) => `[${rel(n)}]`)
        .replace(/("(?:created|modified)Index"):(\d+)/g, (_, k, n) => `${k}:${rel(n)}`)
        .replace(/\/q\/(\d{20})/g, (_, n) => `/q/${rel(n)}`)
        .replace(/"expiration":"[^"]+","ttl":\d+/g, '"expiration":<t>,"ttl":<ttl>');
    };
    assert.equal(normal(got, ours), normal(want, theirs));
    const text = got.out;
    assert.match(
      text,
      /\$ etcdctl mk \/a\/d x\nError: {2}105: Key already exists \(\/a\/d\) \[\d+\]\nrc=4/,
    );
    assert.match(text, /\$ etcdctl rm \/a\/b\nPrevNode.Value: v2\nrc=0/);
    assert.match(
      text,
      /name=s1 peerURLs=http:\/\/127.0.22.20:2380 clientURLs=http:\/\/127.0.22.20:2379 isLeader=true/,
    );
    assert.match(text, /"key":"\/e","dir":true,[^}]*"expiration":"[^"]+","ttl":(100|99)\}/);
    assert.match(text, /watch: first rc=0\nexec-watch: set \/w\/x=second\n/);
  } finally {
    await cleanup(procs, dir, real);
  }
});
