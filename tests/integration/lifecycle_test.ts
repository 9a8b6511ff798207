// How an etcd-ts member starts and stops, seen from outside as operators and supervisors see
// etcd: signals and exit statuses, zap log milestones, invalid flags, and the Clustering Guide's
// error cases, which must fail before any listener opens. Address block 127.0.14.x.
import assert from "node:assert/strict";
import net from "node:net";
import { Etcd3 } from "etcd3";
import {
  ETCD_TS,
  itest,
  type Proc,
  run,
  singleMemberFlags,
  spawn,
  startReady,
} from "../helpers/process.ts";
import { tempDir } from "../helpers/tmp.ts";
import { assertPortsFree } from "../helpers/ports.ts";
import { etcdctl } from "../helpers/etcdctl.ts";

const IP = "127.0.14.1";
const EP = `http://${IP}:2379`;

/** Sends `signal` and waits for the exit; fails if the member takes longer than `ms`. */
async function signalAndWait(p: Proc, signal: Deno.Signal, ms = 10_000) {
  p.kill(signal);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      p.kill("SIGKILL");
      reject(new Error(`no exit ${ms} ms after ${signal}:\n${p.lines.slice(-20).join("\n")}`));
    }, ms);
  });
  try {
    return await Promise.race([p.status, late]);
  } finally {
    clearTimeout(timer);
  }
}

itest("SIGTERM: clean stop, killed by SIGTERM (143), acknowledged writes survive", async () => {
  await assertPortsFree(IP, [2379, 2380]);
  const flags = singleMemberFlags("s1", IP, `${tempDir().path}/data`);
  let m = await startReady(flags);
  try {
    assert.equal((await etcdctl(EP, "put", "before-term", "kept")).stdout, "OK\n");
    // Writers racing the signal: each write acknowledged before the stop must survive it.
    const client = new Etcd3({ hosts: EP });
    const acked: number[] = [];
    const twentyAcked = Promise.withResolvers<void>();
    let next = 0;
    let stopping = false;
    const writers = Array.from({ length: 4 }, async () => {
      while (!stopping) {
        const i = next++;
        try {
          await client.put(`race${i}`).value(`v${i}`);
          acked.push(i);
          if (acked.length === 20) twentyAcked.resolve();
        } catch {
          return;
        }
      }
    });
    await twentyAcked.promise;
    const status = await signalAndWait(m, "SIGTERM");
    stopping = true;
    await Promise.all(writers);
    client.close();
    assert.equal(status.signal, "SIGTERM");
    assert.equal(status.code, 143);
    assert.ok(
      m.lines.some((l) =>
        l.endsWith("N | pkg/osutil: received terminated signal, shutting down...")
      ),
      m.lines.slice(-10).join("\n"),
    );
    await assertPortsFree(IP, [2379]);

    m = await startReady(flags);
    assert.equal((await etcdctl(EP, "get", "before-term", "--print-value-only")).stdout, "kept\n");
    const after = JSON.parse((await etcdctl(EP, "get", "race", "--prefix", "-w", "json")).stdout);
    const stored = new Map<string, string>(
      // deno-lint-ignore no-explicit-any
      after.kvs.map((kv: any) => [atob(kv.key), atob(kv.value)]),
    );
    for (const i of acked) assert.equal(stored.get(`race${i}`), `v${i}`, `race${i} was acked`);
    console.log(`  ${acked.length} racing writes acknowledged before the stop, all kept`);
  } finally {
    m.kill("SIGKILL");
    await m.status;
  }
});

itest("SIGINT: clean stop, killed by SIGINT (130)", async () => {
  await assertPortsFree(IP, [2379, 2380]);
  const m = await startReady(singleMemberFlags("s1", IP, `${tempDir().path}/data`));
  const status = await signalAndWait(m, "SIGINT");
  assert.equal(status.signal, "SIGINT");
  assert.equal(status.code, 130);
  assert.ok(
    m.lines.some((l) => l.endsWith("N | pkg/osutil: received interrupt signal, shutting down...")),
    m.lines.slice(-10).join("\n"),
  );
  await assertPortsFree(IP, [2379]);
});

itest(
  "--logger zap: JSON lines with the published, capabilities and ready milestones",
  async () => {
    await assertPortsFree(IP, [2379, 2380]);
    const m = await startReady([
      ...singleMemberFlags("s1", IP, `${tempDir().path}/data`),
      "--logger",
      "zap",
    ]);
    const status = await signalAndWait(m, "SIGTERM");
    assert.equal(status.signal, "SIGTERM");
    const entries = m.lines.filter((l) => l.trim()).map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`not a zap JSON line: ${l}`);
      }
    });
    for (const e of entries) {
      assert.equal(typeof e.level, "string");
      assert.match(String(e.ts), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d{4})$/);
      assert.equal(typeof e.msg, "string");
    }
    const at = (msg: string) => {
      const i = entries.findIndex((e) => e.msg === msg);
      assert.ok(i >= 0, `no zap line with msg "${msg}"`);
      return i;
    };
    const capabilities = at("enabled capabilities for version");
    assert.equal(entries[capabilities]["cluster-version"], "3.4");
    const published = at("published local member to cluster through raft");
    assert.equal(
      entries[published]["local-member-attributes"],
      `{Name:s1 ClientURLs:[${EP}]}`,
    );
    const ready = at("ready to serve client requests");
    assert.ok(published < ready, "ready only after the member published itself");
    const stopping = entries[at("received signal; shutting down")];
    assert.equal(stopping.signal, "terminated");
    assert.equal(stopping.caller, "osutil/interrupt_unix.go:64");
  },
);

itest("invalid flags exit as etcd does: 2 for an unknown flag, 1 for a positional", async () => {
  const bogus = await run(ETCD_TS, ["--bogus"]);
  assert.equal(bogus.code, 2, bogus.stderr);
  assert.match(bogus.stderr, /^flag provided but not defined: -bogus\n/);
  assert.match(bogus.stderr, /Usage:/);
  const positional = await run(ETCD_TS, ["positional"]);
  assert.equal(positional.code, 1, positional.stderr);
  assert.match(
    positional.stderr,
    /etcdmain: error verifying flags, 'positional' is not a valid flag. See 'etcd --help'./,
  );
});

/**
 * Runs a bootstrap that must fail before opening any listener, in an empty working directory
 * (the default data dir is relative). Our block's ports are held meanwhile, so a listener opened
 * too early would fail differently; when strace is at hand it also proves no bind() happened
 * at all (the command lists 127.0.0.1:2379, which may belong to someone else).
 */
async function failsBeforeListening(args: string[], held: string[]) {
  const servers = await Promise.all(held.map((hostPort) => {
    const [host, port] = hostPort.split(":");
    return new Promise<net.Server>((resolve, reject) => {
      const s = net.createServer().once("error", reject);
      s.listen(Number(port), host, () => resolve(s));
    });
  }));
  const cwd = tempDir().path;
  const trace = `${tempDir().path}/trace`;
  const strace = (await run("sh", ["-c", "command -v strace"])).stdout.trim();
  try {
    const p = strace
      ? spawn(strace, ["-f", "-qq", "-e", "trace=bind,listen", "-o", trace, ETCD_TS, ...args], {
        cwd,
      })
      : spawn(ETCD_TS, args, { cwd });
    const status = await p.status;
    const stderr = p.lines.join("\n");
    assert.deepEqual([...Deno.readDirSync(cwd)], [], "a refused bootstrap leaves no data dir");
    if (strace) {
      const calls = Deno.readTextFileSync(trace).split("\n").filter((l) =>
        /\b(bind|listen)\(/.test(l)
      );
      assert.deepEqual(calls, [], "no socket was bound");
    } else {
      console.log("  (strace not installed: only the held ports show no listener opened)");
    }
    return { status, stderr };
  } finally {
    for (const s of servers) s.close();
  }
}

itest("guide error case: a name not in --initial-cluster exits 1 before any listener", async () => {
  await assertPortsFree("127.0.14.11", [2379, 2380]);
  // The guide's command verbatim, with loopback addresses (its https peer URL typo included).
  const { status, stderr } = await failsBeforeListening([
    "--name",
    "infra1",
    "--initial-advertise-peer-urls",
    "http://127.0.14.11:2380",
    "--listen-peer-urls",
    "https://127.0.14.11:2380",
    "--listen-client-urls",
    "http://127.0.14.11:2379,http://127.0.0.1:2379",
    "--advertise-client-urls",
    "http://127.0.14.11:2379",
    "--initial-cluster",
    "infra0=http://127.0.14.10:2380",
    "--initial-cluster-state",
    "new",
  ], ["127.0.14.11:2379", "127.0.14.11:2380"]);
  assert.equal(status.code, 1, stderr);
  assert.match(stderr, /etcd-ts: infra1 not listed in the initial cluster config/);
});

itest("guide error case: different advertised URLs exits 1 before any listener", async () => {
  await assertPortsFree("127.0.14.10", [2379, 2380]);
  const { status, stderr } = await failsBeforeListening([
    "--name",
    "infra0",
    "--initial-advertise-peer-urls",
    "http://127.0.0.1:2380",
    "--listen-peer-urls",
    "http://127.0.14.10:2380",
    "--listen-client-urls",
    "http://127.0.14.10:2379,http://127.0.0.1:2379",
    "--advertise-client-urls",
    "http://127.0.14.10:2379",
    "--initial-cluster",
    "infra0=http://127.0.14.10:2380,infra1=http://127.0.14.11:2380,infra2=http://127.0.14.12:2380",
    "--initial-cluster-state=new",
  ], ["127.0.14.10:2379", "127.0.14.10:2380"]);
  assert.equal(status.code, 1, stderr);
  assert.match(
    stderr,
    /error setting up initial cluster: infra0 has different advertised URLs in the cluster and advertised peer URLs list/,
  );
});
