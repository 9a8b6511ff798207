// etcd's log formats (capnslog text, zap JSON) on stderr, stdout or files.
export { createLogger } from "./logger.ts";
export type { Logger, LoggerOptions, PackageLevel } from "./logger.ts";
export { capnslogTime, formatCapnslog, formatZap, zapTime } from "./format.ts";
export type { Level, LogRecord, ZapTimestamp } from "./format.ts";
export { humanBytes } from "./bytes.ts";
