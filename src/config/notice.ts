// Messages found while parsing, to be logged once the logger exists (etcd logs them through
// capnslog before its own logger is set up, so they carry a capnslog package name).

export type NoticeLevel = "debug" | "info" | "notice" | "warn" | "error" | "critical";

export interface Notice {
  level: NoticeLevel;
  /** capnslog package, e.g. "pkg/flags", "etcdmain". */
  pkg: string;
  /** capnslog text. With `raw`, written to stderr as is (etcd prints these with fmt, not a logger). */
  text: string;
  /** zap message, when it differs from `text`. */
  msg?: string;
  fields?: Record<string, unknown>;
  raw?: boolean;
}

export function notice(
  level: NoticeLevel,
  pkg: string,
  text: string,
  msg?: string,
  fields?: Record<string, unknown>,
): Notice {
  return { level, pkg, text, ...(msg !== undefined ? { msg } : {}), ...(fields ? { fields } : {}) };
}

export function rawNotice(text: string): Notice {
  return { level: "warn", pkg: "", text, raw: true };
}
