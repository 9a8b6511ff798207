// A cluster that lost its quorum, and the operator's way out: without a leader /health is 503,
// reads and writes time out (or fail fast for clients that require a leader), and
// --force-new-cluster restarts the survivor as a one-member cluster that keeps its data.
// Address block 127.0.24.x.
import assert from "node:assert/strict";
import { makeCluster } from "../helpers/cluster.ts";
import { itest, run, startEtcdTs, stop } from "../helpers/process.ts";
import { etcdctl } from "../helpers/etcdctl.ts";

itest(
  "without a quorum: no leader, /health 503, writes time out; --force-new-cluster recovers",
  async () => {
    const c = await makeCluster("127.0.24", 3);
    try {
      for (let i = 0; i < 3; i++) c.start(i);
      await Promise.all(c.members.map((m) => m.proc!.waitFor("ready to serve client requests")));
      assert.equal((await etcdctl(c.endpoints, "put", "kept", "yes")).stdout, "OK\n");
      const survivor = c.members[0];
      const mark = survivor.proc!.lines.length;

      for (const m of c.members.slice(1)) {
        m.proc!.kill("SIGKILL");
        await m.proc!.status;
        m.proc = undefined;
      }
      // The survivor notices within an election timeout (CheckQuorum) that it leads nobody.
      await survivor.proc!.waitFor(
        /lost leader|became follower at term|became pre-candidate|became candidate/,
        20_000,
        mark,
      );
      const health = await run("curl", [
        "-s",
        "-w",
        " %{http_code}",
        `${survivor.clientURL}/health`,
      ]);
      assert.match(health.stdout, /\{"health":"false"\}\n 503$/);

      const put = await etcdctl(survivor.clientURL, "--command-timeout=15s", "put", "lost", "x");
      assert.equal(put.code, 1);
      assert.match(put.stderr, /etcdserver: request timed out/);

      // Restart the survivor alone, as a new one-member cluster with all its data.
      await stop(survivor.proc!);
      survivor.proc = startEtcdTs([...c.flags(0), "--force-new-cluster"]);
      await survivor.proc.waitFor("ready to serve client requests");
      assert.ok(survivor.proc.lines.some((l) => l.includes("forcing restart of member")));
      const list = await etcdctl(survivor.clientURL, "member", "list");
      assert.equal(list.stdout.trim().split("\n").length, 1, list.stdout);
      assert.match(list.stdout, /, started, infra0, /);
      assert.equal(
        (await etcdctl(survivor.clientURL, "get", "kept", "--print-value-only")).stdout,
        "yes\n",
      );
      assert.equal((await etcdctl(survivor.clientURL, "put", "after", "1")).stdout, "OK\n");
    } finally {
      await c.stopAll();
    }
  },
);
