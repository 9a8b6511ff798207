// A parser for the subset of proto3 our .proto files use: package, import, option (ignored),
// message (nested messages and enums, repeated, oneof), enum, service with rpc (streams).

export interface ParsedField {
  name: string;
  no: number;
  type: string;
  repeated: boolean;
  oneof?: string;
}

export interface ParsedMessage {
  fullName: string;
  fields: ParsedField[];
}

export interface ParsedEnum {
  fullName: string;
  values: [string, number][];
}

export interface ParsedMethod {
  name: string;
  requestType: string;
  responseType: string;
  clientStreaming: boolean;
  serverStreaming: boolean;
}

export interface ParsedService {
  fullName: string;
  methods: ParsedMethod[];
}

export interface ParsedFile {
  path: string;
  pkg: string;
  imports: string[];
  messages: ParsedMessage[];
  enums: ParsedEnum[];
  services: ParsedService[];
}

function tokenize(src: string, path: string): string[] {
  const tokens: string[] = [];
  const re =
    /\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/|("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|([A-Za-z_.][\w.]*|-?\d+)|([{}()\[\];=<>,:])/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < src.length) {
    const at = re.lastIndex;
    m = re.exec(src);
    if (!m) {
      const line = src.slice(0, at).split("\n").length;
      throw new Error(`${path}:${line}: unexpected character ${JSON.stringify(src[at])}`);
    }
    const tok = m[1] ?? m[2] ?? m[3];
    if (tok !== undefined) tokens.push(tok);
  }
  return tokens;
}

class Cursor {
  i = 0;
  constructor(readonly tokens: string[], readonly path: string) {}
  peek(): string | undefined {
    return this.tokens[this.i];
  }
  next(): string {
    const t = this.tokens[this.i++];
    if (t === undefined) throw new Error(`${this.path}: unexpected end of file`);
    return t;
  }
  expect(want: string): void {
    const t = this.next();
    if (t !== want) throw new Error(`${this.path}: expected "${want}", got "${t}"`);
  }
  accept(want: string): boolean {
    if (this.peek() !== want) return false;
    this.i++;
    return true;
  }
  // Skips `option ...;` and `[...]` style option bodies, including nested braces.
  skipStatement(): void {
    let depth = 0;
    for (;;) {
      const t = this.next();
      if (t === "{") depth++;
      else if (t === "}") {
        if (--depth === 0) return;
      } else if (t === ";" && depth === 0) return;
    }
  }
}

const unquote = (s: string) => s.slice(1, -1);

export function parseProto(src: string, path: string): ParsedFile {
  const c = new Cursor(tokenize(src, path), path);
  const file: ParsedFile = { path, pkg: "", imports: [], messages: [], enums: [], services: [] };
  const scoped = (name: string) => (file.pkg ? `${file.pkg}.${name}` : name);
  while (c.peek() !== undefined) {
    const t = c.next();
    if (t === "syntax") {
      c.expect("=");
      const v = unquote(c.next());
      if (v !== "proto3") throw new Error(`${path}: only proto3 is supported, got ${v}`);
      c.expect(";");
    } else if (t === "package") {
      file.pkg = c.next();
      c.expect(";");
    } else if (t === "import") {
      if (c.peek() === "public" || c.peek() === "weak") c.next();
      file.imports.push(unquote(c.next()));
      c.expect(";");
    } else if (t === "option") {
      c.skipStatement();
    } else if (t === "message") {
      parseMessage(c, scoped(c.next()), file);
    } else if (t === "enum") {
      parseEnum(c, scoped(c.next()), file);
    } else if (t === "service") {
      file.services.push(parseService(c, scoped(c.next())));
    } else if (t !== ";") {
      throw new Error(`${path}: unexpected "${t}" at top level`);
    }
  }
  return file;
}

function parseMessage(c: Cursor, fullName: string, file: ParsedFile): void {
  const msg: ParsedMessage = { fullName, fields: [] };
  file.messages.push(msg);
  c.expect("{");
  let oneof: string | undefined;
  for (;;) {
    const t = c.next();
    if (t === "}") {
      if (oneof === undefined) return;
      oneof = undefined;
    } else if (t === "message") parseMessage(c, `${fullName}.${c.next()}`, file);
    else if (t === "enum") parseEnum(c, `${fullName}.${c.next()}`, file);
    else if (t === "option" || t === "reserved") c.skipStatement();
    else if (t === ";") continue;
    else if (t === "oneof") {
      if (oneof !== undefined) throw new Error(`${c.path}: nested oneof in ${fullName}`);
      oneof = c.next();
      c.expect("{");
    } else if (t === "map" || t === "optional" || t === "required" || t === "group") {
      throw new Error(`${c.path}: "${t}" fields are not supported (${fullName})`);
    } else {
      const repeated = t === "repeated";
      const type = repeated ? c.next() : t;
      const name = c.next();
      c.expect("=");
      const no = Number(c.next());
      if (!Number.isInteger(no) || no < 1) throw new Error(`${c.path}: bad field number`);
      if (c.peek() === "[") {
        while (c.next() !== "]");
      }
      c.expect(";");
      msg.fields.push({ name, no, type, repeated, ...(oneof ? { oneof } : {}) });
    }
  }
}

function parseEnum(c: Cursor, fullName: string, file: ParsedFile): void {
  const e: ParsedEnum = { fullName, values: [] };
  file.enums.push(e);
  c.expect("{");
  for (;;) {
    const t = c.next();
    if (t === "}") return;
    if (t === ";") continue;
    if (t === "option" || t === "reserved") {
      c.skipStatement();
      continue;
    }
    c.expect("=");
    e.values.push([t, Number(c.next())]);
    if (c.peek() === "[") {
      while (c.next() !== "]");
    }
    c.expect(";");
  }
}

function parseService(c: Cursor, fullName: string): ParsedService {
  const svc: ParsedService = { fullName, methods: [] };
  c.expect("{");
  for (;;) {
    const t = c.next();
    if (t === "}") return svc;
    if (t === ";") continue;
    if (t === "option") {
      c.skipStatement();
      continue;
    }
    if (t !== "rpc") throw new Error(`${c.path}: unexpected "${t}" in service ${fullName}`);
    const name = c.next();
    c.expect("(");
    const clientStreaming = c.accept("stream");
    const requestType = c.next();
    c.expect(")");
    c.expect("returns");
    c.expect("(");
    const serverStreaming = c.accept("stream");
    const responseType = c.next();
    c.expect(")");
    if (c.peek() === "{") c.skipStatement();
    else c.expect(";");
    svc.methods.push({ name, requestType, responseType, clientStreaming, serverStreaming });
  }
}
