/**
 * `gpuwatch generate --config FILE --out DIR [--check]`: writes the monitoring stack generated from
 * gpuwatch.yaml, or (with --check) writes nothing and reports any difference with a diff.
 * Exit codes: 0 up to date / written, 1 DIR differs (--check), 2 bad config (a ConfigError, which
 * the CLI's main turns into exit 2).
 */
import type { Command } from 'commander';
import { loadConfig } from '../src/config/load.js';
import { generateArtifacts } from './generate.js';
import { checkLayoutsHaveWorkers, layoutWarnings } from './layout-check.js';
import { compareWithDir, hasDrift, staleFiles, writeToDir } from './output.js';

export interface GenerateOptions {
  config: string;
  out: string;
  check?: boolean;
}

export interface GenerateOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Runs the command; returns its exit code. Throws ConfigError for a bad config. */
export async function runGenerate(opts: GenerateOptions, io: GenerateOutput): Promise<number> {
  const loaded = await loadConfig(opts.config);
  checkLayoutsHaveWorkers(loaded);
  for (const warning of layoutWarnings(loaded)) io.stderr(`gpuwatch generate: warning: ${warning}\n`);
  const files = generateArtifacts(loaded);
  if (opts.check) {
    const drift = await compareWithDir(files, opts.out);
    if (!hasDrift(drift)) {
      io.stderr(`gpuwatch generate: ${opts.out} is up to date (${files.size} files)\n`);
      return 0;
    }
    io.stdout(drift.report);
    const counts = [
      drift.changed.length ? `${drift.changed.length} changed` : '',
      drift.missing.length ? `${drift.missing.length} missing` : '',
      drift.extra.length ? `${drift.extra.length} no longer generated` : '',
    ].filter(Boolean);
    io.stderr(`gpuwatch generate --check: ${opts.out} differs from ${opts.config} (${counts.join(', ')}); run gpuwatch generate to update it\n`);
    return 1;
  }
  const written = await writeToDir(files, opts.out);
  for (const path of written) io.stdout(`wrote ${opts.out}/${path}\n`);
  for (const path of await staleFiles(files, opts.out)) io.stderr(`gpuwatch generate: ${opts.out}/${path} is no longer generated; remove it\n`);
  io.stderr(`gpuwatch generate: ${written.length} of ${files.size} files changed in ${opts.out}\n`);
  return 0;
}

export function registerGenerateCommand(program: Command): void {
  program
    .command('generate')
    .description('Generate Prometheus rules (with promtool tests), the scrape config, Alertmanager config and Grafana dashboards from gpuwatch.yaml.')
    .requiredOption('-c, --config <file>', 'gpuwatch.yaml (clusters, layout files, policies)')
    .requiredOption('-o, --out <dir>', 'output directory')
    .option('--check', 'write nothing; exit 1 with a diff when the output directory differs')
    .action(async (flags: GenerateOptions) => {
      const code = await runGenerate(flags, {
        stdout: (t) => process.stdout.write(t),
        stderr: (t) => process.stderr.write(t),
      });
      if (code !== 0) process.exitCode = code;
    });
}
