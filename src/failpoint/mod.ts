// Failpoints (etcd's gofail): named points on the member's write path where a test makes it
// sleep, fail, panic or lose power, set by GOFAIL_FAILPOINTS or over GOFAIL_HTTP. With none set,
// a point costs one boolean read.
export { type FailpointName, FAILPOINTS_TABLE, isFailpointName } from "./names.ts";
export { ErrBadParse, FailpointError, Terms, type Value } from "./terms.ts";
export {
  disable,
  disableAll,
  enable,
  enableFromEnv,
  ErrDisabled,
  ErrNoExist,
  evaluate,
  evaluateSync,
  failpoints,
  type Fired,
  hit,
  hitSync,
  injectedError,
  list,
  status,
} from "./registry.ts";
export { type FailpointServer, serveFailpoints } from "./http.ts";
export { loseUnsynced, powerCut, type Unsynced } from "./power_cut.ts";
