// One etcd-ts member driven by etcdctl 3.4 and curl, as an operator drives a single etcd.
// Address block 127.0.11.x.
import assert from "node:assert/strict";
import {
  itest,
  run,
  singleMemberFlags,
  startEtcdTs,
  startReady,
  stop,
} from "../helpers/process.ts";
import { tempDir } from "../helpers/tmp.ts";
import { assertPortsFree } from "../helpers/ports.ts";
import { etcdctl, etcdctlWith } from "../helpers/etcdctl.ts";

const IP = "127.0.11.1";
const EP = `http://${IP}:2379`;

itest("scripts/etcd-ts's PID is the process serving the client port", async () => {
  await assertPortsFree(IP, [2379, 2380]);
  const dir = tempDir().path;
  const m = await startReady(singleMemberFlags("s1", IP, `${dir}/data`));
  try {
    const ss = await run("ss", ["-Hltnp", `src ${IP}:2379`]);
    assert.match(ss.stdout, new RegExp(`pid=${m.pid},`), ss.stdout);
  } finally {
    await stop(m);
  }
});

itest("etcdctl put/get/del/txn/compaction and endpoint health work as against etcd", async () => {
  await assertPortsFree(IP, [2379, 2380]);
  const dir = tempDir().path;
  const m = await startReady(singleMemberFlags("s1", IP, `${dir}/data`));
  try {
    assert.equal((await etcdctl(EP, "put", "foo", "bar")).stdout, "OK\n");
    assert.equal((await etcdctl(EP, "get", "foo")).stdout, "foo\nbar\n");
    await etcdctl(EP, "put", "foo", "baz");
    const json = JSON.parse((await etcdctl(EP, "get", "foo", "-w", "json")).stdout);
    assert.equal(json.kvs[0].version, 2);
    assert.equal(json.kvs[0].create_revision, 2);
    assert.equal(json.kvs[0].mod_revision, 3);
    assert.equal(atob(json.kvs[0].value), "baz");
    assert.equal(json.count, 1);

    for (const k of ["a1", "a2", "a3"]) await etcdctl(EP, "put", k, `v-${k}`);
    assert.equal(
      (await etcdctl(EP, "get", "a", "--prefix", "--keys-only")).stdout,
      "a1\n\na2\n\na3\n\n",
    );
    assert.equal(
      (await etcdctl(EP, "get", "a", "--prefix", "--limit", "2", "--order", "DESCEND")).stdout,
      "a3\nv-a3\na2\nv-a2\n",
    );
    assert.equal((await etcdctl(EP, "get", "foo", "--rev", "2")).stdout, "foo\nbar\n");

    const txn = 'value("foo") = "baz"\n\nput foo qux\nget foo\n\nget foo\n\n';
    const t = await etcdctlWith({ stdin: txn })(EP, "txn");
    assert.equal(t.code, 0, t.stderr);
    // Ops in a txn see the writes before them.
    assert.equal(t.stdout, "SUCCESS\n\nOK\n\nfoo\nqux\n");
    assert.equal((await etcdctl(EP, "get", "foo", "--print-value-only")).stdout, "qux\n");

    assert.equal((await etcdctl(EP, "del", "a", "--prefix")).stdout, "3\n");
    assert.equal((await etcdctl(EP, "get", "a", "--prefix")).stdout, "");

    const comp = await etcdctl(EP, "compaction", "3");
    assert.equal(comp.stdout, "compacted revision 3\n");
    const old = await etcdctl(EP, "get", "foo", "--rev", "2");
    assert.equal(old.code, 1);
    assert.match(old.stderr, /required revision has been compacted/);
    const future = await etcdctl(EP, "get", "foo", "--rev", "1000");
    assert.match(future.stderr, /required revision is a future revision/);

    const health = await etcdctl(EP, "endpoint", "health");
    assert.equal(health.code, 0, health.stderr);
    assert.match(
      health.stdout + health.stderr,
      new RegExp(`${EP} is healthy: successfully committed proposal`),
    );

    const empty = await etcdctl(EP, "put", "", "x");
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /key is not provided/);
  } finally {
    await stop(m);
  }
});

itest("curl sees etcd's /health and /version", async () => {
  await assertPortsFree(IP, [2379, 2380]);
  const dir = tempDir().path;
  const m = await startReady(singleMemberFlags("s1", IP, `${dir}/data`));
  try {
    const h = await run("curl", ["-s", "-i", `${EP}/health`]);
    assert.match(h.stdout, /^HTTP\/1.1 200 OK/);
    assert.match(h.stdout, /\r\n\r\n\{"health":"true"\}$/);
    const v = await run("curl", ["-s", `${EP}/version`]);
    assert.equal(v.stdout, '{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}');
  } finally {
    await stop(m);
  }
});

itest("a restart keeps every write and continues the revisions", async () => {
  await assertPortsFree(IP, [2379, 2380]);
  const dir = tempDir().path;
  const flags = singleMemberFlags("s1", IP, `${dir}/data`);
  let m = await startReady(flags);
  try {
    for (let i = 0; i < 20; i++) await etcdctl(EP, "put", `k${i}`, `v${i}`);
    const before = JSON.parse((await etcdctl(EP, "get", "k", "--prefix", "-w", "json")).stdout);
    const status = await stop(m);
    assert.equal(status.signal, "SIGTERM");
    m = await startReady(flags);
    await m.waitFor("restarting member");
    const after = JSON.parse((await etcdctl(EP, "get", "k", "--prefix", "-w", "json")).stdout);
    assert.deepEqual(after.kvs, before.kvs);
    assert.equal(after.header.revision, before.header.revision);
    await etcdctl(EP, "put", "next", "x");
    const next = JSON.parse((await etcdctl(EP, "get", "next", "-w", "json")).stdout);
    assert.equal(next.kvs[0].mod_revision, before.header.revision + 1);
  } finally {
    await stop(m);
  }
});

itest("a second process on the same data dir exits at once with a clear message", async () => {
  await assertPortsFree(IP, [2379, 2380]);
  const dir = tempDir().path;
  const m = await startReady(singleMemberFlags("s1", IP, `${dir}/data`));
  try {
    const second = startEtcdTs([
      ...singleMemberFlags("s1", "127.0.11.2", `${dir}/data`),
    ]);
    const status = await second.status;
    assert.equal(status.code, 1);
    assert.ok(
      second.lines.some((l) => l.includes(`data dir ${dir}/data is in use by another process`)),
      second.lines.join("\n"),
    );
  } finally {
    await stop(m);
  }
});
