// bbolt's file format (bbolt 1.3, the backend of etcd 3.4): reading files bbolt wrote, from
// memory or a page at a time from disk, and writing new files bbolt accepts, in one pass.
export { BboltError } from "./layout.ts";
export { Db, openDb, openDbFile, openDbSource } from "./db.ts";
export { Bucket } from "./bucket.ts";
export { Cursor } from "./cursor.ts";
export { type ByteSource, bytesSource, fileSource } from "./source.ts";
export type { Meta } from "./meta.ts";
export type { Name } from "./layout.ts";
export { DEFAULT_PAGE_SIZE, MAX_KEY_SIZE, MAX_VALUE_SIZE } from "./layout.ts";
export { DbWriter, type Sink, type WriterOptions } from "./writer.ts";
export { fileSink, MemorySink } from "./sink.ts";
export { type BucketData, buildDb, writeBuckets, writeDb } from "./build.ts";
export { compactDb } from "./compact.ts";
