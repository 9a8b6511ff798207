// `deno task compile [--target <target>] [--output <file>] [deno compile flags...]`: builds
// dist/etcd-ts (dist/etcd-ts-<target> for another platform than this one), one executable with
// main.ts, src/ and the npm packages they import embedded. Targets: TARGETS below.
//
// `deno compile` writes the program onto a `denort` base binary for the target. It uses
// $DENORT_BIN when set, else the copy cached under $DENO_DIR/dl/, else downloads one from
// dl.deno.land, which many build machines cannot reach. This script finds the base binary first
// and, when there is none, stops with a message saying how to provide one, instead of failing
// deep inside the build. A DENORT_BIN of another platform than the target is refused: the
// result would not run.
//
// Nothing under the repository is read at run time (the .proto schemas are compiled into
// src/pb/generated.ts), so no --include is needed. The graph is resolved through
// deno.lock, which holds only the server's npm packages, and --exclude-unused-npm embeds only
// those the graph reaches: the tests' packages (etcd3, grpc-js, fast-check) stay out.

const repo = new URL("../", import.meta.url).pathname;
const deno = Deno.execPath();
const version = Deno.version.deno;
const DOWNLOAD_TIMEOUT_MS = 120_000;

type Format = "ELF" | "Mach-O";
type Machine = "x86_64" | "aarch64";

/** The platforms a release is built for, and the executable each one's denort must be. */
export const TARGETS: Record<string, { format: Format; machine: Machine }> = {
  "x86_64-unknown-linux-gnu": { format: "ELF", machine: "x86_64" },
  "aarch64-unknown-linux-gnu": { format: "ELF", machine: "aarch64" },
  "x86_64-apple-darwin": { format: "Mach-O", machine: "x86_64" },
  "aarch64-apple-darwin": { format: "Mach-O", machine: "aarch64" },
};

function fail(message: string): never {
  console.error(`compile: ${message}`);
  Deno.exit(1);
}

const denortName = (target: string) => `denort-${target}.zip`;
const downloadUrl = (target: string) =>
  `https://dl.deno.land/release/v${version}/${denortName(target)}`;

/** Where `deno compile` looks for a downloaded base binary before fetching it. */
function cachedDenortPath(dir: string, target: string): string {
  return `${dir}/dl/release/v${version}/${denortName(target)}`;
}

function howToProvide(denoDir: string, target: string): string {
  return [
    `deno compile needs the denort ${version} base binary for ${target}. Provide it one of these ways:`,
    `  - DENORT_BIN=/path/to/denort deno task compile   (the executable unzipped from ${
      downloadUrl(target)
    })`,
    `  - put ${denortName(target)} from that address at ${cachedDenortPath(denoDir, target)}`,
    `  - run deno task compile where dl.deno.land is reachable (it is downloaded once and cached)`,
  ].join("\n");
}

/** $DENO_DIR as deno itself resolves it (the variable, or the platform's cache directory). */
async function denoDir(): Promise<string> {
  const out = await new Deno.Command(deno, {
    args: ["info", "--json", "--no-config"],
    stderr: "inherit",
  })
    .output();
  if (!out.success) fail("`deno info --json` failed; cannot locate DENO_DIR");
  return JSON.parse(new TextDecoder().decode(out.stdout)).denoDir;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** The executable format and machine of a file, from its header (undefined if neither). */
export function executableKind(
  head: Uint8Array,
): { format: Format; machine?: Machine } | undefined {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (head.length >= 20 && view.getUint32(0) === 0x7f454c46) {
    const machine = ({ 0x3e: "x86_64", 0xb7: "aarch64" } as const)[view.getUint16(18, true)];
    return { format: "ELF", machine };
  }
  if (head.length >= 8 && view.getUint32(0, true) === 0xfeedfacf) {
    const cpu = view.getUint32(4, true);
    const machine = ({ 0x01000007: "x86_64", 0x0100000c: "aarch64" } as const)[cpu];
    return { format: "Mach-O", machine };
  }
  return undefined;
}

const describe = (format: Format, machine?: Machine) =>
  machine ? `an ${machine} ${format} executable` : `an ${format} executable for another machine`;

function checkDenortPlatform(path: string, target: string): void {
  const file = Deno.openSync(path);
  const head = new Uint8Array(64);
  const n = file.readSync(head) ?? 0;
  file.close();
  const kind = executableKind(head.subarray(0, n));
  const want = TARGETS[target];
  if (kind?.format === want.format && kind.machine === want.machine) return;
  const is = kind ? describe(kind.format, kind.machine) : "not an executable";
  fail(
    `DENORT_BIN=${path} is ${is}; --target ${target} needs ${describe(want.format, want.machine)}`,
  );
}

/** Makes sure deno compile will find a base binary without going to the network itself. */
async function ensureDenort(target: string): Promise<string> {
  const explicit = Deno.env.get("DENORT_BIN");
  const dir = await denoDir();
  if (explicit) {
    if (!isFile(explicit)) {
      fail(`DENORT_BIN=${explicit} is not a file.\n${howToProvide(dir, target)}`);
    }
    checkDenortPlatform(explicit, target);
    return `DENORT_BIN=${explicit}`;
  }
  const cached = cachedDenortPath(dir, target);
  if (isFile(cached)) return cached;

  const url = downloadUrl(target);
  console.error(`compile: no denort in ${dir}/dl; downloading ${url}`);
  let zip: Uint8Array;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
    zip = new Uint8Array(await res.arrayBuffer());
  } catch (err) {
    fail(`cannot download ${url}: ${(err as Error).message}\n${howToProvide(dir, target)}`);
  }
  // Written next to its final name and renamed, so an interrupted download is never used.
  Deno.mkdirSync(`${dir}/dl/release/v${version}`, { recursive: true });
  Deno.writeFileSync(`${cached}.partial`, zip);
  Deno.renameSync(`${cached}.partial`, cached);
  return cached;
}

function parseArgs(args: string[]): { output: string; target: string; extra: string[] } {
  let output: string | undefined;
  let target = Deno.build.target;
  const extra: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--output" || a === "-o") output = args[++i] ?? fail(`${a} needs a path`);
    else if (a.startsWith("--output=")) output = a.slice("--output=".length);
    else if (a === "--target") target = args[++i] ?? fail(`${a} needs a target`);
    else if (a.startsWith("--target=")) target = a.slice("--target=".length);
    else extra.push(a);
  }
  if (!TARGETS[target]) {
    fail(`unknown target ${target}; one of: ${Object.keys(TARGETS).join(", ")}`);
  }
  const suffix = target === Deno.build.target ? "" : `-${target}`;
  return { output: output ?? `${repo}dist/etcd-ts${suffix}`, target, extra };
}

async function main() {
  const { output, target, extra } = parseArgs(Deno.args);
  const base = await ensureDenort(target);
  console.error(`compile: base binary ${base} for ${target}`);
  const status = await new Deno.Command(deno, {
    args: [
      "compile",
      "--allow-all",
      "--config",
      `${repo}deno.json`,
      "--exclude-unused-npm",
      // V8's flags as scripts/etcd-ts passes them, built into the executable.
      `--v8-flags=${Deno.readTextFileSync(`${repo}scripts/v8-flags`).trim()}`,
      "--target",
      target,
      "--output",
      output,
      ...extra,
      `${repo}main.ts`,
    ],
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  if (!status.success) fail(`deno compile failed (exit ${status.code})`);
  console.error(`compile: wrote ${output} (${(Deno.statSync(output).size / 1e6).toFixed(1)} MB)`);
}

if (import.meta.main) await main();
