// --grpc-keepalive-min-time, --grpc-keepalive-interval and --grpc-keepalive-timeout side by side
// with etcd 3.4, through a raw HTTP/2 client: a client pinging more often than min-time gets
// GOAWAY ENHANCE_YOUR_CALM "too_many_pings" (without open streams any two pings are too close);
// pings min-time apart are fine; an idle connection is pinged every interval and dropped when
// the ping goes unanswered for the timeout. etcd 3.4 serves TLS clients through Go's net/http,
// which does neither, and neither does etcd-ts on TLS ports. etcd-ts runs both HTTP/2 servers
// (lean, and node:http2 with ETCD_TS_HTTP2=node). Address block 127.0.190.x.
import assert from "node:assert/strict";
import { errorCodeName, type Frame, FrameType, type GoawayFrame } from "../../../src/h2/mod.ts";
import { issueCerts } from "../../helpers/certs.ts";
import { grpcHeaders, RawClient } from "../../helpers/h2_server.ts";
import { assertPortsFree } from "../../helpers/ports.ts";
import {
  itest,
  type Proc,
  singleMemberFlags,
  startReady,
  startReadyEtcd,
  stop,
} from "../../helpers/process.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { sleep } from "../../helpers/wait.ts";

const MIN_TIME_MS = 300;
const KEEPALIVE = [
  `--grpc-keepalive-min-time=${MIN_TIME_MS}ms`,
  "--grpc-keepalive-interval=1s",
  "--grpc-keepalive-timeout=1s",
];

interface Server {
  name: string;
  host: string;
  ca?: string;
}

const PLAIN: Server[] = [
  { name: "etcd", host: "127.0.190.1" },
  { name: "etcd-ts", host: "127.0.190.2" },
  { name: "etcd-ts (node:http2)", host: "127.0.190.3" },
];

async function connect(s: Server): Promise<RawClient> {
  return await RawClient.connect(2379, { host: s.host, tls: s.ca ? { ca: s.ca } : undefined });
}

const isPing = (f: Frame) => f.type === FrameType.PING && !f.ack;
const isAck = (f: Frame) => f.type === FrameType.PING && f.ack;
/** The answer to our ping number `i`. */
const ackOf = (i: number) => (f: Frame) =>
  f.type === FrameType.PING && f.ack && f.opaqueData[0] === i;
const goaways = (c: RawClient) => c.frames.filter((f) => f.type === FrameType.GOAWAY);

/** Pings one at a time, each after the last answer, until GOAWAY; the pings answered. */
async function pingUntilGoaway(c: RawClient, max: number): Promise<number> {
  for (let i = 1; i <= max && goaways(c).length === 0; i++) {
    c.send({ type: FrameType.PING, ack: false, opaqueData: new Uint8Array(8).fill(i) });
    await c.waitFor((f) => ackOf(i)(f) || f.type === FrameType.GOAWAY)
      .catch(() => {}); // closed: the GOAWAY is among the frames
  }
  return c.frames.filter(isAck).length;
}

/** What the first GOAWAY said: its code, debug data and last stream id. */
function firstGoaway(c: RawClient): string {
  const g = goaways(c)[0] as GoawayFrame | undefined;
  if (!g) return "none";
  return `${errorCodeName(g.errorCode)} ${new TextDecoder().decode(g.debugData)} ${g.lastStreamId}`;
}

// Four quick pings earn the GOAWAY (the first is free, the fourth is the third strike) with a
// stream open; without one, the two-hour rule makes the same count.
async function tooManyPings(s: Server, withStream: boolean): Promise<string> {
  const c = await connect(s);
  try {
    if (withStream) c.headers(1, grpcHeaders("/etcdserverpb.Watch/Watch", s.host), false);
    const pings = await pingUntilGoaway(c, 8);
    await c.goaway();
    await c.waitClosed();
    return `${pings} pings, GOAWAY ${firstGoaway(c)}`;
  } finally {
    c.close();
  }
}

// Pings twice min-time apart on a connection with a watch open: never a strike.
async function politePings(s: Server): Promise<string> {
  const c = await connect(s);
  try {
    c.headers(1, grpcHeaders("/etcdserverpb.Watch/Watch", s.host), false);
    for (let i = 1; i <= 5; i++) {
      if (i > 1) await sleep(2 * MIN_TIME_MS);
      c.send({ type: FrameType.PING, ack: false, opaqueData: new Uint8Array(8).fill(i) });
      await c.waitFor(ackOf(i));
    }
    return `acked ${c.frames.filter(isAck).length}, GOAWAY ${firstGoaway(c)}, open ${!c.closed}`;
  } finally {
    c.close();
  }
}

// A client that never answers: the server's ping after an idle interval, then the drop.
async function deadClient(s: Server): Promise<string> {
  const c = await connect(s);
  try {
    await c.waitFor(isPing, 3000);
    await c.waitClosed(4000); // well before gRPC's default 20 s
    return `pinged, then dropped; GOAWAY ${firstGoaway(c)}`;
  } finally {
    c.close();
  }
}

// A client that answers: pinged again and again, never dropped.
async function liveClient(s: Server): Promise<string> {
  const c = await connect(s);
  c.answerPings = true;
  try {
    await c.waitFor(() => c.frames.filter(isPing).length >= 3, 6000);
    return `3 pings answered, GOAWAY ${firstGoaway(c)}, open ${!c.closed}`;
  } finally {
    c.close();
  }
}

// Over TLS: quick pings are all answered, and an idle connection is never pinged.
async function overTLS(s: Server): Promise<string> {
  const c = await connect(s);
  try {
    c.headers(1, grpcHeaders("/etcdserverpb.Watch/Watch", s.host), false);
    const pings = await pingUntilGoaway(c, 6);
    await sleep(2500); // longer than the interval: a plain connection would have had its ping
    return `${pings} pings, GOAWAY ${firstGoaway(c)}, server pings ${
      c.frames.filter(isPing).length
    }, open ${!c.closed}`;
  } finally {
    c.close();
  }
}

/** Runs `scenario` on every server at once; their answers side by side. */
async function sideBySide(servers: Server[], scenario: (s: Server) => Promise<string>) {
  const answers = await Promise.all(servers.map(scenario));
  return Object.fromEntries(servers.map((s, i) => [s.name, answers[i]]));
}

const same = (answers: Record<string, string>) =>
  Object.fromEntries(Object.keys(answers).map((k) => [k, answers.etcd]));

itest("gRPC keepalive: etcd-ts enforces and pings as etcd 3.4 does", async () => {
  const dir = tempDir({ prefix: "keepalive-" });
  const certs = await issueCerts(dir.path, [
    { name: "server", san: "DNS:localhost,IP:127.0.190.4,IP:127.0.190.5" },
  ]);
  const tlsServers: Server[] = [
    { name: "etcd", host: "127.0.190.4", ca: Deno.readTextFileSync(certs.ca) },
    { name: "etcd-ts", host: "127.0.190.5", ca: Deno.readTextFileSync(certs.ca) },
  ];
  for (const s of [...PLAIN, ...tlsServers]) await assertPortsFree(s.host, [2379, 2380]);
  const flags = (s: Server) => {
    const base = singleMemberFlags("ka", s.host, `${dir.path}/${s.host}`);
    if (!s.ca) return [...base, ...KEEPALIVE];
    const url = `https://${s.host}:2379`;
    return [
      ...base.map((f) => f === `http://${s.host}:2379` ? url : f),
      ...KEEPALIVE,
      `--cert-file=${certs.cert("server")}`,
      `--key-file=${certs.key("server")}`,
    ];
  };
  const procs: Proc[] = [];
  try {
    procs.push(
      ...await Promise.all([
        startReadyEtcd(flags(PLAIN[0])),
        startReady(flags(PLAIN[1])),
        startReady(flags(PLAIN[2]), { env: { ETCD_TS_HTTP2: "node" } }),
        startReadyEtcd(flags(tlsServers[0])),
        startReady(flags(tlsServers[1])),
      ]),
    );

    for (const [withStream, last] of [[true, 1], [false, 0]] as const) {
      const got = await sideBySide(PLAIN, (s) => tooManyPings(s, withStream));
      assert.equal(got.etcd, `4 pings, GOAWAY ENHANCE_YOUR_CALM too_many_pings ${last}`);
      // node:http2 answers a ping before it tells us of it: under load the client's next ping
      // may be answered before the GOAWAY goes out.
      const node = got["etcd-ts (node:http2)"];
      assert.equal(node.replace(/^5 pings/, "4 pings"), got.etcd, node);
      got["etcd-ts (node:http2)"] = got.etcd;
      assert.deepEqual(got, same(got));
    }

    let got = await sideBySide(PLAIN, politePings);
    assert.equal(got.etcd, "acked 5, GOAWAY none, open true");
    assert.deepEqual(got, same(got));

    got = await sideBySide(PLAIN, deadClient);
    assert.equal(got.etcd, "pinged, then dropped; GOAWAY none");
    assert.deepEqual(got, same(got));

    got = await sideBySide(PLAIN, liveClient);
    assert.equal(got.etcd, "3 pings answered, GOAWAY none, open true");
    assert.deepEqual(got, same(got));

    got = await sideBySide(tlsServers, overTLS);
    assert.equal(got.etcd, "6 pings, GOAWAY none, server pings 0, open true");
    assert.deepEqual(got, same(got));
  } finally {
    await Promise.all(procs.map((p) => stop(p)));
    await Deno.remove(dir.path, { recursive: true }).catch(() => {});
  }
});
