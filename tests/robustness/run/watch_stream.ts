// One gRPC Watch stream carrying one watch, recorded as the checker reads it (a WatchRecord):
// the creation response's revision, then every response as it arrived.

import {
  type ClientConnection,
  type ClientStream,
  grpcRequestHeaders,
  readGrpcStatus,
  type StreamHandler,
} from "../../support/h2/mod.ts";
import { Deframer, frameMessage } from "../../../src/api/mod.ts";
import type { HeaderList } from "../../../src/h2/mod.ts";
import { messages, WatchCreateRequest_FilterType } from "../../../src/pb/mod.ts";
import type { WatchRecord, WatchRequest } from "../mod.ts";
import { bytes, toEvent } from "./codec.ts";

const FILTERS = {
  NOPUT: WatchCreateRequest_FilterType.NOPUT,
  NODELETE: WatchCreateRequest_FilterType.NODELETE,
};

export class WatchStream implements StreamHandler {
  readonly record: WatchRecord;
  /** The highest revision the watch has reported: events and progress notifications. */
  reached = 0;
  /** Resolves when the stream is over, either way. */
  readonly ended: Promise<void>;
  private readonly stream: ClientStream;
  private readonly deframer = new Deframer(16 * 1024 * 1024);
  private end!: () => void;
  private progressed: { at: number; resolve(): void }[] = [];
  private closed = false;
  /** Why the stream ended, when the server or the connection ended it. */
  endReason?: string;

  constructor(conn: ClientConnection, client: number, request: WatchRequest) {
    this.record = { client, request, responses: [] };
    this.ended = new Promise((r) => this.end = r);
    const headers = grpcRequestHeaders(conn.authority, "/etcdserverpb.Watch/Watch");
    const create = messages["etcdserverpb.WatchRequest"].encode({
      createRequest: {
        key: bytes(request.key),
        rangeEnd: request.rangeEnd === undefined ? undefined : bytes(request.rangeEnd),
        startRevision: request.startRevision,
        prevKv: request.prevKv,
        filters: request.filters?.map((f) => FILTERS[f]),
      },
    });
    this.stream = conn.request(headers, this, frameMessage(create), false);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  onHeaders(headers: HeaderList, endStream: boolean): void {
    const status = endStream ? readGrpcStatus(headers) : undefined;
    if (status) this.endReason = `grpc-status ${status.code}: ${status.message}`;
  }

  onData(data: Uint8Array): void {
    try {
      for (const m of this.deframer.push(data)) this.onResponse(m);
    } catch {
      this.cancel();
    }
  }

  private onResponse(bytes: Uint8Array): void {
    const res = messages["etcdserverpb.WatchResponse"].decode(bytes);
    const revision = res.header?.revision ?? 0;
    if (res.created && this.record.createdRevision === undefined && !res.canceled) {
      this.record.createdRevision = revision;
      // From a start revision, nothing before it is promised yet; else all up to the header.
      const start = this.record.request.startRevision;
      this.reach(start ? start - 1 : revision);
      return;
    }
    const events = res.events.map(toEvent);
    const progressNotify = events.length === 0 && !res.canceled && res.compactRevision === 0;
    this.record.responses.push({
      revision,
      events,
      progressNotify: progressNotify || undefined,
      canceled: res.canceled || undefined,
      compactRevision: res.compactRevision || undefined,
    });
    this.reach(progressNotify ? revision : events.at(-1)?.kv.modRevision ?? 0);
    if (res.canceled) this.cancel();
  }

  private reach(revision: number): void {
    this.reached = Math.max(this.reached, revision);
    this.progressed = this.progressed.filter((p) => {
      if (p.at > this.reached) return true;
      p.resolve();
      return false;
    });
  }

  onClose(error?: Error): void {
    if (error) this.endReason ??= error.message;
    this.closed = true;
    this.end();
  }

  /** Asks for a progress notification (etcd answers once the stream's watchers are synced). */
  requestProgress(): void {
    if (this.closed) return;
    const msg = messages["etcdserverpb.WatchRequest"].encode({ progressRequest: {} });
    try {
      this.stream.write(frameMessage(msg));
    } catch {
      this.cancel();
    }
  }

  /** Resolves once the watch has reported revision `at`, or the stream ended. */
  until(at: number): Promise<void> {
    if (this.reached >= at || this.closed) return Promise.resolve();
    return Promise.race([
      new Promise<void>((resolve) => this.progressed.push({ at, resolve })),
      this.ended,
    ]);
  }

  cancel(): void {
    if (!this.closed) this.stream.reset();
  }
}
