/** One series of the metric catalog (metrics.ts). */
export type MetricType = 'gauge' | 'counter' | 'histogram';

export interface MetricDef {
  name: string;
  type: MetricType;
  /** Base unit, '' for dimensionless counts, 'ratio' for 0..1. */
  unit: string;
  help: string;
  labels: readonly string[];
}
