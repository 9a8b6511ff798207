// What a simulated power cut (or a failed fsync) leaves of a file: the synced bytes, then zeros
// — or, torn, the synced bytes and some whole sectors of the unsynced ones.
import assert from "node:assert/strict";
import { loseUnsynced } from "../../src/failpoint/mod.ts";
import { tempDir } from "../helpers/tmp.ts";

function fileWith(dir: string, data: Uint8Array, size: number): string {
  const path = `${dir}/segment`;
  const buf = new Uint8Array(size);
  buf.set(data);
  Deno.writeFileSync(path, buf);
  return path;
}

Deno.test("the unsynced bytes become zeros; the synced ones and the file's length stay", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const data = crypto.getRandomValues(new Uint8Array(3000));
  const path = fileWith(tmp.path, data, 8192);
  assert.equal(loseUnsynced({ path, synced: 1000, end: 3000 }), 1000);
  const after = Deno.readFileSync(path);
  assert.equal(after.length, 8192);
  assert.deepEqual(after.subarray(0, 1000), data.subarray(0, 1000));
  assert.ok(after.subarray(1000).every((b) => b === 0));
});

Deno.test("a torn loss keeps whole sectors: the cut falls on the synced end or a sector", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const data = crypto.getRandomValues(new Uint8Array(3000));
  const seen = new Set<number>();
  for (const draw of [0, 0.2, 0.4, 0.6, 0.8, 0.99]) {
    const path = fileWith(tmp.path, data, 4096);
    const keep = loseUnsynced({ path, synced: 1000, end: 3000 }, true, () => draw);
    seen.add(keep);
    assert.ok(keep === 1000 || (keep % 512 === 0 && keep > 1000) || keep === 3000, `${keep}`);
    const after = Deno.readFileSync(path);
    assert.deepEqual(after.subarray(0, keep), data.subarray(0, keep));
    assert.ok(after.subarray(keep).every((b) => b === 0));
  }
  // Every possible end: 1000, 1024, 1536, 2048, 2560, 3000.
  assert.deepEqual([...seen].sort((a, b) => a - b), [1000, 1024, 1536, 2048, 2560, 3000]);
});
