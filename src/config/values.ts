// The flag values of one parse (command line with ETCD_* variables, or the config file), read by
// flag name. Every flag has a value once parsed (its default at least), so the readers only
// supply the zero value of the flag's kind, as Go's flag set would.
import type { FlagValue } from "./goflag.ts";

export class Values {
  constructor(readonly map: Map<string, FlagValue>) {}
  str(n: string): string {
    return (this.map.get(n) ?? "") as string;
  }
  num(n: string): number {
    return (this.map.get(n) ?? 0) as number;
  }
  bool(n: string): boolean {
    return (this.map.get(n) ?? false) as boolean;
  }
  list(n: string): string[] {
    return (this.map.get(n) ?? []) as string[];
  }
}
