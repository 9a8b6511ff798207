import assert from "node:assert/strict";
import {
  createLogger,
  formatCapnslog,
  formatZap,
  type PackageLevel,
  zapTime,
} from "../../src/log/mod.ts";

function capture(
  logger: "capnslog" | "zap",
  level = "info",
  outputs = ["default"],
  packageLevels?: Record<string, PackageLevel>,
) {
  const lines: [string, string][] = [];
  let exited: number | undefined;
  const log = createLogger({
    logger,
    level,
    outputs,
    packageLevels,
    write: (out, line) => void lines.push([out, line]),
    now: () => new Date(2026, 10, 27, 14, 46, 17, 416),
    exit: (code) => {
      exited = code;
      throw new Error("exit");
    },
  });
  return { log, lines, exited: () => exited };
}

Deno.test("capnslog line: local date, time with microseconds, level letter, package", () => {
  const line = formatCapnslog(
    "info",
    { pkg: "etcdserver", text: "starting member a in cluster b" },
    new Date(2026, 10, 27, 14, 46, 17, 416),
    86,
  );
  assert.equal(line, "2026-11-27 14:46:17.416086 I | etcdserver: starting member a in cluster b\n");
  const letters = (["critical", "error", "warn", "notice", "info", "debug"] as const)
    .map((l) => formatCapnslog(l, { pkg: "p", text: "t" }, new Date(), 0).split(" ")[2]);
  assert.deepEqual(letters, ["C", "E", "W", "N", "I", "D"]);
});

Deno.test("zap line: level, ISO ts, caller, msg, then fields", () => {
  const d = new Date(2026, 10, 27, 14, 46, 13, 442);
  const line = formatZap("info", {
    pkg: "etcdserver",
    text: "starting member",
    msg: "starting local member",
    caller: "etcdserver/raft.go:536",
    fields: { "local-member-id": "a3323a824b0b624b", "cluster-id": "fd4d6d6a0a9d0813", id: 5n },
  }, d);
  const obj = JSON.parse(line);
  assert.deepEqual(Object.keys(obj), [
    "level",
    "ts",
    "caller",
    "msg",
    "local-member-id",
    "cluster-id",
    "id",
  ]);
  assert.equal(obj.level, "info");
  assert.equal(obj.ts, zapTime(d));
  assert.equal(obj.msg, "starting local member");
  assert.equal(obj.id, "5");
  assert.ok(line.endsWith("}\n"));
  assert.match(zapTime(d), /^2026-11-27T14:46:13\.442(Z|[+-]\d{4})$/);
  const fatal = JSON.parse(formatZap("critical", { pkg: "etcdmain", text: "x" }, d));
  assert.equal(fatal.level, "fatal");
  assert.equal(fatal.msg, "x");
  assert.equal(fatal.caller, "etcdmain/etcdmain.go");
  assert.ok("stacktrace" in fatal);
});

Deno.test("levels below the configured one are dropped", () => {
  const { log, lines } = capture("capnslog", "warn");
  log.debug({ pkg: "p", text: "d" });
  log.info({ pkg: "p", text: "i" });
  log.notice({ pkg: "p", text: "n" });
  log.warn({ pkg: "p", text: "w" });
  log.error({ pkg: "p", text: "e" });
  assert.deepEqual(lines.map(([, l]) => l.split(" ").slice(2).join(" ")), [
    "W | p: w\n",
    "E | p: e\n",
  ]);
  const dbg = capture("zap", "debug");
  dbg.log.debug({ pkg: "p", text: "d" });
  assert.equal(JSON.parse(dbg.lines[0][1]).level, "debug");
  assert.equal(capture("zap").log.enabled("debug"), false);
});

Deno.test("capnslog package levels override the global level for their packages", () => {
  const levels = { etcdmain: "warn", embed: "notice", raft: "debug" } as const;
  const { log, lines } = capture("capnslog", "info", ["default"], levels);
  for (const pkg of ["etcdmain", "embed", "raft", "etcdserver"]) {
    log.debug({ pkg, text: "d" });
    log.info({ pkg, text: "i" });
    log.notice({ pkg, text: "n" });
    log.warn({ pkg, text: "w" });
  }
  assert.deepEqual(lines.map(([, l]) => l.split(" ").slice(2).join(" ").trim()), [
    "W | etcdmain: w",
    "N | embed: n",
    "W | embed: w",
    "D | raft: d",
    "I | raft: i",
    "N | raft: n",
    "W | raft: w",
    "I | etcdserver: i",
    "N | etcdserver: n",
    "W | etcdserver: w",
  ]);
  // Whether any package logs a level, or one package does.
  assert.equal(log.enabled("debug"), true);
  assert.equal(log.enabled("debug", "etcdserver"), false);
  assert.equal(log.enabled("info", "etcdmain"), false);

  // "*" stands for every package; named ones still win. zap has no packages.
  const star = capture("capnslog", "info", ["default"], { "*": "error", embed: "trace" });
  star.log.warn({ pkg: "etcdserver", text: "w" });
  star.log.debug({ pkg: "embed", text: "d" });
  assert.deepEqual(star.lines.map(([, l]) => l.split(" ").slice(2).join(" ").trim()), [
    "D | embed: d",
  ]);
  const zap = capture("zap", "info", ["default"], { etcdserver: "error" });
  zap.log.info({ pkg: "etcdserver", text: "i" });
  assert.equal(zap.lines.length, 1);
});

Deno.test("fatal logs at critical level and exits 1", () => {
  const { log, lines, exited } = capture("capnslog", "error");
  assert.throws(() => log.fatal({ pkg: "etcdmain", text: "boom" }), /exit/);
  assert.equal(exited(), 1);
  assert.match(lines[0][1], / C \| etcdmain: boom\n$/);
});

Deno.test("panic logs at critical (zap: panic), prints Go's panic line on stderr, exits 2", () => {
  const text = "tocommit(35) is out of range [lastIndex(28)]";
  const capn = capture("capnslog", "panic", ["stdout"]);
  assert.throws(() => capn.log.panic({ pkg: "raft", text, stack: "at step (raft.ts:1)" }), /exit/);
  assert.equal(capn.exited(), 2);
  assert.match(
    capn.lines[0][1],
    / C \| raft: tocommit\(35\) is out of range \[lastIndex\(28\)\]\n$/,
  );
  assert.deepEqual(capn.lines[1], ["stderr", `panic: ${text}\n\nat step (raft.ts:1)\n`]);
  const zap = capture("zap");
  assert.throws(() => zap.log.panic({ pkg: "raft", text, caller: "raft/log.ts:119", stack: "s" }));
  const entry = JSON.parse(zap.lines[0][1]);
  assert.deepEqual(
    [entry.level, entry.caller, entry.msg, entry.stacktrace],
    ["panic", "raft/log.ts:119", text, "s"],
  );
  assert.equal(zap.lines[1][1].split("\n")[0], `panic: ${text}`);
});

Deno.test("outputs: every configured output gets each line; raw lines go to stderr", () => {
  const { log, lines } = capture("zap", "info", ["stdout", "/tmp/x.log", "stdout"]);
  log.info({ pkg: "p", text: "hello" });
  log.raw("[WARNING] something");
  assert.deepEqual(lines.map(([o]) => o), ["stdout", "/tmp/x.log", "stderr"]);
  assert.equal(lines[2][1], "[WARNING] something\n");
});

Deno.test("capnslog microseconds increase within one millisecond", () => {
  const { log, lines } = capture("capnslog");
  log.info({ pkg: "p", text: "a" });
  log.info({ pkg: "p", text: "b" });
  const us = lines.map(([, l]) => Number(l.split(" ")[1].split(".")[1]));
  assert.ok(us[1] > us[0]);
  assert.equal(Math.floor(us[0] / 1000), 416);
});

Deno.test("writes to a real file synchronously", () => {
  const path = Deno.makeTempFileSync();
  try {
    const log = createLogger({ logger: "zap", level: "info", outputs: [path] });
    log.info({ pkg: "embed", text: "ready to serve client requests" });
    const text = Deno.readTextFileSync(path);
    assert.equal(JSON.parse(text).msg, "ready to serve client requests");
  } finally {
    Deno.removeSync(path);
  }
});
