// Replays a linearization: the events it produced, which is what every watch should have
// seen.

import type { PreparedOp } from "./history.ts";
import { step } from "./model.ts";
import { type Change, KvState } from "./state.ts";
import type { Event, InitialState } from "./types.ts";

export interface Replayed {
  /** Every event, in revision order; within a revision, in the order etcd applies them. */
  events: Event[];
  /** The store's revision after the last operation. */
  revision: number;
}

export function replay(ops: PreparedOp[], initial: InitialState, order: number[]): Replayed {
  const state = new KvState(initial);
  const events: Event[] = [];
  for (const id of order) {
    const from = state.revision, mark = state.mark();
    step(state, ops[id].request);
    if (state.revision === from) continue;
    if (state.revision !== from + 1) {
      throw new Error(`revision jumped from ${from} to ${state.revision}`);
    }
    for (const change of state.changesSince(mark)) events.push(toEvent(change, state.revision));
  }
  return { events, revision: state.revision };
}

/** The event etcd emits for one key changed at `revision`. */
export function toEvent(change: Change, revision: number): Event {
  if (change.next) {
    return change.prev
      ? { type: "PUT", kv: change.next, prevKv: change.prev }
      : { type: "PUT", kv: change.next };
  }
  const kv = {
    key: change.key,
    value: "",
    createRevision: 0,
    modRevision: revision,
    version: 0,
    lease: 0,
  };
  return { type: "DELETE", kv, prevKv: change.prev };
}
