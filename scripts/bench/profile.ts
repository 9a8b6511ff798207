// --profile: a V8 CPU profile of an etcd-ts member (its /debug/pprof/profile, --enable-pprof)
// taken during one extra window, and where its samples went: idle, GC, SQLite (node:sqlite calls
// made by src/mvcc), each src/ folder (its JavaScript plus the runtime calls it made), and the
// functions with the most samples of their own. Also runs alone on a saved profile:
//   deno run -A scripts/bench/profile.ts FILE.cpuprofile

import { readFileSync, writeFileSync } from "node:fs";
import type { Member } from "./servers.ts";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** node:sqlite's methods: a native frame by one of these names under src/mvcc is SQLite work. */
const SQLITE_METHODS = new Set(["run", "all", "get", "iterate", "exec", "prepare", "close"]);

/** The member that says it is the leader in its /metrics (etcd_server_is_leader 1). */
export async function leaderOf(members: Member[]): Promise<Member> {
  for (const m of members) {
    const res = await fetch(`http://${m.host}:${m.clientPort}/metrics`);
    const text = await res.text();
    if (/^etcd_server_is_leader 1$/m.test(text)) return m;
  }
  throw new Error("no member reports itself leader");
}

/** Takes `m`'s `seconds`-long pprof profile `name` (http only) and saves it to `file`. */
export async function fetchProfile<T>(
  m: Member,
  name: "profile" | "allocs",
  seconds: number,
  file: string,
): Promise<T> {
  const url = `http://${m.host}:${m.clientPort}/debug/pprof/${name}?seconds=${seconds}`;
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  const text = await res.text();
  writeFileSync(file, text);
  return JSON.parse(text) as T;
}

/** Takes a `seconds`-long CPU profile of `m` and saves it to `file`. */
export function captureProfile(m: Member, seconds: number, file: string): Promise<CpuProfile> {
  return fetchProfile(m, "profile", seconds, file);
}

/** Where a sample's own frame belongs. */
function groupOf(frame: CallFrame, callerFile: string | undefined): string {
  const name = frame.functionName;
  if (name === "(idle)") return "idle";
  if (name === "(garbage collector)") return "GC";
  if (name === "(program)") return "(program)";
  const native = frame.url === "";
  if (native && callerFile?.includes("/src/mvcc/") && SQLITE_METHODS.has(name)) return "SQLite";
  const file = frame.url.includes("/src/") || frame.url.endsWith("/main.ts")
    ? frame.url
    : callerFile;
  if (file === undefined) return "runtime (no src caller)";
  const m = /\/src\/([^/]+)\//.exec(file);
  const folder = m ? `src/${m[1]}` : "main.ts";
  return file === frame.url ? folder : `${folder} (runtime calls)`;
}

export interface ProfileSummary {
  samples: number;
  /** Share of all samples, by group, largest first. */
  groups: [string, number][];
  /** Share of all samples by a frame's own time, largest first. */
  top: [string, number][];
  /** The longest runs of samples with no idle one between them: what held the event loop. */
  stretches: { ms: number; groups: [string, number][] }[];
}

export function summarizeProfile(p: CpuProfile, topN = 15): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // The nearest ancestor frame (or the frame itself) in the project's sources.
  const srcFile = new Map<number, string | undefined>();
  const ownerFile = (id: number): string | undefined => {
    if (srcFile.has(id)) return srcFile.get(id);
    const n = byId.get(id)!;
    const url = n.callFrame.url;
    const own = url.includes("/src/") || url.endsWith("/main.ts") ? url : undefined;
    const up = parent.get(id);
    const file = own ?? (up === undefined ? undefined : ownerFile(up));
    srcFile.set(id, file);
    return file;
  };
  const hits = new Map<number, number>();
  for (const s of p.samples) hits.set(s, (hits.get(s) ?? 0) + 1);
  const groups = new Map<string, number>(), top = new Map<string, number>();
  const groupOfNode = new Map<number, string>();
  for (const [id, count] of hits) {
    const n = byId.get(id)!;
    const up = parent.get(id);
    const group = groupOf(n.callFrame, up === undefined ? undefined : ownerFile(up));
    groupOfNode.set(id, group);
    groups.set(group, (groups.get(group) ?? 0) + count);
    const f = n.callFrame;
    const where = f.url
      ? `${f.url.replace(/^.*\/(src|scripts)\//, "$1/")}:${f.lineNumber + 1}`
      : "";
    const label = `${f.functionName || "(anonymous)"} ${where}`.trim();
    top.set(label, (top.get(label) ?? 0) + count);
  }
  const total = p.samples.length;
  const shares = (m: Map<string, number>) =>
    [...m].map(([k, v]) => [k, v / total] as [string, number]).sort((a, b) => b[1] - a[1]);
  return {
    samples: total,
    groups: shares(groups),
    top: shares(top).slice(0, topN),
    stretches: busyStretches(p, groupOfNode),
  };
}

/** The three longest runs of consecutive non-idle samples, and their groups' sample counts. */
function busyStretches(p: CpuProfile, groupOfNode: Map<number, string>) {
  const runs: { ms: number; groups: Map<string, number> }[] = [];
  let run: { ms: number; groups: Map<string, number> } | undefined;
  p.samples.forEach((id, i) => {
    const group = groupOfNode.get(id)!;
    if (group === "idle") {
      if (run) runs.push(run);
      run = undefined;
      return;
    }
    run ??= { ms: 0, groups: new Map() };
    // A sample's delta is the time since the one before: it ends the stretch it belongs to.
    if (run.groups.size > 0) run.ms += p.timeDeltas[i] / 1000;
    run.groups.set(group, (run.groups.get(group) ?? 0) + 1);
  });
  if (run) runs.push(run);
  return runs.sort((a, b) => b.ms - a.ms).slice(0, 3).map((r) => ({
    ms: r.ms,
    groups: [...r.groups].sort((a, b) => b[1] - a[1]).slice(0, 4),
  }));
}

export function printProfileSummary(title: string, s: ProfileSummary): void {
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)}%`;
  const busy = 1 - (s.groups.find(([g]) => g === "idle")?.[1] ?? 0);
  console.log(`${title}: ${s.samples} samples, ${pct(busy).trim()} busy`);
  console.log(
    "  by group, of all samples and of the busy ones (own time; runtime calls go to the src " +
      "folder that made them):",
  );
  for (const [g, x] of s.groups) {
    console.log(`    ${pct(x)}  ${g === "idle" ? "      " : pct(x / busy)}  ${g}`);
  }
  console.log("  top frames by own time:");
  for (const [f, x] of s.top) console.log(`    ${pct(x)}  ${f}`);
  console.log("  longest busy stretches (samples by group):");
  for (const r of s.stretches) {
    console.log(`    ${r.ms.toFixed(0)} ms: ${r.groups.map(([g, n]) => `${g} ${n}`).join(", ")}`);
  }
}

if (import.meta.main) {
  for (const file of Deno.args) {
    const p = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
    printProfileSummary(file, summarizeProfile(p));
  }
}
