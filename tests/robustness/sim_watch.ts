// Self-test support: watches as a correct server delivers them, cut from the events that
// happened, and single faults each of which breaks one watch guarantee.

import { inRange, prefixEnd } from "./keys.ts";
import { KEYS } from "./sim_kv.ts";
import type { Guarantee } from "./watch.ts";
import type { Event, WatchRecord, WatchRequest, WatchResponse } from "./types.ts";

export interface WatchPlan {
  client: number;
  key: number;
  span: "key" | "prefix" | "all";
  /** 0: from the creation; else picks the start revision. */
  start: number;
  /** Picks the revision the watch was created at (for start 0). */
  created: number;
  prevKv: boolean;
  filter: "" | "NOPUT" | "NODELETE";
  /** Free choices deciding where responses end and progress notifications go. */
  cuts: number[];
  /** Picks the last revision the watch reached. */
  stop: number;
}

export function simulateWatch(plan: WatchPlan, events: Event[], revision: number): WatchRecord {
  const key = plan.span === "all" ? "\0" : KEYS[plan.key % KEYS.length];
  const request: WatchRequest = { key, prevKv: plan.prevKv };
  if (plan.span !== "key") request.rangeEnd = plan.span === "all" ? "\0" : prefixEnd(key);
  if (plan.filter) request.filters = [plan.filter];
  const record: WatchRecord = { client: plan.client, request, responses: [] };
  let from: number;
  if (plan.start === 0) {
    record.createdRevision = 1 + plan.created % revision;
    from = record.createdRevision + 1;
  } else {
    from = request.startRevision = 1 + plan.start % revision;
  }
  const stop = from - 1 + plan.stop % (revision - from + 2);
  const groups = groupByRevision(
    events.filter((e) => {
      const rev = e.kv.modRevision;
      return rev >= from && rev <= stop && inRange(e.kv.key, request.key, request.rangeEnd) &&
        !request.filters?.includes(e.type === "PUT" ? "NOPUT" : "NODELETE");
    }).map((e) => plan.prevKv || !e.prevKv ? e : { type: e.type, kv: e.kv }),
  );
  record.responses = respond(groups, plan.cuts, from, stop);
  return record;
}

function groupByRevision(events: Event[]): Event[][] {
  const groups: Event[][] = [];
  for (const e of events) {
    const last = groups.at(-1);
    if (last && last[0].kv.modRevision === e.kv.modRevision) last.push(e);
    else groups.push([e]);
  }
  return groups;
}

/** Whole revisions per response; now and then a progress notification between them. */
function respond(groups: Event[][], cuts: number[], from: number, stop: number): WatchResponse[] {
  const out: WatchResponse[] = [];
  let current: Event[] = [], delivered = from - 1;
  const cut = (i: number) => cuts.length ? cuts[i % cuts.length] : 0;
  const flush = () => {
    if (current.length === 0) return;
    out.push({ revision: current.at(-1)!.kv.modRevision, events: current });
    delivered = current.at(-1)!.kv.modRevision;
    current = [];
  };
  groups.forEach((group, i) => {
    current.push(...group);
    if (cut(i) % 3 !== 0 && i < groups.length - 1) return;
    flush();
    const next = groups[i + 1]?.[0].kv.modRevision ?? stop + 1;
    if (cut(i) % 2 === 0 && next > delivered) {
      out.push({
        revision: delivered + (cut(i + 1) % (next - delivered)),
        events: [],
        progressNotify: true,
      });
    }
  });
  flush();
  return out;
}

/** One fault in one watch's stream, and the guarantee it breaks; undefined if it has none. */
export type WatchFault = (record: WatchRecord, events: Event[], pick: number) =>
  | { record: WatchRecord; breaks: Guarantee }
  | undefined;

const withResponses = (record: WatchRecord, responses: WatchResponse[]) => ({
  ...record,
  responses,
});

/** Positions of the delivered events: [response, index]. */
function positions(record: WatchRecord): [number, number][] {
  return record.responses.flatMap((r, i) => r.events.map((_, j) => [i, j] as [number, number]));
}

export const duplicate: WatchFault = (record, _events, pick) => {
  const all = positions(record);
  if (all.length === 0) return undefined;
  const [i, j] = all[pick % all.length];
  const responses = record.responses.map((r, k) =>
    k === i ? { ...r, events: r.events.toSpliced(j, 0, r.events[j]) } : r
  );
  return { record: withResponses(record, responses), breaks: "unique" };
};

/** A whole revision dropped, with a later one delivered: a hole in the stream. */
export const gap: WatchFault = (record, _events, pick) => {
  const revs = [...new Set(record.responses.flatMap((r) => r.events.map((e) => e.kv.modRevision)))];
  if (revs.length < 3) return undefined;
  const rev = revs[1 + pick % (revs.length - 2)];
  const responses = record.responses.map((r) => ({
    ...r,
    events: r.events.filter((e) => e.kv.modRevision !== rev),
  })).filter((r) => r.events.length > 0 || r.progressNotify);
  return { record: withResponses(record, responses), breaks: "reliable" };
};

/** Two consecutive event-carrying responses delivered the wrong way round. */
export const reorder: WatchFault = (record, _events, pick) => {
  const carrying = record.responses.map((r, i) => [r, i] as const).filter(([r]) => r.events.length);
  if (carrying.length < 2) return undefined;
  const at = pick % (carrying.length - 1);
  const [i, j] = [carrying[at][1], carrying[at + 1][1]];
  const responses = [...record.responses];
  [responses[i], responses[j]] = [responses[j], responses[i]];
  return { record: withResponses(record, responses), breaks: "ordered" };
};

/** A revision with several events cut in two responses. */
export const split: WatchFault = (record) => {
  for (const [i, r] of record.responses.entries()) {
    for (let j = 1; j < r.events.length; j++) {
      if (r.events[j].kv.modRevision !== r.events[j - 1].kv.modRevision) continue;
      const first = { ...r, events: r.events.slice(0, j) },
        second = { ...r, events: r.events.slice(j) };
      return {
        record: withResponses(record, record.responses.toSpliced(i, 1, first, second)),
        breaks: "atomic",
      };
    }
  }
  return undefined;
};

export const wrongPrevKv: WatchFault = (record, _events, pick) => {
  if (!record.request.prevKv) return undefined;
  const all = positions(record);
  if (all.length === 0) return undefined;
  const [i, j] = all[pick % all.length];
  const e = record.responses[i].events[j];
  const bad = e.prevKv
    ? { ...e, prevKv: { ...e.prevKv, value: e.prevKv.value + "~" } }
    : { ...e, prevKv: { ...e.kv, value: "never", version: 1 } };
  const responses = record.responses.map((r, k) =>
    k === i ? { ...r, events: r.events.toSpliced(j, 1, bad) } : r
  );
  return { record: withResponses(record, responses), breaks: "prevKv" };
};

/** An event the filter removes, delivered anyway (in its place in the stream). */
export const filterBreach: WatchFault = (record, events, pick) => {
  const filter = record.request.filters?.[0];
  const last = record.responses.findLast((r) => r.events.length)?.events.at(-1)?.kv.modRevision;
  if (!filter || last === undefined) return undefined;
  const type = filter === "NOPUT" ? "PUT" : "DELETE";
  const from = record.request.startRevision || record.createdRevision! + 1;
  const hidden = events.filter((e) =>
    e.type === type && e.kv.modRevision >= from && e.kv.modRevision <= last &&
    inRange(e.kv.key, record.request.key, record.request.rangeEnd)
  );
  if (hidden.length === 0) return undefined;
  const e = hidden[pick % hidden.length];
  const shown = record.request.prevKv ? e : { type: e.type, kv: e.kv };
  const rev = e.kv.modRevision;
  const i = record.responses.findIndex((r) => r.events.some((x) => x.kv.modRevision >= rev));
  const inserted = { revision: rev, events: [shown] };
  const target = record.responses[i];
  const responses = target.events.some((x) => x.kv.modRevision === rev)
    ? record.responses.toSpliced(i, 1, {
      ...target,
      events: [...target.events, shown].sort(byRevision),
    })
    : record.responses.toSpliced(i, 0, inserted);
  return { record: withResponses(record, responses), breaks: "filter" };
};

/** A progress notification for a revision whose events come after it. */
export const earlyProgress: WatchFault = (record, _events, pick) => {
  const carrying = record.responses.map((r, i) => [r, i] as const).filter(([r]) => r.events.length);
  if (carrying.length === 0) return undefined;
  const [r, i] = carrying[pick % carrying.length];
  const notify = { revision: r.events[0].kv.modRevision, events: [], progressNotify: true };
  return {
    record: withResponses(record, record.responses.toSpliced(i, 0, notify)),
    breaks: "bookmarkable",
  };
};

function byRevision(a: Event, b: Event): number {
  return a.kv.modRevision - b.kv.modRevision;
}
