// Micro benchmark (not a test): what a failpoint costs at its call site.
//   deno run tests/failpoint/failpoint_bench.ts [rounds]
// With none set, a site is one property read. Each case runs many passes per round, the cases
// alternating round by round; the minimum is the figure a busy machine disturbs least.
// "another set" is a run under GOFAIL_FAILPOINTS naming some other point (a map lookup).
import { disableAll, enable, failpoints, hit, hitSync } from "../../src/failpoint/mod.ts";

const rounds = Number(Deno.args[0] ?? 25);
const PASSES = 10_000_000;
const CALLS = 200_000;
let sink = 0;

function syncBare(): void {
  for (let i = 0; i < PASSES; i++) sink += i;
}

function syncSite(): void {
  for (let i = 0; i < PASSES; i++) {
    if (failpoints.on) hitSync("beforeCommit");
    sink += i;
  }
}

// The same async step without the site (nothing to await: that is the point).
// deno-lint-ignore require-await
async function asyncBare(): Promise<void> {
  sink++;
}

async function asyncSite(): Promise<void> {
  if (failpoints.on) await hit("raftBeforeSave");
  sink++;
}

async function calls(step: () => Promise<void>): Promise<void> {
  for (let i = 0; i < CALLS; i++) await step();
}

const cases: [string, number, () => void | Promise<void>, boolean][] = [
  ["sync pass, bare", PASSES, syncBare, false],
  ["sync pass through a site, none set", PASSES, syncSite, false],
  ["sync pass through a site, another set", PASSES, syncSite, true],
  ["awaited async step, bare", CALLS, () => calls(asyncBare), false],
  ["awaited async step with a site, none set", CALLS, () => calls(asyncSite), false],
  ["awaited async step with a site, another set", CALLS, () => calls(asyncSite), true],
];
const times = cases.map(() => [] as number[]);
for (let r = 0; r < rounds; r++) {
  for (const [i, [, , run, other]] of cases.entries()) {
    disableAll();
    if (other) enable("raftAfterSave", "off");
    const t = performance.now();
    await run();
    times[i].push(performance.now() - t);
  }
}
disableAll();
for (const [i, [name, n]] of cases.entries()) {
  const sorted = times[i].sort((a, b) => a - b);
  const ns = (ms: number) => ((ms / n) * 1e6).toFixed(2).padStart(7);
  console.log(
    `${name.padEnd(46)} min ${ns(sorted[0])} ns  median ${ns(sorted[sorted.length >> 1])} ns`,
  );
}
if (sink < 0) console.log(sink);
