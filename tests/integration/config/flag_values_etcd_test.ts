// Bad values of the compaction, corruption-check, purge, fsync, apply-warning, tick-advance,
// batch-limit and freelist flags: etcd-ts exits with etcd 3.4's code and error line, side by
// side with the real etcd given the same flags. Nothing gets as far as listening (block
// 127.0.143.x is given all the same).
import assert from "node:assert/strict";
import { ETCD_TS, run } from "../../helpers/process.ts";
import { tempDir } from "../../helpers/tmp.ts";

const IP = "127.0.143.9";
const BASE = [
  `--listen-client-urls=http://${IP}:2379`,
  `--advertise-client-urls=http://${IP}:2379`,
  `--listen-peer-urls=http://${IP}:2380`,
  `--initial-advertise-peer-urls=http://${IP}:2380`,
  `--initial-cluster=default=http://${IP}:2380`,
];

const BAD: string[][] = [
  ["--auto-compaction-mode=Revision"],
  ["--auto-compaction-mode=hourly", "--auto-compaction-retention=1"],
  ["--auto-compaction-retention=abc"],
  ["--auto-compaction-retention=1.5"],
  ["--auto-compaction-retention=-1"],
  ["--auto-compaction-retention=5x"],
  ["--auto-compaction-mode=revision", "--auto-compaction-retention=1h30"],
  ["--experimental-initial-corrupt-check=2"],
  ["--experimental-corrupt-check-time=5"],
  ["--experimental-corrupt-check-time=5x"],
  ["--max-snapshots=-1"],
  ["--max-snapshots=abc"],
  ["--max-wals=1.5"],
  ["--max-wals=99999999999999999999999"],
  ["--unsafe-no-fsync=maybe"],
  ["--experimental-warning-apply-duration=100"],
  ["--experimental-warning-apply-duration=x"],
  ["--initial-election-tick-advance=yes"],
  ["--experimental-compaction-batch-limit=abc"],
  ["--experimental-compaction-batch-limit=1.5"],
];

/** The exit code and the line that says why, without timestamps and deprecation banners. */
async function outcome(command: string, flags: string[]) {
  const dir = tempDir().path;
  try {
    const r = await run(command, ["--data-dir", `${dir}/data`, ...BASE, ...flags]);
    const lines = r.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("[WARNING]"));
    const why = lines.find((l) => / [CE] \| /.test(l) || !/^\d{4}-/.test(l)) ?? "";
    return { code: r.code, why: why.replace(/^\d{4}-\d\d-\d\d [\d:.]+ /, "") };
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("bad values of issue 13's flags exit with etcd's code and message", async () => {
  for (const flags of BAD) {
    const [etcd, ours] = await Promise.all([outcome("etcd", flags), outcome(ETCD_TS, flags)]);
    assert.notEqual(etcd.code, 0, `etcd accepted ${flags}`);
    assert.deepEqual(ours, etcd, flags.join(" "));
  }
});
