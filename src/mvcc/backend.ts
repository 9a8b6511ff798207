// The SQLite side of the store: schema, prepared statements, the batch transaction and the
// meta values persisted with it. Nothing here knows etcd's request semantics.
//
// Durability model: the raft WAL (fsync'd before anything is acknowledged) is the durable
// record; this database only has to be *consistent with the consistent index stored inside
// it*. Many applied entries share one SQLite transaction; the consistent index is written in
// that same transaction, so after any crash the file holds exactly the effects of entries
// 1..consistentIndex and the server replays the rest from the log. WAL journal mode with
// synchronous=NORMAL keeps every commit atomic (a crash, even a power loss, rolls back to an
// earlier commit but never corrupts) while syncing only at checkpoints; `commit({sync:true})`
// forces the files to disk for the moments the raft log is about to be compacted.
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import type { KeyValue } from "./types.ts";

const SCHEMA_VERSION = 3;

// rev: every change ever made (until compaction removes it), with etcd's revision (main, sub):
//   sub is the change's position among its revision's changes, which HashKV needs and
//   compaction would otherwise erase. `id` is assigned in (main, sub) order, so the table is
//   written append-only, as etcd's key bucket is; version 0 marks a tombstone. Nothing indexes
//   it by key: the in-memory key index (tree_index.ts) says which rows a read needs.
// meta: consistent index, current revision, compaction progress.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS rev (
  id INTEGER PRIMARY KEY,
  main INTEGER NOT NULL,
  sub INTEGER NOT NULL,
  key BLOB NOT NULL,
  create_rev INTEGER NOT NULL,
  version INTEGER NOT NULL,
  lease INTEGER NOT NULL,
  value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
`;

// Column list every kv-returning query selects, in KeyValue order. Lease IDs are full int64
// values (usually above 2^53), so non-zero ones travel as text and become bigints.
export const KV_COLUMNS =
  "r.key, r.create_rev, r.main, r.version, iif(r.lease = 0, 0, CAST(r.lease AS TEXT)), r.value";
// The same minus the key, for rows of a known key (every BLOB returned costs a copy), and minus
// the value too, for keys-only reads.
export const KV_COLUMNS_NO_KEY =
  "NULL, r.create_rev, r.main, r.version, iif(r.lease = 0, 0, CAST(r.lease AS TEXT)), r.value";
export const KV_COLUMNS_NO_KEY_VALUE =
  "NULL, r.create_rev, r.main, r.version, iif(r.lease = 0, 0, CAST(r.lease AS TEXT)), x''";

// SQL LIMIT clause for etcd's "0 = no limit".
export function limitClause(limit: number): string {
  return limit > 0 ? ` LIMIT ${Math.floor(limit)}` : "";
}

export type Row = unknown[];

export function rowToKv(row: Row, key?: Uint8Array): KeyValue {
  const lease = row[4];
  return {
    key: key ?? row[0] as Uint8Array,
    createRevision: row[1] as number,
    modRevision: row[2] as number,
    version: row[3] as number,
    lease: lease === 0 ? 0n : BigInt(lease as string),
    value: row[5] as Uint8Array,
  };
}

export interface Meta {
  consistentIndex: number;
  rev: number;
  // Logical compaction point (-1 = never compacted, as etcd reports it).
  compactRev: number;
  // Compaction point up to which superseded rows have been physically removed.
  compactDone: number;
}

export class Backend {
  readonly db: DatabaseSync;
  private readonly stmts = new Map<string, StatementSync>();
  private inTx = false;
  private noFsync = false;
  private safetyLevelPending = false;

  constructor(readonly path: string) {
    this.db = new DatabaseSync(path);
    // One process owns the data dir, so hold the file lock for good: SQLite then keeps the
    // WAL index in heap memory instead of a shared-memory file and skips per-statement locking
    // (which made file-backed reads twice as slow). Must precede the switch to WAL.
    this.db.exec("PRAGMA locking_mode = EXCLUSIVE");
    this.db.exec("PRAGMA journal_mode = WAL");
    this.db.exec("PRAGMA synchronous = NORMAL");
    this.db.exec("PRAGMA temp_store = MEMORY");
    this.db.exec("PRAGMA cache_size = -65536"); // 64 MiB page cache
    this.db.exec(SCHEMA);
    const v = this.metaGet("schema_version");
    if (v === undefined) this.metaSet("schema_version", SCHEMA_VERSION);
    else if (v === 1 || v === 2) this.migrate(v);
    else if (v !== SCHEMA_VERSION) {
      throw new Error(`mvcc: unsupported backend schema version ${v} in ${path}`);
    }
  }

  // Schema 1 kept no sub revisions. A revision's changes took consecutive ids, so a change's
  // sub is its distance from the revision's first id: exact unless compaction has removed that
  // first change (a superseded put of a multi-write txn), which only HashKV at or below the
  // compaction point would notice. Schemas 1 and 2 indexed the table by key (rev_key) and kept
  // the current rows in `live`; the key index in memory does both now. Their pages become free
  // pages of the file, which later writes reuse (defragmentation returns them).
  private migrate(from: number): void {
    this.db.exec("BEGIN IMMEDIATE");
    if (from === 1) {
      this.db.exec("ALTER TABLE rev ADD COLUMN sub INTEGER NOT NULL DEFAULT 0");
      this.db.exec(
        "UPDATE rev SET sub = f.sub FROM (SELECT id, id - min(id) OVER (PARTITION BY main) " +
          "AS sub FROM rev) f WHERE rev.id = f.id",
      );
    }
    this.db.exec("DROP INDEX IF EXISTS rev_key");
    this.db.exec("DROP TABLE IF EXISTS live");
    this.metaSet("schema_version", SCHEMA_VERSION);
    this.db.exec("COMMIT");
  }

  // Prepared statements are cached by their SQL text; results come back as arrays. Limits are
  // written into the SQL (a bound LIMIT parameter costs ~15 µs per execution here), so the
  // cache is bounded: past the bound it starts over.
  stmt(sql: string): StatementSync {
    let s = this.stmts.get(sql);
    if (!s) {
      if (this.stmts.size >= 512) this.stmts.clear();
      s = this.db.prepare(sql);
      // Arrays skip building an object per row; the method exists at runtime but is missing
      // from the bundled node:sqlite typings.
      (s as unknown as { setReturnArrays(on: boolean): void }).setReturnArrays(true);
      this.stmts.set(sql, s);
    }
    return s;
  }

  all(sql: string, ...params: SQLInputValue[]): Row[] {
    return this.stmt(sql).all(...params) as unknown as Row[];
  }

  get(sql: string, ...params: SQLInputValue[]): Row | undefined {
    return this.stmt(sql).get(...params) as unknown as Row | undefined;
  }

  run(sql: string, ...params: SQLInputValue[]): number {
    return Number(this.stmt(sql).run(...params).changes);
  }

  // Opens the batch transaction if none is open; every write goes through here first.
  begin(): void {
    if (this.inTx) return;
    this.db.exec("BEGIN IMMEDIATE");
    this.inTx = true;
  }

  inTransaction(): boolean {
    return this.inTx;
  }

  // --unsafe-no-fsync: SQLite never syncs (not even at checkpoints), nor does commit({sync}).
  setNoFsync(on: boolean): void {
    if (on === this.noFsync) return;
    this.noFsync = on;
    // SQLite refuses to change the safety level inside a transaction; an open batch (a store
    // just loaded, say) takes it at its commit.
    this.safetyLevelPending = true;
    if (!this.inTx) this.applySafetyLevel();
  }

  private applySafetyLevel(): void {
    this.db.exec(`PRAGMA synchronous = ${this.noFsync ? "OFF" : "NORMAL"}`);
    this.safetyLevelPending = false;
  }

  // Writes `meta` and commits the batch transaction (opening one if needed, so the
  // consistent index of entries that changed no key is persisted too).
  commit(meta: Meta, sync: boolean): void {
    this.begin();
    this.metaSet("consistent_index", meta.consistentIndex);
    this.metaSet("rev", meta.rev);
    this.metaSet("compact_rev", meta.compactRev);
    this.metaSet("compact_done", meta.compactDone);
    this.db.exec("COMMIT");
    this.inTx = false;
    if (this.safetyLevelPending) this.applySafetyLevel();
    if (sync) this.sync();
  }

  // fsync works on the file, not the descriptor: syncing our own handles on the WAL and the
  // database flushes what SQLite wrote through its handles (synchronous=NORMAL skips that).
  /** Forces what the committed transactions wrote to disk (not under --unsafe-no-fsync). */
  sync(): void {
    if (this.noFsync || this.path === ":memory:" || this.path === "") return;
    for (const f of [`${this.path}-wal`, this.path]) {
      let file: Deno.FsFile;
      try {
        file = Deno.openSync(f, { read: true });
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) continue;
        throw e;
      }
      try {
        file.syncSync();
      } finally {
        file.close();
      }
    }
  }

  readMeta(): Meta {
    return {
      consistentIndex: this.metaGet("consistent_index") ?? 0,
      rev: this.metaGet("rev") ?? 1,
      compactRev: this.metaGet("compact_rev") ?? -1,
      compactDone: this.metaGet("compact_done") ?? -1,
    };
  }

  // Bytes the file takes, and how many of them hold data (the rest is free pages).
  sizes(): { total: number; inUse: number } {
    const pages = this.pragma("page_count"), pageSize = this.pragma("page_size");
    return { total: pages * pageSize, inUse: (pages - this.pragma("freelist_count")) * pageSize };
  }

  private pragma(name: string): number {
    return this.get(`PRAGMA ${name}`)![0] as number;
  }

  revisionCount(): number {
    return this.get("SELECT count(*) FROM rev")![0] as number;
  }

  maxId(): number {
    return (this.get("SELECT max(id) FROM rev")?.[0] as number | null) ?? 0;
  }

  private metaGet(name: string): number | undefined {
    return this.get("SELECT value FROM meta WHERE name = ?", name)?.[0] as number | undefined;
  }

  private metaSet(name: string, value: number): void {
    this.run(
      "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
      name,
      value,
    );
  }

  close(): void {
    if (this.inTx) {
      // Uncommitted batch writes are dropped: the raft log still has their entries.
      this.db.exec("ROLLBACK");
      this.inTx = false;
    }
    this.stmts.clear();
    this.db.close();
  }
}
