// Key ranges as etcd reads them. Keys compare as JavaScript strings, which is etcd's byte
// order for the ASCII and BMP keys the robustness traffic uses.

/** The range end that selects every key starting with `prefix` (clientv3.GetPrefixRangeEnd). */
export function prefixEnd(prefix: string): string {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const code = prefix.charCodeAt(i);
    if (code < 0xff) return prefix.slice(0, i) + String.fromCharCode(code + 1);
  }
  return "\0";
}

/** Whether `key` is selected by (start, rangeEnd) with etcd's meaning of a range end. */
export function inRange(key: string, start: string, rangeEnd: string | undefined): boolean {
  if (rangeEnd === undefined || rangeEnd === "") return key === start;
  if (rangeEnd === "\0") return key >= start;
  return key >= start && key < rangeEnd;
}
