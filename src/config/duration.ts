// Go time.ParseDuration / Duration.String, in milliseconds (fractions allowed for sub-ms units).
import { goQuote } from "./gostr.ts";

const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  "µs": 1e3,
  "μs": 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Parses a Go duration; returns milliseconds or Go's error text. */
export function parseGoDuration(orig: string): number | { error: string } {
  const invalid = { error: "time: invalid duration " + goQuote(orig) };
  let s = orig;
  let neg = false;
  if (s.startsWith("-") || s.startsWith("+")) {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") return invalid;
  let ns = 0;
  while (s !== "") {
    const num = /^([0-9]*)(\.[0-9]*)?/.exec(s)!;
    if (num[0] === "" || num[0] === ".") return invalid;
    s = s.slice(num[0].length);
    const unit = /^[^0-9.]*/.exec(s)![0];
    if (unit === "") return { error: "time: missing unit in duration " + goQuote(orig) };
    const mult = UNIT_NS[unit];
    if (mult === undefined) {
      return { error: "time: unknown unit " + goQuote(unit) + " in duration " + goQuote(orig) };
    }
    s = s.slice(unit.length);
    ns += Number(num[0]) * mult;
  }
  if (ns > 9223372036854775807) return invalid;
  return (neg ? -ns : ns) / 1e6;
}

/** Go's Duration.String for a value in milliseconds (e.g. 60000 -> "1m0s", 5000 -> "5s"). */
export function formatGoDuration(ms: number): string {
  let ns = Math.round(ms * 1e6);
  if (ns === 0) return "0s";
  const sign = ns < 0 ? "-" : "";
  ns = Math.abs(ns);
  if (ns < 1e9) {
    if (ns < 1e3) return `${sign}${ns}ns`;
    if (ns < 1e6) return `${sign}${trim(ns / 1e3)}µs`;
    return `${sign}${trim(ns / 1e6)}ms`;
  }
  const h = Math.floor(ns / 3600e9);
  const m = Math.floor((ns % 3600e9) / 60e9);
  const sec = (ns % 60e9) / 1e9;
  let out = `${trim(sec)}s`;
  if (h > 0 || m > 0) out = `${m}m` + out;
  if (h > 0) out = `${h}h` + out;
  return sign + out;
}

function trim(n: number): string {
  return String(Number(n.toFixed(9)));
}
