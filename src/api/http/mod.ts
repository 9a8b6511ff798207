// The client port's HTTP handlers (a hono app).
export {
  createHttpApp,
  createMetricsApp,
  goHttpError,
  type HttpDeps,
  methodNotAllowed,
} from "./app.ts";
export { addPprofRoutes, PPROF_PREFIX } from "./pprof.ts";
