// The response side of a client connection: each response's header blocks through the
// connection's HPACK decoder (informational 1xx blocks skipped) and its DATA, counted against
// the connection's and the stream's receive windows, which WINDOW_UPDATEs reopen (RFC 9113
// §6.9). Data for a stream already closed still counts against the connection.

import { ErrorCode, H2Error, HeaderListSizeError } from "./errors.ts";
import type { ReceiveWindow } from "./flow.ts";
import { type DataFrame, flowControlledLength, type HeadersFrame } from "./frame.ts";
import type { HeaderList } from "./hpack.ts";
import type { HpackDecoder } from "./hpack_decoder.ts";
import type { ClientStream } from "./client_stream.ts";
import type { FrameWriter } from "./writer.ts";

/** What the response side reads of its connection. */
export interface ReceiverHost {
  readonly streams: Map<number, ClientStream>;
  /** Throws for a frame on a stream id we never opened. */
  checkNotIdle(id: number): void;
  /** The stream is over (both sides ended it). */
  finishStream(s: ClientStream): void;
}

export class ResponseReceiver {
  constructor(
    private readonly writer: FrameWriter,
    /** The connection's HPACK decoder; its table size follows our acknowledged SETTINGS. */
    readonly decoder: HpackDecoder,
    private readonly connRecv: ReceiveWindow,
    private readonly host: ReceiverHost,
  ) {}

  private get streams(): Map<number, ClientStream> {
    return this.host.streams;
  }

  private checkNotIdle(id: number): void {
    this.host.checkNotIdle(id);
  }

  private finishStream(s: ClientStream): void {
    this.host.finishStream(s);
  }

  onData(f: DataFrame): void {
    const len = flowControlledLength(f);
    this.connRecv.consume(len);
    const s = this.streams.get(f.streamId);
    if (!s) {
      this.checkNotIdle(f.streamId);
      this.releaseConnection(len); // a stream we already closed: its bytes still count
      return;
    }
    if (!s.sawHeaders || s.remoteEnded) {
      this.releaseConnection(len);
      const msg = s.remoteEnded ? "DATA after END_STREAM" : "DATA before HEADERS";
      throw new H2Error(
        s.remoteEnded ? ErrorCode.STREAM_CLOSED : ErrorCode.PROTOCOL_ERROR,
        msg,
        f.streamId,
      );
    }
    s.recvWindow.consume(len);
    this.releaseConnection(len);
    if (f.endStream) s.remoteEnded = true;
    else {
      const inc = s.recvWindow.release(len);
      if (inc > 0) this.writer.windowUpdate(s.id, inc);
    }
    s.handler.onData(f.data, f.endStream);
    if (f.endStream) this.remoteEnd(s);
  }

  onHeaderBlock(f: HeadersFrame, block: Uint8Array): void {
    let headers: HeaderList;
    try {
      headers = this.decoder.decode(block); // always decode: the HPACK state is shared
    } catch (err) {
      if (err instanceof HeaderListSizeError) {
        throw new H2Error(ErrorCode.PROTOCOL_ERROR, err.message, f.streamId);
      }
      throw err;
    }
    const s = this.streams.get(f.streamId);
    if (!s) {
      this.checkNotIdle(f.streamId);
      return;
    }
    if (s.remoteEnded) {
      throw new H2Error(ErrorCode.STREAM_CLOSED, "HEADERS after END_STREAM", f.streamId);
    }
    if (!s.sawHeaders && !f.endStream && isInformational(headers)) return;
    s.sawHeaders = true;
    if (f.endStream) s.remoteEnded = true;
    s.handler.onHeaders(headers, f.endStream);
    if (f.endStream) this.remoteEnd(s);
  }

  private remoteEnd(s: ClientStream): void {
    if (s.localEnded) this.finishStream(s);
  }

  private releaseConnection(n: number): void {
    const inc = this.connRecv.release(n);
    if (inc > 0) this.writer.windowUpdate(0, inc);
  }
}

function isInformational(headers: HeaderList): boolean {
  for (const [name, value] of headers) if (name === ":status") return value.startsWith("1");
  return false;
}
