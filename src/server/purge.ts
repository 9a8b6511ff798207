// etcd's purge loop (EtcdServer.purgeFile): at start and every 30 seconds, keep at most
// --max-snapshots snapshot files and --max-wals WAL files, logging each file removed as
// pkg/fileutil does. A WAL file still in use stops the purge of that directory.
import type { Logger } from "../log/mod.ts";
import type { Purged, Snapshotter, Wal } from "../storage/mod.ts";

/** etcd's purgeFileInterval. */
export const PURGE_INTERVAL_MS = 30_000;

export interface PurgeDeps {
  log: Logger;
  snapshotter: Snapshotter;
  wal: Wal;
  /** 0 keeps every file of that kind. */
  maxSnapshots: number;
  maxWals: number;
}

interface Job {
  dir: string;
  suffix: string;
  max: number;
  run(): Promise<Purged>;
}

export class FilePurger {
  #timer?: ReturnType<typeof setInterval>;
  #running: Promise<void> = Promise.resolve();

  constructor(readonly deps: PurgeDeps) {}

  #jobs(): Job[] {
    const { snapshotter, wal, maxSnapshots, maxWals } = this.deps;
    const jobs: Job[] = [];
    if (maxSnapshots > 0) {
      for (const suffix of ["snap.db", "snap"]) {
        const run = () => snapshotter.purge(maxSnapshots, suffix);
        jobs.push({ dir: snapshotter.dir, suffix, max: maxSnapshots, run });
      }
    }
    if (maxWals > 0) {
      jobs.push({ dir: wal.dir, suffix: "wal", max: maxWals, run: () => wal.purge(maxWals) });
    }
    return jobs;
  }

  start(): void {
    const jobs = this.#jobs();
    if (jobs.length === 0) return;
    for (const j of jobs) {
      this.deps.log.info({
        pkg: "pkg/fileutil",
        text: `started to purge file, dir: ${j.dir}, suffix: ${j.suffix}, max: ${j.max}, ` +
          `interval: 30s`,
        msg: "started to purge file",
        fields: { dir: j.dir, suffix: j.suffix, max: j.max, interval: "30s" },
      });
    }
    const pass = () => {
      this.#running = this.#running.then(() => this.#pass(jobs));
    };
    pass();
    this.#timer = setInterval(pass, PURGE_INTERVAL_MS);
  }

  async #pass(jobs: Job[]): Promise<void> {
    const { log } = this.deps;
    for (const j of jobs) {
      let out: Purged;
      try {
        out = await j.run();
      } catch (err) {
        // etcd stops the member when a purge fails: the disk is not what it thinks.
        const kind = j.suffix === "snap.db" ? "snap db" : j.suffix;
        return log.fatal({
          pkg: "etcdserver",
          text: `failed to purge ${kind} file ${err}`,
          msg: `failed to purge ${kind} file`,
          fields: { error: String(err) },
        });
      }
      for (const path of out.purged) {
        log.info({
          pkg: "pkg/fileutil",
          text: `purged file ${path} successfully`,
          msg: "purged",
          fields: { path },
        });
      }
      if (out.inUse) {
        log.warn({
          pkg: "pkg/fileutil",
          text: `failed to lock file, path: ${out.inUse}, error: fileutil: file already locked`,
          msg: "failed to lock file",
          fields: { path: out.inUse, error: "fileutil: file already locked" },
        });
      }
    }
  }

  /** Stops the loop and waits for a pass in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }
}
