// Micro benchmark (not a test): what a failpoint costs at its call site.
//   deno bench tests/failpoint/failpoint_bench.ts
// With none set, a site is one property read; compare each "site" case with its "bare" twin.
// "another set" is a run under GOFAIL_FAILPOINTS naming some other point: a map lookup.
import { disableAll, enable, failpoints, hit, hitSync } from "../../src/failpoint/mod.ts";

const CHECKS = 1_000_000;
let sink = 0;

// A loop of a million passes, with and without a synchronous site in its body.
Deno.bench("sync: 1e6 passes, bare", { group: "sync", baseline: true }, () => {
  disableAll();
  for (let i = 0; i < CHECKS; i++) sink += i;
});

Deno.bench("sync: 1e6 passes through a site, none set", { group: "sync" }, () => {
  disableAll();
  for (let i = 0; i < CHECKS; i++) {
    if (failpoints.on) hitSync("beforeCommit");
    sink += i;
  }
});

Deno.bench("sync: 1e6 passes through a site, another set", { group: "sync" }, () => {
  enable("raftAfterSave", "off");
  for (let i = 0; i < CHECKS; i++) {
    if (failpoints.on) hitSync("beforeCommit");
    sink += i;
  }
  disableAll();
});

// An async step as the driver and the WAL take them: awaited, one per call.
// The same async step without the site (nothing to await: that is the point).
// deno-lint-ignore require-await
async function bare(): Promise<void> {
  sink++;
}

async function site(): Promise<void> {
  if (failpoints.on) await hit("raftBeforeSave");
  sink++;
}

Deno.bench("async: awaited step, bare", { group: "async", baseline: true }, async () => {
  disableAll();
  await bare();
});

Deno.bench("async: awaited step with a site, none set", { group: "async" }, async () => {
  disableAll();
  await site();
});

Deno.bench("async: awaited step with a site, another set", { group: "async" }, async () => {
  enable("raftAfterSave", "off");
  await site();
});

globalThis.addEventListener("unload", () => {
  if (sink < 0) console.log(sink);
});
