// A v2 event (etcd's store.Event): what a write did, as the API and watchers show it.
import type { NodeExtern } from "./node.ts";

export type Action =
  | "get"
  | "set"
  | "create"
  | "update"
  | "delete"
  | "compareAndSwap"
  | "compareAndDelete"
  | "expire";

export interface V2Event {
  action: Action;
  node?: NodeExtern;
  prevNode?: NodeExtern;
  /** The store index the answer reports (X-Etcd-Index); not part of the JSON. */
  etcdIndex: number;
  /** TTL refreshes are kept in the history but never wake watchers. */
  refresh?: true;
}

/** The event's own index: the index of the write that made it. */
export function eventIndex(e: V2Event): number {
  return e.node?.modifiedIndex ?? 0;
}

/** The JSON body etcd sends for an event. */
export function eventJSON(
  e: V2Event,
): { action: Action; node?: NodeExtern; prevNode?: NodeExtern } {
  const out: { action: Action; node?: NodeExtern; prevNode?: NodeExtern } = { action: e.action };
  if (e.node) out.node = e.node;
  if (e.prevNode) out.prevNode = e.prevNode;
  return out;
}

/** etcd answers 201 for a create, or a set that made a new node. */
export function isCreated(e: V2Event): boolean {
  return e.action === "create" || (e.action === "set" && e.prevNode === undefined);
}
