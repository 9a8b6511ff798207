// The image under podman (`deno task test:image`; slow, so not in `deno task test`): built
// offline by `deno task image` into a private store, three containers form the clustering
// guide's static cluster on 127.0.110.10-12 (host network), etcdctl on the host writes and reads
// through each, a member killed and replaced by a new container on the same volume restarts
// from its data, and SIGTERM stops each one cleanly. Then one container bootstraps with
// --discovery-srv from dnsmasq in a private network namespace (127.0.111.10 inside it).
import assert from "node:assert/strict";
import { createDnsNamespace } from "../../helpers/dns.ts";
import { type Proc } from "../../helpers/process.ts";
import { assertPortsFree } from "../../helpers/ports.ts";
import { etcdctl } from "../../helpers/etcdctl.ts";
import { etcdctlWith, memberList } from "../../helpers/etcdctl.ts";
import { createPodman, type Podman } from "./podman.ts";

const repo = new URL("../../../", import.meta.url).pathname;
const IMAGE = "localhost/etcd-ts:test";
const ip = (i: number) => `127.0.110.${10 + i}`;
const endpoint = (i: number) => `http://${ip(i)}:2379`;
const CLUSTER = [0, 1, 2].map((i) => `infra${i}=http://${ip(i)}:2380`).join(",");
const READY = "ready to serve client requests";
const ETCD_UID = 10001;

/** The guide's static flags for infra<i>, as ETCD_* variables (for infra2) or as flags. */
function staticConfig(i: number): Record<string, string> {
  return {
    NAME: `infra${i}`,
    INITIAL_ADVERTISE_PEER_URLS: `http://${ip(i)}:2380`,
    LISTEN_PEER_URLS: `http://${ip(i)}:2380`,
    LISTEN_CLIENT_URLS: endpoint(i),
    ADVERTISE_CLIENT_URLS: endpoint(i),
    INITIAL_CLUSTER_TOKEN: "etcd-cluster-1",
    INITIAL_CLUSTER: CLUSTER,
    INITIAL_CLUSTER_STATE: "new",
  };
}

function asFlags(config: Record<string, string>): string[] {
  return Object.entries(config).flatMap((
    [k, v],
  ) => [`--${k.toLowerCase().replaceAll("_", "-")}`, v]);
}

function asEnv(config: Record<string, string>): string[] {
  return Object.entries(config).flatMap(([k, v]) => ["--env", `ETCD_${k}=${v}`]);
}

/** infra0 and infra1 take flags, infra2 only ETCD_* variables; no --data-dir: the volume. */
function startStatic(podman: Podman, i: number): Proc {
  const config = staticConfig(i);
  const byEnv = i === 2;
  return podman.spawn(
    "run",
    "--name",
    `infra${i}`,
    "--network",
    "host",
    "--volume",
    `infra${i}-data:/var/lib/etcd`,
    ...(byEnv ? asEnv(config) : []),
    IMAGE,
    ...(byEnv ? [] : asFlags(config)),
  );
}

async function buildImage(podman: Podman): Promise<void> {
  const started = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--no-config",
      `${repo}scripts/image/main.ts`,
      "--tag",
      IMAGE,
      "--context",
      `${podman.dir}/context`,
    ],
    env: podman.env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const log = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, log);
  const summary = log.match(/^image: .*$/gm)!;
  console.log(
    `  ${summary.join("\n  ")} (test wall ${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );
}

async function inspect(podman: Podman, what: string, format: string): Promise<string> {
  const r = await podman.run(...what.split(" "), "--format", format);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

async function assertImageConfig(podman: Podman): Promise<void> {
  const config = JSON.parse(await inspect(podman, `image inspect ${IMAGE}`, "{{json .Config}}"));
  assert.equal(config.User, "etcd");
  assert.deepEqual(Object.keys(config.ExposedPorts).sort(), ["2379/tcp", "2380/tcp"]);
  assert.deepEqual(Object.keys(config.Volumes), ["/var/lib/etcd"]);
  assert.equal(config.WorkingDir, "/var/lib/etcd");
  assert.equal(config.Entrypoint[0], "/usr/local/bin/deno");
  const layers = await inspect(podman, `image inspect ${IMAGE}`, "{{len .RootFS.Layers}}");
  assert.equal(layers, "2", "FROM scratch: the root filesystem and the volume directory");
}

/** The member runs as PID 1 of its container, as the unprivileged user etcd. */
async function assertPid1NonRoot(podman: Podman, name: string): Promise<void> {
  const pid = await inspect(podman, `container inspect ${name}`, "{{.State.Pid}}");
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  assert.match(status, new RegExp(`^Uid:\\s+${ETCD_UID}\\s`, "m"));
  assert.match(status, /^NSpid:\s+\d+\s+1$/m, "not PID 1 in its PID namespace");
}

async function assertDataOwnedByEtcd(podman: Podman, volume: string, dataDir: string) {
  const mountpoint = await inspect(podman, `volume inspect ${volume}`, "{{.Mountpoint}}");
  for (const path of [dataDir, `${dataDir}/member/wal`, `${dataDir}/member/snap`]) {
    assert.equal(Deno.statSync(`${mountpoint}/${path}`).uid, ETCD_UID, `${path} in ${volume}`);
  }
}

async function put(i: number, key: string, value: string): Promise<void> {
  const r = await etcdctl(endpoint(i), "put", key, value);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "OK");
}

async function get(i: number, key: string, ...flags: string[]): Promise<string> {
  const r = await etcdctl(endpoint(i), "get", key, "--print-value-only", ...flags);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

/** `podman stop` sends SIGTERM; the member shuts down itself, exit status 0 as etcd's PID 1. */
async function stopCleanly(podman: Podman, name: string, proc: Proc): Promise<void> {
  const r = await podman.run("stop", "--time", "30", name);
  assert.equal(r.code, 0, r.stderr);
  const status = await proc.status;
  assert.equal(
    status.code,
    0,
    `${name} exited ${status.code}:\n${proc.lines.slice(-10).join("\n")}`,
  );
  assert.ok(proc.lines.some((l) => l.includes("received terminated signal, shutting down")));
}

const termOf = (line: string) => Number(/became leader at term (\d+)/.exec(line)?.[1] ?? 0);

/** The member that logged the latest "became leader", and its term. */
function leader(procs: Proc[]): { index: number; term: number } {
  const terms = procs.map((p) => Math.max(0, ...p.lines.map(termOf)));
  const term = Math.max(...terms);
  assert.ok(term > 0, "no member became leader");
  return { index: terms.indexOf(term), term };
}

async function staticCluster(podman: Podman): Promise<void> {
  for (const i of [0, 1, 2]) await assertPortsFree(ip(i), [2379, 2380]);
  const procs = [0, 1, 2].map((i) => startStatic(podman, i));
  await Promise.all(procs.map((p) => p.waitFor(READY, 60_000)));
  await assertPid1NonRoot(podman, "infra0");

  for (const i of [0, 1, 2]) await put(i, `written-through-${i}`, `infra${i}`);
  for (const i of [0, 1, 2]) {
    for (const j of [0, 1, 2]) assert.equal(await get(i, `written-through-${j}`), `infra${j}`);
  }
  const listed = await etcdctl(endpoint(0), "member", "list");
  assert.equal(listed.code, 0, listed.stderr);
  for (const i of [0, 1, 2]) {
    assert.match(listed.stdout, new RegExp(`infra${i}, http://${ip(i)}:2380`));
  }
  for (const i of [0, 1, 2]) {
    await assertDataOwnedByEtcd(podman, `infra${i}-data`, `infra${i}.etcd`);
  }

  // The leader, killed outright, then replaced by a new container on the same volume: it
  // restarts from its own write-ahead log and catches up on what was written meanwhile.
  const { index: k, term } = leader(procs);
  assert.equal((await podman.run("kill", "--signal", "KILL", `infra${k}`)).code, 0);
  assert.equal((await procs[k].status).code, 137);
  assert.equal((await podman.run("rm", `infra${k}`)).code, 0);
  const others = [0, 1, 2].filter((i) => i !== k);
  await Promise.any(others.map((i) => procs[i].waitFor((l) => termOf(l) > term, 30_000)));
  await put(others[0], "written-while-down", "yes");
  procs[k] = startStatic(podman, k);
  await procs[k].waitFor(READY, 60_000);
  assert.ok(
    procs[k].lines.some((l) => /restarting member \w+ in cluster/.test(l)),
    "not a restart",
  );
  assert.equal(await get(k, `written-through-${k}`, "--consistency=s"), `infra${k}`);
  assert.equal(await get(k, "written-while-down"), "yes");
  const again = await etcdctl(endpoint(k), "member", "list");
  assert.equal(again.stdout, listed.stdout, "the membership changed across the restart");

  for (const i of [0, 1, 2]) await stopCleanly(podman, `infra${i}`, procs[i]);
}

async function discoverySrv(podman: Podman): Promise<void> {
  const host = "127.0.111.10";
  const ns = await createDnsNamespace({
    srv: [{ name: "_etcd-server._tcp.example.com", target: "infra0.example.com", port: 2380 }],
    hosts: [{ name: "infra0.example.com", addresses: [host] }],
  });
  try {
    const proc = podman.spawn(
      "run",
      "--name",
      "srv0",
      "--network",
      `ns:/run/netns/${ns.name}`,
      "--dns",
      "127.0.0.1",
      IMAGE,
      ...asFlags({
        NAME: "infra0",
        DISCOVERY_SRV: "example.com",
        INITIAL_ADVERTISE_PEER_URLS: "http://infra0.example.com:2380",
        ADVERTISE_CLIENT_URLS: "http://infra0.example.com:2379",
        LISTEN_CLIENT_URLS: `http://${host}:2379`,
        LISTEN_PEER_URLS: `http://${host}:2380`,
        INITIAL_CLUSTER_TOKEN: "etcd-cluster-srv",
        INITIAL_CLUSTER_STATE: "new",
      }),
    );
    await proc.waitFor(READY, 60_000);
    assert.ok(
      proc.lines.some((l) =>
        l.includes(
          "got bootstrap from DNS for etcd-server at infra0=http://infra0.example.com:2380",
        )
      ),
    );
    const client = `http://${host}:2379`;
    assert.equal(
      (await etcdctlWith({ host: ns })(client, "put", "found-by", "srv")).stdout.trim(),
      "OK",
    );
    assert.equal(
      (await etcdctlWith({ host: ns })(client, "get", "found-by", "--print-value-only")).stdout
        .trim(),
      "srv",
    );
    const { members } = await memberList(client, { host: ns });
    assert.deepEqual(members.map((m) => [m.name, m.peerURLs]), [["infra0", [
      "http://infra0.example.com:2380",
    ]]]);
    await stopCleanly(podman, "srv0", proc);
  } finally {
    await podman.run("rm", "--force", "--time", "0", "srv0");
    await ns.close();
  }
}

Deno.test({
  name:
    "the image under podman: the guide's static cluster, restart from the volume, SIGTERM, DNS SRV",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const podman = createPodman();
    const timed = (name: string, fn: () => Promise<void>) =>
      t.step(name, async () => {
        const start = performance.now();
        try {
          await fn();
        } finally {
          console.log(`  [${name}] ${((performance.now() - start) / 1000).toFixed(1)} s`);
        }
      });
    try {
      await timed("deno task image builds it offline", async () => {
        await buildImage(podman);
        await assertImageConfig(podman);
      });
      await timed("three containers form the static cluster", () => staticCluster(podman));
      await timed("a container bootstraps with --discovery-srv", () => discoverySrv(podman));
    } finally {
      await podman.close();
    }
  },
});
