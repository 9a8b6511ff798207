// The client port's HTTP handlers (a hono app).
export { createHttpApp, goHttpError, type HttpDeps, methodNotAllowed } from "./app.ts";
export { peerCertificateOf, setPeerCertificate, verifiedPeerCertificate } from "./peer_cert.ts";
