// A seed's course must not depend on how fast the machine's real file I/O is (the snapshot
// databases are real SQLite files): with every asynchronous file operation slowed by a random
// real delay, as a loaded machine would, the seeds replay exactly as they ran unhindered.
// Under tests/integration for the same reason as member_sim_test.ts (SQLite's VACUUM INTO).
import assert from "node:assert/strict";
import { simulateMembers } from "../../sim/member/simulate.ts";

// Taken before a simulation installs its virtual timers: the delays are real time.
const realSetTimeout = globalThis.setTimeout;

// Not Math.random: while a simulation runs, that is the seed's own random stream.
function realDelay(): Promise<void> {
  const [r] = crypto.getRandomValues(new Uint8Array(1));
  return new Promise((resolve) => realSetTimeout(resolve, r % 4));
}

type Methods = Record<string, (...args: unknown[]) => Promise<unknown>>;

/** Runs `fn` with each named async method of `target` delayed before it starts. */
async function slowed<T>(target: object, names: string[], fn: () => Promise<T>): Promise<T> {
  const methods = target as Methods;
  const saved = names.map((name) => [name, methods[name]] as const);
  for (const [name, op] of saved) {
    methods[name] = async function (this: unknown, ...args: unknown[]) {
      await realDelay();
      return await op.apply(this, args);
    };
  }
  try {
    return await fn();
  } finally {
    for (const [name, op] of saved) methods[name] = op;
  }
}

/** Runs `fn` with Deno's asynchronous file operations slowed at random. */
function underLoad<T>(fn: () => Promise<T>): Promise<T> {
  const fsOps = ["open", "makeTempFile", "mkdir", "rename", "remove", "readFile", "stat"];
  const fileOps = ["read", "write", "sync", "syncData"];
  return slowed(Deno, fsOps, () => slowed(Deno.FsFile.prototype, fileOps, fn));
}

Deno.test("whole-member simulation: a seed replays exactly however slow real I/O is", async () => {
  // Seeds whose leaders send snapshots, each with its database as real files.
  let snapshots = 0;
  for (const seed of [600077, 600147, 600164]) {
    const alone = await simulateMembers({ seed, quick: true });
    const loaded = await underLoad(() => simulateMembers({ seed, quick: true }));
    assert.equal(loaded.traceHash, alone.traceHash, `seed ${seed} took another course`);
    assert.deepEqual(loaded.trace, alone.trace);
    snapshots += alone.stats.snapshotsSent;
  }
  assert.ok(snapshots > 0, "no seed sent a snapshot: the test proves nothing");
});
