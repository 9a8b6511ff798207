// `etcd-ts diagnose`: checks a member's set-up without starting it and explains what to fix.
export { DIAGNOSE_USAGE, runDiagnose } from "./command.ts";
export { type DiagnoseDeps, diagnoseSrv, type SrvDiagnosisInput } from "./srv.ts";
export { Report } from "./report.ts";
