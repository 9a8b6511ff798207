// Go's %q quoting and strconv number parsing, reproduced so error texts match etcd's byte for byte.

/** strconv.Quote for the strings etcd quotes in errors (ASCII escapes, other runes kept). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\x07") out += "\\a";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (ch === "\v") out += "\\v";
    else if (c < 0x20 || c === 0x7f) out += "\\x" + c.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + '"';
}

/** Go's %q of a []string: `["a" "b"]`. */
export function goQuoteList(list: string[]): string {
  return "[" + list.map(goQuote).join(" ") + "]";
}

/** Error texts the Go flag package gives for numbers (Go 1.19 numError). */
export const PARSE_ERROR = "parse error";
export const RANGE_ERROR = "value out of range";

/** strconv.ParseUint/ParseInt with base 0 (0x, 0o, 0b, leading-0 octal, underscores after a prefix). */
export function parseGoInteger(s: string, signed: boolean, bits = 64): bigint | string {
  let body = s;
  let neg = false;
  if (signed && (body.startsWith("+") || body.startsWith("-"))) {
    neg = body[0] === "-";
    body = body.slice(1);
  }
  if (body === "") return PARSE_ERROR;
  let base = 10;
  let digits = body;
  let prefixed = false;
  if (body[0] === "0" && body.length > 1) {
    const p = body[1].toLowerCase();
    if (p === "x") [base, digits, prefixed] = [16, body.slice(2), true];
    else if (p === "o") [base, digits, prefixed] = [8, body.slice(2), true];
    else if (p === "b") [base, digits, prefixed] = [2, body.slice(2), true];
    else [base, digits, prefixed] = [8, body.slice(1), true];
  }
  if (digits.includes("_")) {
    // Go accepts "_" only between digits (or right after a base prefix) when the base is implicit.
    if (!prefixed || /__|_$/.test(digits)) return PARSE_ERROR;
    digits = digits.replaceAll("_", "");
  }
  if (digits === "") return PARSE_ERROR;
  const alphabet = "0123456789abcdef".slice(0, base);
  let v = 0n;
  for (const ch of digits.toLowerCase()) {
    const d = alphabet.indexOf(ch);
    if (d < 0) return PARSE_ERROR;
    v = v * BigInt(base) + BigInt(d);
  }
  if (neg) v = -v;
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  if (v > max || v < min) return RANGE_ERROR;
  return v;
}

/** strconv.ParseBool. */
export function parseGoBool(s: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
  return undefined;
}
