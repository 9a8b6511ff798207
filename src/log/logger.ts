// Loggers writing etcd's formats synchronously, so no line is lost when the process exits.
import {
  formatCapnslog,
  formatZap,
  type Level,
  type LogRecord,
  type ZapTimestamp,
} from "./format.ts";

export interface Logger {
  /** The configured level name (debug, info, warn, error, panic, fatal). */
  readonly level: string;
  debug(r: LogRecord): void;
  info(r: LogRecord): void;
  notice(r: LogRecord): void;
  warn(r: LogRecord): void;
  error(r: LogRecord): void;
  /** Logs at critical level (capnslog C, zap fatal), then exits 1. */
  fatal(r: LogRecord): never;
  /**
   * What a Go panic in etcd prints: the line at critical level (capnslog C, zap panic), then
   * `panic: <text>` and the stack on stderr; exits 2, as a Go program that panicked does.
   */
  panic(r: LogRecord): never;
  /** Logs at any level without exiting (critical included). */
  log(level: Level, r: LogRecord): void;
  /** A line written to stderr as is (etcd prints some warnings without its logger). */
  raw(text: string): void;
  /** Whether a record at `level` would be written (from `pkg`; without it, from any package). */
  enabled(level: Level, pkg?: string): boolean;
}

/** capnslog's levels, as --log-package-levels sets them per package. */
export type PackageLevel = "critical" | "error" | "warn" | "notice" | "info" | "debug" | "trace";

export interface LoggerOptions {
  logger: "capnslog" | "zap";
  /** debug, info, warn, error, dpanic, panic, fatal. */
  level: string;
  /** stderr, stdout, default (stderr), systemd/journal (stderr here), or file paths (zap). */
  outputs: string[];
  /**
   * capnslog only: levels of single packages (etcd's --log-package-levels), over `level`;
   * the package "*" sets every package's.
   */
  packageLevels?: Record<string, PackageLevel>;
  /** zap's `ts` form; default "iso8601". */
  zapTimestamp?: ZapTimestamp;
  /** For tests: where lines go instead of the real streams and files. */
  write?: (output: string, line: string) => void;
  now?: () => Date;
  exit?: (code: number) => never;
}

const SEVERITY: Record<Level, number> = {
  debug: 0,
  info: 1,
  notice: 2,
  warn: 3,
  error: 4,
  critical: 5,
  panic: 5,
};

// TRACE lets everything through: no record of etcd-ts is below debug.
const PACKAGE_THRESHOLD: Record<PackageLevel, number> = {
  critical: SEVERITY.critical,
  error: SEVERITY.error,
  warn: SEVERITY.warn,
  notice: SEVERITY.notice,
  info: SEVERITY.info,
  debug: SEVERITY.debug,
  trace: SEVERITY.debug - 1,
};

/** The lowest severity each package logs: the global level, then capnslog's package levels. */
function thresholds(opts: LoggerOptions): { of(pkg: string): number; lowest: number } {
  const levels = opts.logger === "capnslog" ? opts.packageLevels ?? {} : {};
  const star = levels["*"];
  const base = star !== undefined ? PACKAGE_THRESHOLD[star] : threshold(opts.level);
  const byPkg = new Map(
    Object.entries(levels).filter(([p]) => p !== "*").map(([p, l]) => [p, PACKAGE_THRESHOLD[l]]),
  );
  return {
    of: (pkg) => byPkg.get(pkg) ?? base,
    lowest: Math.min(base, ...byPkg.values()),
  };
}

function threshold(level: string): number {
  switch (level) {
    case "debug":
      return SEVERITY.debug;
    case "warn":
      return SEVERITY.warn;
    case "error":
      return SEVERITY.error;
    case "dpanic":
    case "panic":
    case "fatal":
      return SEVERITY.critical;
    default:
      return SEVERITY.info;
  }
}

const encoder = new TextEncoder();
const files = new Map<string, Deno.FsFile>();

function writeAll(w: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += w.writeSync(bytes.subarray(off));
}

function writeOutput(output: string, line: string): void {
  const bytes = encoder.encode(line);
  if (output === "stdout") return writeAll(Deno.stdout, bytes);
  if (output === "stderr" || output === "default" || output === "systemd/journal") {
    return writeAll(Deno.stderr, bytes);
  }
  let file = files.get(output);
  if (!file) {
    file = Deno.openSync(output, { append: true, create: true });
    files.set(output, file);
  }
  writeAll(file, bytes);
}

/** Tracks microseconds within the same millisecond so capnslog times keep increasing. */
function microClock(now: () => Date): () => [Date, number] {
  let lastMs = -1;
  let micros = 0;
  return () => {
    const d = now();
    const ms = d.getTime();
    micros = ms === lastMs
      ? Math.min(micros + 1, 999)
      : Math.floor(performance.now() * 1000) % 1000;
    lastMs = ms;
    return [d, micros];
  };
}

export function createLogger(opts: LoggerOptions): Logger {
  const write = opts.write ?? writeOutput;
  const now = opts.now ?? (() => new Date());
  const exit = opts.exit ?? ((code: number) => Deno.exit(code));
  const min = thresholds(opts);
  const outputs = opts.outputs.length > 0 ? [...new Set(opts.outputs)] : ["default"];
  const clock = microClock(now);
  const enabled = (level: Level, pkg?: string) =>
    SEVERITY[level] >= (pkg === undefined ? min.lowest : min.of(pkg));
  const log = (base: Level, r: LogRecord) => {
    if (r.only !== undefined && r.only !== opts.logger) return;
    const level = opts.logger === "zap" ? r.zapLevel ?? base : base;
    if (!enabled(level, r.pkg)) return;
    const [d, micros] = clock();
    const line = opts.logger === "zap"
      ? formatZap(level, r, d, opts.zapTimestamp)
      : formatCapnslog(level, r, d, micros);
    for (const out of outputs) write(out, line);
  };
  return {
    level: opts.level,
    debug: (r) => log("debug", r),
    info: (r) => log("info", r),
    notice: (r) => log("notice", r),
    warn: (r) => log("warn", r),
    error: (r) => log("error", r),
    fatal: (r) => {
      log("critical", r);
      return exit(1);
    },
    panic: (r) => {
      log("panic", r);
      write("stderr", `panic: ${r.text}\n\n${r.stack ?? ""}\n`);
      return exit(2);
    },
    log,
    raw: (text) => write("stderr", text.endsWith("\n") ? text : text + "\n"),
    enabled,
  };
}
