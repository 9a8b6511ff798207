// Reading a member's /metrics in tests: a strict parser of the text exposition format, sample
// look-ups, and the shape of a family (what a dashboard query relies on).
import assert from "node:assert/strict";

/**
 * The families etcd-ts exports beyond etcd 3.4's: what holds its resident memory (a V8 runtime's
 * shares, which Go's go_memstats cannot describe) and the raft log it holds in memory.
 */
export const ETCD_TS_FAMILIES =
  /^etcd_debugging_(resident_memory_bytes|v8_heap_space_(committed|used)_bytes|server_raft_log_(entries|bytes))$/;

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  help: string;
  type: string;
  samples: Sample[];
}

export type Exposition = Map<string, Family>;

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy;

function parseLabels(text: string | undefined, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!text) return labels;
  LABEL.lastIndex = 0;
  let l, end = 0;
  while ((l = LABEL.exec(text)) !== null) {
    labels[l[1]] = l[2];
    end = LABEL.lastIndex;
  }
  assert.equal(end, text.length, `labels of ${line}`);
  return labels;
}

/** Parses the text format strictly: every sample follows its family's HELP and TYPE. */
export function parseExposition(text: string): Exposition {
  assert.ok(text.endsWith("\n"));
  const families: Exposition = new Map();
  let current: { name: string; family: Family } | undefined;
  for (const line of text.trimEnd().split("\n")) {
    const help = /^# HELP (\S+) (.*)$/.exec(line);
    if (help) {
      assert.ok(!families.has(help[1]), `${help[1]} declared twice`);
      current = { name: help[1], family: { help: help[2], type: "", samples: [] } };
      families.set(help[1], current.family);
      continue;
    }
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      assert.equal(type[1], current?.name, line);
      current!.family.type = type[2];
      continue;
    }
    const m = SAMPLE.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    assert.ok(current && m[1].startsWith(current.name), `${m[1]} outside its family`);
    const value = m[3] === "+Inf" ? Infinity : m[3] === "-Inf" ? -Infinity : Number(m[3]);
    assert.ok(!Number.isNaN(value) || m[3] === "NaN", line);
    current.family.samples.push({ name: m[1], labels: parseLabels(m[2], line), value });
  }
  return families;
}

/** GET <base>/metrics with etcd's content type, parsed. */
export async function scrape(base: string): Promise<Exposition> {
  const res = await fetch(`${base}/metrics`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  return parseExposition(await res.text());
}

/** The value of one sample; `name` may be a histogram's _bucket, _sum or _count. */
export function value(f: Exposition, name: string, labels: Record<string, string> = {}): number {
  const family = f.get(name.replace(/_(bucket|sum|count)$/, "")) ?? f.get(name);
  assert.ok(family, `no family for ${name}`);
  const s = family.samples.find((s) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  );
  assert.ok(s, `no sample ${name} ${JSON.stringify(labels)}`);
  return s.value;
}

/** Label names per sample name, and the histogram buckets. */
export function shape(f: Family): string[] {
  const out = new Set<string>();
  for (const s of f.samples) {
    const names = Object.keys(s.labels).sort().join(",");
    out.add(`${s.name}{${names}}${s.labels.le !== undefined ? ` le=${s.labels.le}` : ""}`);
  }
  return [...out].sort();
}

/** Every sample as "name{k="v",...}" -> value, for comparing two expositions series by series. */
export function series(f: Exposition): Map<string, number> {
  const out = new Map<string, number>();
  for (const family of f.values()) {
    for (const s of family.samples) {
      const labels = Object.keys(s.labels).sort().map((k) => `${k}="${s.labels[k]}"`).join(",");
      out.set(`${s.name}{${labels}}`, s.value);
    }
  }
  return out;
}
