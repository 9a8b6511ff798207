// etcd's watch guarantees (api_guarantees.md, "Watch APIs"), checked on what each watch
// received: first on its own stream (ordered, unique, atomic, bookmarkable, filters), then
// against every event that happened (reliable, resumable, prev_kv, nothing invented).

import { describeRange } from "./explain.ts";
import { inRange } from "./keys.ts";
import { sameKv } from "./match.ts";
import { describeKv } from "./state.ts";
import type { Event, KeyValue, WatchRecord, WatchRequest } from "./types.ts";

export type Guarantee =
  | "ordered"
  | "unique"
  | "atomic"
  | "bookmarkable"
  | "reliable"
  | "resumable"
  | "prevKv"
  | "filter"
  | "accurate"
  | "canceled";

export interface WatchViolation {
  guarantee: Guarantee;
  /** Index of the watch in the list checked. */
  watch: number;
  client: number;
  message: string;
}

type Report = (guarantee: Guarantee, message: string) => void;

/**
 * Checks every watch against `events`, all the events that happened in revision order (from
 * checkHistory, or the store's own log). Returns the violations, none when all hold.
 */
export function checkWatches(watches: WatchRecord[], events: Event[]): WatchViolation[] {
  const byRevision = new Map<number, Event[]>();
  for (const e of events) {
    const list = byRevision.get(e.kv.modRevision);
    if (list) list.push(e);
    else byRevision.set(e.kv.modRevision, [e]);
  }
  const out: WatchViolation[] = [];
  watches.forEach((watch, index) => {
    const report: Report = (guarantee, message) =>
      out.push({ guarantee, watch: index, client: watch.client, message });
    const seen = checkStream(watch, report);
    checkAgainstHistory(watch, seen, byRevision, report);
  });
  return out;
}

/** What the stream showed: its events (each (revision, key) once) and how far it got. */
interface Seen {
  events: Event[];
  lastEvent: number;
  lastProgress: number;
  compacted: boolean;
}

function checkStream(watch: WatchRecord, report: Report): Seen {
  const seen: Seen = { events: [], lastEvent: 0, lastProgress: 0, compacted: false };
  const delivered = new Set<string>();
  let canceled = false, lastOfPrevious = 0;
  for (const resp of watch.responses) {
    if (canceled && resp.events.length > 0) {
      report("canceled", "events after the watch was canceled");
    }
    if (resp.progressNotify) {
      if (resp.revision < seen.lastProgress) {
        report(
          "bookmarkable",
          `progress notification went back from ${seen.lastProgress} to ${resp.revision}`,
        );
      }
      seen.lastProgress = Math.max(seen.lastProgress, resp.revision);
      continue;
    }
    const first = resp.events[0]?.kv.modRevision;
    if (first !== undefined && first === lastOfPrevious) {
      report("atomic", `revision ${first} is split over two responses`);
    }
    for (const e of resp.events) {
      const rev = e.kv.modRevision, id = `${rev}\0${e.kv.key}`;
      if (rev < seen.lastEvent) {
        report("ordered", `revision ${rev} came after revision ${seen.lastEvent}`);
      }
      if (rev <= seen.lastProgress) {
        report(
          "bookmarkable",
          `revision ${rev} came after a progress notification for ${seen.lastProgress}`,
        );
      }
      checkEventFits(watch.request, e, report);
      if (delivered.has(id)) {
        report("unique", `${describeEvent(e)} delivered twice`);
        continue;
      }
      delivered.add(id);
      seen.events.push(e);
      seen.lastEvent = Math.max(seen.lastEvent, rev);
    }
    if (resp.events.length > 0) lastOfPrevious = resp.events.at(-1)!.kv.modRevision;
    canceled ||= resp.canceled === true;
    seen.compacted ||= resp.compactRevision !== undefined && resp.compactRevision > 0;
  }
  return seen;
}

/** The request's key range, filters and prev_kv option, on one event. */
function checkEventFits(request: WatchRequest, e: Event, report: Report): void {
  if (!inRange(e.kv.key, request.key, request.rangeEnd)) {
    const range = describeRange(request.key, request.rangeEnd);
    report("accurate", `${describeEvent(e)} is outside the watched range ${range}`);
  }
  const filter = e.type === "PUT" ? "NOPUT" : "NODELETE";
  if (request.filters?.includes(filter)) report("filter", `${describeEvent(e)} passed ${filter}`);
  if (!request.prevKv && e.prevKv) {
    report("prevKv", `${describeEvent(e)} has a prev_kv not asked for`);
  }
}

function checkAgainstHistory(
  watch: WatchRecord,
  seen: Seen,
  byRevision: Map<number, Event[]>,
  report: Report,
): void {
  if (seen.compacted) return;
  const request = watch.request;
  const from = startOf(watch, seen);
  if (from === undefined) return;
  const until = Math.max(seen.lastEvent, seen.lastProgress);
  const got = new Map<number, Event[]>();
  for (const e of seen.events) {
    const rev = e.kv.modRevision;
    if (rev < from) {
      const why = request.startRevision ? "resumable" : "accurate";
      report(why, `${describeEvent(e)} is older than the watch's start revision ${from}`);
    } else if (wanted(request, e)) {
      got.set(rev, [...got.get(rev) ?? [], e]);
    }
  }
  let first = true;
  for (let rev = from; rev <= until; rev++) {
    const want = (byRevision.get(rev) ?? []).filter((e) => wanted(request, e));
    const had = got.get(rev) ?? [];
    got.delete(rev);
    if (want.length === 0 && had.length === 0) continue;
    compareRevision(request, rev, want, had, first, report);
    first = false;
  }
  for (const [rev, events] of got) {
    for (const e of events) {
      report("accurate", `${describeEvent(e)} never happened (revision ${rev})`);
    }
  }
}

/**
 * The first revision the watch must report: the one asked for, else the one after its
 * creation response's header, else (not knowing when it began) its first event's.
 */
function startOf(watch: WatchRecord, seen: Seen): number | undefined {
  if (watch.request.startRevision) return watch.request.startRevision;
  if (watch.createdRevision !== undefined) return watch.createdRevision + 1;
  return seen.events[0]?.kv.modRevision;
}

function wanted(request: WatchRequest, e: Event): boolean {
  if (!inRange(e.kv.key, request.key, request.rangeEnd)) return false;
  return !request.filters?.includes(e.type === "PUT" ? "NOPUT" : "NODELETE");
}

/** One revision: all its matching events delivered, as they happened, or none at all. */
function compareRevision(
  request: WatchRequest,
  rev: number,
  want: Event[],
  had: Event[],
  first: boolean,
  report: Report,
): void {
  if (had.length === 0) {
    const missing = want.map(describeEvent).join("; ");
    if (first && request.startRevision) {
      report(
        "resumable",
        `a watch from revision ${request.startRevision} missed its first events: ${missing}`,
      );
    } else {
      report("reliable", `missed revision ${rev}: ${missing}`);
    }
    return;
  }
  for (const e of had) {
    const truth = want.find((w) => w.kv.key === e.kv.key);
    if (!truth || !sameEvent(truth, e)) {
      const what = truth ? `; it was ${describeEvent(truth)}` : "";
      report("accurate", `${describeEvent(e)} is not what happened at revision ${rev}${what}`);
    } else if (request.prevKv && !samePrev(truth.prevKv, e.prevKv)) {
      report(
        "prevKv",
        `${describeEvent(e)} has prev_kv ${describePrev(e.prevKv)}, ` +
          `the key's previous value was ${describePrev(truth.prevKv)}`,
      );
    }
  }
  const missing = want.filter((w) => !had.some((e) => e.kv.key === w.kv.key));
  if (missing.length > 0) {
    report("atomic", `revision ${rev} delivered without ${missing.map(describeEvent).join("; ")}`);
  }
}

/** A DELETE carries only its key and revision; a PUT the whole new key-value. */
function sameEvent(a: Event, b: Event): boolean {
  if (a.type !== b.type || a.kv.key !== b.kv.key || a.kv.modRevision !== b.kv.modRevision) {
    return false;
  }
  return a.type === "DELETE" || sameKv(a.kv, b.kv);
}

function samePrev(a: KeyValue | undefined, b: KeyValue | undefined): boolean {
  return a === undefined || b === undefined ? a === b : sameKv(a, b);
}

function describePrev(kv: KeyValue | undefined): string {
  return kv ? describeKv(kv) : "none";
}

export function describeEvent(e: Event): string {
  return e.type === "PUT"
    ? `PUT ${describeKv(e.kv)}`
    : `DELETE ${JSON.stringify(e.kv.key)} at revision ${e.kv.modRevision}`;
}
