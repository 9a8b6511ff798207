// A JSON reader that fails with the words of Go's encoding/json, because etcd's gateway answers
// malformed bodies with the Go decoder's message ("invalid character 'b' looking for beginning
// of object key string"). Numbers keep their text (64-bit values must not pass through a
// double); objects are Maps (the last of duplicate keys wins, as in Go).

export class GoJsonNumber {
  constructor(readonly raw: string) {}
}

export type JsonValue =
  | null
  | boolean
  | string
  | GoJsonNumber
  | JsonValue[]
  | Map<string, JsonValue>;

export class GoJsonSyntaxError extends Error {}

/** Go's quoteChar: the offending character as the error message shows it. */
function quoteChar(c: string): string {
  if (c === "'") return `'\\''`;
  if (c === '"') return `'"'`;
  const q = JSON.stringify(c);
  const code = c.codePointAt(0)!;
  // Go's strconv.Quote spells control characters as \x.., \u.. or the short escapes.
  const body = code < 0x20 && !"\b\f\n\r\t".includes(c)
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : code === 0x7f
    ? "\\x7f"
    : q.slice(1, -1);
  return `'${body}'`;
}

/** How the end of input is reported: json.Decoder or json.Unmarshal wording. */
type Mode = "decoder" | "unmarshal";

const WS = new Set([" ", "\t", "\n", "\r"]);

class Reader {
  pos = 0;
  constructor(readonly text: string, readonly mode: Mode) {}

  eof(inLiteral: boolean, context: string): never {
    if (this.mode === "decoder") throw new GoJsonSyntaxError("unexpected EOF");
    // json.Unmarshal feeds a space at the end: numbers and literals then fail on it.
    if (inLiteral) throw new GoJsonSyntaxError(`invalid character ' ' ${context}`);
    throw new GoJsonSyntaxError("unexpected end of JSON input");
  }

  bad(context: string): never {
    const c = String.fromCodePoint(this.text.codePointAt(this.pos)!);
    throw new GoJsonSyntaxError(`invalid character ${quoteChar(c)} ${context}`);
  }

  skipSpace(): void {
    while (this.pos < this.text.length && WS.has(this.text[this.pos])) this.pos++;
  }

  value(context = "looking for beginning of value"): JsonValue {
    this.skipSpace();
    if (this.pos >= this.text.length) this.eof(false, context);
    const c = this.text[this.pos];
    if (c === "{") return this.object();
    if (c === "[") return this.array();
    if (c === '"') return this.string();
    if (c === "-" || (c >= "0" && c <= "9")) return this.number();
    if (c === "t") return this.literal("true", true);
    if (c === "f") return this.literal("false", false);
    if (c === "n") return this.literal("null", null);
    return this.bad(context);
  }

  object(): Map<string, JsonValue> {
    const out = new Map<string, JsonValue>();
    this.pos++; // {
    this.skipSpace();
    if (this.text[this.pos] === "}") {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipSpace();
      if (this.pos >= this.text.length) this.eof(false, "");
      if (this.text[this.pos] !== '"') this.bad("looking for beginning of object key string");
      const key = this.string();
      this.skipSpace();
      if (this.pos >= this.text.length) this.eof(false, "");
      if (this.text[this.pos] !== ":") this.bad("after object key");
      this.pos++;
      out.set(key, this.value());
      this.skipSpace();
      if (this.pos >= this.text.length) this.eof(false, "");
      const c = this.text[this.pos++];
      if (c === "}") return out;
      if (c !== ",") {
        this.pos--;
        this.bad("after object key:value pair");
      }
    }
  }

  array(): JsonValue[] {
    const out: JsonValue[] = [];
    this.pos++; // [
    this.skipSpace();
    if (this.text[this.pos] === "]") {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.skipSpace();
      if (this.pos >= this.text.length) this.eof(false, "");
      const c = this.text[this.pos++];
      if (c === "]") return out;
      if (c !== ",") {
        this.pos--;
        this.bad("after array element");
      }
    }
  }

  string(): string {
    const start = this.pos;
    this.pos++; // "
    for (;;) {
      if (this.pos >= this.text.length) this.eof(false, "");
      const c = this.text[this.pos];
      if (c === '"') {
        this.pos++;
        return decodeString(this.text.slice(start + 1, this.pos - 1));
      }
      if (c < " ") this.bad("in string literal");
      if (c === "\\") {
        this.pos++;
        if (this.pos >= this.text.length) this.eof(false, "");
        const e = this.text[this.pos];
        if (e === "u") {
          for (let i = 1; i <= 4; i++) {
            if (this.pos + i >= this.text.length) this.eof(false, "");
            if (!/[0-9a-fA-F]/.test(this.text[this.pos + i])) {
              this.pos += i;
              this.bad("in \\u hexadecimal character escape");
            }
          }
          this.pos += 4;
        } else if (!'"\\/bfnrt'.includes(e)) this.bad("in string escape code");
      }
      this.pos++;
    }
  }

  number(): GoJsonNumber {
    const start = this.pos;
    const ctx = "in numeric literal";
    const digits = () => {
      while (this.pos < this.text.length && /[0-9]/.test(this.text[this.pos])) this.pos++;
    };
    const needDigit = () => {
      if (this.pos >= this.text.length) this.eof(true, ctx);
      if (!/[0-9]/.test(this.text[this.pos])) this.bad(ctx);
    };
    if (this.text[this.pos] === "-") {
      this.pos++;
      needDigit();
    }
    if (this.text[this.pos] === "0") this.pos++;
    else digits();
    if (this.text[this.pos] === ".") {
      this.pos++;
      needDigit();
      digits();
    }
    if (this.text[this.pos] === "e" || this.text[this.pos] === "E") {
      this.pos++;
      if (this.text[this.pos] === "+" || this.text[this.pos] === "-") this.pos++;
      needDigit();
      digits();
    }
    return new GoJsonNumber(this.text.slice(start, this.pos));
  }

  literal<T>(word: string, value: T): T {
    for (let i = 1; i < word.length; i++) {
      const ctx = `in literal ${word} (expecting '${word[i]}')`;
      if (this.pos + i >= this.text.length) this.eof(true, ctx);
      if (this.text[this.pos + i] !== word[i]) {
        this.pos += i;
        this.bad(ctx);
      }
    }
    this.pos += word.length;
    return value;
  }
}

// The escapes were checked by the reader; JSON.parse decodes them (lone surrogates become
// U+FFFD as Go does when the string is used as UTF-8).
function decodeString(inner: string): string {
  const s = JSON.parse(`"${inner}"`) as string;
  return s.toWellFormed();
}

/**
 * The successive JSON values of a request body, as Go's json.Decoder reads them from a stream:
 * whitespace between them, anything after a complete value left for the next read. Yields each
 * value; throws GoJsonSyntaxError at the first malformed one.
 */
export function* jsonValues(text: string): Generator<JsonValue> {
  const r = new Reader(text, "decoder");
  for (;;) {
    r.skipSpace();
    if (r.pos >= text.length) return;
    yield r.value();
  }
}

/** One complete JSON text, as json.Unmarshal reads it (trailing data is an error). */
export function parseJsonText(text: string): JsonValue {
  const r = new Reader(text, "unmarshal");
  const v = r.value();
  r.skipSpace();
  if (r.pos < text.length) r.bad("after top-level value");
  return v;
}

/** The JSON type name Go's UnmarshalTypeError uses. */
export function jsonTypeName(v: JsonValue): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "string") return "string";
  if (v instanceof GoJsonNumber) return "number";
  return Array.isArray(v) ? "array" : "object";
}
