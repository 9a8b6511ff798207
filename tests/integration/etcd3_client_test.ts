// The `etcd3` npm client (what Node services use) under Deno against one etcd-ts member: KV,
// transactions, errors, watch, leases and the recipes built on them (lock, STM, election).
// Address block 127.0.13.x.
import assert from "node:assert/strict";
import {
  Etcd3,
  EtcdLeaseInvalidError,
  EtcdLockFailedError,
  GRPCInvalidArgumentError,
  GRPCOutOfRangeError,
  type IKeyValue,
} from "etcd3";
import { itest, singleMemberFlags, startReady, stop } from "../helpers/process.ts";
import { tempDir } from "../helpers/tmp.ts";
import { assertPortsFree } from "../helpers/ports.ts";

const IP = "127.0.13.1";

/** Runs `fn` with a client of a fresh member; the member is stopped afterwards. */
async function withMember(fn: (client: Etcd3) => Promise<void>): Promise<void> {
  await assertPortsFree(IP, [2379, 2380]);
  const member = await startReady(singleMemberFlags("s1", IP, `${tempDir().path}/data`));
  const client = new Etcd3({ hosts: `http://${IP}:2379` });
  try {
    await fn(client);
  } finally {
    client.close();
    await stop(member);
  }
}

const str = (b: Uint8Array | null | undefined) => b === null || b === undefined ? b : String(b);

itest("etcd3: put, get, getAll by prefix, counts, sorting, revisions and delete", async () => {
  await withMember(async (c) => {
    const put = await c.put("foo").value("bar").exec();
    assert.equal(put.header.revision, "2");
    assert.equal(await c.get("foo").string(), "bar");
    assert.equal(await c.get("missing").string(), null);
    assert.equal(await c.get("missing").exists(), false);

    const prev = await c.put("foo").value("baz").getPrevious();
    assert.equal(String(prev.value), "bar");
    const got = await c.get("foo").exec();
    assert.equal(got.count, "1");
    assert.equal(got.header.revision, "3");
    const [kv] = got.kvs;
    assert.deepEqual(
      [kv.create_revision, kv.mod_revision, kv.version, kv.lease],
      ["2", "3", "2", "0"],
    );
    assert.equal(await c.get("foo").revision(2).string(), "bar");

    await c.put("n").value(42);
    assert.equal(await c.get("n").number(), 42);
    await c.put("j").value(JSON.stringify({ a: [1, 2] }));
    assert.deepEqual(await c.get("j").json(), { a: [1, 2] });
    const binary = new Uint8Array([0, 255, 1, 128]);
    await c.put(Buffer.from([1, 0, 2])).value(Buffer.from(binary));
    assert.deepEqual(
      new Uint8Array((await c.get(Buffer.from([1, 0, 2])).buffer())!),
      binary,
    );

    for (const k of ["p/c", "p/a", "p/b"]) await c.put(k).value(`v-${k}`);
    assert.deepEqual(await c.getAll().prefix("p/").strings(), {
      "p/a": "v-p/a",
      "p/b": "v-p/b",
      "p/c": "v-p/c",
    });
    assert.equal(await c.getAll().prefix("p/").count(), 3);
    assert.deepEqual(await c.getAll().prefix("p/").sort("Key", "Descend").keys(), [
      "p/c",
      "p/b",
      "p/a",
    ]);
    // Sorted by creation: put order.
    assert.deepEqual(await c.getAll().prefix("p/").sort("Create", "Ascend").keys(), [
      "p/c",
      "p/a",
      "p/b",
    ]);
    const limited = await c.getAll().prefix("p/").limit(2).exec();
    assert.equal(limited.kvs.length, 2);
    assert.equal(limited.more, true);
    assert.equal(limited.count, "3");
    assert.deepEqual(await c.getAll().inRange({ start: "p/a", end: "p/c" }).keys(), [
      "p/a",
      "p/b",
    ]);
    // Filters prune the kvs; `count` is the range's size before filtering, as in etcd.
    const filtered = await c.getAll().prefix("p/").minModRevision(9).exec();
    assert.deepEqual(filtered.kvs.map((kv) => String(kv.key)), ["p/b"]);
    assert.equal(filtered.count, "3");

    const deleted = await c.delete().key("p/a").getPrevious();
    assert.deepEqual(deleted.map((d: IKeyValue) => String(d.value)), ["v-p/a"]);
    const del = await c.delete().prefix("p/").exec();
    assert.equal(del.deleted, "2");
    assert.equal(await c.getAll().prefix("p/").count(), 0);
    const none = await c.delete().key("p/none").exec();
    assert.equal(none.deleted, "0");
    // A delete is one revision however many keys it removes; a delete of nothing takes none.
    assert.equal(del.header.revision, "11");
    assert.equal(none.header.revision, "11");
  });
});

itest("etcd3: transactions with client.if(...).then(...).else(...)", async () => {
  await withMember(async (c) => {
    await c.put("k").value("v1");
    const ok = await c.if("k", "Value", "==", "v1")
      .and("k", "Version", "==", 1)
      .and("k", "Create", "==", 2)
      .and("k", "Mod", "<", 3)
      .then(c.put("k").value("v2"), c.put("other").value("o"), c.get("k"))
      .else(c.get("k"))
      .commit();
    assert.equal(ok.succeeded, true);
    assert.deepEqual(
      ok.responses.map((r) => r.response_put ? "put" : r.response_range ? "range" : "other"),
      ["put", "put", "range"],
    );
    // Operations in a txn see the writes before them, all at one revision.
    assert.equal(String(ok.responses[2].response_range!.kvs[0].value), "v2");
    assert.equal(ok.header.revision, "3");
    assert.equal(ok.responses[2].response_range!.kvs[0].mod_revision, "3");

    const no = await c.if("k", "Value", "==", "v1")
      .then(c.put("k").value("never"))
      .else(c.get("k"), c.delete().key("other"))
      .commit();
    assert.equal(no.succeeded, false);
    assert.equal(String(no.responses[0].response_range!.kvs[0].value), "v2");
    assert.equal(no.responses[1].response_delete_range!.deleted, "1");
    assert.equal(no.header.revision, "4");
    assert.equal(await c.get("k").string(), "v2");

    // A missing key compares as version 0 / create 0: the classic create-if-absent.
    const create = await c.if("fresh", "Create", "==", 0).then(c.put("fresh").value("1"))
      .commit();
    assert.equal(create.succeeded, true);
    const again = await c.if("fresh", "Create", "==", 0).then(c.put("fresh").value("2"))
      .commit();
    assert.equal(again.succeeded, false);
    assert.equal(await c.get("fresh").string(), "1");
  });
});

itest("etcd3: errors arrive as the client's typed errors with etcd's messages", async () => {
  await withMember(async (c) => {
    for (let i = 0; i < 5; i++) await c.put("a").value(`${i}`);
    await c.kv.compact({ revision: 4 });
    await assert.rejects(
      c.get("a").revision(3).exec(),
      (e: Error) =>
        e instanceof GRPCOutOfRangeError &&
        /etcdserver: mvcc: required revision has been compacted/.test(e.message),
    );
    assert.equal(await c.get("a").revision(4).string(), "2");
    await assert.rejects(
      c.get("a").revision(100).exec(),
      (e: Error) =>
        e instanceof GRPCOutOfRangeError &&
        /etcdserver: mvcc: required revision is a future revision/.test(e.message),
    );
    await assert.rejects(
      c.kv.compact({ revision: 3 }),
      /required revision has been compacted/,
    );
    await assert.rejects(
      c.put("").value("x").exec(),
      (e: Error) =>
        e instanceof GRPCInvalidArgumentError && /etcdserver: key is not provided/.test(e.message),
    );
    await assert.rejects(
      c.if("a", "Version", ">", 0).then(c.put("d").value("1"), c.put("d").value("2")).commit(),
      (e: Error) =>
        e instanceof GRPCInvalidArgumentError &&
        /etcdserver: duplicate key given in txn request/.test(e.message),
    );
    const many = Array.from({ length: 129 }, (_, i) => c.put(`m${i}`).value("x"));
    await assert.rejects(
      c.if("a", "Version", ">", 0).then(...many).commit(),
      (e: Error) =>
        e instanceof GRPCInvalidArgumentError &&
        /etcdserver: too many operations in txn request/.test(e.message),
    );
    await assert.rejects(
      c.put("x").value("1").lease("12345").exec(),
      (e: Error) => e instanceof EtcdLeaseInvalidError,
    );
    await assert.rejects(
      c.leaseClient.leaseRevoke({ ID: "12345" }),
      (e: Error) =>
        e instanceof EtcdLeaseInvalidError &&
        /etcdserver: requested lease not found/.test(e.message),
    );
    // Nothing above changed the store.
    assert.equal((await c.get("a").exec()).header.revision, "6");
  });
});

itest(
  "etcd3: watch a prefix with previous values, and replay history from a revision",
  async () => {
    await withMember(async (c) => {
      const watcher = await c.watch().prefix("w/").withPreviousKV().create();
      const seen: string[] = [];
      let done!: () => void;
      const allSeen = new Promise<void>((r) => done = r);
      const note = (e: string) => {
        seen.push(e);
        if (seen.length === 4) done();
      };
      watcher.on("put", (kv, prev) => note(`put ${kv.key}=${kv.value} prev=${str(prev?.value)}`));
      watcher.on("delete", (kv, prev) => note(`delete ${kv.key} prev=${str(prev?.value)}`));
      await c.put("w/1").value("a");
      await c.put("outside").value("z");
      await c.put("w/1").value("b");
      await c.put("w/2").value("c");
      await c.delete().key("w/1");
      await allSeen;
      assert.deepEqual(seen, [
        "put w/1=a prev=undefined",
        "put w/1=b prev=a",
        "put w/2=c prev=undefined",
        "delete w/1 prev=b",
      ]);
      // The client keeps the revision it would resume from: the last one seen + 1.
      assert.equal(Number(watcher.lastRevision()), 7);
      await watcher.cancel();

      const history = await c.watch().key("w/1").startRevision("2").create();
      const events = await new Promise<string[]>((resolve) => {
        const got: string[] = [];
        history.on("data", (res) => {
          for (const e of res.events) got.push(`${e.type} ${e.kv.key} @${e.kv.mod_revision}`);
          if (got.length >= 3) resolve(got);
        });
      });
      assert.deepEqual(events, ["Put w/1 @2", "Put w/1 @4", "Delete w/1 @6"]);
      await history.cancel();
    });
  },
);

itest("etcd3: leases grant, attach keys, keep alive, list, revoke and expire", async () => {
  await withMember(async (c) => {
    const lease = c.lease(30);
    const id = await lease.grant();
    await lease.put("leased").value("v");
    const ttl = await c.leaseClient.leaseTimeToLive({ ID: id, keys: true });
    assert.equal(ttl.grantedTTL, "30");
    assert.ok(Number(ttl.TTL) > 25 && Number(ttl.TTL) <= 30, ttl.TTL);
    assert.deepEqual(ttl.keys.map(String), ["leased"]);
    assert.equal((await c.get("leased").exec()).kvs[0].lease, id);
    const kept = await lease.keepaliveOnce();
    assert.equal(kept.ID, id);
    assert.equal(kept.TTL, "30");
    const listed = await c.leaseClient.leaseLeases();
    assert.deepEqual(listed.leases.map((l) => l.ID), [id]);
    await lease.revoke();
    assert.equal(await c.get("leased").string(), null);
    assert.equal(lease.revoked(), true);

    // A short lease that nobody keeps alive expires and takes its key with it.
    const short = c.lease(2, { autoKeepAlive: false });
    const put = await short.put("ephemeral").value("v");
    assert.equal(await c.get("ephemeral").string(), "v");
    // Watching from the revision after the put sees the expiry's delete however late it comes.
    const watcher = await c.watch().key("ephemeral")
      .startRevision(String(Number(put.header.revision) + 1)).create();
    await new Promise((resolve) => watcher.once("delete", resolve));
    await watcher.cancel();
    assert.equal(await c.get("ephemeral").exists(), false);
    short.release();
  });
});

itest("etcd3: lock, STM, election, maintenance status and member list", async () => {
  await withMember(async (c) => {
    // etcd3's lock does not queue: a held lock refuses a second owner until released.
    const holder = await c.lock("L").acquire();
    await assert.rejects(c.lock("L").acquire(), EtcdLockFailedError);
    await holder.release();
    assert.equal(await c.lock("L").do(() => Promise.resolve("ran")), "ran");

    // Concurrent STM increments never lose an update.
    await Promise.all(
      Array.from({ length: 5 }, () =>
        c.stm({ retries: 10 }).transact(async (tx) => {
          const n = (await tx.get("counter").number()) ?? 0;
          await tx.put("counter").value(n + 1);
        })),
    );
    assert.equal(await c.get("counter").number(), 5);

    const election = c.election("E", 5);
    const campaign = election.campaign("me");
    await new Promise<void>((resolve, reject) => {
      campaign.on("elected", () => resolve());
      campaign.on("error", reject);
    });
    assert.equal(await election.leader(), "me");
    await campaign.resign();

    const status = await c.maintenance.status();
    assert.equal(status.version, "3.4.23");
    assert.equal(status.leader, status.header.member_id);
    const members = await c.cluster.memberList({});
    assert.equal(members.members.length, 1);
    assert.equal(members.members[0].name, "s1");
    assert.deepEqual(members.members[0].clientURLs, [`http://${IP}:2379`]);
    assert.deepEqual(members.members[0].peerURLs, [`http://${IP}:2380`]);
  });
});
