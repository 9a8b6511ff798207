// `deno task compile [--output <file>] [deno compile flags...]`: builds dist/etcd-ts, one
// executable with main.ts, src/ and the npm packages they import embedded.
//
// `deno compile` writes the program onto a `denort` base binary. It uses $DENORT_BIN when set,
// else the copy cached under $DENO_DIR/dl/, else downloads one from dl.deno.land, which many
// build machines cannot reach. This script finds the base binary first and, when there is none,
// stops with a message saying how to provide one, instead of failing deep inside the build.
//
// Nothing under the repository is read at run time (the .proto schemas are compiled into
// src/pb/generated.ts), so no --include is needed; --exclude-unused-npm keeps the npm
// packages used only by tests and benchmarks (etcd3, grpc-js, fast-check) out of the binary.

const repo = new URL("../", import.meta.url).pathname;
const deno = Deno.execPath();
const version = Deno.version.deno;
const target = Deno.build.target;
const denortName = `denort-${target}.zip`;
const downloadUrl = `https://dl.deno.land/release/v${version}/${denortName}`;
const DOWNLOAD_TIMEOUT_MS = 120_000;

function fail(message: string): never {
  console.error(`compile: ${message}`);
  Deno.exit(1);
}

function howToProvide(denoDir: string): string {
  return [
    `deno compile needs the denort ${version} base binary for ${target}. Provide it one of these ways:`,
    `  - DENORT_BIN=/path/to/denort deno task compile   (the executable unzipped from ${downloadUrl})`,
    `  - put ${denortName} from that address at ${cachedDenortPath(denoDir)}`,
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

/** Where `deno compile` looks for a downloaded base binary before fetching it. */
function cachedDenortPath(dir: string): string {
  return `${dir}/dl/release/v${version}/${denortName}`;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Makes sure deno compile will find a base binary without going to the network itself. */
async function ensureDenort(): Promise<string> {
  const explicit = Deno.env.get("DENORT_BIN");
  const dir = await denoDir();
  if (explicit) {
    if (!isFile(explicit)) {
      fail(`DENORT_BIN=${explicit} is not a file.\n${howToProvide(dir)}`);
    }
    return `DENORT_BIN=${explicit}`;
  }
  const cached = cachedDenortPath(dir);
  if (isFile(cached)) return cached;

  console.error(`compile: no denort in ${dir}/dl; downloading ${downloadUrl}`);
  let zip: Uint8Array;
  try {
    const res = await fetch(downloadUrl, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
    zip = new Uint8Array(await res.arrayBuffer());
  } catch (err) {
    fail(`cannot download ${downloadUrl}: ${(err as Error).message}\n${howToProvide(dir)}`);
  }
  // Written next to its final name and renamed, so an interrupted download is never used.
  Deno.mkdirSync(`${dir}/dl/release/v${version}`, { recursive: true });
  Deno.writeFileSync(`${cached}.partial`, zip);
  Deno.renameSync(`${cached}.partial`, cached);
  return cached;
}

function parseArgs(args: string[]): { output: string; extra: string[] } {
  let output = `${repo}dist/etcd-ts`;
  const extra: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--output" || a === "-o") output = args[++i] ?? fail(`${a} needs a path`);
    else if (a.startsWith("--output=")) output = a.slice("--output=".length);
    else extra.push(a);
  }
  return { output, extra };
}

async function main() {
  const { output, extra } = parseArgs(Deno.args);
  const base = await ensureDenort();
  console.error(`compile: base binary ${base}`);
  const status = await new Deno.Command(deno, {
    args: [
      "compile",
      "--allow-all",
      "--config",
      `${repo}deno.json`,
      "--exclude-unused-npm",
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
