// Failpoints in a running member (gofail's GOFAIL_FAILPOINTS and GOFAIL_HTTP): each point on the
// write path, set while writers run, stops the member with etcd's line and exit status, and a
// restart finds every write that was acknowledged. Address block 127.0.201.x.
import assert from "node:assert/strict";
import {
  exited,
  itest,
  type Proc,
  singleMemberFlags,
  startEtcdTs,
  startReady,
  stop,
} from "../helpers/process.ts";
import { tempDir } from "../helpers/tmp.ts";
import { setFailpoint } from "../helpers/failpoints.ts";
import { assertPortsFree } from "../helpers/ports.ts";
import { checkStore, Writers } from "../helpers/acked_writes.ts";
import { until } from "../helpers/wait.ts";
import { etcdctl } from "../helpers/etcdctl.ts";

const IP = "127.0.201.1";
const EP = `http://${IP}:2379`;
const GOFAIL = `${IP}:22381`;

interface Case {
  failpoint: string;
  terms: string;
  code: number;
  /** The line the member stops with (after the time and level). */
  line: RegExp;
  flags?: string[];
}

const SEGMENT = String.raw`\S+/member/wal/[0-9a-f]{16}-[0-9a-f]{16}\.wal`;

const CASES: Case[] = [
  ...["raftBeforeSave", "raftAfterSave", "raftBeforeLeaderSend", "walAfterSync"].map((fp) => ({
    failpoint: fp,
    terms: "panic",
    code: 2,
    line: new RegExp(`^panic: failpoint panic: ${fp}$`),
  })),
  {
    failpoint: "walBeforeSync",
    terms: `return("EIO")`,
    code: 1,
    line: new RegExp(
      `C \\| etcdserver: failed to save state and entries error: sync ${SEGMENT}: input/output error$`,
    ),
  },
  {
    failpoint: "walBeforeWrite",
    terms: `return("ENOSPC")`,
    code: 1,
    line: new RegExp(
      `C \\| etcdserver: failed to save state and entries error: write ${SEGMENT}: no space left on device$`,
    ),
  },
  {
    failpoint: "beforeApplyOneEntryNormal",
    terms: "return",
    code: 2,
    line:
      /C \| etcdserver: unexpected error during apply: failpoint beforeApplyOneEntryNormal: error$/,
  },
  {
    failpoint: "beforeCommit",
    terms: `return("ENOSPC")`,
    code: 1,
    line: /C \| mvcc\/backend: cannot commit tx \(No space left on device \(os error 28\)\)$/,
  },
  {
    failpoint: "afterCommit",
    terms: "panic",
    code: 2,
    line: /^panic: failpoint panic: afterCommit$/,
  },
  {
    failpoint: "raftAfterWALRelease",
    terms: `return("EIO")`,
    code: 1,
    line: /C \| etcdserver: save snapshot error: Input\/output error \(os error 5\)$/,
    flags: ["--snapshot-count", "100"],
  },
];

/** Runs a member under writers, sets the case's failpoint, and checks how the member stops. */
async function failUnderWrites(t: Case): Promise<void> {
  await assertPortsFree(IP, [2379, 2380, 22381]);
  const flags = [...singleMemberFlags("s1", IP, `${tempDir().path}/data`), ...(t.flags ?? [])];
  let member: Proc = await startReady(flags, { env: { GOFAIL_HTTP: GOFAIL } });
  const writers = new Writers(EP, 4);
  try {
    writers.resume();
    await until(() => writers.acked.size >= 150, 20_000, "150 acknowledged writes");
    await setFailpoint(GOFAIL, t.failpoint, t.terms);
    const status = await exited(member);
    await writers.pause();
    const log = member.lines.join("\n");
    assert.equal(status.code, t.code, log);
    const line = member.lines.find((l) => t.line.test(l));
    assert.ok(line, `no line matching ${t.line}:\n${member.lines.slice(-20).join("\n")}`);
    console.log(
      `  ${t.failpoint}=${t.terms}: exit ${status.code}: ${
        line.replace(/^\d{4}-\d\d-\d\d \S+ /, "")
      }`,
    );
    // Restarted without failpoints, the member has every write it acknowledged.
    member = await startReady(flags);
    const rev = await checkStore(EP, writers.acked);
    console.log(`    ${writers.acked.size} acknowledged, all found; store revision ${rev}`);
  } finally {
    await writers.stop();
    await stop(member);
  }
}

for (const t of CASES) {
  itest(
    `failpoint ${t.failpoint}=${t.terms} stops the member; acknowledged writes survive`,
    () => failUnderWrites(t),
  );
}

itest(
  "GOFAIL_FAILPOINTS at start: a panic on the first save; a malformed list refuses",
  async () => {
    await assertPortsFree(IP, [2379, 2380]);
    const flags = singleMemberFlags("s1", IP, `${tempDir().path}/data`);
    const panicking = startEtcdTs(flags, { env: { GOFAIL_FAILPOINTS: "raftBeforeSave=panic" } });
    assert.equal((await exited(panicking)).code, 2, panicking.lines.join("\n"));
    assert.ok(panicking.lines.includes("panic: failpoint panic: raftBeforeSave"));
    assert.ok(
      panicking.lines.some((l) =>
        l.endsWith("W | etcdserver: failpoints set: raftBeforeSave=panic")
      ),
    );
    for (
      const [spec, error] of [
        [
          "raftBeforeSave=panik",
          `failed to enable "raftBeforeSave=panik" (${"failpoint: could not parse terms"})`,
        ],
        [
          "raftBeforeSav=panic",
          `failed to enable "raftBeforeSav=panic" (failpoint: failpoint does not exist)`,
        ],
        ["raftBeforeSave", `fail to parse failpoint: bad failpoint "raftBeforeSave"`],
      ]
    ) {
      const refused = startEtcdTs(flags, { env: { GOFAIL_FAILPOINTS: spec } });
      assert.equal((await exited(refused)).code, 1, refused.lines.join("\n"));
      assert.ok(
        refused.lines.some((l) => l.endsWith(` C | etcdmain: ${error}`)),
        refused.lines.join("\n"),
      );
      assert.ok(!refused.lines.some((l) => l.includes("ready to serve")));
    }
  },
);

itest(
  "sleep slows the path it is on; print says it passed; GOFAIL_HTTP lists and clears",
  async () => {
    await assertPortsFree(IP, [2379, 2380, 22381]);
    const flags = singleMemberFlags("s1", IP, `${tempDir().path}/data`);
    const member = await startReady(flags, { env: { GOFAIL_HTTP: GOFAIL } });
    const writers = new Writers(EP, 1);
    try {
      await setFailpoint(GOFAIL, "raftBeforeSave", "sleep(400)");
      await setFailpoint(GOFAIL, "walBeforeSync", "1*print");
      const listed = await (await fetch(`http://${GOFAIL}/`)).text();
      assert.match(listed, /^raftBeforeSave=sleep\(400\)$/m);
      assert.match(listed, /^walBeforeSync=1\*print$/m);
      assert.match(listed, /^beforeCommit=$/m);
      assert.equal(await (await fetch(`http://${GOFAIL}/raftBeforeSave`)).text(), "sleep(400)\n");
      const t = performance.now();
      writers.resume();
      await until(() => writers.acked.size >= 1, 10_000, "a write");
      assert.ok(performance.now() - t >= 400, `acknowledged after ${performance.now() - t} ms`);
      await member.waitFor("failpoint print: walBeforeSync");
      const del = await fetch(`http://${GOFAIL}/raftBeforeSave`, { method: "DELETE" });
      assert.equal(del.status, 204);
      const gone = await fetch(`http://${GOFAIL}/raftBeforeSave`, { method: "DELETE" });
      assert.equal(gone.status, 400);
      assert.equal(
        await gone.text(),
        "failed to delete failpoint failpoint: failpoint is disabled\n",
      );
      const bad = await fetch(`http://${GOFAIL}/raftBeforeSave`, { method: "PUT", body: "panik" });
      assert.equal(bad.status, 400);
      await bad.text();
      await writers.pause();
      assert.equal(await checkStore(EP, writers.acked), writers.acked.size + 1);
    } finally {
      await writers.stop();
      await stop(member);
    }
  },
);

itest("beforeApplyOneConfChange=panic: a member added is applied after the restart", async () => {
  await assertPortsFree(IP, [2379, 2380, 22381]);
  const flags = singleMemberFlags("s1", IP, `${tempDir().path}/data`);
  let member = await startReady(flags, { env: { GOFAIL_HTTP: GOFAIL } });
  try {
    await setFailpoint(GOFAIL, "beforeApplyOneConfChange", "panic");
    const add = etcdctl(
      EP,
      "member",
      "add",
      "s2",
      "--peer-urls=http://127.0.201.2:2380",
      "--learner",
    );
    assert.equal((await exited(member)).code, 2, member.lines.slice(-20).join("\n"));
    assert.ok(member.lines.includes("panic: failpoint panic: beforeApplyOneConfChange"));
    assert.notEqual((await add).code, 0, "the add was acknowledged by a member that died first");
    // The entry was durable before it was applied: the restart applies it.
    member = await startReady(flags);
    const list = await etcdctl(EP, "member", "list");
    assert.match(list.stdout, /, unstarted, , http:\/\/127\.0\.201\.2:2380, , true\n/, list.stderr);
  } finally {
    await stop(member);
  }
});
