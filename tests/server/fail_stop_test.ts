// The member's one way to stop: each failure's line in etcd's words, and its exit status.
import assert from "node:assert/strict";
import { assert as invariant, setInvariantHandler } from "../../src/assert/mod.ts";
import { RaftLog } from "../../src/raft/log.ts";
import { MemoryStorage } from "../../src/raft/mod.ts";
import { failStop } from "../../src/server/fail_stop.ts";
import { FatalExit, testLog } from "../helpers/log.ts";

Deno.test("a broken raft invariant is raft's panic: its words, file and line, exit 2", () => {
  const t = testLog();
  const fail = failStop(t.log);
  const quiet = { info: () => {}, warn: () => {}, debug: () => {} };
  const log = new RaftLog(new MemoryStorage(), quiet);
  let caught: unknown;
  try {
    log.commitTo(35);
  } catch (err) {
    caught = err;
  }
  assert.throws(() => fail("apply", caught), { message: "exit 2" });
  assert.match(
    t.lines[0],
    / C \| raft: tocommit\(35\) is out of range \[lastIndex\(0\)\]\. Was the raft log corrupted, truncated, or lost\?$/,
  );
  assert.match(t.lines[1], /^panic: tocommit\(35\) is out of range/);
});

Deno.test("failed I/O is a fatal line of its stage, exit 1; raft's own errors panic", () => {
  const cases: [Parameters<ReturnType<typeof failStop>>[0], string, string][] = [
    ["save", "exit 1", "C | etcdserver: failed to save state and entries error: write x: boom"],
    ["saveSnap", "exit 1", "C | etcdserver: failed to save Raft snapshot write x: boom"],
    ["commit", "exit 1", "C | mvcc/backend: cannot commit tx (write x: boom)"],
    ["snapshot", "exit 1", "C | etcdserver: save snapshot error: write x: boom"],
    ["apply", "exit 2", "C | etcdserver: unexpected error during apply: write x: boom"],
    [
      "applySnap",
      "exit 2",
      "C | etcdserver: recovering backend from snapshot error: write x: boom",
    ],
    ["raft", "exit 2", "C | raft: write x: boom"],
  ];
  for (const [stage, exit, line] of cases) {
    const t = testLog();
    assert.throws(() => failStop(t.log)(stage, new Error("write x: boom")), { message: exit });
    assert.ok(t.lines[0].endsWith(line), `${stage}: ${t.lines[0]}`);
  }
  const zap = testLog("info", { logger: "zap" });
  assert.throws(() => failStop(zap.log)("save", new Error("write x: boom")), FatalExit);
  const entry = JSON.parse(zap.lines[0]);
  assert.deepEqual(
    [entry.level, entry.msg, entry.error],
    ["fatal", "failed to save Raft hard state and entries", "write x: boom"],
  );
});

Deno.test("a registered handler runs where the invariant breaks, before anyone catches it", () => {
  const t = testLog();
  const fail = failStop(t.log);
  setInvariantHandler((err) => fail("raft", err));
  try {
    // Whoever catches the error afterwards (here a catch-all, as the peer transport once
    // was), the member has stopped: the handler ran first. (The test logger's exit throws.)
    try {
      invariant(false, "applied index advances by one");
    } catch {
      // swallowed
    }
    assert.match(t.lines[0], / C \| etcdserver: applied index advances by one$/);
    assert.ok(t.lines[1].startsWith("panic: applied index advances by one\n"), t.lines[1]);
  } finally {
    setInvariantHandler(undefined);
  }
  // Unregistered, a broken invariant is only thrown (what unit tests of the invariants want).
  assert.throws(() => invariant(false, "x"), { message: "invariant broken: x" });
  assert.equal(t.lines.length, 2);
});
