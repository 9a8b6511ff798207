// What a member prints when discovery fails (etcdmain's wording; the seed's line first for a
// missing size, spec/README.md "the seed wins").
import { V2Error } from "../v2store/mod.ts";
import { DiscoveryError } from "./client.ts";

export interface FailureLine {
  level: "error" | "info";
  text: string;
}

/** The lines etcd-ts prints before exiting 1 when joining by discovery fails. */
export function discoveryFailureLines(
  err: unknown,
  ctx: { url: string; name: string; dataDir: string },
): FailureLine[] {
  const tokenUsed: FailureLine[] = [
    {
      level: "info",
      text: `discovery token ${ctx.url} was used, but failed to bootstrap the cluster.`,
    },
    { level: "info", text: "please generate a new discovery token and try to bootstrap again." },
  ];
  if (err instanceof DiscoveryError) {
    switch (err.kind) {
      case "sizeNotFound":
        return [
          {
            level: "error",
            text:
              `error: the cluster doesn't have a size configuration value in ${ctx.url}/_config`,
          },
          {
            level: "error",
            text: `failed to join discovery cluster (${err.v2Error ?? err.message})`,
          },
          ...tokenUsed,
        ];
      case "duplicateId":
        return [
          {
            level: "error",
            text:
              `member "${ctx.name}" has previously registered with discovery service token (${ctx.url}).`,
          },
          {
            level: "error",
            text:
              `But etcd could not find valid cluster configuration in the given data dir (${ctx.dataDir}).`,
          },
          {
            level: "info",
            text: "Please check the given data dir path if the previous bootstrap succeeded",
          },
          { level: "info", text: "or use a new discovery token if the previous bootstrap failed." },
        ];
      case "duplicateName":
        return [
          {
            level: "error",
            text:
              `member with duplicated name has registered with discovery service token(${ctx.url}).`,
          },
          {
            level: "error",
            text: "please check (cURL) the discovery token for more information.",
          },
          {
            level: "error",
            text:
              "please do not reuse the discovery token and generate a new one to bootstrap the cluster.",
          },
        ];
    }
  }
  const inner = err instanceof V2Error ? err.toString() : (err as Error)?.message ?? String(err);
  return [{ level: "error", text: `failed to join discovery cluster (${inner})` }, ...tokenUsed];
}
