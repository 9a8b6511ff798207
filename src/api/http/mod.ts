// The client port's HTTP handlers (a hono app).
export { createHttpApp, createMetricsApp, type HttpDeps } from "./app.ts";
export { goHttpError, methodNotAllowed } from "./go_http.ts";
export type { AccessOptions } from "./access.ts";
export type { Check, Probes } from "./probes.ts";
export { peerCertificateOf, setPeerCertificate, verifiedPeerCertificate } from "./peer_cert.ts";
export { addPprofRoutes, PPROF_PREFIX } from "./pprof.ts";
