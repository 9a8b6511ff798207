// --profile's allocation side: V8's sampling of what a member allocated over the profiled window
// (its /debug/pprof/allocs, collected objects included), summarised as bytes per op, by the
// project folder whose code allocated them, and by function. What a request allocates is what
// the young-generation collections and their promotions cost.

import { readFileSync } from "node:fs";
import { fetchProfile } from "./profile.ts";
import type { Member } from "./servers.ts";

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

export interface AllocationProfile {
  head: HeapNode;
}

/** Samples `seconds` of `m`'s allocations and saves them to `file`. */
export function captureAllocs(
  m: Member,
  seconds: number,
  file: string,
): Promise<AllocationProfile> {
  return fetchProfile(m, "allocs", seconds, file);
}

export interface AllocsSummary {
  /** Sampled bytes over the whole window. */
  bytes: number;
  /** Bytes by the nearest project folder on the stack, largest first. */
  folders: [string, number][];
  /** Bytes by allocating function, largest first. */
  top: [string, number][];
}

const srcFolder = (url: string) => /\/src\/([^/]+)\//.exec(url)?.[1];

export function summarizeAllocs(p: AllocationProfile, topN = 12): AllocsSummary {
  const folders = new Map<string, number>(), top = new Map<string, number>();
  let bytes = 0;
  const walk = (n: HeapNode, folder: string | undefined) => {
    const f = n.callFrame;
    const own = srcFolder(f.url);
    const here = own ? `src/${own}` : folder;
    if (n.selfSize > 0) {
      bytes += n.selfSize;
      const group = here ?? "runtime (no src caller)";
      folders.set(group, (folders.get(group) ?? 0) + n.selfSize);
      const where = f.url
        ? ` ${f.url.replace(/^.*\/(src|scripts)\//, "$1/")}:${f.lineNumber + 1}`
        : "";
      const label = `${f.functionName || "(anonymous)"}${where}`;
      top.set(label, (top.get(label) ?? 0) + n.selfSize);
    }
    for (const c of n.children) walk(c, here);
  };
  walk(p.head, undefined);
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { bytes, folders: sorted(folders), top: sorted(top).slice(0, topN) };
}

/** Prints the summary with bytes per op, `opsPerSecond` being the window's rate. */
export function printAllocsSummary(
  title: string,
  s: AllocsSummary,
  seconds: number,
  opsPerSecond: number,
): void {
  const perOp = (b: number) => b / seconds / opsPerSecond;
  const kib = (b: number) => `${(perOp(b) / 1024).toFixed(2).padStart(7)} KiB`;
  console.log(`${title}: ${kib(s.bytes).trim()} allocated per op (sampled)`);
  console.log("  by folder (the nearest src folder on the allocating stack):");
  for (const [g, b] of s.folders) console.log(`    ${kib(b)}  ${g}`);
  console.log("  top allocating functions:");
  for (const [f, b] of s.top) console.log(`    ${kib(b)}  ${f}`);
}

if (import.meta.main) {
  const [file, seconds, opsPerSecond] = Deno.args;
  const p = JSON.parse(readFileSync(file, "utf8")) as AllocationProfile;
  printAllocsSummary(file, summarizeAllocs(p), Number(seconds), Number(opsPerSecond));
}
