// Two etcd 3.4.23 members and this member's peer transport in one three-member cluster, over
// plain HTTP (127.0.253.x) and the clustering guide's mutual TLS (127.0.254.x). The etcd-ts side
// is the member's own transport and peer listener; what they hand to Raft goes to a stand-in
// follower that grants votes and acknowledges what the leader sends, so nothing depends on
// applying the other's log entries. Checked: streams both ways (etcd's lines and ours), votes
// and heartbeats, appends, a snapshot etcd's leader sends once the stand-in fell behind its
// compacted log (its bbolt database read here), and one of ours — our bbolt export of a
// backend, with etcd's own v2 store as payload — that an etcd member saves, restores and
// serves keys from.
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Db, openDb } from "../../../src/bbolt/mod.ts";
import { messages } from "../../../src/pb/mod.ts";
import { decodeSnapshot, type Message, MessageType } from "../../../src/raft/mod.ts";
import type { MergedSnapshot } from "../../../src/peer/mod.ts";
import { Backend } from "../../../src/server/backend.ts";
import { importEtcdBackend } from "../../../src/server/etcd_db/import.ts";
import { writeEtcdDatabase } from "../../../src/server/etcd_db/stream.ts";
import { loadClientTLS, loadServerTLS } from "../../../src/tls/mod.ts";
import type { TLSConfig } from "../../../src/config/mod.ts";
import { issueCerts } from "../../helpers/certs.ts";
import { writeBeyondCatchUp } from "../../helpers/cluster.ts";
import { etcdctl } from "../../helpers/etcdctl.ts";
import { testLog } from "../../helpers/log.ts";
import { message, snapMessage, startMember, type TestMember } from "../../helpers/peer.ts";
import { assertPortsFree } from "../../helpers/ports.ts";
import { itest, metricValue, type Proc, spawn, stop } from "../../helpers/process.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { sleep, until } from "../../helpers/wait.ts";

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();
const hex = (id: bigint) => id.toString(16);

/**
 * Raft's part, as far as etcd's members need one: votes granted, appends and heartbeats
 * acknowledged. Offline, it answers nothing; back online, it refuses the first append, which
 * sends the leader back to where it stopped (past its compacted log).
 */
class StandIn {
  term = 0;
  heartbeats = 0;
  votes = 0;
  apps: Message[] = [];
  snapshots: Message[] = [];
  offline = false;
  #refuseNextApp = false;
  send: (m: Message) => void = () => {};

  constructor(readonly id: bigint) {}

  online(): void {
    this.offline = false;
    this.#refuseNextApp = true;
  }

  step(m: Message): void {
    if (this.offline) return;
    this.term = Math.max(this.term, m.term);
    const reply = (extra: Partial<Message>) =>
      this.send(message(this.id, m.from, 0, { term: this.term, ...extra }));
    if (m.type === MessageType.MsgVote) {
      this.votes++;
      reply({ type: MessageType.MsgVoteResp });
    } else if (m.type === MessageType.MsgHeartbeat) {
      this.heartbeats++;
      reply({ type: MessageType.MsgHeartbeatResp, context: m.context });
    } else if (m.type === MessageType.MsgApp) {
      this.apps.push(m);
      const refuse = this.#refuseNextApp;
      this.#refuseNextApp = false;
      reply({
        type: MessageType.MsgAppResp,
        ...(refuse
          ? { index: m.index, reject: true, rejectHint: 0 }
          : { index: m.index + m.entries.length }),
      });
    } else if (m.type === MessageType.MsgSnap) {
      this.snapshots.push(m);
      reply({ type: MessageType.MsgAppResp, index: m.snapshot!.metadata.index });
    }
  }
}

/** The guide's peer TLS for a member: its pair, the CA, client certificates required. */
function peerTLSConfig(dir: string, name: string): TLSConfig {
  return {
    certFile: `${dir}/${name}.pem`,
    keyFile: `${dir}/${name}.key`,
    clientCertFile: "",
    clientKeyFile: "",
    clientCertAuth: true,
    trustedCAFile: `${dir}/ca.pem`,
    autoTLS: false,
    crlFile: "",
    allowedCN: "",
    allowedHostname: "",
  };
}

interface EtcdMember {
  name: string;
  proc: Proc;
  id: bigint;
  client: string;
  dataDir: string;
}

interface Cluster {
  etcd: EtcdMember[];
  ours: { id: bigint; ip: string; url: string };
  clusterId: bigint;
  urls: Map<bigint, string>;
}

/** e1 and e2 (etcd) on .1 and .2 of the block, t1 (ours) on .3, with the guide's flags. */
async function startEtcd(block: string, tls: boolean, dir: string): Promise<Cluster> {
  const scheme = tls ? "https" : "http";
  const ip = (i: number) => `${block}.${i}`;
  const peer = (i: number) => `${scheme}://${ip(i)}:2380`;
  for (const i of [1, 2, 3]) await assertPortsFree(ip(i), i === 3 ? [2380] : [2379, 2380]);
  if (tls) {
    await issueCerts(dir, [
      ...[1, 2].map((i) => ({ name: `e${i}`, san: `IP:${ip(i)},IP:127.0.0.1` })),
      { name: "t1", san: `IP:${ip(3)},IP:127.0.0.1` },
    ]);
  }
  const initial = `e1=${peer(1)},e2=${peer(2)},t1=${peer(3)}`;
  const etcd = [1, 2].map((i) => {
    const name = `e${i}`;
    const client = `http://${ip(i)}:2379`;
    const dataDir = `${dir}/${name}`;
    const tlsFlags = tls
      ? [
        ...["--peer-cert-file", `${dir}/${name}.pem`, "--peer-key-file", `${dir}/${name}.key`],
        ...["--peer-trusted-ca-file", `${dir}/ca.pem`, "--peer-client-cert-auth"],
      ]
      : [];
    const proc = spawn("etcd", [
      ...["--name", name, "--data-dir", dataDir, "--snapshot-count", "100"],
      ...["--listen-client-urls", client, "--advertise-client-urls", client],
      ...["--listen-peer-urls", peer(i), "--initial-advertise-peer-urls", peer(i)],
      ...["--initial-cluster", initial, "--initial-cluster-token", "interop", ...tlsFlags],
    ]);
    return { name, proc, id: 0n, client, dataDir };
  });
  const urls = new Map<bigint, string>();
  let clusterId = 0n;
  for (const [i, m] of etcd.entries()) {
    const line = await m.proc.waitFor(/starting member [0-9a-f]+ in cluster [0-9a-f]+/);
    const [, id, cid] = /starting member ([0-9a-f]+) in cluster ([0-9a-f]+)/.exec(line)!;
    m.id = BigInt("0x" + id);
    clusterId = BigInt("0x" + cid);
    urls.set(m.id, peer(i + 1));
  }
  const added = await etcd[0].proc.waitFor(new RegExp(`added member [0-9a-f]+ \\[${peer(3)}\\]`));
  const ours = BigInt("0x" + /added member ([0-9a-f]+)/.exec(added)![1]);
  return { etcd, ours: { id: ours, ip: ip(3), url: peer(3) }, clusterId, urls };
}

const has = (p: Proc, re: RegExp) => p.lines.some((l) => re.test(l));

async function interop(block: string, tls: boolean): Promise<void> {
  const dir = tempDir({ prefix: "peer-interop-" }).path;
  const c = await startEtcd(block, tls, dir);
  const standIn = new StandIn(c.ours.id);
  // What our member sends as its snapshot, set before it is sent.
  let ourSnapshot: (() => Promise<MergedSnapshot>) | undefined;
  let member: TestMember | undefined;
  try {
    const peerTLS = tls
      ? {
        server: await loadServerTLS(peerTLSConfig(dir, "t1"), {
          port: "peer",
          log: testLog().log,
        }),
        client: await loadClientTLS(peerTLSConfig(dir, "t1")),
      }
      : undefined;
    member = await startMember(
      { clusterId: c.clusterId, urls: c.urls, removed: new Set() },
      c.ours.id,
      c.ours.ip,
      {
        port: 2380,
        scheme: tls ? "https" : "http",
        listener: { tls: peerTLS?.server },
        transport: {
          tls: peerTLS?.client,
          localPeerURLs: [c.ours.url],
          onMessage: (m) => {
            member!.received.push(m);
            standIn.step(m);
          },
          snapshotSource: () => ourSnapshot!(),
        },
      },
    );
    standIn.send = (m) => member!.transport.send([m]);
    for (const e of c.etcd) member.transport.addPeer(e.id);

    await Promise.all(c.etcd.map((e) => e.proc.waitFor("ready to serve client requests", 30_000)));
    for (const e of c.etcd) await streamsBothWays(e, member);
    const leader = await electionAndHeartbeats(c, standIn);

    const etcdDb = await snapshotFromEtcd(c, leader, member, standIn);
    const follower = c.etcd.find((e) => e !== leader)!;
    const voters = [...c.etcd.map((e) => e.id), c.ours.id];
    const ours = ourSnapshotFor(dir, follower, member, standIn, etcdDb, voters);
    ourSnapshot = ours.source;
    member.transport.send([{ ...snapMessage(c.ours.id, follower.id, 1), term: ours.term }]);
    await follower.proc.waitFor(`finished applying incoming snapshot at index ${ours.index}`);
    await ours.check();
    for (const e of c.etcd) {
      assert.ok(!has(e.proc, /incompatib|version is too low/), `${e.name} accepts our versions`);
      // etcd's prober reports a round trip to us (5 s after it added us), without a warning.
      const rtt = `etcd_network_peer_round_trip_time_seconds_count{To="${hex(c.ours.id)}"}`;
      for (const deadline = Date.now() + 15_000; !((await metricValue(e.client, rtt)) >= 1);) {
        assert.ok(Date.now() < deadline, `${e.name} reported no round trip to us`);
        await sleep(200);
      }
      assert.ok(!has(e.proc, new RegExp(`health check for peer ${hex(c.ours.id)}`)));
    }
  } finally {
    await member?.close();
    await Promise.all(c.etcd.map((e) => stop(e.proc)));
    Deno.removeSync(dir, { recursive: true });
  }
}

/** Both stream types, each way, between an etcd member and ours: its lines and ours. */
async function streamsBothWays(e: EtcdMember, member: TestMember): Promise<void> {
  await e.proc.waitFor(`rafthttp: peer ${hex(member.id)} became active`);
  await until(() => member.transport.activeSince(e.id) > 0);
  const text = "established a TCP streaming connection with peer";
  for (const type of ["stream MsgApp v2", "stream Message"]) {
    for (const side of ["reader", "writer"]) {
      await e.proc.waitFor(`${text} ${hex(member.id)} (${type} ${side})`);
      await member.log.waitFor(`${text} ${hex(e.id)} (${type} ${side})`);
    }
  }
  assert.ok(member.lines.some((l) => l.endsWith(`I | rafthttp: peer ${hex(e.id)} became active`)));
}

/** A leader was elected (our vote asked for, and given); our heartbeat answers keep it. */
async function electionAndHeartbeats(c: Cluster, standIn: StandIn): Promise<EtcdMember> {
  const leader = c.etcd.find((e) => has(e.proc, / became leader at term /))!;
  assert.ok(leader, "an etcd member leads");
  const id = hex(leader.id);
  assert.ok(
    has(leader.proc, new RegExp(`${id} .*sent MsgVote request to ${hex(c.ours.id)} at term`)),
  );
  assert.ok(standIn.votes > 0, "our vote was asked for");
  await until(() => standIn.heartbeats >= 10, 5000, "heartbeats");
  assert.ok(standIn.apps.length > 0, "appends arrive");
  assert.ok(!has(leader.proc, /stepped down to follower/));
  return leader;
}

/**
 * The stand-in goes offline while 6000 writes go in (etcd snapshots every 100 entries and
 * compacts its log past 5000); back, the leader must send it a snapshot, whose database is
 * read here. Returns the database.
 */
async function snapshotFromEtcd(
  c: Cluster,
  leader: EtcdMember,
  member: TestMember,
  standIn: StandIn,
): Promise<Uint8Array> {
  standIn.offline = true;
  await writeBeyondCatchUp(c.etcd.map((e) => e.client));
  standIn.online();
  await until(() => standIn.snapshots.length > 0, 30_000, "a snapshot from etcd");
  const snap = standIn.snapshots[0];
  const index = snap.snapshot!.metadata.index;
  const [ours, theirs] = [hex(member.id), hex(leader.id)];
  await leader.proc.waitFor(
    `database snapshot [index: ${index}, to: ${ours}] sent out successfully`,
  );
  assert.ok(
    has(
      leader.proc,
      new RegExp(`start to send database snapshot \\[index: ${index}, to ${ours}, size .+\\]`),
    ),
  );
  await member.log.waitFor(
    `successfully received and saved database snapshot [index: ${index}, from: ${theirs},`,
  );
  // The payload is etcd's v2 store, passed through; the database is etcd's backend.
  const v2 = JSON.parse(fromUtf8.decode(snap.snapshot!.data));
  assert.ok(v2.Root.Children["0"], "the v2 store's /0 (membership) directory");
  const bytes = member.dbs.get(index)!;
  const db = openDb(bytes);
  assert.equal(readU64(db.bucket("meta")!.get("consistent_index")!), BigInt(index));
  assert.equal(keyCount(db, "s"), 6000, "every write is in the database");
  return bytes;
}

function readU64(b: Uint8Array): bigint {
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0);
}

function keyCount(db: Db, prefix: string): number {
  const keys = new Set<string>();
  for (const [, v] of db.bucket("key")!.entries()) {
    const key = fromUtf8.decode(messages["mvccpb.KeyValue"].decode(v).key);
    if (key.startsWith(prefix)) keys.add(key);
  }
  return keys.size;
}

/**
 * Our snapshot for an etcd member: a backend made from etcd's database plus a key of ours,
 * exported by etcd-ts, at an index past etcd's log and a higher term; the payload is the
 * member's own newest v2 store (the payload is not the transport's to make). Returns the
 * snapshot source and what to check once the member applied it.
 */
function ourSnapshotFor(
  dir: string,
  target: EtcdMember,
  member: TestMember,
  standIn: StandIn,
  etcdDb: Uint8Array,
  voters: bigint[],
) {
  const snapDir = join(target.dataDir, "member", "snap");
  const newest = [...Deno.readDirSync(snapDir)].map((f) => f.name)
    .filter((n) => n.endsWith(".snap")).sort().at(-1)!;
  const file = messages["snappb.snapshot"].decode(Deno.readFileSync(join(snapDir, newest)));
  const payload = decodeSnapshot(file.data).data;
  const known = Math.max(
    ...standIn.apps.map((m) => m.index + m.entries.length),
    ...standIn.snapshots.map((m) => m.snapshot!.metadata.index),
  );
  const index = known + 1000;
  const term = standIn.term + 1;
  const backend = new Backend(join(dir, "ours.db"));
  importEtcdBackend(openDb(etcdDb), backend);
  const txn = backend.store.write();
  txn.put(utf8.encode("from-etcd-ts"), utf8.encode("bbolt by etcd-ts"), 0n);
  txn.end();
  backend.store.setConsistentIndex(index);
  backend.commit({ sync: true });
  const metadata = { index, term, confState: { voters, learners: [] } };
  return {
    index,
    term,
    source: async () => ({
      snapshot: { metadata, data: payload },
      db: await writeEtcdDatabase(backend),
    }),
    check: async () => {
      backend.close();
      await until(() => member.snapshotReports.length > 0, 10_000);
      assert.deepEqual(member.snapshotReports, [[target.id, true]]);
      const saved = `successfully received and saved database snapshot \\[index: ${index}, ` +
        `from: ${hex(member.id)},`;
      assert.ok(has(target.proc, new RegExp(saved)));
      assert.ok(
        has(target.proc, new RegExp(`restored snapshot \\[index: ${index}, term: ${term}\\]`)),
      );
      for (const [key, value] of [["from-etcd-ts", "bbolt by etcd-ts"], ["s5999", "x"]]) {
        const got = await etcdctl(
          target.client,
          "get",
          key,
          "--print-value-only",
          "--consistency=s",
        );
        assert.equal(got.stdout, `${value}\n`, `${key}: ${got.stderr}`);
      }
    },
  };
}

itest(
  "etcd 3.4 and etcd-ts's peer transport: streams, votes, snapshots both ways",
  () => interop("127.0.253", false),
);

itest(
  "etcd 3.4 and etcd-ts's peer transport over the guide's mutual TLS",
  () => interop("127.0.254", true),
);
