/** Recommendations as a terminal table, JSON or CSV. Pure. */
import { GIB, type Recommendation } from './recommend.js';

export type OutputFormat = 'table' | 'json' | 'csv';

export interface Report {
  /** ISO time of the window's end, and the lookback. */
  at: string;
  lookback: string;
  /** Where "completed normal run" came from. */
  completion: 'series' | 'openpai';
  recommendations: Recommendation[];
}

/**
 * Columns: runs seen and completed normal runs; GPUs the latest normal run asked for, the most any
 * normal run kept busy, the recommendation; per-GPU memory peak, recommendation and the GPU's own
 * memory; the utilization quantile (busyQuantile) of the median and the busiest GPU over the runs.
 */
const COLUMNS: [string, (r: Recommendation) => string][] = [
  ['job', (r) => r.job],
  ['runs', (r) => String(r.runs)],
  ['normal', (r) => String(r.normalRuns)],
  ['GPUs asked', (r) => String(r.requestedGpus)],
  ['GPUs busy', (r) => String(r.peakBusyGpus)],
  ['GPUs rec.', (r) => (r.recommendedGpus === undefined ? '' : String(r.recommendedGpus))],
  ['mem peak GiB', (r) => gib(r.peakMemoryBytes)],
  ['mem rec. GiB', (r) => (r.recommendedMemoryGiB === undefined ? '' : String(r.recommendedMemoryGiB))],
  ['GPU GiB', (r) => gib(r.gpuMemoryBytes)],
  ['util% median', (r) => percent(r.medianGpuUtilization)],
  ['util% max', (r) => percent(r.busiestGpuUtilization)],
  ['note', (r) => note(r)],
];

function percent(ratio: number | undefined): string {
  return ratio === undefined ? '' : (ratio * 100).toFixed(0);
}

function gib(bytes: number | undefined): string {
  return bytes === undefined ? '' : (bytes / GIB).toFixed(1);
}

function note(r: Recommendation): string {
  if (r.reason !== undefined) return `no recommendation: ${r.reason}`;
  if (r.recommendedGpus !== undefined && r.recommendedGpus < r.requestedGpus) return `request ${r.recommendedGpus} GPUs instead of ${r.requestedGpus}`;
  return '';
}

export function formatReport(report: Report, format: OutputFormat): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  const rows = report.recommendations.map((r) => COLUMNS.map(([, cell]) => cell(r)));
  const header = COLUMNS.map(([name]) => name);
  if (format === 'csv') return [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\n') + '\n';
  return table(header, rows, report);
}

const csvCell = (cell: string) => (/[",\n\r]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell);

function table(header: string[], rows: string[][], report: Report): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = (i: number) => i > 0 && i < header.length - 1;
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const recommended = report.recommendations.filter((r) => r.recommendedGpus !== undefined).length;
  const summary = `${report.recommendations.length} recurring jobs, ${recommended} with a recommendation (lookback ${report.lookback} to ${report.at}; completed normal runs from ${report.completion})`;
  return [line(header), ...rows.map(line), '', summary, ''].join('\n');
}
