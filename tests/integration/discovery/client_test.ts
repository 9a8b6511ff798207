// The discovery client against a real etcd 3.4.23 (--enable-v2) on 127.0.91.x.
import assert from "node:assert/strict";
import { testLog } from "../../helpers/log.ts";
import {
  DiscoveryError,
  discoveryFailureLines,
  discoveryMemberId,
  getCluster,
  joinCluster,
} from "../../../src/discovery/mod.ts";
import { putSize, type RealEtcd, startEtcd } from "../../helpers/v2.ts";
import { itest } from "../../helpers/process.ts";

const HOST = "127.0.91.1";

function member(url: string, name: string, peer: string, logger = testLog().log) {
  return { url, name, peerURLs: [peer], memberId: discoveryMemberId([peer], url), logger };
}

function test(name: string, fn: (etcd: RealEtcd) => Promise<void>) {
  itest(name, async () => {
    const etcd = await startEtcd(HOST);
    try {
      await fn(etcd);
    } finally {
      await etcd.stop();
    }
  });
}

test("discovery: three members, one cluster; the fourth finds it full", async (etcd) => {
  const url = `${etcd.url}/v2/keys/discovery/tok3`;
  await putSize(etcd.url, "/v2/keys/discovery/tok3", "3");
  const logs = [testLog(), testLog(), testLog()];
  const results = await Promise.all(
    [1, 2, 3].map((i) =>
      joinCluster(member(url, `n${i}`, `http://127.0.91.1${i}:2380`, logs[i - 1].log))
    ),
  );
  assert.equal(new Set(results).size, 1, "every member sees the same cluster");
  assert.deepEqual(results[0].split(",").map((p) => p.split("=")[0]).sort(), ["n1", "n2", "n3"]);
  const all = logs.flatMap((l) => l.lines).join("\n");
  assert.match(all, /N \| discovery: found self [0-9a-f]+ in the cluster/);
  assert.match(all, /N \| discovery: found 3 needed peer\(s\)/);

  await assert.rejects(
    joinCluster(member(url, "n4", "http://127.0.91.14:2380")),
    (err: DiscoveryError) => err.kind === "fullCluster" && err.cluster === results[0],
  );
  assert.equal(await getCluster(member(url, "p", "http://127.0.91.15:2380")), results[0]);
});

test("discovery: missing size is the seed's error; bad size; duplicates", async (etcd) => {
  const missing = `${etcd.url}/v2/keys/discovery/notok`;
  const err = await joinCluster(member(missing, "n1", "http://127.0.91.11:2380")).catch((e) => e);
  assert.ok(err instanceof DiscoveryError && err.kind === "sizeNotFound");
  const lines = discoveryFailureLines(err, { url: missing, name: "n1", dataDir: "d" });
  assert.equal(
    lines[0].text,
    `error: the cluster doesn't have a size configuration value in ${missing}/_config`,
  );
  assert.match(
    lines[1].text,
    /^failed to join discovery cluster \(100: Key not found \(\/discovery\) \[\d+\]\)$/,
  );

  await putSize(etcd.url, "/v2/keys/discovery/bad", "x");
  await assert.rejects(
    joinCluster(member(`${etcd.url}/v2/keys/discovery/bad`, "n1", "http://127.0.91.11:2380")),
    (e: DiscoveryError) => e.message === "discovery: size key is bad",
  );

  const dup = `${etcd.url}/v2/keys/discovery/dup`;
  await putSize(etcd.url, "/v2/keys/discovery/dup", "2");
  // The next change under the token, from history if it comes before the watch does.
  const before = await fetch(dup);
  await before.body?.cancel();
  const nextIndex = Number(before.headers.get("x-etcd-index")) + 1;
  const registered = fetch(`${dup}?wait=true&recursive=true&waitIndex=${nextIndex}`)
    .then((r) => r.json());
  const abort = new AbortController();
  const first = joinCluster({
    ...member(dup, "n1", "http://127.0.91.11:2380"),
    signal: abort.signal,
  })
    .catch((e) => e);
  assert.equal((await registered).action, "create", "the first n1 registered");
  await assert.rejects(
    joinCluster(member(dup, "n1", "http://127.0.91.11:2380")),
    (e: DiscoveryError) => e.kind === "duplicateId",
  );
  abort.abort();
  await first;

  const names = `${etcd.url}/v2/keys/discovery/names`;
  await putSize(etcd.url, "/v2/keys/discovery/names", "2");
  const both = await Promise.all([
    joinCluster(member(names, "same", "http://127.0.91.11:2380")).catch((e) => e),
    joinCluster(member(names, "same", "http://127.0.91.12:2380")).catch((e) => e),
  ]);
  for (const e of both) assert.equal((e as DiscoveryError).kind, "duplicateName");
});

itest(
  "discovery: service unreachable, then up: etcd's backoff and log lines",
  async () => {
    const host = "127.0.91.2";
    const url = `http://${host}:2379/v2/keys/discovery/late`;
    const { lines, log: logger } = testLog();
    const waits: number[] = [];
    let etcd: RealEtcd | undefined;
    try {
      const cluster = await joinCluster({
        ...member(url, "n1", "http://127.0.91.11:2380", logger),
        sleep: async (ms) => {
          waits.push(ms);
          if (waits.length === 2) {
            etcd = await startEtcd(host);
            await putSize(etcd.url, "/v2/keys/discovery/late", "1");
          }
        },
      });
      assert.equal(cluster, "n1=http://127.0.91.11:2380");
      assert.deepEqual(waits, [2000, 4000]);
      const text = lines.join("\n");
      assert.match(
        text,
        /E \| discovery: error #0: dial tcp 127\.0\.91\.2:2379: connect: connection refused/,
      );
      assert.match(
        text,
        /I \| discovery: cluster status check: error connecting to http:\/\/127\.0\.91\.2:2379, retrying in 2s/,
      );
      assert.match(text, /retrying in 4s/);
    } finally {
      await etcd?.stop();
    }
  },
);
