// What holds each member's RSS at the moments the bench measures it: for etcd-ts the shares it
// exports (etcd_debugging_resident_memory_bytes, V8's spaces, the raft log in memory), for etcd
// its go_memstats heap figures; for both the resident set and its file-backed part from /proc.
// The member with the largest RSS of the cluster is the one read.

import { request } from "node:https";
import { readFileSync } from "node:fs";
import type { Cluster, Member } from "./servers.ts";
import { clientTLSOptions } from "./tls.ts";
import { fmt } from "./report.ts";

/** One reading: the moment, the cluster's label, and each column's value in bytes (or count). */
export interface MemoryReading {
  suite: string;
  moment: string;
  label: string;
  target: Cluster["target"];
  values: Record<string, number>;
}

const MiB = 2 ** 20;

function statusBytes(pid: number): Record<string, number> {
  let text = "";
  try {
    text = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return {};
  }
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^(\w+):\s+(\d+) kB$/gm)) out[m[1]] = Number(m[2]) * 1024;
  return out;
}

/** The samples of a Prometheus text exposition, keyed "name" or "name{labels}". */
export function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const at = line.lastIndexOf(" ");
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

function scrape(c: Cluster, m: Member): Promise<string> {
  if (!c.clientTLS) {
    return fetch(`http://${m.host}:${m.clientPort}/metrics`).then((r) => r.text());
  }
  const opts = { ...clientTLSOptions(c.clientTLS), host: m.host, port: m.clientPort };
  return new Promise((resolve, reject) => {
    request({ ...opts, path: "/metrics" }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d) => body += d).on("end", () => resolve(body));
    }).on("error", reject).end();
  });
}

const etcdTsColumns = (s: Map<string, number>) => ({
  "V8 heap": s.get('etcd_debugging_resident_memory_bytes{share="v8_heap"}'),
  "heap used": s.get("go_memstats_heap_alloc_bytes"),
  "new space": s.get('etcd_debugging_v8_heap_space_committed_bytes{space="new"}'),
  "old space": s.get('etcd_debugging_v8_heap_space_committed_bytes{space="old"}'),
  "large obj": s.get('etcd_debugging_v8_heap_space_committed_bytes{space="large_object"}'),
  "external": s.get('etcd_debugging_resident_memory_bytes{share="v8_external"}'),
  "V8 malloc": s.get('etcd_debugging_resident_memory_bytes{share="v8_malloced"}'),
  "other anon": s.get('etcd_debugging_resident_memory_bytes{share="other"}'),
  "raft log": s.get("etcd_debugging_server_raft_log_bytes"),
  "raft entries": s.get("etcd_debugging_server_raft_log_entries"),
});

const etcdColumns = (s: Map<string, number>) => ({
  "heap sys": s.get("go_memstats_heap_sys_bytes"),
  "heap inuse": s.get("go_memstats_heap_inuse_bytes"),
  "heap alloc": s.get("go_memstats_heap_alloc_bytes"),
  "idle kept": (s.get("go_memstats_heap_idle_bytes") ?? NaN) -
    (s.get("go_memstats_heap_released_bytes") ?? NaN),
  "stack": s.get("go_memstats_stack_sys_bytes"),
  "go sys": s.get("go_memstats_sys_bytes"),
});

/** Reads the cluster's largest member now; the values of a member that cannot be read are NaN. */
export async function readMemory(
  suite: string,
  moment: string,
  label: string,
  c: Cluster,
): Promise<MemoryReading> {
  const rss = (m: Member) => statusBytes(m.pid).VmRSS ?? 0;
  const m = c.members.reduce((a, b) => (rss(b) > rss(a) ? b : a));
  const st = statusBytes(m.pid);
  let samples = new Map<string, number>();
  try {
    samples = parseExposition(await scrape(c, m));
  } catch {
    // a member that does not answer: its /proc figures alone
  }
  const columns = c.target === "etcd-ts" ? etcdTsColumns(samples) : etcdColumns(samples);
  const values: Record<string, number> = {
    "RSS": st.VmRSS ?? NaN,
    "peak RSS": st.VmHWM ?? NaN,
    "file": (st.RssFile ?? NaN) + (st.RssShmem ?? 0),
  };
  for (const [k, v] of Object.entries(columns)) values[k] = v ?? NaN;
  return { suite, moment, label, target: c.target, values };
}

/** One table per target kind: a row per reading, MiB (entries as a count). */
export function memoryTables(readings: MemoryReading[]): string[] {
  const out: string[] = [];
  for (const target of ["etcd-ts", "etcd"] as const) {
    const rows = readings.filter((r) => r.target === target);
    if (rows.length === 0) continue;
    const columns = Object.keys(rows[0].values);
    const cell = (k: string, v: number) => k === "raft entries" ? fmt(v, 0) : fmt(v / MiB, 1);
    const table = [
      ["moment", "target", ...columns],
      ...rows.map((r) => [r.moment, r.label, ...columns.map((k) => cell(k, r.values[k]))]),
    ];
    const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
    out.push(`${target} memory (MiB${target === "etcd-ts" ? "; raft entries: count" : ""})`);
    for (const row of table) {
      out.push(
        row.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ")
          .trimEnd(),
      );
    }
    out.push("");
  }
  return out;
}
