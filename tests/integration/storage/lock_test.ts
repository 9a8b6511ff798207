import assert from "node:assert/strict";
import { lockDataDir } from "../../../src/storage/mod.ts";
import { tempDir } from "../../helpers/tmp.ts";

const holder = new URL("../../helpers/lock_holder.ts", import.meta.url).pathname;

function spawnHolder(memberDir: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", holder, memberDir],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  return text.trim();
}

Deno.test("lock: another process is refused, and the lock dies with a killed holder", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const member = `${tmp.path}/member`;
  const holderProc = spawnHolder(member);
  try {
    assert.equal(await firstLine(holderProc.stdout), "locked");

    // A second process fails at once with the exact message and exit status 1.
    const started = performance.now();
    const second = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", holder, member],
    }).output();
    assert.equal(second.code, 1);
    assert.equal(
      new TextDecoder().decode(second.stderr).trim(),
      `data dir ${tmp.path} is in use by another process`,
    );
    assert.ok(performance.now() - started < 10_000);
    // So does this process.
    assert.throws(() => lockDataDir(member), /is in use by another process/);

    holderProc.kill("SIGKILL");
    const status = await holderProc.status;
    assert.equal(status.signal, "SIGKILL");
    using lock = lockDataDir(member);
    assert.equal(lock.dir, member);
  } finally {
    try {
      holderProc.kill("SIGKILL");
    } catch { /* already gone */ }
    await holderProc.status;
    await holderProc.stdout.cancel().catch(() => {});
    await holderProc.stderr.cancel().catch(() => {});
  }
});
