// Snapshot save and restore of a large key space, etcd-ts beside etcd 3.4: a snapshot in etcd's
// format (keys with several revisions each, ~MB megabytes) is restored by `etcd-ts snapshot
// restore` and by `etcdctl snapshot restore`; each restored member is started and saved with
// `etcdctl snapshot save` (and etcd-ts's also with `etcd-ts snapshot save`). Reports wall time,
// MB/s over the snapshot's size, and peak RSS (VmHWM) of the restoring process and of the
// serving member during the save. Addresses 127.0.133.1 (etcd-ts) and 127.0.133.2 (etcd).
// deno run -A scripts/bench/snapshot_bench.ts [megabytes=1024] [value bytes=1024]
import { createHash } from "node:crypto";
import { DbWriter, fileSink } from "../../src/bbolt/mod.ts";
import { messages } from "../../src/pb/mod.ts";
import { revisionKey } from "../../src/mvcc/mod.ts";
import { peakRssBytes } from "./procstat.ts";

const MB = Number(Deno.args[0] ?? 1024);
const VALUE = Number(Deno.args[1] ?? 1024);
const REVISIONS_PER_KEY = 4;
const ETCD_TS = new URL("../etcd-ts", import.meta.url).pathname;
const enc = new TextEncoder();

/** An etcd 3.4 backend of `count` puts (keys cycling, so each key has several revisions). */
async function generate(path: string, count: number): Promise<void> {
  const file = Deno.openSync(path, { read: true, write: true, create: true, truncate: true });
  const w = new DbWriter(fileSink(file));
  const keys = Math.ceil(count / REVISIONS_PER_KEY);
  const value = new Uint8Array(VALUE);
  for (const name of ["alarm", "auth", "authRoles", "authUsers", "cluster"]) {
    w.beginBucket(name);
    if (name === "cluster") await w.put("clusterVersion", enc.encode("3.4.0"));
    await w.endBucket();
  }
  w.beginBucket("key");
  for (let i = 0; i < count; i++) {
    const main = i + 2;
    value.fill(i & 0xff, 0, 16);
    const key = enc.encode(`key-${String(i % keys).padStart(8, "0")}`);
    const version = Math.floor(i / keys) + 1;
    const kv = {
      key,
      value,
      createRevision: (i % keys) + 2,
      modRevision: main,
      version,
      lease: 0n,
    };
    await w.put(revisionKey(main, 0, false), messages["mvccpb.KeyValue"].encode(kv));
  }
  await w.endBucket();
  for (const name of ["lease", "members", "members_removed"]) {
    w.beginBucket(name);
    await w.endBucket();
  }
  w.beginBucket("meta");
  const ci = new Uint8Array(8);
  new DataView(ci.buffer).setBigUint64(0, BigInt(count + 10));
  await w.put("consistent_index", ci);
  await w.endBucket();
  await w.finish();
  // etcd's snapshot stream ends with the file's SHA-256.
  const sha = createHash("sha256");
  const buf = new Uint8Array(1 << 20);
  file.seekSync(0, Deno.SeekMode.Start);
  for (let n = file.readSync(buf); n !== null; n = file.readSync(buf)) {
    sha.update(buf.subarray(0, n));
  }
  file.writeSync(new Uint8Array(sha.digest()));
  file.close();
}

interface Measured {
  seconds: number;
  /** Peak RSS of the watched process while it ran, in bytes. */
  peak: number;
}

/** Runs a command to its end, sampling the peak RSS of `watch` (default: the command). */
async function measure(cmd: string, args: string[], watch?: number): Promise<Measured> {
  const start = performance.now();
  const child = new Deno.Command(cmd, {
    args,
    env: { ETCDCTL_API: "3" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const pid = watch ?? child.pid;
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, peakRssBytes(pid) ?? 0)), 20);
  const out = await child.output();
  clearInterval(timer);
  peak = Math.max(peak, peakRssBytes(pid) ?? 0);
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return { seconds: (performance.now() - start) / 1000, peak };
}

function member(ip: string) {
  return [
    ...["--name", "b", "--listen-client-urls", `http://${ip}:2379`],
    ...["--advertise-client-urls", `http://${ip}:2379`, "--listen-peer-urls", `http://${ip}:2380`],
    ...[
      "--initial-advertise-peer-urls",
      `http://${ip}:2380`,
      "--initial-cluster",
      `b=http://${ip}:2380`,
    ],
  ];
}

async function serve(cmd: string, dataDir: string, ip: string) {
  const child = new Deno.Command(cmd, {
    args: [...member(ip), "--data-dir", dataDir],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("ready to serve client requests")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${cmd} exited:\n${seen}`);
    seen += value;
  }
  reader.releaseLock();
  void child.stderr.pipeTo(new WritableStream()).catch(() => {});
  return child;
}

const row = (what: string, m: Measured, bytes: number) =>
  `${what.padEnd(44)} ${m.seconds.toFixed(1).padStart(6)} s ` +
  `${(bytes / 2 ** 20 / m.seconds).toFixed(0).padStart(5)} MB/s  peak RSS ` +
  `${(m.peak / 2 ** 20).toFixed(0).padStart(5)} MB`;

async function main() {
  const count = Math.ceil((MB << 20) / (VALUE + 60));
  const dir = Deno.makeTempDirSync({
    dir: new URL("../../tmp", import.meta.url).pathname,
    prefix: "snapshot-bench-",
  });
  const snap = `${dir}/snapshot.db`;
  try {
    let t = performance.now();
    await generate(snap, count);
    const bytes = Deno.statSync(snap).size;
    console.log(
      `${count} revisions of ${Math.ceil(count / REVISIONS_PER_KEY)} keys, ${VALUE}-byte values: ` +
        `snapshot ${(bytes / 2 ** 20).toFixed(0)} MB (generated in ${
          ((performance.now() - t) / 1000).toFixed(0)
        } s)`,
    );
    const restore = (name: string) => [
      "snapshot",
      "restore",
      snap,
      "--data-dir",
      `${dir}/${name}`,
      "--name",
      "b",
      "--initial-cluster",
      `b=http://127.0.133.${name === "ts" ? 1 : 2}:2380`,
      "--initial-advertise-peer-urls",
      `http://127.0.133.${name === "ts" ? 1 : 2}:2380`,
    ];
    console.log(
      row("restore  etcd-ts snapshot restore", await measure(ETCD_TS, restore("ts")), bytes),
    );
    console.log(
      row("restore  etcdctl snapshot restore", await measure("etcdctl", restore("etcd")), bytes),
    );
    for (
      const [name, cmd, ip] of [["ts", ETCD_TS, "127.0.133.1"], ["etcd", "etcd", "127.0.133.2"]]
    ) {
      t = performance.now();
      const server = await serve(cmd, `${dir}/${name}`, ip);
      const started = ((performance.now() - t) / 1000).toFixed(1);
      const idle = peakRssBytes(server.pid) ?? 0;
      const label = name === "ts" ? "etcd-ts" : "etcd 3.4";
      console.log(
        `${label} started in ${started} s, peak RSS ${(idle / 2 ** 20).toFixed(0)} MB so far`,
      );
      const save = (
        file: string,
      ) => ["snapshot", "save", `${dir}/${file}`, `--endpoints=${ip}:2379`];
      const saved = await measure("etcdctl", save(`${name}-1.db`), server.pid);
      console.log(row(`save     etcdctl <- ${label} (server)`, saved, bytes));
      if (name === "ts") {
        const client = await measure(ETCD_TS, save("ts-2.db"));
        console.log(row("save     etcd-ts snapshot save (client)", client, bytes));
      }
      server.kill("SIGTERM");
      await server.status;
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

await main();
