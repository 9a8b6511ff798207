// A private podman for image tests: its own storage (images, containers, volumes) under a
// temporary directory, so tests neither see nor touch the machine's containers, and the
// settings podman needs on these machines: the runc runtime, cgroupfs, and no default ulimits
// (raising RLIMIT_NOFILE is refused inside this sandbox). The settings live in a
// containers.conf the test writes, passed through CONTAINERS_CONF, never in /etc.
import { type Proc, type Run, run, spawn } from "../../helpers/process.ts";
import { tempDir } from "../../helpers/tmp.ts";

export interface Podman {
  /** CONTAINERS_CONF and CONTAINERS_STORAGE_CONF, for tools that call podman themselves. */
  env: Record<string, string>;
  dir: string;
  run(...args: string[]): Promise<Run>;
  /** `podman args...` in the background (e.g. an attached `podman run`), output collected. */
  spawn(...args: string[]): Proc;
  /** Removes every container, volume and image of this store, then the store itself. */
  close(): Promise<void>;
}

function assertInstalled(cmd: string): void {
  const found = new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null" })
    .outputSync().success;
  if (!found) throw new Error(`${cmd} is not installed (scripts/install-deps installs it)`);
}

/** Mount points at or under `dir`, deepest first (from this process's mountinfo). */
function mountsUnder(dir: string): string[] {
  const lines = Deno.readTextFileSync("/proc/self/mountinfo").split("\n");
  const points = lines.map((l) => l.split(" ")[4]).filter((p) => p && p.startsWith(dir));
  return points.sort((a, b) => b.length - a.length);
}

export function createPodman(): Podman {
  assertInstalled("podman");
  assertInstalled("runc");
  const dir = tempDir({ prefix: "etcd-ts-podman-" }).path;
  const conf = `${dir}/containers.conf`;
  const storageConf = `${dir}/storage.conf`;
  Deno.writeTextFileSync(
    conf,
    [
      "[containers]",
      "default_ulimits = []",
      "[engine]",
      'runtime = "runc"',
      'cgroup_manager = "cgroupfs"',
      `tmp_dir = "${dir}/libpod"`,
      "",
    ].join("\n"),
  );
  Deno.writeTextFileSync(
    storageConf,
    `[storage]\ndriver = "overlay"\ngraphroot = "${dir}/root"\nrunroot = "${dir}/run"\n`,
  );
  const env = { CONTAINERS_CONF: conf, CONTAINERS_STORAGE_CONF: storageConf };
  // The store is named on every command too, so nothing here can reach the machine's store.
  const global = ["--root", `${dir}/root`, "--runroot", `${dir}/run`];
  return {
    env,
    dir,
    run: (...args) => run("podman", [...global, ...args], { env }),
    spawn: (...args) => spawn("podman", [...global, ...args], { env }),
    close: async () => {
      await run("podman", [...global, "rm", "--all", "--force", "--time", "0"], { env });
      await run("podman", [...global, "volume", "rm", "--all", "--force"], { env });
      await run("podman", [...global, "rmi", "--all", "--force"], { env });
      for (const m of mountsUnder(dir)) await run("umount", [m]);
      await Deno.remove(dir, { recursive: true });
    },
  };
}
