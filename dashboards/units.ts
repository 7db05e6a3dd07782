/**
 * Grafana units for catalog metrics, so a panel's unit follows the metric's declared base unit
 * instead of being typed by hand next to each query.
 */
import * as units from '@grafana/grafana-foundation-sdk/units';
import type { MetricDef } from '../src/catalog/metrics.js';

const GRAFANA_UNIT: Record<string, string> = {
  ratio: units.PercentUnit,
  bytes: units.BytesIEC,
  celsius: units.Celsius,
  watts: units.Watt,
  joules: units.Joule,
  hertz: units.Hertz,
  seconds: units.Seconds,
  '': units.Short,
};

/** Per-second units for `rate()` of a counter with this base unit. */
const RATE_UNIT: Record<string, string> = {
  bytes: units.BytesPerSecondSI,
  joules: units.Watt,
  '': units.CountsPerSecond,
};

function lookup(table: Record<string, string>, metric: MetricDef): string {
  const unit = table[metric.unit];
  if (unit === undefined) throw new Error(`no Grafana unit for ${metric.name} (catalog unit "${metric.unit}")`);
  return unit;
}

/** The Grafana unit of the metric's own values. */
export function unitOf(metric: MetricDef): string {
  return lookup(GRAFANA_UNIT, metric);
}

/** The Grafana unit of `rate(metric[...])`. */
export function rateUnitOf(metric: MetricDef): string {
  return lookup(RATE_UNIT, metric);
}

/** GPU-hours are not a Grafana unit; a suffix keeps the number readable (Grafana puts a space before it). */
export const GPU_HOURS_UNIT = 'suffix:GPU-h';
/** Grafana's date units take milliseconds. */
export const DATE_UNIT = units.DatetimeISO;
export { units };
