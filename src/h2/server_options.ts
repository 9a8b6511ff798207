// What a lean server connection is given, and the settings that come of it: what the
// connection enforces, and what its first SETTINGS frame announces to the client.

import { DEFAULT_MAX_FRAME_SIZE, type SettingPair } from "./frame.ts";
import type { KeepaliveParams } from "./server_keepalive.ts";
import type { H2ServerStream } from "./server_request.ts";
import { DEFAULT_SETTINGS, SettingId, type Settings } from "./settings.ts";

export interface ServerConnectionOptions {
  /** Called for each new request stream, synchronously after its headers arrived. */
  onStream(stream: H2ServerStream): void;
  /** SETTINGS_MAX_CONCURRENT_STREAMS; streams beyond it are refused. Default 2^32-1. */
  maxConcurrentStreams?: number;
  /** Our per-stream receive window. Default 1 MiB. */
  initialWindowSize?: number;
  /** Our connection receive window. Default 16 MiB. */
  connectionWindowSize?: number;
  /** SETTINGS_MAX_FRAME_SIZE we accept. Default 16 KiB. */
  maxFrameSize?: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE (decoded size, RFC 7541 §4.1). Default 64 KiB. */
  maxHeaderListSize?: number;
  /** gRPC keepalive: pings to idle clients, and the limit on clients' pings. Default none. */
  keepalive?: KeepaliveParams;
}

/** Our settings: the options, else the defaults; push is never enabled. */
export function localSettings(opts: ServerConnectionOptions): Settings {
  return {
    ...DEFAULT_SETTINGS,
    enablePush: false,
    maxConcurrentStreams: opts.maxConcurrentStreams ?? 0xffffffff,
    initialWindowSize: opts.initialWindowSize ?? 1024 * 1024,
    maxFrameSize: opts.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE,
    maxHeaderListSize: opts.maxHeaderListSize ?? 64 * 1024,
  };
}

/** What our first SETTINGS frame tells the client (the rest it assumes at their defaults). */
export function announced(local: Settings): SettingPair[] {
  return [
    [SettingId.MAX_CONCURRENT_STREAMS, local.maxConcurrentStreams],
    [SettingId.INITIAL_WINDOW_SIZE, local.initialWindowSize],
    [SettingId.MAX_FRAME_SIZE, local.maxFrameSize],
    [SettingId.MAX_HEADER_LIST_SIZE, local.maxHeaderListSize],
  ];
}
