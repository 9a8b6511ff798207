// `etcd-ts diagnose`: checks a member's set-up without starting it and explains what to fix.
export { DIAGNOSE_USAGE, runDiagnose } from "./command.ts";
export { diagnoseSrv } from "./srv.ts";
export type { DiagnoseDeps, SrvDiagnosisInput } from "./input.ts";
export { Report } from "./report.ts";
