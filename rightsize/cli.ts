/**
 * `gpuwatch rightsize`: recommended job requests from the history in Prometheus.
 *   gpuwatch rightsize [--config FILE] [--prometheus URL] [--at TIME] [--lookback D] [--step D]
 *                      [--run-suffix REGEX] [--min-runs N] [--headroom PCT] [--gpu-headroom PCT]
 *                      [--busy-quantile Q] [--busy-threshold R] [--min-duration-ratio R]
 *                      [--gpus-per-node N] [--host] [--timeout D] [--format table|json|csv] [--json]
 *                      [--propose-rules FILE]
 * Flags override the `rightsize:` section of gpuwatch.yaml; the layouts of its clusters give each
 * node's GPU count. Exit 0 with a report, 1 when Prometheus fails, 2 for bad input.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { UsageError } from '../src/cli-args.js';
import { parseDuration } from '../src/config/duration.js';
import type { LayoutNode } from '../src/config/layout.js';
import { ConfigError, loadConfig } from '../src/config/load.js';
import { rightsizeSchema, type RightsizeConfig } from '../src/config/rightsize.js';
import { formatReport, type OutputFormat } from './format.js';
import { formatProposal } from './proposal.js';
import { rightsize, type RightsizeOptions } from './rightsize.js';

interface Flags {
  config?: string;
  prometheus?: string;
  at?: number;
  lookback?: string;
  step?: string;
  runSuffix?: string;
  minRuns?: number;
  headroom?: number;
  gpuHeadroom?: number;
  busyQuantile?: number;
  busyThreshold?: number;
  minDurationRatio?: number;
  gpusPerNode?: number;
  host?: boolean;
  timeout?: string;
  format?: OutputFormat;
  json?: boolean;
  proposeRules?: string;
}

const FLAG_OF: Record<string, string> = {
  prometheus: '--prometheus',
  lookback: '--lookback',
  step: '--step',
  runSuffix: '--run-suffix',
  minRuns: '--min-runs',
  headroom: '--headroom',
  gpuHeadroom: '--gpu-headroom',
  busyQuantile: '--busy-quantile',
  busyThreshold: '--busy-threshold',
  minDurationRatio: '--min-duration-ratio',
  gpusPerNode: '--gpus-per-node',
  host: '--host',
  timeout: '--timeout',
};

const numberArg = (value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
  return n;
};

/** RFC 3339 or Unix seconds → Unix seconds. */
export function timeArg(value: string): number {
  const seconds = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Date.parse(value) / 1000;
  if (!Number.isFinite(seconds)) throw new InvalidArgumentError('expected an RFC 3339 time (2026-12-01T12:00:00Z) or Unix seconds');
  return seconds;
}

/** The config section with the flags laid over it, checked by the same schema (a bad flag names itself). */
export function mergeFlags(section: RightsizeConfig, flags: Flags): RightsizeConfig {
  const overrides = Object.fromEntries(Object.keys(FLAG_OF).flatMap((k) => (flags[k as keyof Flags] === undefined ? [] : [[k, flags[k as keyof Flags]]])));
  const parsed = rightsizeSchema.safeParse({ ...section, ...overrides });
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${FLAG_OF[String(i.path[0])] ?? String(i.path[0])}: ${i.message}`);
  throw new UsageError(problems.join('; '));
}

const seconds = (d: string) => (parseDuration(d) ?? 0) / 1000;

export function optionsFrom(c: RightsizeConfig, layout: readonly LayoutNode[], at: number, openpaiToken?: string): RightsizeOptions {
  const openpai = c.openpai && { url: c.openpai.url, timeoutMs: seconds(c.openpai.timeout) * 1000, ...(openpaiToken ? { token: openpaiToken } : {}) };
  return {
    ...(openpai ? { openpai } : {}),
    prometheus: { url: c.prometheus, timeoutMs: seconds(c.timeout) * 1000 },
    at,
    lookbackSeconds: seconds(c.lookback),
    stepSeconds: seconds(c.step),
    runSuffix: c.runSuffix,
    minRuns: c.minRuns,
    headroom: c.headroom,
    gpuHeadroom: c.gpuHeadroom,
    busyQuantile: c.busyQuantile,
    busyThreshold: c.busyThreshold,
    minDurationRatio: c.minDurationRatio,
    gpusPerNode: c.gpusPerNode,
    host: c.host,
    layout,
  };
}

/** The OpenPAI token, given inline or in a file (relative to gpuwatch.yaml). */
async function openpaiToken(c: RightsizeConfig, configFile: string | undefined): Promise<string | undefined> {
  if (c.openpai?.token !== undefined) return c.openpai.token;
  if (c.openpai?.tokenFile === undefined) return undefined;
  const file = resolve(dirname(resolve(configFile ?? '.')), c.openpai.tokenFile);
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    throw new ConfigError(`${configFile}: rightsize.openpai.tokenFile: cannot read ${file}: ${(err as Error).message}`, configFile ?? file);
  }
}

async function run(flags: Flags): Promise<void> {
  const loaded = flags.config === undefined ? undefined : await loadConfig(flags.config);
  const section = mergeFlags(loaded?.config.rightsize ?? rightsizeSchema.parse({}), flags);
  const layout = loaded?.clusters.flatMap((c) => c.layoutData.nodes) ?? [];
  const token = await openpaiToken(section, flags.config);
  const report = await rightsize(optionsFrom(section, layout, flags.at ?? Math.floor(Date.now() / 1000), token));
  process.stdout.write(formatReport(report, flags.json ? 'json' : (flags.format ?? 'table')));
  if (flags.proposeRules !== undefined) {
    await writeFile(flags.proposeRules, formatProposal(report.recommendations, report.at));
    process.stderr.write(`wrote an admission-rule proposal to ${flags.proposeRules} (not applied; review it, then gpuwatch rules import --append)\n`);
  }
}

export function registerRightsizeCommand(program: Command): void {
  program
    .command('rightsize')
    .description(
      'Recommend GPU requests for recurring jobs from their history in Prometheus: runs of one user whose names differ only in the run suffix form a recurring job; after --min-runs completed normal runs it gets peak busy GPUs rounded to a request size, and peak GPU memory + headroom.',
    )
    .option('-c, --config <file>', 'gpuwatch.yaml: its rightsize: section, and its layouts for GPUs per node')
    .option('--prometheus <url>', 'Prometheus-compatible HTTP API (default http://127.0.0.1:9090)')
    .option('--at <time>', 'end of the window: RFC 3339 or Unix seconds (default now)', timeArg)
    .option('--lookback <duration>', 'window to look for runs in (default 7d)')
    .option('--step <duration>', 'subquery resolution over each run (default 2m)')
    .option('--run-suffix <regex>', 'run suffix removed from job names, matched at the end (default [-_](?:run)?[0-9]+)')
    .option('--min-runs <n>', 'completed normal runs needed for a recommendation (default 10)', numberArg)
    .option('--headroom <percent>', 'added to peak GPU memory (default 20)', numberArg)
    .option('--gpu-headroom <percent>', 'added to peak busy GPUs (default 0)', numberArg)
    .option('--busy-quantile <q>', "quantile of a GPU's utilization over a run that decides busy (default 0.95)", numberArg)
    .option('--busy-threshold <ratio>', 'utilization (0-1) the quantile must reach for a busy GPU (default 0.1)', numberArg)
    .option('--min-duration-ratio <r>', "a completed run shorter than this share of its job's median is not normal (default 0.5)", numberArg)
    .option('--gpus-per-node <n>', 'GPUs per node for nodes the layout does not list (default 8)', numberArg)
    .option('--host', 'also report host CPU and memory for jobs whose runs held whole nodes (two more queries)')
    .option('--timeout <duration>', 'longest one query may take (default 60s)')
    .addOption(new Option('--format <format>', 'output format (default table)').choices(['table', 'json', 'csv']))
    .option('--json', 'same as --format json')
    .option('--propose-rules <file>', 'also write an admission-rule proposal (rule service YAML) there; never applied')
    .action(run);
}
