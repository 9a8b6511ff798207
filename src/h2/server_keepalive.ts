// gRPC keepalive on a server connection, as grpc-go 1.33 (the gRPC of etcd 3.4) runs it for
// --grpc-keepalive-interval, --grpc-keepalive-timeout and --grpc-keepalive-min-time:
//  - KeepalivePinger: a connection that has read nothing for `intervalMs` gets a PING; when
//    still nothing arrives within `timeoutMs`, the connection is closed (no GOAWAY);
//  - PingStrikes: a client PING sooner than `minTimeMs` after the previous one (two hours
//    when no stream is open) is a strike, unless the server sent headers or data in between;
//    the third strike earns GOAWAY ENHANCE_YOUR_CALM "too_many_pings".
// Both take their clock and timers from the caller, so the node:http2 path can share them.

export interface KeepaliveParams {
  /** grpc's ServerParameters.Time: idle time before the server pings. */
  intervalMs: number;
  /** grpc's ServerParameters.Timeout: how long the ping may go unanswered. */
  timeoutMs: number;
  /** grpc's EnforcementPolicy.MinTime: the shortest interval allowed between client pings. */
  minTimeMs: number;
}

/** grpc-go's maxPingStrikes: the strike after these ends the connection. */
const MAX_PING_STRIKES = 2;
/** grpc-go's defaultPingTimeout: without open streams a client has no reason to ping sooner. */
const PING_WITHOUT_STREAMS_MS = 2 * 60 * 60 * 1000;

/** The GOAWAY debug data grpc-go sends a client that pings too often. */
export const TOO_MANY_PINGS = "too_many_pings";

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as number),
};

/** grpc-go's handlePing policy check, one per connection. */
export class PingStrikes {
  #strikes = 0;
  #lastPingAt = -Infinity;
  #sentSincePing = false;

  constructor(private readonly minTimeMs: number, private readonly clock: Clock = realClock) {}

  /** The server wrote headers or data: the next ping is forgiven and the count starts over. */
  sent(): void {
    this.#sentSincePing = true;
  }

  /** A client PING (not an ACK) arrived; true once the client has pinged too often. */
  ping(openStreams: number): boolean {
    const now = this.clock.now();
    const last = this.#lastPingAt;
    this.#lastPingAt = now;
    if (this.#sentSincePing) {
      this.#sentSincePing = false;
      this.#strikes = 0;
      return false;
    }
    const allowed = openStreams < 1 ? PING_WITHOUT_STREAMS_MS : this.minTimeMs;
    if (last + allowed > now) this.#strikes++;
    return this.#strikes > MAX_PING_STRIKES;
  }
}

/** grpc-go's keepalive loop for one connection. */
export class KeepalivePinger {
  #lastRead: number;
  #prevRead: number;
  #outstanding = false;
  #timeoutLeft = 0;
  #timer: unknown;
  #stopped = false;

  constructor(
    private readonly params: Pick<KeepaliveParams, "intervalMs" | "timeoutMs">,
    private readonly conn: { ping(): void; close(): void },
    private readonly clock: Clock = realClock,
  ) {
    this.#lastRead = this.#prevRead = clock.now();
    this.#schedule(params.intervalMs);
  }

  /** Anything arrived from the client (frames, ping answers): the connection is alive. */
  read(): void {
    this.#lastRead = this.clock.now();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = this.clock.setTimeout(() => this.#tick(), Math.max(0, ms));
  }

  #tick(): void {
    this.#timer = undefined;
    const { intervalMs, timeoutMs } = this.params;
    if (this.#lastRead > this.#prevRead) {
      // Read activity since the last look: the next look is an interval after that read.
      this.#outstanding = false;
      this.#prevRead = this.#lastRead;
      return this.#schedule(this.#lastRead + intervalMs - this.clock.now());
    }
    if (this.#outstanding && this.#timeoutLeft <= 0) {
      this.stop();
      return this.conn.close();
    }
    if (!this.#outstanding) {
      this.conn.ping();
      this.#outstanding = true;
      this.#timeoutLeft = timeoutMs;
    }
    // Sleep until the next ping is due or the answer is late, whichever comes first.
    const sleep = Math.min(intervalMs, this.#timeoutLeft);
    this.#timeoutLeft -= sleep;
    this.#schedule(sleep);
  }
}

/** Both halves of keepalive for one connection. */
export class ConnectionKeepalive {
  readonly #pinger: KeepalivePinger;
  readonly #strikes: PingStrikes;

  constructor(
    params: KeepaliveParams,
    conn: { ping(): void; close(): void },
    clock: Clock = realClock,
  ) {
    this.#strikes = new PingStrikes(params.minTimeMs, clock);
    this.#pinger = new KeepalivePinger(params, conn, clock);
  }

  /** Bytes arrived from the client. */
  read(): void {
    this.#pinger.read();
  }

  /** The server wrote headers or data on a stream. */
  sent(): void {
    this.#strikes.sent();
  }

  /** A client PING; true when the connection must end with ENHANCE_YOUR_CALM. */
  ping(openStreams: number): boolean {
    return this.#strikes.ping(openStreams);
  }

  stop(): void {
    this.#pinger.stop();
  }
}
