// The import graph of src/ and main.ts, folded to folders, and the three rules deno task arch
// enforces on it: no cycle between folders, only allowed edges, and every import of another
// folder through that folder's mod.ts.
import { join, relative, resolve } from "node:path";

/** One import of one file: where it stands and the repository-relative file it names. */
export interface Import {
  from: string;
  line: number;
  target: string;
}

/** A file's folder: the first directory under src/, or "main" for main.ts. */
export function folderOf(path: string): string | undefined {
  if (path === "main.ts") return "main";
  const m = /^src\/([^/]+)\//.exec(path);
  return m?.[1];
}

// Static imports and re-exports (type-only included; `[^;]*?` spans multi-line braces), bare
// side-effect imports, and import() in code or in type positions.
const IMPORT_RE =
  /^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/gm;

/** The relative imports of one file's text, resolved against the file's own path. */
export function importsOf(path: string, text: string): Import[] {
  const out: Import[] = [];
  const code = text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, " "))
    .replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
  for (const m of code.matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec.startsWith(".")) continue;
    const target = join(path, "..", spec);
    const line = code.slice(0, m.index! + m[0].length).split("\n").length;
    out.push({ from: path, line, target });
  }
  return out;
}

function sourceFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(join(root, dir))) {
    const path = join(dir, e.name);
    if (e.isDirectory) out.push(...sourceFiles(root, path));
    else if (e.isFile && path.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** Every relative import of main.ts and the files under src/ of the repository at `root`. */
export function readImports(root: string): Import[] {
  const files = ["main.ts", ...sourceFiles(root, "src")];
  return files.flatMap((f) => importsOf(f, Deno.readTextFileSync(resolve(root, f))))
    .map((i) => ({ ...i, target: relative(root, resolve(root, i.target)) }));
}

export interface Violation {
  rule: "cycle" | "forbidden" | "bypass";
  text: string;
}

export interface Report {
  ok: boolean;
  folders: number;
  edges: number;
  violations: Violation[];
}

const where = (i: Import) => `${i.from}:${i.line} -> ${i.target}`;

/** Folder-level strongly connected components of more than one folder (Tarjan). */
export function folderCycles(edges: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1) out.push(scc.sort());
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  return out;
}

export function checkArchitecture(imports: Import[], allowed: Record<string, string[]>): Report {
  const violations: Violation[] = [];
  const edges = new Map<string, Set<string>>();
  for (const i of imports) {
    const a = folderOf(i.from);
    const b = folderOf(i.target);
    if (b === undefined) {
      violations.push({ rule: "forbidden", text: `${where(i)}: outside src/` });
      continue;
    }
    if (a === undefined || a === b) continue;
    if (!edges.has(a)) edges.set(a, new Set());
    edges.get(a)!.add(b);
    if (!(allowed[a] ?? []).includes(b)) {
      violations.push({ rule: "forbidden", text: `${where(i)}: ${a} may not import ${b}` });
    }
    if (b !== "main" && i.target !== `src/${b}/mod.ts`) {
      violations.push({ rule: "bypass", text: `${where(i)}: import src/${b}/mod.ts instead` });
    }
  }
  for (const scc of folderCycles(edges)) {
    violations.push({ rule: "cycle", text: `folders import each other: ${scc.join(" <-> ")}` });
  }
  const edgeCount = [...edges.values()].reduce((n, s) => n + s.size, 0);
  return {
    ok: violations.length === 0,
    folders: new Set([...edges.keys(), ...Object.keys(allowed)]).size,
    edges: edgeCount,
    violations,
  };
}

export function formatReport(r: Report): string {
  const lines = r.violations.map((v) => `${v.rule}: ${v.text}`);
  const count = (rule: Violation["rule"]) => r.violations.filter((v) => v.rule === rule).length;
  lines.push(
    `arch: ${r.folders} folders, ${r.edges} edges between them; ` +
      `${count("cycle")} cycles, ${count("forbidden")} forbidden edges, ` +
      `${count("bypass")} imports past a mod.ts`,
  );
  return lines.join("\n");
}
