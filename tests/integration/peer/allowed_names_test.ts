// --peer-cert-allowed-cn and --peer-cert-allowed-hostname side by side with etcd 3.4: three
// members whose third peer certificate has the wrong CN (or is not valid for the allowed
// hostname). Both ends of a peer connection check the other's certificate, so the two good
// members form the cluster and serve, and the third never joins: the good members refuse its
// connections with etcd's line, and refuse to talk to its server. openssl-made certificates.
// etcd in 127.0.192.x, etcd-ts in 127.0.193.x.
import assert from "node:assert/strict";
import { issueCerts, type IssuedCerts } from "../../helpers/certs.ts";
import { etcdctl } from "../../helpers/etcdctl.ts";
import { assertPortsFree } from "../../helpers/ports.ts";
import { ETCD_TS, itest, type Proc, spawn, stop } from "../../helpers/process.ts";
import { tempDir } from "../../helpers/tmp.ts";

type Impl = "etcd" | "etcd-ts";
const BLOCKS: Record<Impl, string> = { etcd: "127.0.192", "etcd-ts": "127.0.193" };
const ip = (impl: Impl, i: number) => `${BLOCKS[impl]}.${i + 1}`;
const ALL_IPS = ["127.0.0.1", ...[0, 1, 2].flatMap((i) => [ip("etcd", i), ip("etcd-ts", i)])];

async function makeCerts(dir: string): Promise<IssuedCerts> {
  const ips = ALL_IPS.map((a) => `IP:${a}`).join(",");
  return await issueCerts(dir, [
    { name: "good", cn: "good.example.com", san: `${ips},DNS:good.example.com` },
    { name: "bad", cn: "bad.example.com", san: `${ips},DNS:bad.example.com` },
  ]);
}

/** Starts the three members; member 2 presents the bad certificate. */
async function startCluster(impl: Impl, dir: string, certs: IssuedCerts, allowed: string[]) {
  const peer = (i: number) => `https://${ip(impl, i)}:2380`;
  const cluster = [0, 1, 2].map((i) => `p${i}=${peer(i)}`).join(",");
  const procs: Proc[] = [];
  for (const i of [0, 1, 2]) {
    await assertPortsFree(ip(impl, i), [2379, 2380]);
    const pair = i < 2 ? "good" : "bad";
    const client = `http://${ip(impl, i)}:2379`;
    procs.push(spawn(impl === "etcd" ? "etcd" : ETCD_TS, [
      ...["--name", `p${i}`, "--data-dir", `${dir}/${impl}-p${i}`],
      ...["--listen-client-urls", client, "--advertise-client-urls", client],
      ...["--listen-peer-urls", peer(i), "--initial-advertise-peer-urls", peer(i)],
      ...["--initial-cluster", cluster, "--initial-cluster-token", "allowed-names"],
      ...["--peer-cert-file", certs.cert(pair), "--peer-key-file", certs.key(pair)],
      ...["--peer-trusted-ca-file", certs.ca, "--peer-client-cert-auth", ...allowed],
    ]));
  }
  return procs;
}

const REJECTED = /^\S+ \S+ I \| embed: rejected connection from "127\.0\.0\.1:\d+" \((.*)\)$/;

/** What the cluster looks like once the good members serve, and what they logged. */
async function observe(impl: Impl, procs: Proc[]) {
  const [p0, p1, p2] = procs;
  await Promise.all([p0, p1].map((p) => p.waitFor("ready to serve client requests", 30_000)));
  const client = (i: number) => `http://${ip(impl, i)}:2379`;
  await Promise.all([p0, p1].map((p) => p.waitFor(REJECTED, 20_000)));
  const put = await etcdctl(client(0), "put", "k", "v");
  const get = await etcdctl(client(1), "get", "k", "--print-value-only");
  const list = (await etcdctl(client(0), "member", "list")).stdout
    .replaceAll(BLOCKS[impl], "<block>").split("\n").map((l) => l.replace(/^\w+, /, "<id>, "));
  const rejected = [p0, p1].map((p) =>
    p.lines.map((l) => REJECTED.exec(l)?.[1]).find((r) => r !== undefined)
  );
  // Member 2 never hears from the others: they refuse its server certificate when they dial
  // it, so it never learns who leads (it would, were only its own connections refused).
  const followedAt = (l: string) => Number(/became follower at term (\d+)/.exec(l)?.[1] ?? 0);
  const badHeardLeader = p2.lines.some((l) => l.includes("elected leader") || followedAt(l) > 1);
  return {
    put: put.stdout,
    get: get.stdout,
    list: list.sort(),
    rejected,
    badHeardLeader,
    badServed: p2.lines.some((l) => /ready to serve|published/.test(l)),
  };
}

async function sideBySide(allowed: string[]) {
  const dir = tempDir({ prefix: "allowed-names-" });
  const certs = await makeCerts(dir.path);
  const procs: Proc[] = [];
  try {
    const clusters = await Promise.all(
      (["etcd", "etcd-ts"] as const).map(async (impl) => {
        const members = await startCluster(impl, dir.path, certs, allowed);
        procs.push(...members);
        return await observe(impl, members);
      }),
    );
    return { etcd: clusters[0], ours: clusters[1] };
  } finally {
    await Promise.all(procs.map((p) => stop(p)));
    await Deno.remove(dir.path, { recursive: true }).catch(() => {});
  }
}

function expectRefused(got: Awaited<ReturnType<typeof observe>>) {
  assert.equal(got.put, "OK\n");
  assert.equal(got.get, "v\n");
  assert.deepEqual(got.list, [
    "",
    "<id>, started, p0, https://<block>.1:2380, http://<block>.1:2379, false",
    "<id>, started, p1, https://<block>.2:2380, http://<block>.2:2379, false",
    "<id>, started, p2, https://<block>.3:2380, , false",
  ]);
  const names = `IPAddresses [${ALL_IPS.map((a) => `"${a}"`).join(" ")}], ` +
    'DNSNames ["bad.example.com"]';
  assert.deepEqual(
    got.rejected,
    [0, 1].map(() => `error "client certificate authentication failed", ServerName "", ${names}`),
  );
  assert.equal(got.badHeardLeader, false);
  assert.equal(got.badServed, false);
}

itest(
  "--peer-cert-allowed-cn: the two good members form the cluster, the third is refused",
  async () => {
    const { etcd, ours } = await sideBySide(["--peer-cert-allowed-cn", "good.example.com"]);
    expectRefused(etcd);
    expectRefused(ours);
    assert.deepEqual(ours, etcd);
  },
);

itest(
  "--peer-cert-allowed-hostname: the same with a certificate not valid for the name",
  async () => {
    const { etcd, ours } = await sideBySide(["--peer-cert-allowed-hostname", "good.example.com"]);
    expectRefused(etcd);
    expectRefused(ours);
    assert.deepEqual(ours, etcd);
  },
);
