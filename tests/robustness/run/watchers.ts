// Watchers of the run's keys. Each keeps one watch open at a time on one member, with its own
// options (prev_kv, a filter), asks for progress notifications, and now and then, or when the
// stream breaks, opens a new watch where the last one stopped (on another member if it broke).
// At the end each is driven to the final revision, so every revision is checked on some watch.

import { sleep } from "../../helpers/wait.ts";
import type { WatchRecord, WatchRequest } from "../mod.ts";
import type { Session } from "./session.ts";
import { WatchStream } from "./watch_stream.ts";

/** How long a watcher waits for its watch to reach the final revision before giving up. */
const CATCH_UP_MS = 60_000;

export class Watcher {
  readonly records: WatchRecord[] = [];
  /** The revision to reach before stopping; unset while the traffic runs. */
  target?: number;
  /** Set when the final revision could not be reached in time. */
  stuck?: string;
  private from = 0;
  private done = false;
  private deadline = Infinity;
  /** How the last broken watch ended, for the report. */
  private lastEnd?: string;

  constructor(
    readonly client: number,
    readonly session: Session,
    readonly base: WatchRequest,
    readonly random: () => number,
  ) {}

  /** Runs until `finish` has been called and the watch has reached the target. */
  async run(): Promise<void> {
    while (!this.done) {
      const stream = await this.open();
      if (!stream) {
        await sleep(200);
        if (performance.now() > this.deadline) this.giveUp("no member to watch on");
        continue;
      }
      await this.follow(stream);
      stream.cancel();
      await stream.ended;
      if (stream.reached > 0) this.from = stream.reached + 1;
    }
  }

  /** From now on, stop once revision `at` has been reported. */
  finish(at: number): void {
    this.target = at;
    this.deadline = performance.now() + CATCH_UP_MS;
  }

  private async open(): Promise<WatchStream | undefined> {
    try {
      const conn = await this.session.connection();
      const request = { ...this.base };
      if (this.from > 0) request.startRevision = this.from;
      const stream = new WatchStream(conn, this.client, request);
      this.records.push(stream.record);
      return stream;
    } catch {
      return undefined;
    }
  }

  /** Keeps asking for progress until the watch should end: its time is up, or it broke. */
  private async follow(stream: WatchStream): Promise<void> {
    const lifetime = performance.now() + 3_000 + this.random() * 9_000;
    while (!stream.isClosed) {
      if (this.target !== undefined && stream.reached >= this.target) {
        this.done = true;
        return;
      }
      if (performance.now() > this.deadline) {
        return this.giveUp(`reached ${stream.reached} of ${this.target}`);
      }
      if (this.target === undefined && performance.now() > lifetime) return;
      stream.requestProgress();
      await Promise.race([stream.ended, sleep(this.target === undefined ? 1_000 : 200)]);
    }
    // Broken by the member or the network: the next watch goes to another member.
    this.lastEnd = `${stream.endReason ?? "ended"} on m${this.session.member}`;
    this.session.next();
  }

  private giveUp(why: string): void {
    this.stuck = this.lastEnd ? `${why} (the last watch: ${this.lastEnd})` : why;
    this.done = true;
  }
}

/** The options of watcher `w`: every other one asks for prev_kv, a few filter. */
export function watchOptions(w: number, key: string, rangeEnd: string): WatchRequest {
  const request: WatchRequest = { key, rangeEnd, prevKv: w % 2 === 0 };
  if (w % 4 === 1) request.filters = ["NOPUT"];
  if (w % 4 === 3) request.filters = ["NODELETE"];
  return request;
}
