// JSON as Go's encoding/json writes it, wherever etcd's JSON crosses between members (the v2
// store's snapshots, member attributes in the log, conf change contexts): strings escape <, >
// and & and the line separators, control characters other than \n, \r and \t as \u00XX, so
// the bytes etcd-ts writes are the bytes etcd writes.

const HEX = "0123456789abcdef";

function escapeChar(c: number): string {
  switch (c) {
    case 0x22:
      return '\\"';
    case 0x5c:
      return "\\\\";
    case 0x0a:
      return "\\n";
    case 0x0d:
      return "\\r";
    case 0x09:
      return "\\t";
  }
  return "\\u" + [12, 8, 4, 0].map((s) => HEX[(c >> s) & 15]).join("");
}

// deno-lint-ignore no-control-regex -- control characters are what Go escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f<>&\u2028\u2029]/g;
// A lone surrogate is invalid UTF-8 once encoded: Go writes U+FFFD for it.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** A string as Go's json.Marshal quotes it. */
export function goString(s: string): string {
  const clean = s.replace(LONE_SURROGATE, "\ufffd");
  return `"${clean.replace(NEEDS_ESCAPE, (ch) => escapeChar(ch.charCodeAt(0)))}"`;
}

/** A []string as Go marshals it: null for a nil slice (`nilAsNull`), else an array. */
export function goStrings(list: string[] | undefined, nilAsNull = false): string {
  if (list === undefined || (nilAsNull && list.length === 0)) return "null";
  return `[${list.map(goString).join(",")}]`;
}

/**
 * An object whose fields are already Go JSON text, in struct order; `undefined` values are left
 * out (Go's omitempty).
 */
export function goObject(fields: [name: string, json: string | undefined][]): string {
  const parts = fields.filter(([, v]) => v !== undefined).map(([k, v]) => `${goString(k)}:${v}`);
  return `{${parts.join(",")}}`;
}
