// `etcd-ts snapshot status|restore` on files, in process, beside etcdctl 3.4 on the same files:
// the same status in every output format, etcdctl's messages for the files it refuses, and no
// data dir (nor any temporary file) left by a refused restore; `save` over TLS with a client
// certificate from a member on 127.0.132.1.
import assert from "node:assert/strict";
import { Backend } from "../../../src/server/backend.ts";
import { etcdSnapshotStream } from "../../../src/server/etcd_db/mod.ts";
import { buildDb } from "../../../src/bbolt/mod.ts";
import { runSnapshot } from "../../../src/snapshot/mod.ts";
import { testLog } from "../../helpers/log.ts";
import { memberFlags, run, startReady, stop } from "../../helpers/process.ts";
import { assertPortsFree } from "../../helpers/ports.ts";
import { issueCerts } from "../../helpers/certs.ts";
import { put } from "../../helpers/mvcc.ts";
import { createHash } from "node:crypto";

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function etcdTs(...argv: string[]): Promise<Ran> {
  const out = { stdout: "", stderr: "" };
  const code = await runSnapshot(argv, {
    stdout: (t) => (out.stdout += t),
    stderr: (t) => (out.stderr += t),
    log: testLog().log,
  });
  return { code, ...out };
}

const etcdctl = (...args: string[]) => run("etcdctl", args, { env: { ETCDCTL_API: "3" } });

/** etcdctl's "Error: ..." line, without its zap log lines. */
const errorLine = (r: Ran) => r.stderr.split("\n").find((l) => l.startsWith("Error:"));

async function withFiles(fn: (dir: string, snap: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "snapshot-cmd-" });
  try {
    const backend = new Backend(`${dir}/backend.db`);
    for (let i = 0; i < 300; i++) put(backend.store, `key-${i % 120}`, `value-${i}`);
    backend.commit();
    const pieces = [];
    for await (const p of etcdSnapshotStream(backend)) pieces.push(p.blob);
    backend.close();
    await Deno.writeFile(`${dir}/snap.db`, new Uint8Array(pieces.flatMap((p) => [...p])));
    await fn(dir, `${dir}/snap.db`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const withHash = (db: Uint8Array) =>
  new Uint8Array([...db, ...createHash("sha256").update(db).digest()]);

Deno.test("snapshot status: etcdctl's numbers in every output format", async () => {
  await withFiles(async (_dir, snap) => {
    for (const w of ["simple", "json", "table", "fields"]) {
      const ours = await etcdTs("status", snap, "-w", w);
      const theirs = await etcdctl("snapshot", "status", snap, `--write-out=${w}`);
      assert.equal(theirs.code, 0, theirs.stderr);
      assert.equal(ours.code, 0, ours.stderr);
      assert.equal(ours.stdout, theirs.stdout, `-w ${w}`);
    }
    assert.match((await etcdTs("status", snap, "-w", "json")).stdout, /"revision":301,/);
    const proto = await etcdTs("status", snap, "-w=protobuf");
    assert.deepEqual([proto.code, proto.stderr], [
      4,
      "Error: protobuf not supported as output format\n",
    ]);
  });
});

Deno.test("snapshot restore: refused files get etcdctl's message and write nothing", async () => {
  await withFiles(async (dir, snap) => {
    const good = await Deno.readFile(snap);
    const db = good.subarray(0, good.length - 32);
    const flipped = good.slice();
    flipped[4096 * 3 + 100] ^= 0xff;
    const wrongHash = good.slice();
    wrongHash[good.length - 1] ^= 0x01;
    const junk = new Uint8Array(8192).map((_, i) => (i * 7919) % 251);
    const cases: [string, Uint8Array, RegExp | "etcdctl"][] = [
      ["truncated", good.subarray(0, good.length - 100), "etcdctl"],
      ["flipped", flipped, "etcdctl"],
      ["wrong-hash", wrongHash, "etcdctl"],
      ["no-hash", db, "etcdctl"],
      ["not-bbolt", withHash(junk), /is not an etcd snapshot: bbolt: not a bbolt database/],
      [
        "foreign-bbolt",
        withHash(await buildDb([{ name: "foo", entries: [["a", new Uint8Array([1])]] }])),
        /not an etcd backend: no "key" or "meta" bucket \(its buckets: "foo"\)/,
      ],
    ];
    for (const [name, bytes, want] of cases) {
      const file = `${dir}/${name}.db`;
      await Deno.writeFile(file, bytes);
      const out = `${dir}/restored-${name}`;
      const ours = await etcdTs("restore", file, "--data-dir", out);
      assert.equal(ours.code, 1, name);
      if (want === "etcdctl") {
        const theirs = await etcdctl(
          "snapshot",
          "restore",
          file,
          "--data-dir",
          `${dir}/etcdctl-${name}`,
        );
        assert.equal(errorLine(ours), errorLine(theirs), name);
      } else assert.match(errorLine(ours) ?? "", want, name);
      const left = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
        n.includes(`restored-${name}`)
      );
      assert.deepEqual(left, [], `${name}: nothing written`);
    }
    const missing = await etcdTs("restore", `${dir}/nowhere.db`, "--data-dir", `${dir}/x`);
    assert.equal(errorLine(missing), `Error: open ${dir}/nowhere.db: no such file or directory`);
  });
});

Deno.test("snapshot restore: flags checked as etcdctl checks them, existing dirs never touched", async () => {
  await withFiles(async (dir, snap) => {
    const same = async (args: string[]) => {
      const ours = await etcdTs("restore", ...args);
      const theirs = await etcdctl("snapshot", "restore", ...args);
      assert.equal(errorLine(ours), errorLine(theirs), args.join(" "));
      assert.equal(ours.code, theirs.code, args.join(" "));
    };
    await same([snap, "--name", "other", "--data-dir", `${dir}/a`]);
    await same([snap, "--initial-advertise-peer-urls", "foo", "--data-dir", `${dir}/a`]);
    await same([snap, "--data-dir", dir]);
    await same([snap, "--data-dir", `${dir}/a`, "--wal-dir", dir]);
    await same([]);
    await same([snap, "--no-such-flag"]);
    const ok = await etcdTs("restore", snap, "--data-dir", `${dir}/ok`, "--skip-hash-check");
    assert.equal(ok.code, 0, ok.stderr);
    const files = [...Deno.readDirSync(`${dir}/ok/member/snap`)].map((e) => e.name).sort();
    assert.deepEqual(files, ["0000000000000001-0000000000000001.snap", "db"]);
    const save = await etcdTs("save", `${dir}/s.db`, "--endpoints", "a:1,b:2");
    assert.deepEqual(
      [save.code, errorLine(save)],
      [5, "Error: snapshot must be requested to one selected node, not multiple [a:1 b:2]"],
    );
    assert.match((await etcdTs("restore", "--help")).stdout, /--skip-hash-check\[=false\]/);
  });
});

Deno.test({
  name: "snapshot save: TLS with a client certificate, as etcdctl's --cacert/--cert/--key",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const ip = "127.0.132.1";
    await assertPortsFree(ip, [2379, 2380]);
    const dir = await Deno.makeTempDir({ prefix: "snapshot-tls-" });
    const certs = await issueCerts(dir, [{ name: "member", san: `IP:${ip}` }]);
    const peerURL = `http://${ip}:2380`;
    const member = await startReady([
      ...memberFlags({
        name: "m",
        clientURL: `https://${ip}:2379`,
        peerURL,
        dataDir: `${dir}/data`,
      }),
      `--initial-cluster=m=${peerURL}`,
      "--client-cert-auth",
      `--trusted-ca-file=${certs.ca}`,
      `--cert-file=${certs.cert("member")}`,
      `--key-file=${certs.key("member")}`,
    ]);
    try {
      const tls = [
        `--cacert=${certs.ca}`,
        `--cert=${certs.cert("member")}`,
        `--key=${certs.key("member")}`,
      ];
      const saved = await etcdTs("save", `${dir}/s.db`, `--endpoints=${ip}:2379`, ...tls);
      assert.equal(saved.code, 0, saved.stderr);
      assert.equal(saved.stdout, `Snapshot saved at ${dir}/s.db\n`);
      const theirs = await etcdctl("snapshot", "status", `${dir}/s.db`, "-w", "json");
      assert.equal(theirs.code, 0, theirs.stderr);
      // Without the client certificate the member refuses, and no file is left.
      const refused = await etcdTs(
        "save",
        `${dir}/n.db`,
        `--endpoints=https://${ip}:2379`,
        `--cacert=${certs.ca}`,
      );
      assert.equal(refused.code, 5);
      assert.match(errorLine(refused) ?? "", /^Error: rpc error: code = Unavailable/);
      assert.deepEqual(
        [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.startsWith("n.db")),
        [],
      );
    } finally {
      await stop(member);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
