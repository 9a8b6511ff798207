import assert from "node:assert/strict";
import {
  bootstrapMember,
  computeClusterId,
  computeMemberId,
  memberPaths,
  restartMember,
} from "../../src/server/mod.ts";
import { WalError } from "../../src/storage/mod.ts";
import { testLog } from "../helpers/log.ts";
import { tempDir } from "../helpers/tmp.ts";

const timing = { heartbeatMs: 100, electionMs: 1000, preVote: true };

// A refused restart used to leave the backend open and the data dir locked: a second start in
// the same process (the whole-member simulation restarts members in process) met "data dir ...
// in use" instead of the refusal itself.
Deno.test("member state: a refused restart leaves the data dir unlocked and the backend closed", async () => {
  await using dir = tempDir({ tmpfs: true });
  const paths = memberPaths(`${dir.path}/m1`, "");
  const { log } = testLog("warn");
  const url = "http://m1:2380";
  const id = computeMemberId([url], "t");
  const member = { id, name: "m1", peerURLs: [url], clientURLs: [], isLearner: false };
  const state = await bootstrapMember(paths, timing, log, [member], id, computeClusterId([id]));
  state.backend.close();
  await state.wal.close();
  state.lock.release();
  // A gap in the segment sequence: the log refuses to open.
  Deno.writeFileSync(`${paths.walDir}/0000000000000005-0000000000000009.wal`, new Uint8Array(8));
  for (let attempt = 0; attempt < 2; attempt++) {
    await assert.rejects(
      () => restartMember(paths, timing, log),
      (err: Error) => err instanceof WalError && /do not increase continuously/.test(err.message),
    );
  }
  Deno.removeSync(`${paths.walDir}/0000000000000005-0000000000000009.wal`);
  const restarted = await restartMember(paths, timing, log);
  assert.equal(restarted.memberId, id);
  restarted.backend.close();
  await restarted.wal.close();
  restarted.lock.release();
});
