// --auth-token jwt side by side with etcd 3.4 on the same keys: the tokens carry the same header
// and claims, each member accepts the other's tokens, both refuse stale, expired and bad ones
// with the same answer, and both refuse the same bad options at start-up with the same error.
// Address block 127.0.161.x (etcd on .1x, etcd-ts on .2x).
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  ETCD_TS,
  itest,
  type Proc,
  run,
  singleMemberFlags,
  spawn,
  startReady,
  startReadyEtcd,
  stop,
} from "../helpers/process.ts";
import { assertPortsFree } from "../helpers/ports.ts";
import { etcdctl } from "../helpers/etcdctl.ts";
import { tempDir } from "../helpers/tmp.ts";
import { makeJwtKeys } from "../helpers/jwt_keys.ts";

const keys = await makeJwtKeys();

interface Pair {
  etcd: string;
  ts: string;
}

/** Starts etcd on 127.0.161.1N and etcd-ts on .2N with the same --auth-token, root enabled. */
async function withPair(n: number, option: string, fn: (eps: Pair) => Promise<void>) {
  const ips = { etcd: `127.0.161.1${n}`, ts: `127.0.161.2${n}` };
  for (const ip of Object.values(ips)) await assertPortsFree(ip, [2379, 2380]);
  const dir = tempDir().path;
  const flags = (ip: string) => [
    ...singleMemberFlags("s1", ip, `${dir}/${ip}`),
    "--auth-token",
    option,
  ];
  const procs: Proc[] = [];
  try {
    procs.push(
      ...await Promise.all([
        startReadyEtcd(flags(ips.etcd)),
        startReady(flags(ips.ts)),
      ]),
    );
    const eps = { etcd: `http://${ips.etcd}:2379`, ts: `http://${ips.ts}:2379` };
    for (const ep of Object.values(eps)) {
      assert.equal((await etcdctl(ep, "user", "add", "root:pw")).code, 0);
      assert.equal((await etcdctl(ep, "auth", "enable")).code, 0);
    }
    await fn(eps);
  } finally {
    await Promise.all(procs.map((p) => stop(p)));
  }
}

/** POST /v3/<path> with curl, as JSON. */
async function gateway(ep: string, path: string, body: unknown, token?: string) {
  const auth = token ? ["-H", `Authorization: ${token}`] : [];
  const out = await run("curl", [
    "-s",
    "-X",
    "POST",
    ...auth,
    `${ep}/v3/${path}`,
    "-d",
    JSON.stringify(body),
  ]);
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout);
}

async function authenticate(ep: string): Promise<string> {
  const res = await gateway(ep, "auth/authenticate", { name: "root", password: "pw" });
  assert.equal(typeof res.token, "string", JSON.stringify(res));
  return res.token;
}

const put = (ep: string, token: string, key: string) =>
  gateway(ep, "kv/put", { key: btoa(key), value: btoa("v") }, token);

const segment = (token: string, i: number) => Buffer.from(token.split(".")[i], "base64url");

function pemDer(file: string): Uint8Array<ArrayBuffer> {
  const text = Deno.readTextFileSync(keys.path(file));
  return new Uint8Array(Buffer.from(text.replace(/-----[^-]+-----|\s/g, ""), "base64"));
}

itest(
  "jwt RS256: etcd-ts's tokens are etcd's: same claims, verified by the public key, interchangeable",
  async () => {
    const option = `jwt,sign-method=RS256,priv-key=${keys.path("rsa.pem")},pub-key=${
      keys.path("rsa.pub")
    }`;
    await withPair(0, option, async (eps) => {
      const before = Math.floor(Date.now() / 1000);
      const [fromEtcd, fromTs] = [await authenticate(eps.etcd), await authenticate(eps.ts)];
      assert.deepEqual(segment(fromTs, 0), segment(fromEtcd, 0));
      const [e, t] = [fromEtcd, fromTs].map((tok) => JSON.parse(segment(tok, 1).toString()));
      assert.deepEqual(Object.keys(t), Object.keys(e));
      assert.deepEqual([t.username, t.revision], [e.username, e.revision]);
      assert.ok(Math.abs(t.exp - (before + 300)) <= 2, `exp ${t.exp}, issued at ${before}`);

      // Any JWT library with the public key: here Web Crypto.
      const pub = await crypto.subtle.importKey(
        "spki",
        pemDer("rsa.pub"),
        { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
        false,
        ["verify"],
      );
      const [h, p] = fromTs.split(".");
      const signature = new Uint8Array(segment(fromTs, 2));
      const data = new TextEncoder().encode(`${h}.${p}`);
      assert.equal(await crypto.subtle.verify("RSASSA-PKCS1-v1_5", pub, signature, data), true);

      // Each member takes the other's token: the same key, the same claims.
      for (const [ep, token] of [[eps.ts, fromEtcd], [eps.etcd, fromTs]]) {
        assert.ok((await put(ep, token, "k")).header, ep);
      }
      // A change of roles moves the auth revision: older tokens are stale on both.
      const answers: unknown[] = [];
      for (const [ep, token] of [[eps.etcd, fromEtcd], [eps.ts, fromTs]]) {
        assert.equal((await etcdctl(ep, "--user", "root:pw", "role", "add", "r")).code, 0);
        answers.push(await put(ep, token, "k"), await put(ep, "not-a-token", "k"));
      }
      assert.deepEqual(answers.slice(2), answers.slice(0, 2));
      assert.match(JSON.stringify(answers), /revision of auth store is old.*invalid auth token/);
    });
  },
);

itest("jwt HS256 (taken by etcd 3.4): tokens expire on both members alike", async () => {
  await withPair(
    1,
    `jwt,sign-method=HS256,priv-key=${keys.path("junk.pem")},ttl=2s`,
    async (eps) => {
      const refusals: unknown[] = [];
      for (const ep of [eps.etcd, eps.ts]) {
        const token = await authenticate(ep);
        assert.equal(JSON.parse(segment(token, 0).toString()).alg, "HS256");
        assert.ok((await put(ep, token, "k")).header, ep);
        // exp is at most two seconds away; keep asking until the member refuses it.
        const deadline = Date.now() + 5000;
        let res = await put(ep, token, "k");
        while (res.header && Date.now() < deadline) res = await put(ep, token, "k");
        refusals.push(res);
      }
      assert.deepEqual(refusals[1], refusals[0]);
      assert.equal((refusals[0] as { message: string }).message, "etcdserver: invalid auth token");
    },
  );
});

// The auth package's lines, the token provider's failure and the fatal line, without time stamps.
async function startFailure(command: string, ip: string, option: string) {
  const p = spawn(command, [
    ...singleMemberFlags("s1", ip, `${tempDir().path}/data`),
    "--auth-token",
    option,
  ]);
  const status = await p.status;
  const lines = p.lines.filter((l) => / [EWC] \| auth: |token provider| C \| /.test(l));
  return { code: status.code, lines: lines.map((l) => l.replace(/^\S+ \S+ /, "")) };
}

itest("jwt options etcd refuses stop etcd-ts with etcd's lines and exit code", async () => {
  const k = keys.path;
  const options = [
    "bogus",
    "jwt,sign-method=RS256,ttl=abc",
    `jwt,sign-method=RS256,priv-key=${k("nonexistent.pem")}`,
    "jwt,sign-method=none",
    "jwt,sign-method=ES256",
    `jwt,sign-method=RS256,priv-key=${k("junk.pem")}`,
    `jwt,sign-method=ES256,priv-key=${k("rsa.pem")}`,
    `jwt,sign-method=ES256,priv-key=${k("ec256.pem")},pub-key=${k("ec521.pub")}`,
  ];
  const ips = options.map((_, i) => [`127.0.161.${40 + i}`, `127.0.161.${60 + i}`]);
  for (const ip of ips.flat()) await assertPortsFree(ip, [2379, 2380]);
  const results = await Promise.all(options.map((option, i) =>
    Promise.all([
      startFailure("etcd", ips[i][0], option),
      startFailure(ETCD_TS, ips[i][1], option),
    ])
  ));
  for (const [i, [etcd, ts]] of results.entries()) {
    assert.equal(etcd.code, 1, options[i]);
    assert.match(
      etcd.lines.join("\n"),
      /W \| etcdserver: failed to create token provider.*\nC \| etcdmain: /,
    );
    assert.deepEqual(ts, etcd, options[i]);
  }
});
