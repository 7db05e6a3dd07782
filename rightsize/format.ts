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

const COLUMNS: [string, (r: Recommendation) => string][] = [
  ['job', (r) => r.job],
  ['runs', (r) => String(r.runs)],
  ['normal runs', (r) => String(r.normalRuns)],
  ['requested GPUs', (r) => String(r.requestedGpus)],
  ['peak busy GPUs', (r) => String(r.peakBusyGpus)],
  ['recommended GPUs', (r) => (r.recommendedGpus === undefined ? '' : String(r.recommendedGpus))],
  ['GPU memory peak GiB', (r) => gib(r.peakMemoryBytes)],
  ['recommended GPU memory GiB', (r) => (r.recommendedMemoryGiB === undefined ? '' : String(r.recommendedMemoryGiB))],
  ['GPU memory GiB', (r) => gib(r.gpuMemoryBytes)],
  ['mean utilization %', (r) => (r.meanUtilization === undefined ? '' : (r.meanUtilization * 100).toFixed(0))],
  ['note', (r) => note(r)],
];

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
