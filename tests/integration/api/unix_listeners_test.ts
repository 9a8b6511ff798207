// unix:// and unixs:// listen URLs side by side with etcd 3.4: the socket file is named by the
// URL's host ("unix://localhost:23790" listens on the file "localhost:23790" in the member's
// working directory); etcdctl and curl reach the member through it; the files go away with a
// clean stop, and a stale client socket left by a killed member makes the next start fail as it
// does etcd; a unixs client URL speaks TLS on its socket; members on unix peer URLs form a
// cluster; unixs peers are refused for their certificates' SANs (a unix socket's client has no
// address to check) unless --experimental-peer-skip-client-san-verification. Every member runs
// in its own temporary directory; no TCP address is used.
import assert from "node:assert/strict";
import { issueCerts } from "../../helpers/certs.ts";
import { ETCD_TS, itest, type Proc, type Run, run, spawn, stop } from "../../helpers/process.ts";
import { tempDir } from "../../helpers/tmp.ts";

const IMPLS = { etcd: "etcd", "etcd-ts": ETCD_TS } as const;
type Impl = keyof typeof IMPLS;

const client = (i: number) => `unix://localhost:${23790 + i}`;
const peer = (i: number, scheme = "unix") => `${scheme}://localhost:${23800 + i}`;

/** The flags of member `i` of `n` (named m0...), every URL a socket in the working directory. */
function memberArgs(i: number, n: number, peerScheme = "unix", extra: string[] = []): string[] {
  const cluster = Array.from({ length: n }, (_, j) => `m${j}=${peer(j, peerScheme)}`).join(",");
  return [
    ...["--name", `m${i}`, "--data-dir", `m${i}.etcd`],
    ...["--listen-client-urls", client(i), "--advertise-client-urls", client(i)],
    ...["--listen-peer-urls", peer(i, peerScheme)],
    ...["--initial-advertise-peer-urls", peer(i, peerScheme)],
    ...["--initial-cluster", cluster, ...extra],
  ];
}

const start = (impl: Impl, cwd: string, args: string[]) => spawn(IMPLS[impl], args, { cwd });
const dropStamp = (l: string) => l.replace(/^\S+ \S+ /, "");
const ready = (p: Proc) => p.waitFor("ready to serve client requests", 30_000);

/** etcdctl v3 in `cwd`, where the sockets are. */
const ctl = (cwd: string, endpoints: string, ...args: string[]): Promise<Run> =>
  run("etcdctl", [`--endpoints=${endpoints}`, "--dial-timeout=5s", ...args], {
    env: { ETCDCTL_API: "3" },
    cwd,
  });

const curl = (cwd: string, socket: string, ...args: string[]) =>
  run("curl", ["-sS", "--max-time", "10", "--unix-socket", socket, ...args], { cwd });

const isSocket = (path: string) => {
  try {
    return Deno.statSync(path).isSocket === true;
  } catch {
    return false;
  }
};

/** What a client sees of a single member on unix sockets, and what it logged. */
async function singleMember(impl: Impl, dir: string) {
  const p = start(impl, dir, memberArgs(0, 1));
  await ready(p);
  const out: Record<string, unknown> = {};
  out.sockets = ["localhost:23790", "localhost:23800"].map((f) => isSocket(`${dir}/${f}`));
  out.put = (await ctl(dir, client(0), "put", "k", "v")).stdout;
  out.get = (await ctl(dir, client(0), "get", "k")).stdout;
  out.members = (await ctl(dir, client(0), "member", "list")).stdout;
  const status = JSON.parse((await ctl(dir, client(0), "endpoint", "status", "-w", "json")).stdout);
  out.status = status.map((s: { Endpoint: string }) => s.Endpoint);
  out.version = (await curl(dir, "localhost:23790", "http://localhost/version")).stdout;
  const range = await curl(
    dir,
    "localhost:23790",
    "http://localhost/v3/kv/range",
    "-d",
    `{"key":"aw=="}`,
  );
  out.range = JSON.parse(range.stdout).kvs;
  await p.waitFor(/serving insecure client requests on/);
  out.lines = p.lines.filter((l) => /listening for peers on|serving insecure client/.test(l))
    .map(dropStamp);
  await stop(p);
  out.afterStop = ["localhost:23790", "localhost:23800"].map((f) => isSocket(`${dir}/${f}`));
  // Killed, the member leaves its sockets behind; the client one stops the next start.
  const again = start(impl, dir, memberArgs(0, 1));
  await ready(again);
  again.kill("SIGKILL");
  await again.status;
  const third = start(impl, dir, memberArgs(0, 1));
  out.restart = (await third.status).code;
  const fatal = third.lines.find((l) => / C \| /.test(l));
  out.restartLine = fatal && dropStamp(fatal);
  return out;
}

itest("unix:// client and peer URLs: etcdctl, curl and the sockets as with etcd", async () => {
  const dirs = {
    etcd: tempDir({ prefix: "unix-etcd-" }),
    "etcd-ts": tempDir({ prefix: "unix-ts-" }),
  };
  try {
    const [etcd, ours] = await Promise.all([
      singleMember("etcd", dirs.etcd.path),
      singleMember("etcd-ts", dirs["etcd-ts"].path),
    ]);
    assert.deepEqual(etcd.sockets, [true, true]);
    assert.equal(etcd.put, "OK\n");
    assert.equal(etcd.get, "k\nv\n");
    assert.deepEqual(etcd.status, ["unix://localhost:23790"]);
    assert.deepEqual(etcd.lines, [
      "I | embed: listening for peers on localhost:23800",
      "N | embed: serving insecure client requests on localhost:23790, this is strongly discouraged!",
    ]);
    assert.deepEqual(etcd.afterStop, [false, false]);
    assert.equal(etcd.restart, 1);
    assert.equal(
      etcd.restartLine,
      "C | etcdmain: listen unix localhost:23790: bind: address already in use",
    );
    assert.deepEqual(ours, etcd);
  } finally {
    for (const d of Object.values(dirs)) await Deno.remove(d.path, { recursive: true });
  }
});

/** The `n` members of a cluster in `dir`, started. */
const cluster = (impl: Impl, dir: string, n: number, scheme: string, extra: string[]) =>
  Array.from({ length: n }, (_, i) => start(impl, dir, memberArgs(i, n, scheme, extra)));

itest("three members on unix peer URLs form a cluster, as etcd's do", async () => {
  const dirs = {
    etcd: tempDir({ prefix: "unix3-etcd-" }),
    "etcd-ts": tempDir({ prefix: "unix3-ts-" }),
  };
  const procs: Proc[] = [];
  try {
    const answers: Record<string, string[]> = {};
    for (const impl of ["etcd", "etcd-ts"] as const) {
      const dir = dirs[impl].path;
      const members = cluster(impl, dir, 3, "unix", []);
      procs.push(...members);
      await Promise.all(members.map(ready));
      const put = await ctl(dir, client(0), "put", "k", impl);
      const get = await ctl(dir, client(2), "get", "k", "--print-value-only");
      const health = await ctl(dir, [0, 1, 2].map(client).join(","), "endpoint", "health");
      const list = await ctl(dir, client(1), "member", "list");
      answers[impl] = [
        put.stdout,
        get.stdout.replace(impl, "<impl>"),
        String(health.stderr.match(/is healthy/g)?.length ?? 0),
        list.stdout,
      ];
    }
    assert.equal(answers.etcd[0], "OK\n");
    assert.equal(answers.etcd[1], "<impl>\n");
    assert.equal(answers.etcd[2], "3");
    assert.match(
      answers.etcd[3],
      /, started, m0, unix:\/\/localhost:23800, unix:\/\/localhost:23790, false\n/,
    );
    assert.deepEqual(answers["etcd-ts"], answers.etcd);
  } finally {
    await Promise.all(procs.map((p) => stop(p)));
    for (const d of Object.values(dirs)) await Deno.remove(d.path, { recursive: true });
  }
});

itest(
  "unixs peers: refused for their SANs unless SAN verification is skipped, as by etcd",
  async () => {
    const certDir = tempDir({ prefix: "unixs-certs-" });
    const certs = await issueCerts(certDir.path, [{ name: "peer", san: "DNS:localhost" }]);
    const tls = [
      ...["--peer-cert-file", certs.cert("peer"), "--peer-key-file", certs.key("peer")],
      ...["--peer-trusted-ca-file", certs.ca, "--peer-client-cert-auth"],
    ];
    const skip = "--experimental-peer-skip-client-san-verification";
    const procs: Proc[] = [];
    const dirs: string[] = [];
    try {
      const seen: Record<string, string[]> = {};
      for (const impl of ["etcd", "etcd-ts"] as const) {
        // Without the skip: every peer connection is refused, with etcd's line.
        let dir = tempDir({ prefix: `unixs-${impl}-` }).path;
        dirs.push(dir);
        let members = cluster(impl, dir, 2, "unixs", tls);
        procs.push(...members);
        const refused = await members[0].waitFor(/rejected connection from/, 20_000);
        await Promise.all(members.map((p) => stop(p)));
        // With it: the two form a cluster.
        dir = tempDir({ prefix: `unixs-skip-${impl}-` }).path;
        dirs.push(dir);
        members = cluster(impl, dir, 2, "unixs", [...tls, skip]);
        procs.push(...members);
        await Promise.all(members.map(ready));
        const list = await ctl(dir, client(0), "member", "list");
        seen[impl] = [dropStamp(refused), list.stdout];
      }
      assert.equal(
        seen.etcd[0],
        'I | embed: rejected connection from "@" (error "address @: missing port in address", ' +
          'ServerName "localhost", IPAddresses [], DNSNames ["localhost"])',
      );
      assert.match(
        seen.etcd[1],
        /, started, m1, unixs:\/\/localhost:23801, unix:\/\/localhost:23791, false\n/,
      );
      assert.deepEqual(seen["etcd-ts"], seen.etcd);
    } finally {
      await Promise.all(procs.map((p) => stop(p)));
      for (const d of [certDir.path, ...dirs]) await Deno.remove(d, { recursive: true });
    }
  },
);

itest("a unixs:// client URL: etcdctl and curl over TLS on the socket, as with etcd", async () => {
  const certDir = tempDir({ prefix: "unixs-client-certs-" });
  const certs = await issueCerts(certDir.path, [{ name: "server", san: "DNS:localhost" }]);
  const procs: Proc[] = [];
  const dirs: string[] = [];
  try {
    const seen: Record<string, string[]> = {};
    for (const impl of ["etcd", "etcd-ts"] as const) {
      const dir = tempDir({ prefix: `unixs-client-${impl}-` }).path;
      dirs.push(dir);
      const url = "unixs://localhost:23790";
      const args = memberArgs(0, 1).map((a) => a === client(0) ? url : a);
      const p = start(impl, dir, [
        ...args,
        ...["--cert-file", certs.cert("server"), "--key-file", certs.key("server")],
      ]);
      procs.push(p);
      await ready(p);
      const put = await ctl(dir, url, `--cacert=${certs.ca}`, "put", "k", "v");
      const version = await curl(
        dir,
        "localhost:23790",
        "--cacert",
        certs.ca,
        "https://localhost/version",
      );
      // A plain client gets no answer: the socket speaks TLS only.
      const plain = await curl(dir, "localhost:23790", "http://localhost/version");
      const line = await p.waitFor(/serving client requests on/);
      seen[impl] = [put.stdout, version.stdout, String(plain.code), dropStamp(line)];
    }
    assert.deepEqual(seen.etcd, [
      "OK\n",
      '{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}',
      "52",
      "I | embed: serving client requests on localhost:23790",
    ]);
    assert.deepEqual(seen["etcd-ts"], seen.etcd);
  } finally {
    await Promise.all(procs.map((p) => stop(p)));
    for (const d of [certDir.path, ...dirs]) await Deno.remove(d, { recursive: true });
  }
});
