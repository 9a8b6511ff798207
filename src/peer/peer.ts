// One member this member talks to (etcd's peer): two stream writers the peer's readers attach
// to, two stream readers dialling the peer, a pipeline for when no stream is up, and a prober.
// A MsgApp goes by the msgappv2 stream, anything else by the message stream, and either by the
// pipeline while its stream is down; snapshots go by their own upload (snapshot_sender.ts).
import type http from "node:http";
import { type Message, MessageType } from "../raft/mod.ts";
import { networkMetrics } from "../metrics/mod.ts";
import type { StreamType } from "./codec.ts";
import { type PeerContext, UrlPicker } from "./context.ts";
import { PeerStatus } from "./peer_status.ts";
import { Pipeline } from "./pipeline.ts";
import { PeerProber } from "./prober.ts";
import { StreamReader } from "./stream_reader.ts";
import { StreamWriter } from "./stream_writer.ts";
import { hexId } from "./wire.ts";

export class Peer {
  readonly status: PeerStatus;
  readonly picker: UrlPicker;
  readonly #writers: Record<StreamType, StreamWriter>;
  readonly #readers: StreamReader[];
  readonly #pipeline: Pipeline;
  readonly #prober: PeerProber;

  constructor(readonly id: bigint, urls: () => string[], readonly ctx: PeerContext) {
    const hex = hexId(id);
    this.#log(`starting peer ${hex}...`, "starting remote peer");
    this.status = new PeerStatus(id, ctx.localId, ctx.logger);
    this.picker = new UrlPicker(urls);
    this.#pipeline = new Pipeline(id, this.picker, this.status, ctx);
    this.#writers = {
      msgappv2: new StreamWriter("msgappv2", id, this.status, ctx),
      message: new StreamWriter("message", id, this.status, ctx),
    };
    this.#readers = (["msgappv2", "message"] as const).map((t) =>
      new StreamReader(t, id, this.picker, this.status, ctx)
    );
    this.#prober = new PeerProber(id, urls, ctx);
    this.#log(`started peer ${hex}`, "started remote peer");
  }

  send(m: Message): void {
    const [queue, name] = this.#pick(m);
    if (queue.send(m)) return;
    this.ctx.reportUnreachable(m.to);
    const id = hexId(this.id);
    const text = `dropped internal raft message to ${id} since ${name}'s sending buffer is full ` +
      "(bad/overloaded network)";
    const fields = { "message-type": MessageType[m.type], "remote-peer-id": id };
    if (this.status.active) {
      if (this.ctx.limiter.allow(`full:${id}:${name}`)) {
        this.ctx.logger.warn({
          pkg: "rafthttp",
          text,
          msg: "dropped internal Raft message since sending buffer is full (overloaded network)",
          fields: { ...fields, "remote-peer-active": true },
        });
      }
    } else {
      this.ctx.logger.debug({
        pkg: "rafthttp",
        text: `dropped ${MessageType[m.type]} to ${id} since ${name}'s sending buffer is full`,
      });
    }
    networkMetrics.peerSentFailures.labels({ To: id }).inc();
  }

  /** A stream request from the peer: its response carries our messages from now on. */
  attach(type: StreamType, res: http.ServerResponse): void {
    this.#writers[type].attach(res);
  }

  /** The peer's URLs changed (a member update). */
  refresh(): void {
    for (const r of this.#readers) r.refresh();
  }

  close(): void {
    const hex = hexId(this.id);
    this.#log(`stopping peer ${hex}...`, "stopping remote peer");
    this.#writers.msgappv2.close();
    this.#writers.message.close();
    this.#pipeline.close();
    this.#prober.close();
    for (const r of this.#readers) void r.close();
    this.status.close();
    this.#log(`stopped peer ${hex}`, "stopped remote peer");
  }

  #log(text: string, msg: string): void {
    this.ctx.logger.info({
      pkg: "rafthttp",
      text,
      msg,
      fields: { "remote-peer-id": hexId(this.id) },
    });
  }

  // etcd's peer.pick (a MsgSnap never comes here: snapshots go by their own upload).
  #pick(m: Message): [{ send(m: Message): boolean }, string] {
    const app = this.#writers.msgappv2;
    if (app.working && m.type === MessageType.MsgApp) return [app, "streamMsgAppV2"];
    const msg = this.#writers.message;
    if (msg.working) return [msg, "streamMsg"];
    return [this.#pipeline, "pipeline"];
  }
}

/** A member known only by the URLs it announced (etcd's remote): a pipeline, nothing more. */
export class Remote {
  readonly status: PeerStatus;
  readonly #pipeline: Pipeline;

  constructor(readonly id: bigint, readonly urls: string[], readonly ctx: PeerContext) {
    this.status = new PeerStatus(id, ctx.localId, ctx.logger);
    this.#pipeline = new Pipeline(id, new UrlPicker(() => this.urls), this.status, ctx);
  }

  send(m: Message): void {
    if (this.#pipeline.send(m)) return;
    const id = hexId(this.id);
    if (this.status.active && this.ctx.limiter.allow(`full:${id}`)) {
      this.ctx.logger.warn({
        pkg: "rafthttp",
        text: `dropped internal raft message to ${id} since sending buffer is full ` +
          "(bad/overloaded network)",
        msg: "dropped internal Raft message since sending buffer is full (overloaded network)",
        fields: { "message-type": MessageType[m.type], "remote-peer-id": id },
      });
    }
    networkMetrics.peerSentFailures.labels({ To: id }).inc();
  }

  close(): void {
    this.#pipeline.close();
    this.status.close();
  }
}
