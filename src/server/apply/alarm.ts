// Applying alarm requests (etcd's applierV3backend.Alarm) and what an active CORRUPT alarm
// refuses: etcd's applierV3Corrupt fails every Put and DeleteRange (a Txn still applies).
import { Errors } from "../../errors/mod.ts";
import { AlarmAction, AlarmType } from "../alarms.ts";
import { formatId } from "../ids.ts";
import type { RequestOf, ResponseOf } from "../proposal.ts";
import type { ApplyContext } from "./context.ts";

export function applyAlarm(ctx: ApplyContext, req: RequestOf<"alarm">): ResponseOf<"alarm"> {
  const { alarms } = ctx.backend;
  const before = alarms.list().filter((a) => a.alarm === req.alarm).length;
  const res = alarms.apply(req);
  const raised = req.action === AlarmAction.ACTIVATE && before === 0 && res.alarms.length > 0;
  if (raised) {
    const alarm = AlarmType[req.alarm];
    const from = formatId(req.memberID);
    ctx.log.warn({
      pkg: "etcdserver",
      text: `alarm ${alarm} raised by peer ${from}`,
      msg: "alarm raised",
      fields: { alarm, from },
    });
  }
  return res;
}

/** Throws etcd's `corrupt cluster` while the CORRUPT alarm is active. */
export function refuseIfCorrupt(ctx: ApplyContext): void {
  if (ctx.backend.alarms.active(AlarmType.CORRUPT)) throw Errors.corrupt();
}
