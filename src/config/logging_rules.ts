// etcd 3.4's checks of --logger, --log-level, --log-outputs and the deprecated logging flags
// (embed.Config.setupLogging), with its stderr warnings and error texts.
import { goQuote, goQuoteList } from "./gostr.ts";
import { type Notice, notice, rawNotice } from "./notice.ts";
import type { PackageLevel } from "./types.ts";

export interface LoggingInput {
  logger: string;
  logLevel: string;
  logOutputs: string[];
  deprecatedLogOutput: string[];
  debug: boolean;
  logPackageLevels: string;
}

export const LOG_LEVELS = ["debug", "info", "warn", "error", "dpanic", "panic", "fatal"];

function levelError(level: string): string | undefined {
  if (LOG_LEVELS.includes(level)) return undefined;
  // etcd 3.4 panics here; etcd-ts refuses the value with a plain error instead.
  return `unknown log-level ${
    goQuote(level)
  } (only supports debug, info, warn, error, panic, or fatal)`;
}

/** Returns the error, if any; pushes etcd's raw stderr warnings; may fix up logOutputs. */
export function checkLogging(cfg: LoggingInput, notices: Notice[]): string | undefined {
  const err = checkDeprecatedLogOutput(cfg, notices);
  if (err !== undefined) return err;
  deprecatedFlagNotices(cfg, notices);
  switch (cfg.logger) {
    case "capnslog":
      return checkCapnslog(cfg, notices);
    case "zap": {
      if (cfg.logOutputs.length === 0) cfg.logOutputs = ["default"];
      if (cfg.logOutputs.length > 1 && cfg.logOutputs.includes("default")) {
        return `multi logoutput for "default" is not supported yet`;
      }
      return levelError(cfg.logLevel);
    }
    default:
      return `unknown logger option ${goQuote(cfg.logger)}`;
  }
}

/**
 * The deprecated --log-output against --log-outputs, as etcd compares them: both default to
 * ["default"], and a deprecated list longer than the new one is taken over.
 */
function checkDeprecatedLogOutput(cfg: LoggingInput, notices: Notice[]): string | undefined {
  const dep = cfg.deprecatedLogOutput;
  const outs = cfg.logOutputs;
  if (dep.length !== outs.length) {
    if (dep.length > outs.length) {
      notices.push(
        rawNotice("'--log-output' flag has been deprecated! Please use '--log-outputs'!"),
      );
      cfg.logOutputs = dep;
    }
    return undefined;
  }
  if (dep.length > 1) {
    return "both '--log-output' and '--log-outputs' are set; only set '--log-outputs'";
  }
  if (dep.length < 1) return "either '--log-output' or '--log-outputs' flag must be set";
  if (dep[0] === outs[0] && dep[0] !== "default") {
    return `'--log-output=${goQuoteList(dep)}' and '--log-outputs=${
      goQuoteList(outs)
    }' are incompatible; only set --log-outputs`;
  }
  if (dep[0] !== "default") {
    notices.push(
      rawNotice(`[WARNING] Deprecated '--log-output' flag is set to ${goQuoteList(dep)}`),
    );
    notices.push(rawNotice("Please use '--log-outputs' flag"));
  }
  return undefined;
}

// The deprecated logging flags, warned about on stderr before the logger exists: --debug still
// works, and so does --log-package-levels, with capnslog only.
function deprecatedFlagNotices(cfg: LoggingInput, notices: Notice[]): void {
  if (cfg.debug) {
    notices.push(
      rawNotice(
        `[WARNING] Deprecated '--debug' flag is set to true (use '--log-level=debug' instead`,
      ),
    );
    if (cfg.logLevel !== "debug") {
      notices.push(
        rawNotice(
          `[WARNING] Deprecated '--debug' flag is set to true with inconsistent '--log-level=${cfg.logLevel}' flag`,
        ),
      );
    }
  }
  if (cfg.logger === "capnslog") {
    notices.push(
      rawNotice(
        "[WARNING] Deprecated '--logger=capnslog' flag is set; use '--logger=zap' flag instead",
      ),
    );
  }
  if (cfg.logPackageLevels !== "") {
    notices.push(
      rawNotice(
        `[WARNING] Deprecated '--log-package-levels=${cfg.logPackageLevels}' flag is set; use '--logger=zap' flag instead`,
      ),
    );
  }
}

/** capnslog's levels by name or number (capnslog.ParseLevel); CRITICAL has no number. */
const CAPNSLOG_LEVELS: Record<string, PackageLevel> = {
  CRITICAL: "critical",
  C: "critical",
  ERROR: "error",
  "0": "error",
  E: "error",
  WARNING: "warn",
  "1": "warn",
  W: "warn",
  NOTICE: "notice",
  "2": "notice",
  N: "notice",
  INFO: "info",
  "3": "info",
  I: "info",
  DEBUG: "debug",
  "4": "debug",
  D: "debug",
  TRACE: "trace",
  "5": "trace",
  T: "trace",
};

/** --log-package-levels as capnslog's ParseLogLevelConfig reads it: `pkg=LEVEL,...`. */
export function parsePackageLevels(conf: string): Record<string, PackageLevel> | { error: string } {
  const out: Record<string, PackageLevel> = {};
  for (const setting of conf.split(",")) {
    const parts = setting.split("=");
    if (parts.length !== 2) return { error: `oddly structured \`pkg=level\` option: ${setting}` };
    const level = CAPNSLOG_LEVELS[parts[1]];
    if (level === undefined) return { error: `couldn't parse log level ${parts[1]}` };
    out[parts[0]] = level;
  }
  return out;
}

/** capnslog writes to one of the standard streams only. */
function checkCapnslog(cfg: LoggingInput, notices: Notice[]): string | undefined {
  if (!cfg.debug) {
    const err = levelError(cfg.logLevel);
    if (err) return err;
  }
  if (cfg.logPackageLevels !== "") {
    const levels = parsePackageLevels(cfg.logPackageLevels);
    if ("error" in levels) {
      notices.push(
        notice(
          "warn",
          "embed",
          `couldn't parse log level string: ${levels.error}, continuing with default levels`,
        ),
      );
      // etcd stops setting up its logger there: the outputs are neither checked nor applied.
      cfg.logOutputs = ["default"];
      return undefined;
    }
  }
  if (cfg.logOutputs.length !== 1) {
    return `--logger=capnslog supports only 1 value in '--log-outputs', got ${
      goQuoteList(cfg.logOutputs)
    }`;
  }
  const out = cfg.logOutputs[0];
  if (!["default", "stderr", "stdout"].includes(out)) {
    return `unknown log-output ${goQuote(out)} (only supports "default", "stderr", "stdout")`;
  }
  return undefined;
}
