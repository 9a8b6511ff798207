// GET /metrics: the registry in the text exposition format, counted as Prometheus' promhttp
// handler counts its scrapes (a scrape sees itself in flight, and in the total only afterwards).
import { EXPOSITION_CONTENT_TYPE } from "./registry.ts";
import { counter, gauge, registry } from "./define.ts";

const inFlight = gauge(
  "promhttp_metric_handler_requests_in_flight",
  "Current number of scrapes being served.",
);
const scrapes = counter(
  "promhttp_metric_handler_requests_total",
  "Total number of scrapes by HTTP status code.",
  ["code"],
);
// promhttp shows the codes it can answer from the start.
for (const code of ["200", "500", "503"]) scrapes.labels({ code });

export function metricsResponse(): Response {
  inFlight.inc();
  let body: string;
  try {
    body = registry.expose();
  } catch (err) {
    scrapes.labels({ code: "500" }).inc();
    throw err;
  } finally {
    inFlight.dec();
  }
  scrapes.labels({ code: "200" }).inc();
  return new Response(body, { headers: { "content-type": EXPOSITION_CONTENT_TYPE } });
}
