// v3electionpb.Election and v3lockpb.Lock over gRPC (and so the /v3 gateway): thin adapters over
// the member's election and lock recipes. etcd's servers run the recipes through a client,
// which turns every error into a bare error: callers see code Unknown with etcd's message.
import type { GrpcServer } from "../grpc/mod.ts";
import type { AuthApi, ElectionApi, LockApi } from "../../server/mod.ts";
import { EtcdError, GrpcCode } from "../../errors/mod.ts";
import { toEtcdError } from "../errors.ts";
import type { Gate } from "./gate.ts";

async function viaRecipe<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw new EtcdError(GrpcCode.Unknown, toEtcdError(err).message);
  }
}

export function addElectionService(
  grpc: GrpcServer,
  gate: Gate,
  election: ElectionApi,
  auth: AuthApi,
): void {
  grpc.addService("v3electionpb.Election", {
    Campaign: async (req, ctx) => {
      await gate.serving(ctx.metadata);
      return await viaRecipe(() => election.campaign(req, auth.identify(ctx), ctx.signal));
    },
    Proclaim: async (req, ctx) => {
      await gate.serving(ctx.metadata);
      return await viaRecipe(() => election.proclaim(req, auth.identify(ctx)));
    },
    Leader: async (req, ctx) => {
      await gate.serving(ctx.metadata);
      return await viaRecipe(() => election.leader(req, auth.identify(ctx)));
    },
    Observe: async (req, ctx, send) => {
      await gate.serving(ctx.metadata);
      await viaRecipe(() => election.observe(req, auth.identify(ctx), ctx.signal, send));
    },
    Resign: async (req, ctx) => {
      await gate.serving(ctx.metadata);
      return await viaRecipe(() => election.resign(req, auth.identify(ctx)));
    },
  });
}

export function addLockService(grpc: GrpcServer, gate: Gate, lock: LockApi, auth: AuthApi): void {
  grpc.addService("v3lockpb.Lock", {
    Lock: async (req, ctx) => {
      await gate.serving(ctx.metadata);
      return await viaRecipe(() => lock.lock(req, auth.identify(ctx), ctx.signal));
    },
    Unlock: async (req, ctx) => {
      await gate.serving(ctx.metadata);
      return await viaRecipe(() => lock.unlock(req, auth.identify(ctx)));
    },
  });
}
