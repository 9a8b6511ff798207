// Sizes as etcd prints them in logs and etcdctl tables (go-humanize's Bytes): SI units, one
// decimal below 10 of a unit, none above ("37 kB", "1.1 GB", "9 B").
const UNITS = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];

export function humanBytes(n: number): string {
  if (n < 10) return `${n} B`;
  const e = Math.floor(Math.log(n) / Math.log(1000));
  const val = Math.floor((n / 1000 ** e) * 10 + 0.5) / 10;
  return `${val < 10 ? val.toFixed(1) : String(roundHalfEven(val))} ${UNITS[e]}`;
}

// Go's %.0f: a value exactly halfway (val has one decimal, so x.5 is exact) goes to the even
// neighbour, where toFixed would round up.
function roundHalfEven(v: number): number {
  const floor = Math.floor(v);
  if (v - floor !== 0.5) return Math.round(v);
  return floor % 2 === 0 ? floor : floor + 1;
}
