// GET /metrics: the registry in the text exposition format.
import { EXPOSITION_CONTENT_TYPE } from "./registry.ts";
import { registry } from "./etcd.ts";

export function metricsResponse(): Response {
  return new Response(registry.expose(), {
    headers: { "content-type": EXPOSITION_CONTENT_TYPE },
  });
}
