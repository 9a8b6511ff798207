// grpc.health.v1.Health as etcd registers it: every check answers SERVING.

import { HealthCheckResponse_ServingStatus } from "../../pb/mod.ts";
import type { GrpcServer } from "./server.ts";

export function addHealthService(server: GrpcServer): void {
  server.addService("grpc.health.v1.Health", {
    Check: () => Promise.resolve({ status: HealthCheckResponse_ServingStatus.SERVING }),
    Watch: async (_req, ctx, send) => {
      await send({ status: HealthCheckResponse_ServingStatus.SERVING });
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
    },
  });
}
