/**
 * `gpuwatch stack --config FILE [--scale]`: runs the whole chain on this machine (see stack/index.ts;
 * with --scale the topology of the config's `scale:` section, stack/scale.ts), prints where
 * everything listens and what is missing, and stops all of it on Ctrl-C (SIGINT) or SIGTERM.
 */
import type { Command } from 'commander';
import { createLogger } from '../src/log.js';
import { exitOnSignals } from '../src/shutdown.js';
import { startStack } from './index.js';
import { startScaledStack } from './scale.js';

export function banner(stack: { endpoints: [string, string][]; missing: string[] }): string {
  const width = Math.max(...stack.endpoints.map(([name]) => name.length));
  const lines = ['', 'gpuwatch stack is running:', ...stack.endpoints.map(([name, where]) => `  ${name.padEnd(width)}  ${where}`)];
  if (stack.missing.length > 0) lines.push('', 'not running:', ...stack.missing.map((m) => `  ${m}`));
  lines.push('', 'Ctrl-C stops everything.', '');
  return lines.join('\n');
}

export function registerStackCommand(program: Command): void {
  program
    .command('stack')
    .description('Run the whole chain on this machine: replay exporters for the layout, Prometheus, Alertmanager, router, rule service and a mail catcher.')
    .requiredOption('-c, --config <file>', 'gpuwatch.yaml (clusters, stack:, router:, ruleService:)')
    .option(
      '--scale',
      "run the config's scale: topology instead of one Prometheus: shards, central store and rule evaluation, gossiping Alertmanagers, several routers (see examples/gpuwatch-scale.yaml)",
    )
    .action(async (flags: { config: string; scale?: boolean }) => {
      const log = createLogger('stack');
      const options = { activity: (line: string) => process.stdout.write(`${line}\n`) };
      const stack = flags.scale ? await startScaledStack(flags.config, log, options) : await startStack(flags.config, log, options);
      process.stdout.write(banner(stack));
      exitOnSignals(log, () => stack.stop(), {
        message: 'stopping every part',
        stuck: {
          afterMs: 20_000,
          then: () => {
            log.error('still stopping after 20 s: exiting');
            process.exit(1);
          },
        },
      });
    });
}
