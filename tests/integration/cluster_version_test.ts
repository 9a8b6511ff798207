// The cluster version checks of etcd 3.4, side by side with a real etcd 3.4.23: a member refuses
// to join a running cluster whose version it cannot run (its members' /version answered by a
// stand-in peer), and a member refuses a peer that announces an incompatible version in its
// request headers; etcd-ts must refuse exactly where etcd does, with etcd's lines. Then the
// sender's side: a peer that answers "incompatible version" is reported as etcd reports it.
// Address block 127.0.227.x.
import assert from "node:assert/strict";
import { formatMembersJSON, type PeerMember } from "../../src/peer/mod.ts";
import {
  ETCD_TS,
  exited,
  itest,
  memberFlags,
  type Proc,
  singleMemberFlags,
  spawn,
  startReady,
  startReadyEtcd,
  stop,
} from "../helpers/process.ts";
import { tempDir } from "../helpers/tmp.ts";

type Kind = "etcd" | "etcd-ts";
// Each kind joins on its address a cluster of its own stand-in and itself.
const KINDS: [Kind, ip: string, standIn: string][] = [
  ["etcd", "127.0.227.2", "127.0.227.1"],
  ["etcd-ts", "127.0.227.4", "127.0.227.3"],
];
const STAND_IN_ID = 0x1111n;
const CLUSTER_ID = 0xc1a5n;
const command = (kind: Kind) => kind === "etcd" ? "etcd" : ETCD_TS;

/**
 * A running member on `ip` as /members lists it (with the member `joinerIp` is to join as),
 * answering /version with `cluster` as its version.
 */
function standIn(cluster: string, ip: string, joinerIp: string): AsyncDisposable {
  const members: PeerMember[] = [{
    id: STAND_IN_ID,
    name: "standin",
    peerURLs: [`http://${ip}:2380`],
    clientURLs: [`http://${ip}:2379`],
    isLearner: false,
  }, {
    id: STAND_IN_ID + 1n,
    name: "",
    peerURLs: [`http://${joinerIp}:2380`],
    clientURLs: [],
    isLearner: false,
  }];
  const server = Deno.serve({ hostname: ip, port: 2380, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    const headers = { "X-Etcd-Cluster-ID": CLUSTER_ID.toString(16) };
    if (path === "/members") return new Response(formatMembersJSON(members), { headers });
    if (path === "/version") {
      return Response.json({ etcdserver: cluster, etcdcluster: cluster }, { headers });
    }
    return new Response("not found", { status: 404 });
  });
  return { [Symbol.asyncDispose]: () => server.shutdown() };
}

/** A member of `kind` on `ip` joining the stand-in's cluster as `--initial-cluster-state existing`. */
function join(kind: Kind, ip: string, standInIp: string, dataDir: string, zap = false): Proc {
  const peerURL = `http://${ip}:2380`;
  return spawn(command(kind), [
    ...(zap ? ["--logger=zap"] : []),
    ...memberFlags({ name: kind, clientURL: `http://${ip}:2379`, peerURL, dataDir }),
    "--initial-cluster",
    `standin=http://${standInIp}:2380,${kind}=${peerURL}`,
    "--initial-cluster-state",
    "existing",
  ]);
}

/** Each kind joining its stand-in's cluster at `version`; disposing ends the stand-ins. */
function joins(version: string, dir: string, zap = false): { procs: Proc[] } & AsyncDisposable {
  const standIns = KINDS.map(([, ip, standInIp]) => standIn(version, standInIp, ip));
  return {
    procs: KINDS.map(([kind, ip, standInIp]) => join(kind, ip, standInIp, `${dir}/${kind}`, zap)),
    [Symbol.asyncDispose]: async () => {
      await Promise.all(standIns.map((s) => s[Symbol.asyncDispose]()));
    },
  };
}

// What etcd 3.4 prints when the running cluster's version is outside [3.0.0, 3.4.0].
const REFUSALS: [version: string, line: string][] = [
  ["3.5.0", "the running cluster version(3.5.0) is higher than the maximum cluster version(3.4.0)"],
  ["2.3.0", "the running cluster version(2.3.0) is lower than the minimal cluster version(3.0.0)"],
];

/** The lines a member logs about versions and the refusal, without their time stamps. */
const versionLines = (p: Proc) =>
  p.lines.filter((l) => /version\(|incompatible/.test(l)).map((l) => l.replace(/^\S+ \S+ /, ""));

/** The same in zap's JSON: level, message and fields, without time, caller and stack. */
const zapVersionLines = (p: Proc) =>
  p.lines.filter((l) => /compatib/.test(l)).map((l) => {
    const { ts: _t, caller: _c, stacktrace: _s, ...rest } = JSON.parse(l);
    return rest;
  });

for (const [version, why] of REFUSALS) {
  itest(`a member refuses to join a cluster at version ${version}, as etcd 3.4 does`, async () => {
    await using dir = tempDir();
    await using cluster = joins(version, dir.path);
    const said = [];
    for (const [i, [kind]] of KINDS.entries()) {
      const status = await exited(cluster.procs[i], 30_000);
      const log = cluster.procs[i].lines.join("\n");
      assert.notEqual(status.code, 0, `${kind} exited 0:\n${log}`);
      assert.ok(log.includes(why), `${kind} did not say "${why}":\n${log}`);
      said.push(versionLines(cluster.procs[i]));
    }
    assert.deepEqual(said[1], said[0]);
    assert.match(said[0].at(-1)!, /C \| etcdmain: incompatible with current running cluster/);
  });
}

itest("the refusal in zap's format: the same records as etcd 3.4's", async () => {
  await using dir = tempDir();
  await using cluster = joins("3.5.0", dir.path, true);
  for (const p of cluster.procs) await exited(p, 30_000);
  const [etcd, ours] = cluster.procs.map(zapVersionLines);
  assert.deepEqual(ours, etcd);
  assert.deepEqual(etcd.map((r) => [r.level, r.msg]), [
    ["warn", "cluster version of remote member is not compatible; too high"],
    ["warn", "failed to start etcd"],
    ["fatal", "discovery failed"],
  ]);
});

itest("a member joins a cluster at version 3.4.0: the check passes on both kinds", async () => {
  await using dir = tempDir();
  await using cluster = joins("3.4.0", dir.path);
  try {
    // Past the version check a joining member starts its server and waits for the leader.
    await Promise.all(
      cluster.procs.map((p) => p.waitFor(/starting server\.\.\. \[version: 3\.4\.23/)),
    );
    for (const p of cluster.procs) {
      assert.doesNotMatch(p.lines.join("\n"), /incompatible with current running cluster/);
    }
  } finally {
    await Promise.all(cluster.procs.map((p) => stop(p)));
  }
});

// etcd's peer header checks: a request from a peer announcing a version above this member's
// (its minimum cluster version 3.5.0), or below etcd's minimum cluster version (2.3.0).
const PEERS: [Kind, string][] = [["etcd", "127.0.227.5"], ["etcd-ts", "127.0.227.6"]];
const HEADERS: [server: string, minCluster: string, why: string][] = [
  ["3.5.0", "3.5.0", "local version is too low: remote[abc]=3.5.0, local=3.4.23"],
  ["2.3.0", "2.0.0", "remote version is too low: remote[abc]=2.3.0, local=3.4.23"],
];

itest("a peer announcing a version the member cannot accept is refused as etcd does", async () => {
  await using dir = tempDir();
  const procs = await Promise.all(PEERS.map(([kind, ip]) => {
    const flags = singleMemberFlags(kind, ip, `${dir.path}/${kind}`);
    return kind === "etcd" ? startReadyEtcd(flags) : startReady(flags);
  }));
  try {
    for (const [server, minCluster, why] of HEADERS) {
      for (const [i, [kind, ip]] of PEERS.entries()) {
        const res = await fetch(`http://${ip}:2380/raft`, {
          method: "POST",
          headers: {
            "X-Server-From": "abc",
            "X-Server-Version": server,
            "X-Min-Cluster-Version": minCluster,
            "X-Etcd-Cluster-ID": "1",
          },
          body: new Uint8Array(0),
        });
        assert.equal(res.status, 412, kind);
        assert.equal(await res.text(), "incompatible version\n", kind);
        const line = await procs[i].waitFor(why);
        assert.match(line, /E \| rafthttp: request version incompatibility \(/, kind);
      }
    }
  } finally {
    await Promise.all(procs.map((p) => stop(p)));
  }
});

// The sender's side: each kind starts a two-member cluster whose other member is a stand-in
// that refuses every raft request for its version, as an etcd 3.5 with min cluster 3.5 would.
const SENDERS: [Kind, ip: string, standIn: string][] = [
  ["etcd", "127.0.227.8", "127.0.227.7"],
  ["etcd-ts", "127.0.227.10", "127.0.227.9"],
];

function refusingPeer(ip: string): AsyncDisposable {
  const server = Deno.serve({ hostname: ip, port: 2380, onListen: () => {} }, (req) => {
    if (!new URL(req.url).pathname.startsWith("/raft")) return new Response("", { status: 404 });
    return new Response("incompatible version\n", {
      status: 412,
      headers: { "X-Etcd-Cluster-ID": CLUSTER_ID.toString(16) },
    });
  });
  return { [Symbol.asyncDispose]: () => server.shutdown() };
}

itest("a peer that refuses this member's version is reported as etcd reports it", async () => {
  await using dir = tempDir();
  const standIns = SENDERS.map(([, , standInIp]) => refusingPeer(standInIp));
  const procs = SENDERS.map(([kind, ip, standInIp]) => {
    const peerURL = `http://${ip}:2380`;
    return spawn(command(kind), [
      ...memberFlags({ name: kind, clientURL: `http://${ip}:2379`, peerURL }),
      ...["--data-dir", `${dir.path}/${kind}`],
      ...["--initial-cluster", `${kind}=${peerURL},standin=http://${standInIp}:2380`],
    ]);
  });
  try {
    const ignored =
      /E \| rafthttp: request sent was ignored by peer [0-9a-f]+ \(server version incompatible\)$/;
    await Promise.all(procs.map((p) => p.waitFor(ignored, 30_000)));
  } finally {
    await Promise.all(procs.map((p) => stop(p)));
    await Promise.all(standIns.map((s) => s[Symbol.asyncDispose]()));
  }
});
