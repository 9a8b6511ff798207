// Key permissions as etcd's auth store grants them: a role's permission covers one key (no
// range end), a range [key, range_end), or every key from `key` on (range end "\0"). A request
// is permitted when the union of the user's matching permissions covers its whole key range.
import { compareBytes } from "../mvcc/mod.ts";

export enum PermType {
  READ = 0,
  WRITE = 1,
  READWRITE = 2,
}

export interface Permission {
  permType: PermType;
  key: Uint8Array;
  rangeEnd: Uint8Array;
}

/** A half-open key interval; `end` undefined is open-ended (every key from `begin` on). */
interface Interval {
  begin: Uint8Array;
  end: Uint8Array | undefined;
}

const isFromKey = (end: Uint8Array) => end.length === 1 && end[0] === 0;

/** The interval a (key, range_end) pair names, for permissions and requests alike. */
function intervalOf(key: Uint8Array, rangeEnd: Uint8Array): Interval {
  if (isFromKey(rangeEnd)) return { begin: key, end: undefined };
  // One key, or a range that names no key (end <= key): the key itself.
  if (rangeEnd.length === 0 || compareBytes(rangeEnd, key) <= 0) {
    const next = new Uint8Array(key.length + 1);
    next.set(key);
    return { begin: key, end: next };
  }
  return { begin: key, end: rangeEnd };
}

/** Whether `a` (possibly open-ended) reaches at least `b`. */
function endsAtOrAfter(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined) return true;
  if (b === undefined) return false;
  return compareBytes(a, b) >= 0;
}

/** The permissions of one kind (read or write) a user holds, sorted for coverage checks. */
export class RangeSet {
  readonly #intervals: Interval[];

  constructor(perms: Permission[]) {
    this.#intervals = perms.map((p) => intervalOf(p.key, p.rangeEnd))
      .sort((a, b) => compareBytes(a.begin, b.begin));
  }

  /** Whether the union of the intervals covers the request's key range. */
  covers(key: Uint8Array, rangeEnd: Uint8Array): boolean {
    const want = intervalOf(key, rangeEnd);
    let reached: Uint8Array | undefined = want.begin;
    for (const ivl of this.#intervals) {
      // Sorted by begin: once one starts past what is covered, so do all that follow.
      if (compareBytes(ivl.begin, reached!) > 0) return false;
      if (!endsAtOrAfter(reached, ivl.end)) reached = ivl.end;
      if (endsAtOrAfter(reached, want.end)) return true;
    }
    return false;
  }
}

export function grantsRead(t: PermType): boolean {
  return t === PermType.READ || t === PermType.READWRITE;
}

export function grantsWrite(t: PermType): boolean {
  return t === PermType.WRITE || t === PermType.READWRITE;
}
