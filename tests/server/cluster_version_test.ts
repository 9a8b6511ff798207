// etcd 3.4's cluster version rules: the leader decides the lowest server version of all members
// (major.minor), raises the cluster version but never lowers it, and a joining member accepts a
// cluster only when every member that answers runs a cluster version in [3.0.0, 3.4.0]; each
// refusal and doubt is logged with etcd's line.
import assert from "node:assert/strict";
import {
  decideClusterVersion,
  downgradeRefusal,
  isCompatibleWithCluster,
  nextClusterVersion,
  type Versions,
} from "../../src/server/cluster_version.ts";
import { messages, testLog } from "../helpers/log.ts";

const v = (etcdserver: string, etcdcluster = "3.4.0"): Versions => ({ etcdserver, etcdcluster });
const members = (entries: [string, Versions | undefined][]) => new Map(entries);

Deno.test("the cluster version is the lowest server version's major.minor", () => {
  const t = testLog();
  assert.equal(decideClusterVersion(members([["a", v("3.4.23")], ["b", v("3.3.9")]])), "3.3.0");
  assert.equal(
    decideClusterVersion(members([["a", v("3.4.23")], ["b", v("3.5.1")]]), t.log),
    "3.4.0",
  );
  assert.deepEqual(messages(t.lines), [
    "W | etcdserver: the local etcd version 3.4.23 is not up-to-date; member b has a higher " +
    "version 3.5.1",
  ]);
});

Deno.test("no cluster version is decided while a member cannot tell or tells nonsense", () => {
  const t = testLog();
  assert.equal(decideClusterVersion(members([["a", v("3.4.23")], ["b", undefined]])), undefined);
  assert.equal(
    decideClusterVersion(members([["a", v("3.4.23")], ["b", v("x")]]), t.log),
    undefined,
  );
  assert.deepEqual(messages(t.lines), [
    "E | etcdserver: cannot understand the version of member b (x is not in dotted-tri format)",
  ]);
});

Deno.test("the leader sets 3.0.0 until it knows better, then only raises the version", () => {
  assert.equal(nextClusterVersion("", undefined), "3.0.0");
  assert.equal(nextClusterVersion("", "3.4.0"), "3.4.0");
  assert.equal(nextClusterVersion("3.0.0", "3.4.0"), "3.4.0");
  assert.equal(nextClusterVersion("3.4.0", "3.3.0"), undefined);
  assert.equal(nextClusterVersion("3.4.0", "3.4.0"), undefined);
  assert.equal(nextClusterVersion("3.4.0", undefined), undefined);
});

Deno.test("a joining member accepts a cluster at 3.0.0 to 3.4.0 and refuses others", () => {
  const t = testLog();
  const at = (cluster: string) => members([["me", undefined], ["b", v("3.4.23", cluster)]]);
  assert.equal(isCompatibleWithCluster(at("3.4.0"), "me", t.log), true);
  assert.equal(isCompatibleWithCluster(at("3.0.0"), "me", t.log), true);
  assert.equal(isCompatibleWithCluster(at("3.4.1"), "me", t.log), false);
  assert.equal(isCompatibleWithCluster(at("2.3.0"), "me", t.log), false);
  assert.deepEqual(messages(t.lines), [
    "W | etcdserver: the running cluster version(3.4.1) is higher than the maximum cluster " +
    "version(3.4.0) supported",
    "W | etcdserver: the running cluster version(2.3.0) is lower than the minimal cluster " +
    "version(3.0.0) supported",
  ]);
});

Deno.test("a joining member needs one member that answers, and skips one that does not", () => {
  const t = testLog();
  const down = members([["me", undefined], ["b", undefined], ["c", v("3.4.23", "3.4.0")]]);
  assert.equal(isCompatibleWithCluster(down, "me", t.log), true);
  assert.equal(
    isCompatibleWithCluster(members([["me", undefined], ["b", undefined]]), "me"),
    false,
  );
  const odd = members([["me", undefined], ["b", v("3.4.23", "not_decided")]]);
  assert.equal(isCompatibleWithCluster(odd, "me", t.log), false);
  assert.deepEqual(messages(t.lines), [
    "E | etcdserver: cannot understand the cluster version of member b (not_decided is not in " +
    "dotted-tri format)",
  ]);
});

Deno.test("a member stops rather than run a cluster version above its own", () => {
  assert.equal(downgradeRefusal("3.4.0"), undefined);
  assert.equal(downgradeRefusal("3.3.0"), undefined);
  assert.equal(
    downgradeRefusal("3.5.0"),
    "cluster cannot be downgraded (current version: 3.4.23 is lower than determined cluster " +
      "version: 3.5).",
  );
});
