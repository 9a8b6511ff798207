// The client port's HTTP handlers (a hono app).
export { createHttpApp, goHttpError, type HttpDeps, methodNotAllowed } from "./app.ts";
