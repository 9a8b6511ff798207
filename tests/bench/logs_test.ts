// --logs: the members' logs are copied out of the bench's work dir before it is removed, in the
// same layout, and nothing else is (data dirs hold gigabytes).
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { copyMemberLogs } from "../../scripts/bench/servers.ts";

Deno.test("copyMemberLogs keeps each member's log and leaves the data behind", () => {
  const root = mkdtempSync(`${tmpdir()}/bench-logs-`);
  try {
    const work = `${root}/work`;
    mkdirSync(`${work}/core-1/etcd-ts/bench0.etcd/member/wal`, { recursive: true });
    writeFileSync(`${work}/core-1/etcd-ts/bench0.log`, "ready to serve client requests\n");
    writeFileSync(`${work}/core-1/etcd-ts/bench0.stalls`, "{}\n");
    writeFileSync(`${work}/core-1/etcd-ts/bench0.etcd/member/wal/0.wal`, "wal");
    writeFileSync(`${work}/generator.mjs`, "// bundle");
    copyMemberLogs(work, `${root}/logs`);
    assert.equal(
      readFileSync(`${root}/logs/core-1/etcd-ts/bench0.log`, "utf8"),
      "ready to serve client requests\n",
    );
    for (const left of ["core-1/etcd-ts/bench0.stalls", "generator.mjs"]) {
      assert.equal(existsSync(`${root}/logs/${left}`), false, left);
    }
    assert.equal(existsSync(`${root}/logs/core-1/etcd-ts/bench0.etcd/member/wal/0.wal`), false);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
