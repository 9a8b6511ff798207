// Shared fixtures for the storage tests.

import type { Entry, HardState } from "../../src/raft/mod.ts";
import { parseRecord } from "../../src/storage/record.ts";

export const META = new TextEncoder().encode("member 8e9e05c52164694d cluster cdf818194e3a8c32");

export function entry(index: number, term = 1, data = `value-${index}`): Entry {
  return { index, term, type: 0, data: new TextEncoder().encode(data) };
}

export function entries(from: number, to: number, term = 1): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term));
  return out;
}

export function hs(term: number, commit: number, vote = 0n): HardState {
  return { term, vote, commit };
}

export function walFiles(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".wal")).sort();
}

/** Counts calls to an FsFile method while `fn` runs. */
export async function countCalls(
  method: "syncData" | "sync" | "writeSync",
  fn: () => Promise<void>,
): Promise<number> {
  const proto = Deno.FsFile.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const original = proto[method];
  let n = 0;
  proto[method] = function (this: unknown, ...args: unknown[]) {
    n++;
    return original.apply(this, args);
  };
  try {
    await fn();
  } finally {
    proto[method] = original;
  }
  return n;
}

/** Where the records of a segment end: zeros (preallocated space) or damage follow. */
export function dataEnd(buf: Uint8Array): number {
  let off = 0;
  for (let r = parseRecord(buf, off); r.ok; r = parseRecord(buf, off)) off = r.next;
  return off;
}

/** Start offsets of the valid records of a segment, in order. */
export function recordStarts(buf: Uint8Array): number[] {
  const out: number[] = [];
  let off = 0;
  for (let r = parseRecord(buf, off); r.ok; r = parseRecord(buf, off)) {
    out.push(off);
    off = r.next;
  }
  return out;
}
