// SETTINGS parameters (RFC 9113 §6.5.2): the typed view of what each endpoint advertised.
// Role-independent.

import { DEFAULT_MAX_FRAME_SIZE, type SettingPair } from "./frame.ts";

export const SettingId = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

export interface Settings {
  headerTableSize: number;
  enablePush: boolean;
  /** Infinity when the peer set no limit. */
  maxConcurrentStreams: number;
  initialWindowSize: number;
  maxFrameSize: number;
  /** Infinity when the peer set no limit. */
  maxHeaderListSize: number;
}

/** The values in force before a SETTINGS frame says otherwise. */
export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  headerTableSize: 4096,
  enablePush: true,
  maxConcurrentStreams: Infinity,
  initialWindowSize: 65535,
  maxFrameSize: DEFAULT_MAX_FRAME_SIZE,
  maxHeaderListSize: Infinity,
});

/** Applies received pairs (already range-checked by decodeFrame) to `s`; unknown ids ignored. */
export function applySettings(s: Settings, pairs: SettingPair[]): Settings {
  const next = { ...s };
  for (const [id, value] of pairs) {
    switch (id) {
      case SettingId.HEADER_TABLE_SIZE:
        next.headerTableSize = value;
        break;
      case SettingId.ENABLE_PUSH:
        next.enablePush = value === 1;
        break;
      case SettingId.MAX_CONCURRENT_STREAMS:
        next.maxConcurrentStreams = value;
        break;
      case SettingId.INITIAL_WINDOW_SIZE:
        next.initialWindowSize = value;
        break;
      case SettingId.MAX_FRAME_SIZE:
        next.maxFrameSize = value;
        break;
      case SettingId.MAX_HEADER_LIST_SIZE:
        next.maxHeaderListSize = value;
        break;
    }
  }
  return next;
}

/** The pairs to send to advertise `s`, omitting values equal to the protocol defaults. */
export function settingsPairs(s: Partial<Settings>): SettingPair[] {
  const pairs: SettingPair[] = [];
  const add = (id: number, v: number | undefined, dflt: number) => {
    if (v !== undefined && v !== dflt && Number.isFinite(v)) pairs.push([id, v]);
  };
  add(SettingId.HEADER_TABLE_SIZE, s.headerTableSize, DEFAULT_SETTINGS.headerTableSize);
  if (s.enablePush !== undefined && !s.enablePush) pairs.push([SettingId.ENABLE_PUSH, 0]);
  add(SettingId.MAX_CONCURRENT_STREAMS, s.maxConcurrentStreams, Infinity);
  add(SettingId.INITIAL_WINDOW_SIZE, s.initialWindowSize, DEFAULT_SETTINGS.initialWindowSize);
  add(SettingId.MAX_FRAME_SIZE, s.maxFrameSize, DEFAULT_SETTINGS.maxFrameSize);
  add(SettingId.MAX_HEADER_LIST_SIZE, s.maxHeaderListSize, Infinity);
  return pairs;
}
