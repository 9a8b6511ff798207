// gofail's term language (after FreeBSD's fail(9)): what a failpoint does each time it is
// reached. `2*return("EIO")->sleep(100)` returns twice, then sleeps 100 ms on every later pass.
//
//   <terms>  ::= <term> ( "->" <term> )*
//   <term>   ::= <mod>* <action> [ "(" <value> ")" ]
//   <mod>    ::= <count> "*" | <percent> "%"
//   <action> ::= off | return | sleep | panic | print
//   <value>  ::= <int> | <Go-quoted string> | true | false | (nothing)
//
// Each pass takes the first term whose modifiers all allow it (a count allows that many
// passes; a percentage allows each pass with that probability); none allowed, nothing happens.
// Unlike gofail, an integer percentage ("50%") is accepted as well as "50.0%".

export class FailpointError extends Error {
  override name = "FailpointError";
}

/** gofail's parse error, word for word. */
export const ErrBadParse = "failpoint: could not parse terms";

export type Action = "off" | "return" | "sleep" | "panic" | "print";
const ACTIONS: Action[] = ["off", "return", "sleep", "panic", "print"];

/** A term's value; `null` for an action written without one (`return`, `return()`). */
export type Value = string | number | boolean | null;

type Mod = { count: number } | { percent: number };

export interface Term {
  readonly action: Action;
  readonly value: Value;
  /** For sleep: how long, in milliseconds. */
  readonly sleepMs: number;
}

interface ParsedTerm extends Term {
  mods: Mod[];
}

/** A failpoint's terms, as set: its text and the state of its counts. */
export class Terms {
  readonly #chain: ParsedTerm[];
  /** Passes that ran a term (gofail's counter). */
  executions = 0;

  constructor(readonly desc: string, readonly random: () => number = Math.random) {
    this.#chain = parseTerms(desc);
  }

  /** The term this pass runs, if any; counts are spent as gofail spends them. */
  next(): Term | undefined {
    for (const t of this.#chain) {
      if (t.mods.every((m) => this.#allow(m))) {
        this.executions++;
        return t;
      }
    }
    return undefined;
  }

  #allow(m: Mod): boolean {
    if ("percent" in m) return this.random() * 100 <= m.percent;
    if (m.count <= 0) return false;
    m.count--;
    return true;
  }
}

function parseTerms(desc: string): ParsedTerm[] {
  const chain: ParsedTerm[] = [];
  let rest = desc;
  while (rest.length > 0) {
    const [term, used] = parseTerm(rest);
    chain.push(term);
    rest = rest.slice(used);
    if (rest.length === 0) break;
    if (!rest.startsWith("->") || rest.length === 2) throw new FailpointError(ErrBadParse);
    rest = rest.slice(2);
  }
  if (chain.length === 0) throw new FailpointError(ErrBadParse);
  return chain;
}

function parseTerm(s: string): [ParsedTerm, number] {
  const mods: Mod[] = [];
  let at = 0;
  for (let m; (m = /^(\d+(?:\.\d*)?)([*%])/.exec(s.slice(at)));) {
    const n = Number(m[1]);
    if (m[2] === "%") mods.push({ percent: n });
    else if (Number.isInteger(n) && !m[1].includes(".")) mods.push({ count: n });
    else throw new FailpointError(ErrBadParse);
    at += m[0].length;
  }
  const action = ACTIONS.find((a) => s.startsWith(a, at));
  if (!action) throw new FailpointError(ErrBadParse);
  at += action.length;
  const [value, used] = parseValue(s.slice(at));
  at += used;
  const sleepMs = action === "sleep" ? sleepMillis(value) : 0;
  return [{ mods, action, value, sleepMs }, at];
}

/** `(…)` after an action: a Go-quoted string, an integer or a boolean; nothing is null. */
function parseValue(s: string): [Value, number] {
  if (!s.startsWith("(")) return [null, 0];
  if (s.startsWith("()")) return [null, 2];
  if (s[1] === '"') {
    const m = /^"((?:[^"\\]|\\.)*)"\)/.exec(s.slice(1));
    if (!m) throw new FailpointError(ErrBadParse);
    return [unquote(m[1]), m[0].length + 1];
  }
  const m = /^(-?\d+|true|false)\)/.exec(s.slice(1));
  if (!m) throw new FailpointError(ErrBadParse);
  const v = m[1] === "true" ? true : m[1] === "false" ? false : Number(m[1]);
  return [v, m[0].length + 1];
}

const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\" };

function unquote(body: string): string {
  return body.replace(/\\(.)/g, (_, c: string) => {
    if (!(c in ESCAPES)) throw new FailpointError(ErrBadParse);
    return ESCAPES[c];
  });
}

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  "μs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** sleep's value: milliseconds as an integer, or a Go duration string ("1.5s", "1m30s"). */
function sleepMillis(v: Value): number {
  if (typeof v === "number" && v >= 0) return v;
  if (typeof v !== "string" || v === "") throw new FailpointError(ErrBadParse);
  let ms = 0;
  let rest = v;
  while (rest.length > 0) {
    const m = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/.exec(rest);
    if (!m) throw new FailpointError(ErrBadParse);
    ms += Number(m[1]) * UNIT_MS[m[2]];
    rest = rest.slice(m[0].length);
  }
  return ms;
}
