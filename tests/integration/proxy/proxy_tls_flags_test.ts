// `etcd-ts --proxy=on` dialling https members as etcd's startProxy does: forwarded requests carry
// the client TLS settings (3.5's --client-cert-file before --cert-file; the peer settings when
// no client pair is given), member lists are read with the peer settings. Fake members on
// 127.0.245.2x record the certificate each connection presented.
import assert from "node:assert/strict";
import https from "node:https";
import type net from "node:net";
import type tls from "node:tls";
import { issueCerts, type IssuedCerts } from "../../helpers/certs.ts";
import { itest, spawn, stop } from "../../helpers/process.ts";
import { membersJSON } from "../../helpers/proxy.ts";
import { ETCD_TS } from "../../helpers/process.ts";
import { tempDir } from "../../helpers/tmp.ts";

const HOST = "127.0.245.20";
const PROXY = `http://${HOST}:2379`;

/** An https port that asks for a client certificate and notes the CN each request came with. */
async function recordingPort(pki: IssuedCerts, answer: () => string) {
  const cns: string[] = [];
  const server = https.createServer({
    cert: Deno.readTextFileSync(pki.cert("member")),
    key: Deno.readTextFileSync(pki.key("member")),
    ca: Deno.readTextFileSync(pki.ca),
    requestCert: true,
    rejectUnauthorized: false,
  }, (req, res) => {
    const cert = (req.socket as tls.TLSSocket).getPeerCertificate();
    cns.push(String(cert?.subject?.CN ?? "(none)"));
    res.writeHead(200, { "Content-Type": "application/json", "X-Etcd-Cluster-Id": "c28dadfc" });
    res.end(answer());
  });
  await new Promise<void>((r) => server.listen(0, HOST, () => r()));
  const url = `https://${HOST}:${(server.address() as net.AddressInfo).port}`;
  return {
    url,
    cns,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Runs the proxy with `flags`, forwards one GET, and returns the CN each fake member saw. */
async function presented(pki: IssuedCerts, dir: string, flags: string[]) {
  const client = await recordingPort(pki, () => '{"action":"get"}');
  const peer = await recordingPort(
    pki,
    () => membersJSON([{ id: "1", name: "a", peer: peer.url, client: client.url }]),
  );
  const proxy = spawn(ETCD_TS, [
    "--proxy=on",
    `--data-dir=${dir}/${crypto.randomUUID()}`,
    `--listen-client-urls=${PROXY}`,
    `--initial-cluster=a=${peer.url}`,
    ...flags,
  ]);
  try {
    await proxy.waitFor("v2 proxy started listening on client requests");
    await proxy.waitFor(`endpoints found ["${client.url}"]`);
    const res = await fetch(`${PROXY}/v2/keys/x`);
    assert.equal(res.status, 200, proxy.lines.join("\n"));
    assert.equal(await res.text(), '{"action":"get"}');
    return { client: [...new Set(client.cns)], peer: [...new Set(peer.cns)] };
  } finally {
    await stop(proxy);
    await client.close();
    await peer.close();
  }
}

itest(
  "v2 proxy: forwarded requests present the client certificate, member lists the peer one",
  async () => {
    await using dir = tempDir();
    const pki = await issueCerts(dir.path, [
      { name: "member", san: `IP:${HOST}` },
      { name: "server" },
      { name: "client" },
      { name: "peer" },
    ]);
    const pair = (flag: string, name: string) => [
      `--${flag}cert-file=${pki.cert(name)}`,
      `--${flag}key-file=${pki.key(name)}`,
    ];
    const trust = [`--trusted-ca-file=${pki.ca}`, `--peer-trusted-ca-file=${pki.ca}`];
    const peerPair = pair("peer-", "peer");

    // --client-cert-file goes before --cert-file, as etcd 3.5's ClientConfig takes it.
    assert.deepEqual(
      await presented(pki, dir.path, [
        ...trust,
        ...peerPair,
        ...pair("", "server"),
        ...pair("client-", "client"),
      ]),
      { client: ["client"], peer: ["peer"] },
    );
    // Without it, the client port's own pair.
    assert.deepEqual(
      await presented(pki, dir.path, [...trust, ...peerPair, ...pair("", "server")]),
      { client: ["server"], peer: ["peer"] },
    );
    // No client pair: the peer settings serve for both, as etcd's old proxy behaviour.
    assert.deepEqual(
      await presented(pki, dir.path, [`--peer-trusted-ca-file=${pki.ca}`, ...peerPair]),
      { client: ["peer"], peer: ["peer"] },
    );
  },
);
