// The client port's access control side by side with etcd 3.4: --cors (which origin the CORS
// headers name, OPTIONS answered at once), --host-whitelist (plain-HTTP requests naming another
// host refused with 421 and etcd's text, TLS requests let through) and
// --enable-grpc-gateway=false (no /v3 JSON gateway, gRPC still served). The same curl requests
// go to a real etcd and to etcd-ts; status lines, headers and bodies must be the same.
// Address block 127.0.171.x.
import assert from "node:assert/strict";
import { ETCD_TS, itest, type Proc, run } from "../../helpers/process.ts";
import { startPair } from "../../helpers/pair.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { curl } from "../../helpers/curl.ts";
import { etcdctl } from "../../helpers/etcdctl.ts";
import { issueCerts } from "../../helpers/certs.ts";

/** One exchange as curl shows it: the status line, the headers but Date and Connection, the body. */
async function exchange(url: string, ...args: string[]): Promise<string[]> {
  const r = await curl("-i", ...args, url);
  assert.equal(r.code, 0, r.stderr);
  const at = r.stdout.indexOf("\r\n\r\n");
  const [status, ...headers] = r.stdout.slice(0, at).split("\r\n");
  const kept = headers.map((h) => h.replace(/^[^:]+/, (name) => name.toLowerCase()))
    .filter((h) => !/^(date|connection):/.test(h)).sort();
  return [status, ...kept, "", r.stdout.slice(at + 4)];
}

/** etcd's capnslog warnings about refused hosts, without their timestamps. */
const rejections = (p: Proc) =>
  p.lines.filter((l) => l.includes("rejecting HTTP request")).map((l) => l.slice(27));

itest("access: --cors, --host-whitelist and --enable-grpc-gateway=false as etcd 3.4", async () => {
  const pair = await startPair("127.0.171.1", "127.0.171.2", (ip) => [
    "--cors=http://example.com:80,https://b.org:8443",
    `--host-whitelist=example.com,${ip}`,
    "--enable-grpc-gateway=false",
  ]);
  try {
    const script = async (url: string) => {
      const x = (path: string, ...args: string[]) => exchange(url + path, ...args);
      return [
        // CORS headers name an allowed origin only as given (with its port).
        await x("/health", "-H", "Origin: http://example.com:80"),
        await x("/version", "-H", "Origin: http://example.com"),
        await x("/version"),
        await x("/v3/kv/range", "-X", "OPTIONS", "-H", "Origin: https://b.org:8443"),
        await x("/health", "-X", "OPTIONS", "-H", "Origin: http://x.org:1"),
        // No gateway: /v3 is the fallback's 404.
        await x("/v3/kv/range", "-d", '{"key":"YQ=="}'),
        await x("/v3beta/kv/put", "-d", '{"key":"YQ==","value":"Yg=="}'),
        // The host, without its port, must be listed (case counts).
        await x("/health", "-H", "Host: evil.com:2379"),
        await x("/health", "-H", "Host: example.com"),
        await x("/metrics", "-H", "Host: EXAMPLE.com:2379"),
        await x("/version", "-H", "Host: [::1]:2379"),
        await x("/version", "-X", "OPTIONS", "-H", "Host: evil.com"),
        (await etcdctl(url, "put", "k", "v")).stdout,
        (await etcdctl(url, "get", "k", "--print-value-only")).stdout,
      ];
    };
    const [etcd, ts] = await Promise.all(pair.members.map((m) => script(m.url)));
    assert.deepEqual(ts, etcd);
    assert.equal(etcd[7][0], "HTTP/1.1 421 Misdirected Request");
    assert.ok(etcd[7].at(-1)!.includes('etcd --host-whitelist "evil.com"'));
    assert.ok(etcd[0].includes("access-control-allow-origin: http://example.com:80"));
    assert.equal(etcd.at(-1), "v\n");
    assert.deepEqual(rejections(pair.members[1].proc), rejections(pair.members[0].proc));
    assert.equal(rejections(pair.members[0].proc).length, 4);
  } finally {
    await pair.stop();
  }
});

itest(
  "access: TLS requests are not held to --host-whitelist; --cors=* names every origin",
  async () => {
    await using dir = tempDir({ prefix: "access-tls-" });
    const certs = await issueCerts(dir.path, [{
      name: "server",
      san: "IP:127.0.171.3,IP:127.0.171.4",
    }]);
    const pair = await startPair("127.0.171.3", "127.0.171.4", () => [
      "--host-whitelist=nobody.example",
      `--cert-file=${certs.cert("server")}`,
      `--key-file=${certs.key("server")}`,
    ], "https");
    try {
      const script = async (url: string) => {
        const x = (...args: string[]) =>
          exchange(
            `${url}/health`,
            "--cacert",
            certs.ca,
            "-H",
            "Origin: http://any.org:1",
            ...args,
          );
        return [
          await x("--http1.1", "-H", "Host: evil.com:2379"),
          await x("--http2", "-H", "Host: evil.com:2379"),
        ];
      };
      const [etcd, ts] = await Promise.all(pair.members.map((m) => script(m.url)));
      assert.deepEqual(ts, etcd);
      assert.equal(etcd[0][0], "HTTP/1.1 200 OK");
      assert.ok(etcd[0].includes("access-control-allow-origin: *"));
    } finally {
      await pair.stop();
    }
  },
);

itest("access: bad values of --cors and --enable-grpc-gateway exit as etcd's do", async () => {
  const flags = [
    ...["http://example.com", "foo", "http://a:1/x", "*,http://a:1"].map((v) => `--cors=${v}`),
    "--enable-grpc-gateway=maybe",
  ];
  for (const flag of flags) {
    const [etcd, ts] = await Promise.all([run("etcd", [flag]), run(ETCD_TS, [flag])]);
    assert.equal(ts.code, etcd.code, flag);
    assert.equal(ts.stderr.split("\n")[0], etcd.stderr.split("\n")[0], flag);
    assert.match(etcd.stderr, /^invalid (boolean )?value /, flag);
  }
});
