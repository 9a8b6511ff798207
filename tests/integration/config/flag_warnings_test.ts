// What start-up logs for the flags the audit (tests/helpers/flag_audit.ts) does not find plainly
// used: --log-package-levels beside etcd 3.4 (its warnings, then capnslog's levels per package,
// or etcd's warning for a setting that does not parse), and the warning of each flag that has
// no meaning in etcd-ts. etcd on 127.0.245.1, etcd-ts on 127.0.245.2.
import assert from "node:assert/strict";
import { WARNED } from "../../helpers/flag_audit.ts";
import { ETCD_TS, itest, type Proc, spawn, stop } from "../../helpers/process.ts";
import { tempDir } from "../../helpers/tmp.ts";

const ETCD_IP = "127.0.245.1";
const OURS_IP = "127.0.245.2";
const SERVING = "serving insecure client requests on";

function memberFlags(ip: string, dir: string): string[] {
  return [
    `--data-dir=${dir}`,
    `--listen-client-urls=http://${ip}:2379`,
    `--advertise-client-urls=http://${ip}:2379`,
    `--listen-peer-urls=http://${ip}:2380`,
    `--initial-advertise-peer-urls=http://${ip}:2380`,
    `--initial-cluster=default=http://${ip}:2380`,
  ];
}

/** Every line until the member serves and has stopped, its time and address taken out. */
async function startUpLines(command: string, ip: string, flags: string[]): Promise<string[]> {
  await using dir = tempDir();
  const p: Proc = spawn(command, [...memberFlags(ip, `${dir.path}/data`), ...flags]);
  try {
    await p.waitFor(SERVING, 30_000);
  } finally {
    await stop(p);
  }
  return p.lines.map((l) =>
    l.replace(/^\d{4}-\d\d-\d\d [\d:.]+ /, "").replaceAll(ip, "<ip>").replace(/^raft\S+ /, "")
  );
}

/** The lines of the named capnslog packages, as "L | pkg: text". */
const ofPackages = (lines: string[], pkgs: string[]) =>
  lines.filter((l) => pkgs.some((p) => l.includes(` | ${p}: `)));

itest("--log-package-levels: etcd's warnings and capnslog's levels, beside etcd 3.4", async () => {
  const flags = ["--log-package-levels=etcdmain=WARNING,embed=N"];
  const [etcd, ours] = await Promise.all([
    startUpLines("etcd", ETCD_IP, flags),
    startUpLines(ETCD_TS, OURS_IP, flags),
  ]);
  const warnings = (lines: string[]) => [...new Set(lines.filter((l) => l.startsWith("[WARN")))];
  assert.deepEqual(warnings(ours), warnings(etcd));
  assert.ok(
    warnings(ours).includes(
      "[WARNING] Deprecated '--log-package-levels=etcdmain=WARNING,embed=N' flag is set; " +
        "use '--logger=zap' flag instead",
    ),
  );
  // etcdmain's and embed's info lines are gone; embed's notices stay; other packages log on.
  const muted = ofPackages(ours, ["etcdmain", "embed"]);
  assert.deepEqual(muted, ofPackages(etcd, ["etcdmain", "embed"]));
  assert.deepEqual(muted, [
    "N | embed: serving insecure client requests on <ip>:2379, this is strongly discouraged!",
  ]);
  for (const lines of [etcd, ours]) {
    assert.ok(lines.some((l) => l.startsWith("I | etcdserver: ")), lines.join("\n"));
  }
});

itest(
  "--log-package-levels that does not parse: etcd's warning, levels and outputs as they were",
  async () => {
    // etcd stops setting up its logger at the bad setting: --log-outputs=stdout is not applied.
    const flags = ["--log-package-levels=embed=loud", "--log-outputs=stdout"];
    const [etcd, ours] = await Promise.all([
      startUpLines("etcd", ETCD_IP, flags),
      startUpLines(ETCD_TS, OURS_IP, flags),
    ]);
    const warning = "W | embed: couldn't parse log level string: couldn't parse log level loud, " +
      "continuing with default levels";
    for (const lines of [etcd, ours]) {
      assert.ok(lines.includes(warning), lines.join("\n"));
      assert.ok(lines.some((l) => l.startsWith("I | embed: name = default")), lines.join("\n"));
    }
  },
);

itest("each flag with no meaning here is accepted, and start-up says so", async () => {
  const flags = WARNED.map((w) => `--${w.flag}=${w.sample}`);
  assert.ok(flags.length >= 3);
  const lines = await startUpLines(ETCD_TS, OURS_IP, flags);
  for (const w of WARNED) {
    assert.ok(lines.some((l) => l.startsWith("W | ") && l.includes(w.warning)), w.flag);
  }
});
