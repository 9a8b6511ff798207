// `deno task arch`: checks the direction of dependencies between the folders of src/ (and
// main.ts) against the table below. It reads every import — static, re-exported, type-only and
// dynamic — and fails on a cycle between folders, on an edge the table does not allow, and on
// an import that reaches into another folder past its mod.ts. ARCHITECTURE.md explains the
// layers; this table is their one definition.
import { checkArchitecture, formatReport, readImports } from "./arch/check.ts";

/**
 * What each folder may import (besides itself). Top to bottom: the executable, the member's
 * assembly, the edge (client API, peers, tools), the member, its state machines, and the leaf
 * libraries. A folder missing here may import nothing of the project.
 */
export const ALLOWED: Record<string, string[]> = {
  main: [
    ...["embed", "gateway", "grpcproxy", "discovery", "diagnose", "snapshot"],
    ...["config", "log", "tls"],
  ],
  embed: [
    ...["api", "peer", "proxy", "discovery", "server", "storage", "auth"],
    ...["errors", "config", "log", "tls"],
  ],
  api: [
    ...["server", "mvcc", "lease", "auth", "v2store"],
    ...["pb", "h2", "errors", "config", "log", "metrics", "tls"],
  ],
  peer: [
    ...["server", "raft", "lease"],
    ...["pb", "errors", "config", "log", "metrics", "tls", "failpoint"],
  ],
  discovery: ["api", "server", "v2store", "config", "log", "tls"],
  gateway: ["discovery", "config", "log"],
  grpcproxy: [
    ...["api", "gateway", "discovery"],
    ...["pb", "h2", "errors", "config", "log", "metrics", "tls"],
  ],
  proxy: ["discovery", "v2store", "pb", "config", "log", "metrics"],
  diagnose: ["discovery", "server", "config", "tls"],
  snapshot: ["server", "bbolt", "pb", "checksum", "errors", "config", "log"],
  server: [
    ...["raft", "storage", "mvcc", "lease", "auth", "v2store"],
    ...["pb", "bbolt", "errors", "assert", "config", "log", "metrics", "failpoint"],
  ],
  raft: ["pb", "assert"],
  storage: ["raft", "pb", "checksum", "assert", "metrics", "failpoint"],
  mvcc: ["pb", "checksum", "assert", "metrics"],
  lease: ["mvcc", "assert", "metrics"],
  auth: ["mvcc", "log", "assert", "config"],
  v2store: ["metrics"],
  // Leaf libraries.
  pb: [],
  h2: ["errors"],
  errors: [],
  assert: [],
  checksum: [],
  bbolt: [],
  metrics: [],
  tls: ["config", "log"],
  config: [],
  log: [],
  failpoint: [],
};

if (import.meta.main) {
  const root = new URL("../", import.meta.url).pathname;
  const report = checkArchitecture(readImports(root), ALLOWED);
  console.log(formatReport(report));
  Deno.exit(report.ok ? 0 : 1);
}
