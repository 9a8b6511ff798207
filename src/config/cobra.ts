// The cobra command trees of `etcd-ts gateway ...` and `etcd-ts grpc-proxy ...`: a group command
// whose only subcommand is `start`, pflag parsing (GNU style: `--flag value`, `--flag=value`,
// bare booleans, `-h`), pflag's value errors and cobra's error and help layout.
import { formatGoDuration, parseGoDuration } from "./duration.ts";
import { goQuote, parseGoBool, parseGoInteger } from "./gostr.ts";

export type CobraFlagType = "string" | "strings" | "bool" | "duration" | "int" | "uint32";
export type CobraValue = string | string[] | boolean | number;

export interface CobraFlag {
  name: string;
  type: CobraFlagType;
  help: string;
  /** Durations in milliseconds; shown in the help unless it is the type's zero value. */
  default: CobraValue;
}

/** A group command (`etcd-ts gateway`) and its `start` subcommand. */
export interface CobraCommand {
  group: string;
  groupSummary: string;
  startSummary: string;
  /** Sorted by name, as pflag lists them. */
  flags: CobraFlag[];
}

/** Each flag's value: its default, or what the command line set. */
export type CobraValues = Map<string, CobraValue>;

export type CobraOutcome<C> =
  | { action: "run"; config: C }
  | { action: "print"; stdout: string; exitCode: 0 }
  | { action: "fail"; stderr: string; exitCode: 1 };

type Failed = Exclude<CobraOutcome<never>, { action: "run" }>;

function shownDefault(f: CobraFlag): string {
  switch (f.type) {
    case "bool":
      return "";
    case "strings":
      return (f.default as string[]).length > 0 ? `[${(f.default as string[]).join(",")}]` : "";
    case "duration":
      return f.default !== 0 ? formatGoDuration(f.default as number) : "";
    case "string":
      return f.default !== "" ? goQuote(f.default as string) : "";
    default:
      return f.default !== 0 ? String(f.default) : "";
  }
}

function groupHelp(cmd: CobraCommand): string {
  return `${cmd.groupSummary}

Usage:
  etcd-ts ${cmd.group} [command]

Available Commands:
  start       ${cmd.startSummary}

Flags:
  -h, --help   help for ${cmd.group}

Use "etcd-ts ${cmd.group} [command] --help" for more information about a command.
`;
}

/** `start`'s usage block: one aligned row per flag, `-h, --help` in its sorted place. */
export function startUsage(cmd: CobraCommand): string {
  const rows: [string, string][] = cmd.flags.map((f) => {
    const type = f.type === "bool" ? "" : ` ${f.type}`;
    const def = shownDefault(f);
    return [`      --${f.name}${type}`, def === "" ? f.help : `${f.help} (default ${def})`];
  });
  const at = cmd.flags.findIndex((f) => f.name > "help");
  rows.splice(at < 0 ? rows.length : at, 0, ["  -h, --help", "help for start"]);
  const width = Math.max(...rows.map(([l]) => l.length)) + 3;
  return `Usage:
  etcd-ts ${cmd.group} start [flags]

Flags:
${rows.map(([l, h]) => l.padEnd(width) + h).join("\n")}
`;
}

/** `etcd-ts GROUP start --help`. */
export function startHelp(cmd: CobraCommand): string {
  return `${cmd.startSummary}\n\n${startUsage(cmd)}`;
}

function fail(err: string, usage: string): Failed {
  return { action: "fail", stderr: `Error: ${err}\n${usage}\n${err}`, exitCode: 1 };
}

/**
 * argv after the group's name: `start [flags]` gives the flags' values, anything else help.
 * As cobra does, flags may stand before `start` too (`gateway --endpoints=... start`).
 */
export function parseCobra(cmd: CobraCommand, argv: string[]): CobraOutcome<CobraValues> {
  if (subcommandOf(argv) !== "start") return groupCommand(cmd, argv);
  // cobra then drops the first "start" and parses the rest, before or after it, as start's.
  const at = argv.indexOf("start");
  return parseStart(cmd, [...argv.slice(0, at), ...argv.slice(at + 1)]);
}

/**
 * The subcommand cobra finds (its stripFlags): the first argument that is neither a flag nor
 * the value cobra supposes a flag has. The group defines no flags itself, so a `--flag` or
 * `-f` without "=" is taken to be followed by its value.
 */
function subcommandOf(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const s = argv[i];
    if (s === "--") return undefined;
    if (!s.startsWith("-")) {
      if (s !== "") return s;
      continue;
    }
    if (!s.includes("=") && (s.startsWith("--") || s.length === 2)) i++;
  }
  return undefined;
}

// The group command has no action of its own: flags aside, anything prints its help.
function groupCommand(cmd: CobraCommand, argv: string[]): Failed {
  const help = groupHelp(cmd);
  const usage = help.split("\n").slice(2).join("\n");
  for (const a of argv) {
    if (a === "--") break;
    if (a === "-h" || a === "--help") break;
    if (a.startsWith("--")) return fail(`unknown flag: ${a.split("=")[0]}`, usage);
    if (a.startsWith("-") && a.length > 1) {
      return fail(`unknown shorthand flag: '${a[1]}' in ${a}`, usage);
    }
  }
  return { action: "print", stdout: help, exitCode: 0 };
}

function parseStart(cmd: CobraCommand, argv: string[]): CobraOutcome<CobraValues> {
  const values: CobraValues = new Map(cmd.flags.map((f) => [f.name, f.default]));
  const seen = new Set<string>();
  const usage = startUsage(cmd);
  const args = [...argv];
  while (args.length > 0) {
    const s = args.shift()!;
    if (s === "--") break;
    if (!s.startsWith("-") || s === "-") continue; // positional arguments are ignored
    const read = readFlag(cmd, s, args, usage);
    if ("action" in read) return read;
    const { flag, value } = read;
    const parsed = parseValue(flag, value);
    if (typeof parsed === "object" && "error" in parsed) {
      const why = parsed.error;
      return fail(`invalid argument ${goQuote(value)} for "--${flag.name}" flag: ${why}`, usage);
    }
    // A repeated list flag adds to the list; the first one replaces the default.
    const prev = values.get(flag.name);
    values.set(
      flag.name,
      flag.type === "strings" && seen.has(flag.name)
        ? [...prev as string[], ...parsed as string[]]
        : parsed,
    );
    seen.add(flag.name);
  }
  return { action: "run", config: values };
}

/** One flag in pflag's syntax; a separate value is taken off `args`. */
function readFlag(
  cmd: CobraCommand,
  s: string,
  args: string[],
  usage: string,
): { flag: CobraFlag; value: string } | Failed {
  if (!s.startsWith("--")) {
    if (s[1] === "h") return { action: "print", stdout: startHelp(cmd), exitCode: 0 };
    return fail(`unknown shorthand flag: '${s[1]}' in ${s}`, usage);
  }
  let name = s.slice(2);
  if (name === "" || name[0] === "-" || name[0] === "=") {
    return fail(`bad flag syntax: ${s}`, usage);
  }
  let value: string | undefined;
  const eq = name.indexOf("=");
  if (eq >= 0) [name, value] = [name.slice(0, eq), name.slice(eq + 1)];
  if (name === "help") return { action: "print", stdout: startHelp(cmd), exitCode: 0 };
  const flag = cmd.flags.find((f) => f.name === name);
  if (!flag) return fail(`unknown flag: --${name}`, usage);
  if (flag.type === "bool") value ??= "true";
  else if (value === undefined) {
    if (args.length === 0) return fail(`flag needs an argument: --${name}`, usage);
    value = args.shift()!;
  }
  return { flag, value };
}

/** The flag's value, or pflag's reason for refusing it. */
function parseValue(flag: CobraFlag, value: string): CobraValue | { error: string } {
  switch (flag.type) {
    case "bool": {
      const b = parseGoBool(value);
      if (b === undefined) {
        return { error: `strconv.ParseBool: parsing ${goQuote(value)}: invalid syntax` };
      }
      return b;
    }
    case "duration": {
      const d = parseGoDuration(value);
      return typeof d === "number" ? d : { error: d.error };
    }
    case "int":
    case "uint32": {
      const signed = flag.type === "int";
      const n = parseGoInteger(value, signed, signed ? 64 : 32);
      if (typeof n === "bigint") return Number(n);
      const fn = signed ? "ParseInt" : "ParseUint";
      const why = n === "value out of range" ? n : "invalid syntax";
      return { error: `strconv.${fn}: parsing ${goQuote(value)}: ${why}` };
    }
    case "strings":
      return value === "" ? [] : value.split(",");
    default:
      return value;
  }
}
