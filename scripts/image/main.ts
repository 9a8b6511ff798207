// `deno task image [--binary FILE] [--tag NAME] [--context DIR]`: builds the etcd-ts container
// image with podman, offline. It lays out the root filesystem here (rootfs.ts) and builds the
// Containerfile's last stages over it (`--build-context rootfs=DIR` stands in for the first
// stage, which would need a base image from a registry), so the image is FROM scratch plus the
// member's own files. --binary puts a compiled etcd-ts (`deno task compile`) in place of deno
// and the sources; by default the program runs from source on the deno executable.
//
// Why podman build over a prepared directory rather than an OCI layout written here: the one
// Containerfile then describes the image for both builds (user, volume, ports, entrypoint are
// stated once), podman sets owners and modes (the volume's `COPY --chown`) without a tar and
// manifest writer of our own, and the image lands in podman's store, ready to run, push or save.
import { deno, repo } from "../server_graph.ts";
import { assembleRootfs, type Program } from "./rootfs.ts";

export const CONTAINERFILE = `${repo}Containerfile`;

interface Options {
  program: Program;
  tags: string[];
  context: string;
}

function fail(message: string): never {
  console.error(`image: ${message}`);
  Deno.exit(1);
}

async function output(cmd: string, args: string[]): Promise<{ ok: boolean; text: string }> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    const dec = new TextDecoder();
    return { ok: out.success, text: dec.decode(out.stdout) + dec.decode(out.stderr) };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { ok: false, text: `${cmd}: not installed` };
    throw err;
  }
}

/** etcd-ts's own version from `--version`, which also proves the program runs. */
async function programVersion(program: Program): Promise<string> {
  const fromSource = ["run", "-A", "--cached-only", "--quiet", "--config", `${repo}deno.json`];
  const [cmd, args] = program.kind === "binary"
    ? [program.path, ["--version"]]
    : [deno, [...fromSource, `${repo}main.ts`, "--version"]];
  const r = await output(cmd, args);
  const version = r.text.match(/^etcd-ts Version: (\S+)$/m)?.[1];
  if (r.ok && /^etcd Version: /.test(r.text) && version) return version;
  const said = r.text.trim().split("\n")[0];
  if (program.kind === "binary") {
    fail(
      `${program.path} is not an etcd-ts executable: its --version printed "${said}". ` +
        "(deno compile with a deno executable as DENORT_BIN makes a copy of the deno CLI.)",
    );
  }
  fail(`main.ts does not run from the cache (run scripts/install-deps):\n${r.text.trim()}`);
}

function parseArgs(args: string[]): Options {
  let program: Program = { kind: "source" };
  const tags: string[] = [];
  let context = `${repo}dist/image`;
  for (let i = 0; i < args.length; i++) {
    const value = () => args[++i] ?? fail(`${args[i - 1]} needs a value`);
    if (args[i] === "--binary") program = { kind: "binary", path: value() };
    else if (args[i] === "--tag") tags.push(value());
    else if (args[i] === "--context") context = value();
    else {fail(
        `unknown argument ${
          args[i]
        }; usage: deno task image [--binary FILE] [--tag NAME] [--context DIR]`,
      );}
  }
  return { program, tags, context };
}

async function main() {
  const started = performance.now();
  const opts = parseArgs(Deno.args);
  const version = await programVersion(opts.program);
  const podman = await output("podman", ["--version"]);
  if (!podman.ok) fail(`${podman.text.trim()} (scripts/install-deps installs it)`);
  const tags = opts.tags.length > 0 ? opts.tags : [`etcd-ts:${version}`, "etcd-ts:latest"];

  const summary = await assembleRootfs(opts.context, opts.program);
  console.error(
    `image: root filesystem in ${opts.context}/rootfs: ${summary.executable}, ` +
      `${summary.libraries.length} libraries, ${summary.modules} modules, ` +
      `${summary.npmPackages.length} npm packages`,
  );
  const build = await new Deno.Command("podman", {
    args: [
      "build",
      "--build-context",
      `rootfs=${opts.context}`,
      "--file",
      CONTAINERFILE,
      "--target",
      opts.program.kind,
      ...tags.flatMap((t) => ["--tag", t]),
      opts.context,
    ],
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  if (!build.success) fail(`podman build failed (exit ${build.code})`);
  const size = await output("podman", ["image", "inspect", "--format", "{{.Size}}", tags[0]]);
  const mb = (Number(size.text.trim()) / 1e6).toFixed(1);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.error(`image: ${tags.join(", ")}: ${mb} MB, built in ${seconds} s`);
}

if (import.meta.main) await main();
