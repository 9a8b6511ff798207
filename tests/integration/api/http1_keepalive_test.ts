// HTTP/1.1 keep-alive on the client port, beside etcd 3.4: one connection carries a client's
// whole session (the v2 API, the v3 JSON gateway, /health, /metrics, /version), sequential and
// pipelined, over plain TCP and TLS; curl --keepalive reuses one connection for many URLs; a
// request that says Connection: close is answered and its connection closed; a request over
// --max-request-bytes is refused as etcd refuses it and the connection goes on. The server's
// side is counted with ss: every socket the member holds towards the client's address, so a
// connection it closed (TIME-WAIT) counts too. On a listener in-process: the mixed plain/TLS
// port, and an idle connection closed after the idle timeout. Address block 127.0.235.x.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createHttpApp, serveClient } from "../../../src/api/mod.ts";
import { issueCerts } from "../../helpers/certs.ts";
import { curl } from "../../helpers/curl.ts";
import { type PairMember, startPair } from "../../helpers/pair.ts";
import { itest, run } from "../../helpers/process.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { Http1Connection, type Http1Request } from "../../support/http1.ts";

const ETCD_IP = "127.0.235.1", TS_IP = "127.0.235.2";
/** Client addresses, one per check, so each check counts only its own connections. */
const SESSION_CLIENT = "127.0.235.9", CURL_CLIENT = "127.0.235.10", CLOSE_CLIENT = "127.0.235.11";

const dec = new TextDecoder();
const b64 = (s: string) => btoa(s);

/** The sockets the server at ip:port holds towards `client` (established or closed by it). */
async function serverSockets(ip: string, port: number, client: string): Promise<number> {
  const r = await run("ss", ["-Htn", "state", "connected", "src", `${ip}:${port}`, "dst", client]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split("\n").filter((l) => l.trim() !== "").length;
}

/** One round of a client's session: each endpoint a Python or shell client uses. */
function round(i: number): Http1Request[] {
  const json = { "Content-Type": "application/json" };
  return [
    {
      method: "PUT",
      path: "/v2/keys/k2",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: `value=v${i}`,
    },
    { method: "GET", path: "/v2/keys/k2" },
    {
      method: "POST",
      path: "/v3/kv/put",
      headers: json,
      body: JSON.stringify({ key: b64("k3"), value: b64(`v${i}`) }),
    },
    { method: "POST", path: "/v3/kv/range", headers: json, body: `{"key":"${b64("k3")}"}` },
    { method: "GET", path: "/health" },
    { method: "GET", path: "/metrics" },
    { method: "GET", path: "/version" },
  ];
}

/** What an answer says, without what differs between two members (revisions, timestamps). */
function gist(req: Http1Request, status: number, body: Uint8Array): string {
  const text = dec.decode(body);
  if (req.path === "/metrics") {
    return `${status} has_leader=${/^etcd_server_has_leader 1$/m.test(text)}`;
  }
  const j = JSON.parse(text);
  if (req.path.startsWith("/v2/")) return `${status} ${j.node.value}`;
  if (req.path === "/v3/kv/range") {
    return `${status} ${j.kvs.map((kv: { value: string }) => atob(kv.value))}`;
  }
  if (req.path === "/health") return `${status} ${j.health}`;
  if (req.path === "/version") return `${status} ${j.etcdserver}`;
  return `${status}`;
}

/** `rounds` rounds one request at a time, then `rounds` more written before any answer is read. */
async function session(conn: Http1Connection, rounds: number): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < rounds; i++) {
    for (const req of round(i)) {
      const a = await conn.request(req);
      assert.notEqual(a.headers.connection?.toLowerCase(), "close", `${req.method} ${req.path}`);
      seen.push(gist(req, a.status, a.body));
    }
  }
  const pipelined = Array.from({ length: rounds }, (_, i) => round(rounds + i)).flat();
  for (const req of pipelined) conn.send(req);
  for (const req of pipelined) {
    const a = await conn.answer();
    seen.push(gist(req, a.status, a.body));
  }
  return seen;
}

/** The session on one connection from SESSION_CLIENT, and the server's sockets after it. */
async function sessionOn(m: PairMember, rounds: number, tls?: { ca: string }) {
  const conn = await Http1Connection.connect(m.ip, 2379, {
    localAddress: SESSION_CLIENT,
    tls: tls && { ca: readFileSync(tls.ca), servername: "etcd.test" },
  });
  try {
    const answers = await session(conn, rounds);
    assert.equal(conn.isClosed, false);
    return { answers, sockets: await serverSockets(m.ip, 2379, SESSION_CLIENT) };
  } finally {
    conn.destroy();
  }
}

/** One curl run, a transfer per argument list: the connections each opened, and its status. */
async function curlMany(common: string[], transfers: string[][]): Promise<string[]> {
  const args = ["--keepalive", "--http1.1", "--interface", CURL_CLIENT];
  for (const [i, t] of transfers.entries()) {
    if (i > 0) args.push("--next");
    args.push(...common, ...t, "-o", "/dev/null", "-w", "%{num_connects} %{http_code}\n");
  }
  const r = await curl(...args);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split("\n");
}

/** curl's transfers against one member: GETs and gateway POSTs, ten of each. */
function curlTransfers(url: string): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < 10; i++) {
    out.push([`${url}/health`]);
    out.push(["-d", `{"key":"${b64("k3")}"}`, `${url}/v3/kv/range`]);
  }
  return out;
}

/** A request with Connection: close: answered, then the server ends the connection. */
async function closeOnRequest(m: PairMember, tls?: { ca: string }): Promise<string> {
  const conn = await Http1Connection.connect(m.ip, 2379, {
    localAddress: CLOSE_CLIENT,
    tls: tls && { ca: readFileSync(tls.ca), servername: "etcd.test" },
  });
  conn.send({ method: "GET", path: "/health", headers: { Connection: "close" } });
  const a = await conn.answer();
  await conn.closed;
  return `${a.status} ${a.headers.connection} ${dec.decode(a.body)}`;
}

/** etcd's refusal of a put over --max-request-bytes, then the connection's next answer. */
async function tooLarge(m: PairMember, tls?: { ca: string }): Promise<string[]> {
  const conn = await Http1Connection.connect(m.ip, 2379, {
    tls: tls && { ca: readFileSync(tls.ca), servername: "etcd.test" },
  });
  try {
    const big = "x".repeat(2 * 1024 * 1024);
    const body = JSON.stringify({ key: b64("big"), value: b64(big) });
    const refused = await conn.request({ method: "POST", path: "/v3/kv/put", body });
    const after = await conn.request({
      method: "POST",
      path: "/v3/kv/range",
      body: `{"key":"${b64("big")}"}`,
    });
    return [
      `${refused.status} ${dec.decode(refused.body)}`,
      `${after.status} ${dec.decode(after.body).includes('"kvs"')}`,
    ];
  } finally {
    conn.destroy();
  }
}

/** Everything one member answers, plain or over TLS (`ca` for the client). */
async function checks(m: PairMember, ca?: string) {
  const tls = ca === undefined ? undefined : { ca };
  return {
    session: await sessionOn(m, 10, tls),
    curl: await curlMany(ca === undefined ? [] : ["--cacert", ca], curlTransfers(m.url)),
    close: await closeOnRequest(m, tls),
    tooLarge: await tooLarge(m, tls),
  };
}

/** What both members must show, beyond answering alike. */
function assertKeptAlive(r: Awaited<ReturnType<typeof checks>>): void {
  assert.equal(r.session.answers.length, 140);
  assert.equal(r.session.sockets, 1, "one server-side socket served the whole session");
  assert.deepEqual(r.session.answers.slice(0, 7), [
    "201 v0",
    "200 v0",
    "200",
    "200 v0",
    "200 true",
    "200 has_leader=true",
    "200 3.4.23",
  ]);
  assert.equal(r.session.answers.at(-4), "200 v19");
  assert.deepEqual(r.curl, ["1 200", ...Array(19).fill("0 200")]);
  assert.equal(r.close, '200 close {"health":"true"}');
  assert.notEqual(r.tooLarge[0].slice(0, 3), "200");
  assert.equal(r.tooLarge[1], "200 false", "nothing stored from the refused put");
}

itest("http1: one kept-alive connection carries a whole session, beside etcd 3.4", async () => {
  const pair = await startPair(ETCD_IP, TS_IP, () => ["--enable-v2"]);
  try {
    const [etcd, ts] = [await checks(pair.members[0]), await checks(pair.members[1])];
    assertKeptAlive(etcd);
    assert.deepEqual(ts, etcd);
  } finally {
    await pair.stop();
  }
});

itest("http1: keep-alive over TLS, beside etcd 3.4", async () => {
  const dir = tempDir({ prefix: "http1-" });
  const certs = await issueCerts(dir.path, [
    { name: "server", san: "DNS:etcd.test,IP:127.0.235.3,IP:127.0.235.4" },
  ]);
  const tlsFlags = ["--cert-file", certs.cert("server"), "--key-file", certs.key("server")];
  const pair = await startPair(
    "127.0.235.3",
    "127.0.235.4",
    () => ["--enable-v2", ...tlsFlags],
    "https",
  );
  try {
    const etcd = await checks(pair.members[0], certs.ca);
    const ts = await checks(pair.members[1], certs.ca);
    assertKeptAlive(etcd);
    assert.deepEqual(ts, etcd);
  } finally {
    await pair.stop();
    await Deno.remove(dir.path, { recursive: true }).catch(() => {});
  }
});

/** Fails when `p` has not settled within `ms` (a connection that should close but stays). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

itest("http1: the mixed plain/TLS port keeps both alive; idle connections close", async () => {
  const dir = tempDir({ prefix: "http1-" });
  const certs = await issueCerts(dir.path, [{ name: "server", san: "DNS:etcd.test" }]);
  const idleMs = 300;
  const app = createHttpApp({
    version: () => ({ etcdserver: "3.4.23", etcdcluster: "3.4.0" }),
    health: () => Promise.resolve({ ok: true }),
    // Longer than the idle timeout: a request in progress is not idle.
    routes: (a) =>
      a.get(
        "/slow",
        () => new Promise<Response>((r) => setTimeout(() => r(new Response("slow")), 3 * idleMs)),
      ),
  });
  const listener = await serveClient(new URL("https://127.0.235.5:0"), {
    http: (req) => Promise.resolve(app.fetch(req)),
    tls: { cert: readFileSync(certs.cert("server")), key: readFileSync(certs.key("server")) },
    alsoPlain: true,
    idleTimeoutMs: idleMs,
  });
  const port = listener.address.port;
  try {
    const client = "127.0.235.12";
    const plain = await Http1Connection.connect("127.0.235.5", port, { localAddress: client });
    const secure = await Http1Connection.connect("127.0.235.5", port, {
      localAddress: client,
      tls: { ca: readFileSync(certs.ca), servername: "etcd.test" },
    });
    for (const conn of [plain, secure]) {
      for (const path of ["/health", "/version", "/slow", "/health"]) {
        const a = await conn.request({ method: "GET", path });
        assert.equal(a.status, 200, path);
      }
    }
    assert.equal(await serverSockets("127.0.235.5", port, client), 2);
    // Neither client closes: the server ends both once they idle.
    await within(Promise.all([plain.closed, secure.closed]), 10_000, "idle connections closed");
  } finally {
    await listener.close();
    await Deno.remove(dir.path, { recursive: true }).catch(() => {});
  }
});
