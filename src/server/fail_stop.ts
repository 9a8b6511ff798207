// Fail-stop: when the member cannot go on without risking what it persisted or acknowledged —
// raft broke an invariant, the WAL, a snapshot or the backend failed to write, applying failed —
// it stops where it stands with etcd's line and exit status, and nothing runs after it:
// a Go panic (exit 2) for broken invariants and raft's own errors, a fatal line (exit 1) for
// failed I/O, as etcd's raft.go, server.go and backend do.
import { AssertionError } from "../assert/mod.ts";
import type { Logger } from "../log/mod.ts";

/** Where the member was when it failed: each place has etcd's words. */
export type FailStage =
  | "raft"
  | "save"
  | "saveSnap"
  | "applySnap"
  | "apply"
  | "snapshot"
  | "commit";

/** Stops the member: never returns. */
export type FailStop = (stage: FailStage, err: unknown) => never;

interface StageLine {
  pkg: string;
  text(err: string): string;
  /** zap's message (the error goes in its `error` field). */
  msg: string;
  /** etcd panics here (exit 2) rather than logging fatally (exit 1). */
  panics: boolean;
}

const LINES: Record<FailStage, StageLine> = {
  raft: { pkg: "raft", text: (e) => e, msg: "", panics: true },
  save: {
    pkg: "etcdserver",
    text: (e) => `failed to save state and entries error: ${e}`,
    msg: "failed to save Raft hard state and entries",
    panics: false,
  },
  saveSnap: {
    pkg: "etcdserver",
    text: (e) => `failed to save Raft snapshot ${e}`,
    msg: "failed to save Raft snapshot",
    panics: false,
  },
  applySnap: {
    pkg: "etcdserver",
    text: (e) => `recovering backend from snapshot error: ${e}`,
    msg: "failed to recover v3 backend from snapshot",
    panics: true,
  },
  apply: {
    pkg: "etcdserver",
    text: (e) => `unexpected error during apply: ${e}`,
    msg: "unexpected error during apply",
    panics: true,
  },
  snapshot: {
    pkg: "etcdserver",
    text: (e) => `save snapshot error: ${e}`,
    msg: "failed to save snapshot",
    panics: false,
  },
  commit: {
    pkg: "mvcc/backend",
    text: (e) => `cannot commit tx (${e})`,
    msg: "failed to commit tx",
    panics: false,
  },
};

/** capnslog packages of the folders whose invariants the member asserts. */
const PKG_OF_FOLDER: Record<string, string> = {
  raft: "raft",
  storage: "wal",
  mvcc: "mvcc",
  lease: "lease",
  auth: "auth",
  server: "etcdserver",
};

export function failStop(log: Logger): FailStop {
  return (stage, err) => {
    if (err instanceof AssertionError) {
      const at = originOf(err);
      return log.panic({ pkg: at.pkg, text: err.invariant, caller: at.caller, stack: err.stack });
    }
    const line = LINES[stage];
    const why = err instanceof Error ? err.message : String(err);
    const record = {
      pkg: line.pkg,
      text: line.text(why),
      msg: line.msg || why,
      fields: line.msg ? { error: why } : undefined,
      stack: err instanceof Error ? err.stack : undefined,
    };
    return line.panics ? log.panic(record) : log.fatal(record);
  };
}

/** The package and file:line where an invariant broke: the first frame past assert/. */
function originOf(err: AssertionError): { pkg: string; caller?: string } {
  for (const frame of (err.stack ?? "").split("\n").slice(1)) {
    const m = /\/src\/([a-z0-9_]+)\/((?:[a-z0-9_]+\/)*[a-z0-9_]+\.ts):(\d+)/.exec(frame);
    if (!m || m[1] === "assert") continue;
    return { pkg: PKG_OF_FOLDER[m[1]] ?? "etcdserver", caller: `${m[1]}/${m[2]}:${m[3]}` };
  }
  return { pkg: "etcdserver" };
}
