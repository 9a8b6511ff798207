// The per-stream send buffer: responses go to the transport one at a time, in order, each
// after the previous send's promise resolved. Its byte count is what bounds a stream's memory.

import { mvccMetrics } from "../metrics/mod.ts";
import type { WatchResponse, WatchSend } from "./watcher_hub_types.ts";

interface Item {
  resp: WatchResponse;
  size: number;
}

export class SendQueue {
  #items: (Item | undefined)[] = [];
  #head = 0;
  #bytes = 0;
  #events = 0;
  #busy = false;
  #scheduled = false;
  #closed = false;

  constructor(
    private readonly send: WatchSend,
    // Called after each response has been taken by the transport.
    private readonly onSent: () => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  get bytes(): number {
    return this.#bytes;
  }

  /** Events in the responses waiting (etcd's pending events). */
  get events(): number {
    return this.#events;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(resp: WatchResponse, size: number): void {
    if (this.#closed) return;
    this.#items.push({ resp, size });
    this.#bytes += size;
    this.#events += resp.events.length;
    // Sending starts in a microtask: the caller (notify, on the write path) only enqueues.
    if (!this.#busy && !this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => {
        this.#scheduled = false;
        this.#pump();
      });
    }
  }

  close(): void {
    this.#closed = true;
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#events = 0;
  }

  #pump(): void {
    // #busy also covers a synchronous send, so a push from inside `send` cannot overtake.
    while (!this.#busy && !this.#closed && this.length > 0) {
      const item = this.#items[this.#head]!;
      this.#busy = true;
      let pending: Promise<void> | void;
      try {
        pending = this.send(item.resp);
      } catch (err) {
        this.onError(err);
        return;
      }
      if (pending instanceof Promise) {
        pending.then(() => {
          this.#busy = false;
          this.#taken();
          this.#pump();
        }, (err) => this.onError(err));
        return;
      }
      this.#busy = false;
      this.#taken();
    }
  }

  #taken(): void {
    if (this.#closed) return;
    const item = this.#items[this.#head]!;
    this.#items[this.#head++] = undefined;
    this.#bytes -= item.size;
    this.#events -= item.resp.events.length;
    mvccMetrics.events.inc(item.resp.events.length); // sent, as etcd counts them
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    this.onSent();
  }
}
