// The etcd error catalogue: gRPC status codes and the client-facing errors etcd's rpctypes
// name, each with the exact message etcdctl prints. The API edge maps the domains' own errors
// onto these; the gRPC and gateway transports write them out.
export { Errors, EtcdError, GrpcCode, grpcCodeName } from "./etcd_errors.ts";
