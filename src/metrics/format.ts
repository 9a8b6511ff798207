// Numbers and strings as Prometheus' Go client writes them in the text exposition format.

/**
 * Go's strconv.FormatFloat(f, 'g', -1, 64): the shortest digits that round-trip, in exponent
 * form when the exponent is below -4 or at least 6 (the shortest form decides with precision
 * 6): 2.147483648e+09, 1.048576e+06, 524288, 0.0001, 1e-05.
 */
export function formatGoFloat(f: number): string {
  if (Number.isNaN(f)) return "NaN";
  if (f === Infinity) return "+Inf";
  if (f === -Infinity) return "-Inf";
  if (f === 0) return Object.is(f, -0) ? "-0" : "0";
  const [mantissa, expText] = f.toExponential().split("e");
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const sign = exp < 0 ? "-" : "+";
    return `${mantissa}e${sign}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  // Plain notation: JavaScript's own for this range is the same digits without an exponent.
  return String(f);
}

/** Label values: backslash, double quote and newline escaped. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** HELP texts: backslash and newline escaped. */
export function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}
