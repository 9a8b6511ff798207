// Mixed clusters of real etcd 3.4.23 members and etcd-ts members, both ways: a member of the
// other kind joins a running three-member cluster with `etcdctl member add` and
// `--initial-cluster-state existing`, catches up from the log and serves linearizable reads and
// writes, watches and leases; the leader moves to it and back (`move-leader`); a lagging member
// of each kind is caught up by a snapshot from a leader of the other kind; then the cluster is
// replaced member by member under a steady write load (the last member of the old kind leads
// when it is removed), and every acknowledged write is read back from every member, whose
// HashKV agree. Each step's time is printed (run without --quiet to see them).
// Then the same over the guide's mutual TLS between peers, from a one-member etcd cluster.
// Address blocks 127.0.225.x (etcd-ts joins etcd; .30-.32 with TLS) and 127.0.226.x (etcd joins
// etcd-ts).
import assert from "node:assert/strict";
import { writeBeyondCatchUp } from "../helpers/cluster.ts";
import { etcdctl, spawnEtcdctl } from "../helpers/etcdctl.ts";
import {
  assertSameHashKV,
  converged,
  type Kind,
  memberAdd,
  memberRemove,
  type MixedMember,
  mixedMember,
  moveLeader,
  MovingLoad,
  readPrefix,
  restartMember,
  SNAPSHOT_APPLIED,
  startMember,
  step,
  stopMember,
} from "../helpers/mixed.ts";
import { exited, itest } from "../helpers/process.ts";
import { tempDir } from "../helpers/tmp.ts";
import { issueCerts } from "../helpers/certs.ts";

const other = (k: Kind): Kind => k === "etcd" ? "etcd-ts" : "etcd";
const urls = (ms: MixedMember[]) => ms.map((m) => m.clientURL).join(",");

async function ok(endpoint: string, ...args: string[]): Promise<string> {
  const r = await etcdctl(endpoint, ...args);
  assert.equal(r.code, 0, `etcdctl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** The three members of kind `old` that start the cluster, and the three of kind `neu`. */
async function members(block: string, old: Kind, neu: Kind, dir: string) {
  const of = (kind: Kind, first: number) =>
    Promise.all(
      [0, 1, 2].map((i) =>
        mixedMember(kind, `${kind === "etcd" ? "e" : "t"}${i}`, `${block}.${first + i}`, dir)
      ),
    );
  return { olds: await of(old, 10), news: await of(neu, 20) };
}

/** Reads and writes through either kind see each other's, linearizably; so do watches and
 * leases. */
async function serves(a: MixedMember, b: MixedMember): Promise<void> {
  await ok(a.clientURL, "put", "x/from-a", "1");
  assert.match(await ok(b.clientURL, "get", "x/from-a"), /^x\/from-a\n1\n$/);
  await ok(b.clientURL, "put", "x/from-b", "2");
  assert.match(await ok(a.clientURL, "get", "x/from-b"), /^x\/from-b\n2\n$/);
  const watch = spawnEtcdctl(a.clientURL, ["watch", "x/watched"]);
  try {
    await sleepUntilWatching(a);
    await ok(b.clientURL, "put", "x/watched", "seen");
    await watch.waitFor("seen", 10_000);
  } finally {
    watch.kill();
  }
  const lease = /lease ([0-9a-f]+) granted/.exec(await ok(a.clientURL, "lease", "grant", "60"));
  assert.ok(lease);
  await ok(b.clientURL, "put", "x/leased", "v", `--lease=${lease[1]}`);
  assert.match(await ok(a.clientURL, "get", "x/leased"), /v/);
  // A follower forwards keep-alives and time-to-live to the leader's /leases endpoints.
  for (const m of [a, b]) {
    assert.match(
      await ok(m.clientURL, "lease", "keep-alive", "--once", lease[1]),
      new RegExp(`lease ${lease[1]} keepalived with TTL\\(60\\)`),
    );
    assert.match(
      await ok(m.clientURL, "lease", "timetolive", lease[1], "--keys"),
      new RegExp(
        `lease ${
          lease[1]
        } granted with TTL\\(60s\\), remaining\\(\\d+s\\), attached keys\\(\\[x/leased\\]\\)`,
      ),
    );
  }
  await ok(b.clientURL, "lease", "revoke", lease[1]);
  assert.equal(await ok(a.clientURL, "get", "x/leased"), "");
}

/** The watch stream is open once the member counts a watch (etcd's gauge, on both kinds). */
async function sleepUntilWatching(m: MixedMember): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const text = await (await fetch(`${m.clientURL}/metrics`)).text();
    if (/^etcd_debugging_mvcc_watcher_total [1-9]/m.test(text)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${m.name}: no watcher registered`);
}

/** Stops `m`, writes past the leader's kept log, restarts it: it must take a snapshot. */
async function lagsAndCatchesUp(m: MixedMember, live: MixedMember[]): Promise<void> {
  await stopMember(m);
  await step(
    `  6000 writes while ${m.name} is down`,
    () => writeBeyondCatchUp(live.filter((x) => x !== m).map((x) => x.clientURL)),
  );
  await step(`  ${m.name} restarts, applies a snapshot, catches up`, async () => {
    const proc = await restartMember(m);
    await proc.waitFor(SNAPSHOT_APPLIED, 60_000);
    const state = await converged(urls(live));
    await assertSameHashKV(urls(live), state[0].revision);
  });
  await step(`  ${m.name} restarts again from the snapshot it was sent`, async () => {
    await stopMember(m);
    await restartMember(m);
    await ok(m.clientURL, "put", `x/restarted-${m.name}`, "1");
    const state = await converged(urls(live));
    await assertSameHashKV(urls(live), state[0].revision);
    assert.equal((await readPrefix(m.clientURL, "s")).kvs.length, 6000);
  });
}

/** Adds `m` to the cluster of `live` and waits until it has caught up. */
async function join(m: MixedMember, live: MixedMember[]): Promise<void> {
  const initialCluster = await memberAdd(urls(live), m);
  await startMember(m, initialCluster, "existing");
  live.push(m);
}

/** Removes `m` (asked of a member that stays); the removed member stops by itself. */
async function leave(m: MixedMember, live: MixedMember[], load: MovingLoad): Promise<void> {
  live.splice(live.indexOf(m), 1);
  load.endpoints = live.map((x) => x.clientURL);
  await memberRemove(live[0].clientURL, m);
  await exited(m.proc!, 30_000);
  m.proc = undefined;
}

async function scenario(block: string, old: Kind): Promise<void> {
  await using dir = tempDir({ prefix: "mixed-" });
  const neu = other(old);
  const { olds, news } = await members(block, old, neu, dir.path);
  const live = [...olds];
  try {
    await step(`three ${old} members start`, async () => {
      const initial = olds.map((m) => `${m.name}=${m.peerURL}`).join(",");
      await Promise.all(olds.map((m) => startMember(m, initial, "new")));
      for (const s of await converged(urls(olds))) {
        olds.find((m) => m.clientURL === s.endpoint)!.id = s.memberId;
      }
      await ok(olds[0].clientURL, "put", "before", "joined");
    });
    const [n0] = news;
    await step(`${neu} member joins (member add, existing) and catches up`, async () => {
      await join(n0, live);
      const state = await converged(urls(live));
      assert.equal(state.length, 4);
      assert.match(await ok(n0.clientURL, "get", "before", "--consistency=s"), /joined/);
      for (const m of live) {
        const v = await (await fetch(`${m.clientURL}/version`)).json();
        assert.deepEqual(v, { etcdserver: "3.4.23", etcdcluster: "3.4.0" }, m.name);
      }
    });
    await step(`reads, writes, watch and lease across kinds`, () => serves(n0, olds[1]));
    await step(`move-leader to the ${neu} member`, () => moveLeader(urls(live), n0));
    await step(`reads, writes, watch and lease under the ${neu} leader`, () => serves(olds[2], n0));
    await step(`move-leader back to an ${old} member`, () => moveLeader(urls(live), olds[1]));
    await step(
      `lagging ${neu} member caught up by snapshot from an ${old} leader`,
      () => lagsAndCatchesUp(n0, live),
    );
    await step(`move-leader to the ${neu} member`, () => moveLeader(urls(live), n0));
    await step(
      `lagging ${old} member caught up by snapshot from an ${neu} leader`,
      () => lagsAndCatchesUp(olds[2], live),
    );
    const load = new MovingLoad(live.map((m) => m.clientURL), 4);
    try {
      for (let i = 0; i < 3; i++) {
        if (i > 0) {
          await step(`under load: ${news[i].name} (${neu}) joins`, () => join(news[i], live));
          load.endpoints = live.map((m) => m.clientURL);
        }
        if (i === 2) {
          await step(
            `under load: move-leader to ${olds[i].name} (${old}), the last of its kind`,
            () => moveLeader(urls(live), olds[i]),
          );
        }
        await step(
          `under load: ${olds[i].name} (${old}) removed`,
          () => leave(olds[i], live, load),
        );
      }
    } finally {
      await load.stop();
    }
    await step(`every acknowledged write on every member, equal HashKV`, async () => {
      const state = await converged(urls(live));
      for (const m of live) await load.check(m.clientURL);
      await assertSameHashKV(urls(live), state[0].revision);
      const { kvs } = await readPrefix(live[0].clientURL, "w/");
      console.log(
        `    ${load.acked.size} acknowledged writes (${kvs.length} in the store, ` +
          `${load.failures} failed attempts)`,
      );
      assert.ok(load.acked.size > 0);
    });
  } finally {
    await Promise.all([...olds, ...news].map((m) => stopMember(m)));
  }
}

itest(
  "mixed cluster: etcd-ts members join an etcd 3.4 cluster and replace it",
  () => scenario("127.0.225", "etcd"),
);

itest(
  "mixed cluster: etcd 3.4 members join an etcd-ts cluster and replace it",
  () => scenario("127.0.226", "etcd-ts"),
);

itest(
  "mixed cluster over mutual peer TLS: etcd 3.4 alone, etcd-ts joins, etcd joins, etcd leaves",
  async () => {
    await using dir = tempDir({ prefix: "mixed-tls-" });
    const ip = (i: number) => `127.0.225.${30 + i}`;
    const names = ["e0", "t0", "e1"];
    // Peers dial from 127.0.0.1 on loopback, and etcd checks a client certificate's IP SANs
    // against the address a connection comes from.
    await issueCerts(dir.path, names.map((name, i) => ({ name, san: `IP:${ip(i)},IP:127.0.0.1` })));
    const [e0, t0, e1] = await Promise.all(
      names.map((name, i) =>
        mixedMember(name[0] === "e" ? "etcd" : "etcd-ts", name, ip(i), dir.path, dir.path)
      ),
    );
    const live = [e0];
    try {
      await step("one etcd member starts (https peer URL)", async () => {
        await startMember(e0, `e0=${e0.peerURL}`, "new");
        e0.id = (await converged(e0.clientURL))[0].memberId;
        await ok(e0.clientURL, "put", "before", "joined");
      });
      await step("etcd-ts joins over TLS and catches up", async () => {
        await join(t0, live);
        await converged(urls(live));
        assert.match(await ok(t0.clientURL, "get", "before", "--consistency=s"), /joined/);
      });
      await step("move-leader to etcd-ts over TLS", () => moveLeader(urls(live), t0));
      await step("etcd joins the etcd-ts leader over TLS", async () => {
        await join(e1, live);
        await converged(urls(live));
      });
      await step("reads, writes, watch and lease across kinds over TLS", () => serves(e1, t0));
      const load = new MovingLoad(live.map((m) => m.clientURL), 2);
      try {
        for (const m of [e0, e1]) {
          await step(`under load: ${m.name} (etcd) removed`, () => leave(m, live, load));
        }
      } finally {
        await load.stop();
      }
      await step("every acknowledged write on the etcd-ts member left", async () => {
        await load.check(t0.clientURL);
        assert.ok(load.acked.size > 0);
        assert.equal((await converged(t0.clientURL))[0].leader, t0.id);
      });
    } finally {
      await Promise.all([e0, t0, e1].map((m) => stopMember(m)));
    }
  },
);

itest(
  "mixed cluster with auth: users and roles made through either kind work through both",
  async () => {
    await using dir = tempDir({ prefix: "mixed-auth-" });
    const t0 = await mixedMember("etcd-ts", "t0", "127.0.226.30", dir.path);
    const e0 = await mixedMember("etcd", "e0", "127.0.226.31", dir.path);
    const live = [t0];
    const as = (m: MixedMember, user: string, ...args: string[]) =>
      ok(m.clientURL, `--user=${user}`, ...args);
    try {
      await step("one etcd-ts member starts, etcd joins", async () => {
        await startMember(t0, `t0=${t0.peerURL}`, "new");
        t0.id = (await converged(t0.clientURL))[0].memberId;
        await join(e0, live);
        await converged(urls(live));
      });
      await step("auth set up through both kinds, used through both", async () => {
        // Passwords travel in clear in the log (etcd 3.4) and each member hashes them as it
        // applies: a user added through one kind logs in through the other.
        await ok(t0.clientURL, "user", "add", "root:rootpw");
        await ok(e0.clientURL, "auth", "enable");
        await as(e0, "root:rootpw", "user", "add", "alice:alicepw");
        await as(t0, "root:rootpw", "role", "add", "app");
        await as(
          e0,
          "root:rootpw",
          "role",
          "grant-permission",
          "app",
          "readwrite",
          "app/",
          "--prefix",
        );
        await as(t0, "root:rootpw", "user", "grant-role", "alice", "app");
        for (const [w, r] of [[t0, e0], [e0, t0]]) {
          await as(w, "alice:alicepw", "put", `app/${w.name}`, "ok");
          assert.match(await as(r, "alice:alicepw", "get", `app/${w.name}`), /ok/);
          const denied = await etcdctl(r.clientURL, "--user=alice:alicepw", "put", "other", "x");
          assert.match(denied.stderr, /etcdserver: permission denied/);
          const wrong = await etcdctl(w.clientURL, "--user=alice:nope", "get", "app/x");
          assert.match(
            wrong.stderr,
            /etcdserver: authentication failed, invalid user ID or password/,
          );
        }
      });
    } finally {
      await Promise.all([t0, e0].map((m) => stopMember(m)));
    }
  },
);
