// Discovery: the etcd discovery protocol (client and a public-style service) and DNS SRV.
export {
  DiscoveryError,
  type DiscoveryErrorKind,
  discoveryMemberId,
  type DiscoveryOptions,
  getCluster,
  joinCluster,
  nodesToCluster,
  registrationValue,
} from "./client.ts";
export { discoveryFailureLines, type FailureLine } from "./failure.ts";
export { ClusterError, DeadlineError, InvalidJSONError } from "./keys_client.ts";
export * from "./srv.ts";
export {
  DISCOVERY_SERVICE_USAGE,
  discoveryHandler,
  type EmbeddedStore,
  parseServiceFlags,
  runDiscoveryService,
  type ServiceOptions,
  type V2Backend,
} from "./service.ts";
