/**
 * How Prometheus's alert templates print `$value`, so the generated unit tests can state the exact
 * annotation text: `{{ $value }}` is Go's `%v` of a float64, `humanizePercentage` is `%.4g%%` of
 * value × 100. Exact for every value except binary ties at the 4th digit (e.g. 12.125), where Go
 * rounds half to even: the generated tests never use such values.
 */

/** Go's `%v` for a float64: shortest digits, exponent form below 1e-4 and from 1e6 on. */
export function goValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const [mantissa = '', exp = '0'] = v.toExponential().split('e');
  const e = Number(exp);
  if (e < -4 || e >= 6) return `${mantissa}${goExponent(e)}`;
  return String(v);
}

/** Go's `%.4g`: four significant digits, trailing zeros dropped, exponent form below 1e-4 and from 1e4 on. */
export function goG4(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  if (v === 0) return '0';
  const [mantissa = '', exp = '0'] = v.toExponential(3).split('e');
  const e = Number(exp);
  if (e < -4 || e >= 4) return `${String(Number(mantissa))}${goExponent(e)}`;
  return String(Number(v.toPrecision(4)));
}

/** Prometheus's `humanizePercentage` of a 0-1 ratio. */
export function goPercent(ratio: number): string {
  return `${goG4(ratio * 100)}%`;
}

function goExponent(e: number): string {
  return `e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}
