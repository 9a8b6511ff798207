/// <reference lib="deno.worker" />
// The Worker of commit_worker.ts: its own SQLite connection (the member's schema, through
// src/mvcc's Backend), inserting each transferred batch of rows and committing it.
import { Backend } from "../../../src/mvcc/backend.ts";
import { threadCpuSeconds, unpackRows } from "./commit_rows.ts";

const INSERT = "INSERT INTO rev (id, main, sub, key, create_rev, version, lease, value) " +
  "VALUES (?, ?, 0, ?, ?, ?, 0, ?)";
let be: Backend | undefined;
const cpu0 = threadCpuSeconds();

self.onmessage = (e: MessageEvent) => {
  const msg = e.data;
  if (msg.open) {
    be = new Backend(msg.open);
  } else if (msg.rows) {
    be!.begin();
    for (const r of unpackRows(msg.rows)) {
      be!.run(INSERT, r.id, r.main, r.key, r.created, r.version, r.value);
    }
    be!.commit({
      consistentIndex: msg.consistentIndex,
      rev: msg.rev,
      compactRev: -1,
      compactDone: -1,
    }, false);
  } else if (msg.close) {
    be!.close();
  }
  self.postMessage({ cpu: threadCpuSeconds() - cpu0 });
};
