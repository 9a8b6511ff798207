// Cluster alarms (etcd's alarm store): NOSPACE when a member's backend exceeds its quota,
// CORRUPT on a hash mismatch. Changed only through raft, persisted beside the key space.
import type { AuxBuckets } from "../mvcc/mod.ts";
import {
  type AlarmMember,
  type AlarmRequest,
  AlarmRequest_AlarmAction as AlarmAction,
  AlarmType,
} from "../pb/mod.ts";

export { AlarmAction, type AlarmMember, type AlarmRequest, AlarmType };

const key = (a: AlarmMember) => `${a.alarm}/${a.memberID.toString(16)}`;

export class Alarms {
  // Every write checks for NOSPACE, so the list is kept in memory, read again only when the
  // buckets change (a restore from a snapshot opens a new store) or an alarm is applied.
  #cached?: { from: AuxBuckets; alarms: AlarmMember[] };

  constructor(readonly bucket: () => AuxBuckets) {}

  list(): AlarmMember[] {
    return [...this.#current()];
  }

  active(type: AlarmType): boolean {
    return this.#current().some((a) => a.alarm === type);
  }

  #current(): readonly AlarmMember[] {
    const from = this.bucket();
    if (this.#cached?.from !== from) {
      const alarms = from.list("alarm").map(([k]) => {
        const [alarm, member] = k.split("/");
        return { alarm: Number(alarm), memberID: BigInt("0x" + member) };
      });
      this.#cached = { from, alarms };
    }
    return this.#cached.alarms;
  }

  /** Applies a committed Alarm request; answers with the alarms it affected, as etcd. */
  apply(req: AlarmRequest): { alarms: AlarmMember[] } {
    const a = { memberID: req.memberID, alarm: req.alarm };
    switch (req.action) {
      case AlarmAction.GET:
        return { alarms: this.list() };
      case AlarmAction.ACTIVATE:
        if (req.alarm === AlarmType.NONE) return { alarms: [] };
        this.bucket().put("alarm", key(a), new Uint8Array());
        this.#cached = undefined;
        return { alarms: [a] };
      case AlarmAction.DEACTIVATE: {
        const existed = this.#current().some((x) => key(x) === key(a));
        if (!existed) return { alarms: [] };
        this.bucket().delete("alarm", key(a));
        this.#cached = undefined;
        return { alarms: [a] };
      }
    }
  }
}
