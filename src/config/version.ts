// Versions etcd-ts reports: its own, and the etcd API level it implements.

/** etcd-ts's own version. */
export const VERSION = "0.1.0";
/** The etcd server version etcd-ts implements (what clients and scripts read). */
export const ETCD_VERSION = "3.4.23";
/** The cluster version etcd 3.4 reports. */
export const ETCD_CLUSTER_VERSION = "3.4.0";
/** The oldest cluster version a 3.4 member works with (etcd's version.MinClusterVersion). */
export const MIN_CLUSTER_VERSION = "3.0.0";

/** A semantic version's numbers (go-semver's Major, Minor, Patch). */
export type SemVer = [major: number, minor: number, patch: number];

/** A semantic version's numbers; undefined for anything go-semver would refuse. */
export function parseSemVer(v: string): SemVer | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** go-semver's error for a version parseSemVer refuses (what etcd's log lines quote). */
export function semVerError(v: string): string {
  const core = v.split("+")[0].split("-")[0];
  const parts = core.split(".");
  if (parts.length < 3) return `${core} is not in dotted-tri format`;
  const bad = [parts[0], parts[1], parts.slice(2).join(".")].find((p) => !/^[+-]?\d+$/.test(p));
  return bad === undefined
    ? `${v} is not a valid semver identifier`
    : `strconv.ParseInt: parsing ${JSON.stringify(bad)}: invalid syntax`;
}

/** Negative, zero or positive as `a` is below, equal to or above `b`. */
export function compareSemVer(a: SemVer, b: SemVer): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** The version with its patch dropped: etcd's semver.Version{Major, Minor}. */
export const majorMinor = (v: SemVer): SemVer => [v[0], v[1], 0];

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
