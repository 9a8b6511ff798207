// Bad values of the listener and stream flags exit as they do from etcd 3.4: the same exit
// code and the same error line, on the command line and in a config file. Each run binds
// nothing (the errors come before any listener opens) and works in its own directory.
import assert from "node:assert/strict";
import { ETCD_TS, itest, run } from "../../helpers/process.ts";
import { tempDir } from "../../helpers/tmp.ts";

const CASES: string[][] = [
  ["--max-concurrent-streams", "-1"],
  ["--max-concurrent-streams", "4294967296"],
  ["--max-concurrent-streams", "3s"],
  ["--grpc-keepalive-min-time", "abc"],
  ["--grpc-keepalive-interval", "5"],
  ["--grpc-keepalive-timeout", "1x"],
  ["--experimental-watch-progress-notify-interval", "xyz"],
  ["--listen-client-urls", "unix://", "--advertise-client-urls", "unix://localhost:1"],
  ["--listen-client-urls", "unix:///tmp/x.sock", "--advertise-client-urls", "http://a:1"],
  ["--listen-client-urls", "unixs://localhost:1", "--advertise-client-urls", "unix://localhost:1"],
  [
    ...["--listen-peer-urls", "unixs://localhost:2"],
    ...["--initial-advertise-peer-urls", "unixs://localhost:2"],
    ...["--initial-cluster", "default=unixs://localhost:2"],
  ],
  [
    ...["--listen-peer-urls", "unixs://localhost:2", "--peer-cert-allowed-cn", "a"],
    ...["--peer-cert-allowed-hostname", "b", "--peer-cert-file", "no.pem", "--peer-key-file", "no"],
  ],
];

const FILES = [
  "max-concurrent-streams: -1\n",
  "max-concurrent-streams: 4294967296\n",
  "max-concurrent-streams: '3'\n",
];

/** The exit code and the line that says what is wrong (timestamps dropped). */
async function verdict(command: string, args: string[], cwd: string) {
  const r = await run("timeout", ["20", command, ...args], { cwd });
  const lines = r.stderr.split("\n").filter((l) => !l.startsWith("[WARNING]"));
  const line = lines.find((l) => / [CE] \| /.test(l)) ?? lines[0];
  return { code: r.code, line: line.replace(/^\S+ \S+ /, "") };
}

itest("bad listener and stream flag values exit with etcd's words", async () => {
  const dirs = { etcd: tempDir({ prefix: "flags-etcd-" }), ours: tempDir({ prefix: "flags-ts-" }) };
  try {
    for (const [i, args] of [...CASES, ...FILES.map((f) => [f])].entries()) {
      const answers = [];
      for (const [command, dir] of [["etcd", dirs.etcd.path], [ETCD_TS, dirs.ours.path]]) {
        let argv = ["--data-dir", `d${i}`, ...args];
        if (args.length === 1) {
          Deno.writeTextFileSync(`${dir}/c${i}.yaml`, `data-dir: d${i}\n${args[0]}`);
          argv = ["--config-file", `c${i}.yaml`];
        }
        answers.push(await verdict(command, argv, dir));
      }
      const [etcd, ours] = answers;
      assert.notEqual(etcd.code, 0, `etcd accepted ${args.join(" ")}`);
      assert.deepEqual(ours, etcd, args.join(" "));
    }
  } finally {
    for (const d of Object.values(dirs)) await Deno.remove(d.path, { recursive: true });
  }
});
