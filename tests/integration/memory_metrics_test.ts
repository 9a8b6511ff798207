// What holds a member's RSS, on its /metrics: the raft log held in memory grows with puts and
// falls once the member snapshots and compacts its log (a small --snapshot-count), and the
// shares of RSS the member measures add up to no more than its RSS.
import assert from "node:assert/strict";
import { Etcd3 } from "etcd3";
import { itest, singleMemberFlags, startReady, stop } from "../helpers/process.ts";
import { type Exposition, scrape, value } from "../helpers/metrics.ts";
import { tempDir } from "../helpers/tmp.ts";
import { assertPortsFree } from "../helpers/ports.ts";

const IP = "127.0.236.1";
const CLIENT = `http://${IP}:2379`;
const SNAPSHOT_COUNT = 1500;
const VALUE = "v".repeat(2048);

const raftLog = (f: Exposition) => ({
  entries: value(f, "etcd_debugging_server_raft_log_entries"),
  bytes: value(f, "etcd_debugging_server_raft_log_bytes"),
});

async function putKeys(client: Etcd3, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i += 100) {
    const batch = Array.from({ length: Math.min(100, to - i) }, (_, k) => i + k);
    await Promise.all(batch.map((n) => client.put(`k${n}`).value(VALUE)));
  }
}

itest(
  "the raft log's gauges grow with puts and fall after a snapshot compacts the log",
  async () => {
    await assertPortsFree(IP, [2379, 2380]);
    const dir = tempDir().path;
    const member = await startReady([
      ...singleMemberFlags("m1", IP, `${dir}/m1.etcd`),
      "--snapshot-count",
      String(SNAPSHOT_COUNT),
    ]);
    const client = new Etcd3({ hosts: CLIENT });
    try {
      const idle = raftLog(await scrape(CLIENT));
      await putKeys(client, 0, 3000);
      const grown = raftLog(await scrape(CLIENT));
      assert.ok(grown.entries >= idle.entries + 3000, `${idle.entries} -> ${grown.entries}`);
      assert.ok(
        grown.bytes > idle.bytes && grown.bytes >= 3000 * VALUE.length,
        `${idle.bytes} -> ${grown.bytes}`,
      );
      // Snapshots come every 1500 entries; the first to leave more than etcd's 5000 catch-up
      // entries behind (near index 6000) compacts the log. Below it nothing has been dropped.
      await putKeys(client, 3000, 5800);
      const before = raftLog(await scrape(CLIENT));
      assert.ok(before.entries >= 5800, `entries before the compaction: ${before.entries}`);
      const since = member.lines.length;
      await putKeys(client, 5800, 6500);
      const compacted = await member.waitFor(/compact(ed Raft logs|ed raft log at)/, 30_000, since);
      const at = Number(
        /"compact-index":(\d+)|raft log at (\d+)/.exec(compacted)!.slice(1).find(Boolean),
      );
      const after = raftLog(await scrape(CLIENT));
      // etcd's retention: the 5000 entries before the snapshot, and those applied since.
      assert.ok(
        after.entries <= 5000 + SNAPSHOT_COUNT,
        `entries after compacting at ${at}: ${after.entries}`,
      );
      assert.ok(after.entries < before.entries, `${before.entries} -> ${after.entries}`);
      assert.ok(after.bytes < before.bytes, `${before.bytes} -> ${after.bytes}`);
    } finally {
      client.close();
      await stop(member);
    }
  },
);

itest("the shares of RSS the member reports add up to no more than its RSS", async () => {
  await assertPortsFree(IP, [2379, 2380]);
  const dir = tempDir().path;
  const member = await startReady(singleMemberFlags("m1", IP, `${dir}/m1.etcd`));
  try {
    const f = await scrape(CLIENT);
    const rss = value(f, "process_resident_memory_bytes");
    const share = (s: string) => value(f, "etcd_debugging_resident_memory_bytes", { share: s });
    const measured = ["v8_heap", "v8_external", "v8_malloced", "file"].map(share);
    for (const bytes of measured) assert.ok(bytes > 0, `a share of 0: ${measured}`);
    const sum = measured.reduce((a, b) => a + b, 0);
    assert.ok(sum <= rss, `shares ${measured} sum to ${sum} > RSS ${rss}`);
    // The rest is what the measured shares leave of RSS.
    assert.ok(Math.abs(sum + share("other") - rss) <= rss * 0.05, `other: ${share("other")}`);
    // V8's heap share is its spaces' committed memory.
    const spaces = f.get("etcd_debugging_v8_heap_space_committed_bytes")!.samples;
    const committed = spaces.reduce((a, s) => a + s.value, 0);
    assert.ok(value(f, "etcd_debugging_v8_heap_space_used_bytes", { space: "old" }) > 0);
    assert.ok(Math.abs(committed - share("v8_heap")) <= committed * 0.05, `${committed}`);
  } finally {
    await stop(member);
  }
});
