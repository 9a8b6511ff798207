// Versions etcd-ts reports: its own, and the etcd API level it implements.

/** etcd-ts's own version. */
export const VERSION = "0.1.0";
/** The etcd server version etcd-ts implements (what clients and scripts read). */
export const ETCD_VERSION = "3.4.23";
/** The cluster version etcd 3.4 reports. */
export const ETCD_CLUSTER_VERSION = "3.4.0";

/** `--version` output: etcd's line first (scripts parse it), then ours. */
export function versionText(): string {
  const arch = ({ x86_64: "amd64", aarch64: "arm64" } as Record<string, string>)[Deno.build.arch] ??
    Deno.build.arch;
  return [
    `etcd Version: ${ETCD_VERSION}`,
    `etcd-ts Version: ${VERSION}`,
    `Git SHA: Not provided`,
    `Deno Version: ${Deno.version.deno}`,
    `Go OS/Arch: ${Deno.build.os}/${arch}`,
    "",
  ].join("\n");
}
