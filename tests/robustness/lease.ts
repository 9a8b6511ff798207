// etcd's lease guarantee: once a lease has expired or been revoked, no member serves a key
// attached to it.

import { describeKv } from "./state.ts";
import type { KeyValue } from "./types.ts";

/** A member's answer to a final read of the whole key space. */
export interface MemberRead {
  member: string;
  kvs: KeyValue[];
}

/** The keys a member still serves under a lease that `ended`; empty when the guarantee holds. */
export function checkLeaseKeysGone(ended: Iterable<number>, reads: MemberRead[]): string[] {
  const gone = new Set(ended);
  const out: string[] = [];
  for (const read of reads) {
    for (const kv of read.kvs) {
      if (kv.lease !== 0 && gone.has(kv.lease)) {
        out.push(
          `member ${read.member} still serves ${describeKv(kv)} after lease ${kv.lease} ended`,
        );
      }
    }
  }
  return out;
}
