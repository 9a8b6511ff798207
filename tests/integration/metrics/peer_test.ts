// Peer metrics beside a real etcd 3.4.23: a two-member cluster of etcd, then one of etcd-ts on
// the same addresses (127.0.183.10 and .11, so the same member IDs label the series), each
// exports etcd's network families with the same HELP, TYPE, label names and buckets, and the
// same series: bytes each way per peer, the active peer, and the round trip time the prober
// measures (etcd's first one comes 5 s after start).
import assert from "node:assert/strict";
import { itest, type Proc, spawn, startEtcdTs, stop } from "../../helpers/process.ts";
import { makeCluster } from "../../helpers/cluster.ts";
import { type Exposition, scrape, shape, value } from "../../helpers/metrics.ts";

const BLOCK = "127.0.183";
const NETWORK = /^etcd_network_(peer_|active_peers|disconnected_peers)/;

/** Scrapes member 0 until the round trip histogram has an observation for its peer. */
async function withRoundTrip(endpoint: string, peer: string): Promise<Exposition> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const m = await scrape(endpoint);
    const rtt = m.get("etcd_network_peer_round_trip_time_seconds");
    if (rtt?.samples.some((s) => s.labels.To === peer)) return m;
    assert.ok(Date.now() < deadline, "no round trip time observed");
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function run(start: (flags: string[]) => Proc): Promise<{ m: Exposition; peer: string }> {
  const cluster = await makeCluster(BLOCK, 2);
  const procs = [0, 1].map((i) => start(cluster.flags(i)));
  try {
    await Promise.all(procs.map((p) => p.waitFor("ready to serve client requests", 30_000)));
    const line = await procs[1].waitFor(/starting member [0-9a-f]+ in cluster/);
    const peer = /starting member ([0-9a-f]+)/.exec(line)![1];
    return { m: await withRoundTrip(cluster.members[0].clientURL, peer), peer };
  } finally {
    await Promise.all(procs.map((p) => stop(p)));
  }
}

itest("peer metrics: etcd's network families and series, per peer", async () => {
  const etcd = await run((flags) => spawn("etcd", flags));
  const ours = await run((flags) => startEtcdTs(flags));
  assert.equal(ours.peer, etcd.peer);
  const names = (m: Exposition) => [...m.keys()].filter((n) => NETWORK.test(n)).sort();
  // disconnected_peers shows only once a peer was lost; neither lost one here.
  assert.deepEqual(names(ours.m), names(etcd.m));
  for (const name of names(etcd.m)) {
    const [t, f] = [etcd.m.get(name)!, ours.m.get(name)!];
    assert.equal(f.help, t.help, name);
    assert.equal(f.type, t.type, name);
    assert.deepEqual(shape(f), shape(t), name);
    // etcd's stream writers send link heartbeats, messages from member "0", to keep the
    // connection warm; etcd-ts's streams do not.
    const labels = (x: typeof f) =>
      [
        ...new Set(
          x.samples.filter((s) => s.labels.From !== "0").map((s) => JSON.stringify(s.labels)),
        ),
      ]
        .sort();
    assert.deepEqual(labels(f), labels(t), `series of ${name}`);
  }
  const To = { To: ours.peer };
  assert.ok(value(ours.m, "etcd_network_peer_sent_bytes_total", To) > 0);
  assert.ok(value(ours.m, "etcd_network_peer_received_bytes_total", { From: ours.peer }) > 0);
  assert.equal(value(ours.m, "etcd_network_active_peers", { Remote: ours.peer }), 1);
  assert.ok(value(ours.m, "etcd_network_peer_round_trip_time_seconds_count", To) >= 1);
  assert.ok(value(ours.m, "etcd_network_peer_round_trip_time_seconds_sum", To) > 0);
});
