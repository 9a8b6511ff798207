// Command-line parsing with the semantics of Go's `flag` package as etcd 3.4 uses it:
// `-f v`, `--f v`, `-f=v`, bare booleans, `--` ends flags, first non-flag stops parsing.
import { FLAG_BY_NAME, type FlagSpec } from "./flags.ts";
import { parseGoDuration } from "./duration.ts";
import { goQuote, PARSE_ERROR, parseGoBool, parseGoInteger } from "./gostr.ts";
import { type Notice, notice } from "./notice.ts";
import { parseURLFlag } from "./urls.ts";

export type FlagValue = string | boolean | number | string[];

/** Typed values of every flag, plus what Go's flag.Value types remember between Set calls. */
export interface FlagState {
  values: Map<string, FlagValue>;
  /** UniqueURLs keeps the raw strings it was set from; re-setting one of them is a no-op. */
  urlSeen: Map<string, Set<string>>;
  notices: Notice[];
}

export function newFlagState(): FlagState {
  const state: FlagState = { values: new Map(), urlSeen: new Map(), notices: [] };
  for (const spec of FLAG_BY_NAME.values()) {
    if (spec.kind === "urls") {
      state.values.set(spec.name, []);
      state.urlSeen.set(spec.name, new Set());
      if (spec.default !== "") setFlag(spec, state, spec.default);
    } else if (spec.kind === "strings" && spec.default === "") {
      state.values.set(spec.name, []);
    } else if (spec.kind === "origins") {
      state.values.set(spec.name, []);
      setFlag(spec, state, spec.default);
    } else if (spec.kind !== "ignored") {
      const err = setFlag(spec, state, spec.default);
      if (err !== undefined) throw new Error(`bad default for ${spec.name}: ${err}`);
    }
  }
  return state;
}

/** flag.Value.Set: stores the parsed value or returns the parser's error text. */
export function setFlag(spec: FlagSpec, state: FlagState, raw: string): string | undefined {
  const set = (v: FlagValue) => void state.values.set(spec.name, v);
  switch (spec.kind) {
    case "string":
      return set(raw);
    case "bool": {
      const b = parseGoBool(raw);
      return b === undefined ? PARSE_ERROR : set(b);
    }
    case "uint":
    case "int": {
      const n = parseGoInteger(raw, spec.kind === "int");
      return typeof n === "string" ? n : set(Number(n));
    }
    case "uint32": {
      // A flag.Value of etcd's own: Go's flag package passes its error through unchanged.
      const n = parseGoInteger(raw, false, 32);
      if (typeof n !== "string") return set(Number(n));
      const why = n === PARSE_ERROR ? "invalid syntax" : n;
      return `strconv.ParseUint: parsing ${goQuote(raw)}: ${why}`;
    }
    case "duration": {
      const d = parseGoDuration(raw);
      return typeof d === "number" ? set(d) : PARSE_ERROR;
    }
    case "select":
      return spec.choices!.includes(raw) ? set(raw) : "invalid value";
    case "strings":
      return set(raw.split(","));
    case "uniqueStrings":
      return set([...new Set(raw.split(","))].sort());
    case "origins": {
      // A value already held changes nothing, "*" joins what is held, a URL list replaces it.
      const held = state.values.get(spec.name) as string[];
      if (held.includes(raw)) return undefined;
      if (raw === "*") return set([...held, raw].sort());
      const list = parseURLFlag(raw);
      return "error" in list ? list.error : set(list);
    }
    case "ignored":
      state.notices.push(
        notice("warn", "pkg/flags", `flag "-${spec.name}" is no longer supported - ignoring.`),
      );
      return undefined;
    case "urls": {
      const seen = state.urlSeen.get(spec.name)!;
      if (seen.has(raw)) return undefined;
      if (raw === "") {
        // etcd registers "" as an allowed exception: it is remembered but changes nothing.
        seen.add(raw);
        return undefined;
      }
      const list = parseURLFlag(raw);
      if ("error" in list) return list.error;
      state.urlSeen.set(spec.name, new Set(list));
      return set(list);
    }
  }
}

export type CommandLine =
  | { kind: "parsed"; state: FlagState; explicit: string[]; positional: string[] }
  | { kind: "help" }
  | { kind: "usage-error"; message: string };

/** FlagSet.Parse with ContinueOnError. */
export function parseCommandLine(argv: string[]): CommandLine {
  const state = newFlagState();
  const explicit: string[] = [];
  let args = argv;
  const fail = (message: string): CommandLine => ({ kind: "usage-error", message });
  while (args.length > 0) {
    const s = args[0];
    if (s.length < 2 || s[0] !== "-") break;
    let minuses = 1;
    if (s[1] === "-") {
      minuses = 2;
      if (s.length === 2) {
        args = args.slice(1);
        break;
      }
    }
    let name = s.slice(minuses);
    if (name.length === 0 || name[0] === "-" || name[0] === "=") {
      return fail(`bad flag syntax: ${s}`);
    }
    args = args.slice(1);
    let value: string | undefined;
    const eq = name.indexOf("=", 1);
    if (eq > 0) [name, value] = [name.slice(0, eq), name.slice(eq + 1)];
    const spec = FLAG_BY_NAME.get(name);
    if (!spec) {
      if (name === "help" || name === "h") return { kind: "help" };
      return fail(`flag provided but not defined: -${name}`);
    }
    if (spec.kind === "bool" || spec.kind === "ignored") {
      const err = setFlag(spec, state, value ?? "true");
      if (err !== undefined) {
        return fail(
          value === undefined
            ? `invalid boolean flag ${name}: ${err}`
            : `invalid boolean value ${goQuote(value)} for -${name}: ${err}`,
        );
      }
    } else {
      if (value === undefined) {
        if (args.length === 0) return fail(`flag needs an argument: -${name}`);
        [value, args] = [args[0], args.slice(1)];
      }
      const err = setFlag(spec, state, value);
      if (err !== undefined) {
        return fail(`invalid value ${goQuote(value)} for flag -${name}: ${err}`);
      }
    }
    if (!explicit.includes(name)) explicit.push(name);
  }
  return { kind: "parsed", state, explicit, positional: args };
}
