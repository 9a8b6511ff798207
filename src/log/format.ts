// The two line formats etcd writes: capnslog text and zap JSON.

/** `panic` is critical with zap's own level name: what etcd's raft and apply path log before
 * they panic. */
export type Level = "debug" | "info" | "notice" | "warn" | "error" | "critical" | "panic";

export interface LogRecord {
  /** capnslog package, e.g. "etcdserver", "embed", "raft". */
  pkg: string;
  /** capnslog text (also the zap msg when `msg` is absent). */
  text: string;
  /** zap message, when it differs from the capnslog text. */
  msg?: string;
  /** zap fields (capnslog shows only `text`). */
  fields?: Record<string, unknown>;
  /** zap caller; defaults to "<pkg>/<last pkg segment>.go". */
  caller?: string;
  /** zap's level when etcd's zap line differs from its capnslog one (Noticef vs Warn, say). */
  zapLevel?: Level;
  /** A line etcd writes in one format only (capnslog splits some zap lines in two). */
  only?: "capnslog" | "zap";
  /** zap's stacktrace of a panic line. */
  stack?: string;
}

const CAPNSLOG_LETTER: Record<Level, string> = {
  panic: "C",
  critical: "C",
  error: "E",
  warn: "W",
  notice: "N",
  info: "I",
  debug: "D",
};

const ZAP_LEVEL: Record<Level, string> = {
  panic: "panic",
  critical: "fatal",
  error: "error",
  warn: "warn",
  notice: "info",
  info: "info",
  debug: "debug",
};

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** capnslog's local "2006-01-02 15:04:05.000000". */
export function capnslogTime(d: Date, micros = 0): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.` +
    pad(d.getMilliseconds() * 1000 + micros, 6);
}

/** zap's ISO8601 encoder: local time with milliseconds and zone ("Z" at UTC, else ±hhmm). */
export function zapTime(d: Date): string {
  const off = -d.getTimezoneOffset();
  const zone = off === 0
    ? "Z"
    : (off > 0 ? "+" : "-") + pad(Math.floor(Math.abs(off) / 60)) + pad(Math.abs(off) % 60);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.` +
    `${pad(d.getMilliseconds(), 3)}${zone}`;
}

export function formatCapnslog(level: Level, r: LogRecord, d: Date, micros = 0): string {
  return `${capnslogTime(d, micros)} ${CAPNSLOG_LETTER[level]} | ${r.pkg}: ${r.text}\n`;
}

function jsonValue(_key: string, v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Error) return v.message;
  if (v instanceof Set) return [...v];
  if (v instanceof Map) return Object.fromEntries(v);
  if (v instanceof URL) return v.toString();
  return v;
}

/** zap's `ts`: ISO-8601 (etcd's own logger) or epoch seconds (zap.NewProduction, the 3.4 gateway). */
export type ZapTimestamp = "iso8601" | "epoch";

export function formatZap(
  level: Level,
  r: LogRecord,
  d: Date,
  timestamp: ZapTimestamp = "iso8601",
): string {
  const caller = r.caller ?? `${r.pkg}/${r.pkg.split("/").pop()}.go`;
  const entry: Record<string, unknown> = {
    level: ZAP_LEVEL[level],
    ts: timestamp === "epoch" ? d.getTime() / 1000 : zapTime(d),
    caller,
    msg: r.msg ?? r.text,
  };
  for (const [k, v] of Object.entries(r.fields ?? {})) {
    if (!(k in entry)) entry[k] = v;
  }
  if (level === "critical") entry.stacktrace = `${caller} (fatal)`;
  if (level === "panic") entry.stacktrace = r.stack ?? `${caller} (panic)`;
  return JSON.stringify(entry, jsonValue) + "\n";
}
