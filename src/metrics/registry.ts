// A small Prometheus registry: counters, gauges and histograms with labels, written in the text
// exposition format exactly as Prometheus' Go client writes it (families sorted by name, label
// pairs sorted by name, series sorted by label values, histograms as cumulative _bucket series
// with `le` last, then _sum and _count). A family with labels appears once it has a series.

import { escapeHelp, escapeLabelValue, formatGoFloat } from "./format.ts";

export type MetricType = "counter" | "gauge" | "histogram";

export interface MetricOptions<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
}

abstract class Family<L extends string, C> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly #children = new Map<string, { values: string[]; child: C }>();
  // Output order of the label names, and where each sits in labelNames.
  readonly #sortedIdx: number[];

  constructor(readonly type: MetricType, opts: MetricOptions<L>) {
    this.name = opts.name;
    this.help = opts.help;
    this.labelNames = opts.labelNames ?? [];
    this.#sortedIdx = this.labelNames.map((_, i) => i)
      .sort((a, b) => cmp(this.labelNames[a], this.labelNames[b]));
  }

  // The one series of a family without labels, kept at hand: hot paths update it per request,
  // and a lookup by label values allocates.
  #only?: C;

  /** Subclasses call this last: a family without labels always has its one series. */
  protected init(): void {
    if (this.labelNames.length === 0) this.labels({} as Record<L, string>);
  }

  protected abstract make(): C;
  protected abstract renderChild(out: string[], labels: string, child: C): void;

  /** The series with these label values (created at zero the first time). */
  labels(values: Record<L, string>): C {
    const list = this.labelNames.map((n) => values[n]);
    const key = list.join("\u0000");
    let entry = this.#children.get(key);
    if (!entry) {
      if (list.some((v) => v === undefined)) {
        throw new Error(`${this.name} needs labels ${this.labelNames.join(", ")}`);
      }
      entry = { values: list, child: this.make() };
      this.#children.set(key, entry);
    }
    return entry.child;
  }

  /** The series without labels. */
  protected get only(): C {
    return this.#only ??= this.labels({} as Record<L, string>);
  }

  render(out: string[]): void {
    if (this.#children.size === 0) return;
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`);
    out.push(`# TYPE ${this.name} ${this.type}`);
    const rows = [...this.#children.values()].map((e) => ({
      sorted: this.#sortedIdx.map((i) => e.values[i]),
      child: e.child,
    }));
    rows.sort((a, b) => {
      for (let i = 0; i < a.sorted.length; i++) {
        const c = cmp(a.sorted[i], b.sorted[i]);
        if (c !== 0) return c;
      }
      return 0;
    });
    for (const row of rows) {
      const pairs = this.#sortedIdx.map((idx, i) =>
        `${this.labelNames[idx]}="${escapeLabelValue(row.sorted[i])}"`
      );
      this.renderChild(out, pairs.join(","), row.child);
    }
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const braces = (labels: string) => (labels ? `{${labels}}` : "");

export class CounterChild {
  value = 0;
  inc(by = 1): void {
    if (by < 0) throw new Error("counters only go up");
    this.value += by;
  }
}

export class Counter<L extends string = never> extends Family<L, CounterChild> {
  constructor(opts: MetricOptions<L>) {
    super("counter", opts);
    this.init();
  }
  protected make(): CounterChild {
    return new CounterChild();
  }
  protected renderChild(out: string[], labels: string, c: CounterChild): void {
    out.push(`${this.name}${braces(labels)} ${formatGoFloat(c.value)}`);
  }
  inc(by = 1): void {
    this.only.inc(by);
  }
  /** For a counter that mirrors a total kept elsewhere (the kernel's CPU time, say). */
  mirror(total: number): void {
    if (total > this.only.value) this.only.value = total;
  }
  get value(): number {
    return this.only.value;
  }
}

export class GaugeChild {
  value = 0;
  set(v: number): void {
    this.value = v;
  }
  inc(by = 1): void {
    this.value += by;
  }
  dec(by = 1): void {
    this.value -= by;
  }
}

export class Gauge<L extends string = never> extends Family<L, GaugeChild> {
  constructor(opts: MetricOptions<L>) {
    super("gauge", opts);
    this.init();
  }
  protected make(): GaugeChild {
    return new GaugeChild();
  }
  protected renderChild(out: string[], labels: string, c: GaugeChild): void {
    out.push(`${this.name}${braces(labels)} ${formatGoFloat(c.value)}`);
  }
  set(v: number): void {
    this.only.set(v);
  }
  inc(by = 1): void {
    this.only.inc(by);
  }
  dec(by = 1): void {
    this.only.dec(by);
  }
  get value(): number {
    return this.only.value;
  }
}

export class HistogramChild {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly buckets: readonly number[]) {
    this.counts = buckets.map(() => 0);
  }
  observe(v: number): void {
    // Buckets are upper bounds, inclusive; one count per bucket, cumulated when written.
    const i = this.buckets.findIndex((b) => v <= b);
    if (i >= 0) this.counts[i]++;
    this.sum += v;
    this.count++;
  }
}

export interface HistogramOptions<L extends string> extends MetricOptions<L> {
  buckets: readonly number[];
}

export class Histogram<L extends string = never> extends Family<L, HistogramChild> {
  readonly buckets: readonly number[];
  constructor(opts: HistogramOptions<L>) {
    super("histogram", opts);
    const buckets = [...opts.buckets];
    if (buckets.some((b, i) => i > 0 && b <= buckets[i - 1])) {
      throw new Error(`${opts.name}: buckets must increase`);
    }
    this.buckets = buckets;
    this.init();
  }
  protected make(): HistogramChild {
    return new HistogramChild(this.buckets);
  }
  protected renderChild(out: string[], labels: string, c: HistogramChild): void {
    const sep = labels ? `${labels},` : "";
    let cumulative = 0;
    for (let i = 0; i < c.buckets.length; i++) {
      cumulative += c.counts[i];
      out.push(`${this.name}_bucket{${sep}le="${formatGoFloat(c.buckets[i])}"} ${cumulative}`);
    }
    out.push(`${this.name}_bucket{${sep}le="+Inf"} ${c.count}`);
    out.push(`${this.name}_sum${braces(labels)} ${formatGoFloat(c.sum)}`);
    out.push(`${this.name}_count${braces(labels)} ${c.count}`);
  }
  observe(v: number): void {
    this.only.observe(v);
  }
}

/** prometheus.ExponentialBuckets: `count` buckets from `start`, each `factor` times the last. */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  const out: number[] = [];
  for (let i = 0, b = start; i < count; i++, b *= factor) out.push(b);
  return out;
}

type AnyFamily = Counter<string> | Gauge<string> | Histogram<string>;

export class Registry {
  readonly #families = new Map<string, AnyFamily>();
  readonly #collectors: (() => void)[] = [];

  register<F extends AnyFamily>(family: F): F {
    if (this.#families.has(family.name)) throw new Error(`${family.name} is already registered`);
    this.#families.set(family.name, family);
    return family;
  }

  /** Runs before every exposition: sets gauges read from the member's state. */
  addCollector(collect: () => void): void {
    this.#collectors.push(collect);
  }

  get(name: string): AnyFamily | undefined {
    return this.#families.get(name);
  }

  /** The text exposition format (version 0.0.4). */
  expose(): string {
    for (const collect of this.#collectors) collect();
    const out: string[] = [];
    const names = [...this.#families.keys()].sort(cmp);
    for (const name of names) this.#families.get(name)!.render(out);
    return out.length ? `${out.join("\n")}\n` : "";
  }
}

/** What /metrics answers with. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
