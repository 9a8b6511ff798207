// The in-memory log keeps its entries' data in shared slabs: the bytes are the appended ones
// (a copy, so the caller's buffer may be reused), and small entries share few ArrayBuffers (an
// ArrayBuffer each would leave V8 100,000 backing stores to free after each log compaction).
import assert from "node:assert/strict";
import { MemoryStorage } from "../../src/raft/storage.ts";
import { EntryType } from "../../src/raft/types.ts";

const entry = (index: number, data: Uint8Array) => ({
  term: 1,
  index,
  type: EntryType.Normal,
  data,
});

Deno.test("MemoryStorage keeps appended data in shared slabs, as copies", () => {
  const s = new MemoryStorage();
  const sent: Uint8Array[] = [];
  for (let i = 1; i <= 2000; i++) {
    const data = new Uint8Array(300).fill(i % 251);
    sent.push(data.slice());
    s.append([entry(i, data)]);
    data.fill(0); // the proposer's buffer, reused: the log must not see it
  }
  const got = s.entries(1, 2001, Number.MAX_SAFE_INTEGER);
  assert.equal(got.length, 2000);
  got.forEach((e, i) => assert.deepEqual(e.data, sent[i], `entry ${i + 1}`));
  // 2,000 x 300 B in 256 KiB slabs: three buffers, not 2,000.
  assert.equal(new Set(got.map((e) => e.data.buffer)).size, 3);
});
