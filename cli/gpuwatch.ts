#!/usr/bin/env node
/** `gpuwatch <command>`: the one entry point of every gpuwatch component. */
import { Command, Option } from 'commander';
import { startExporter } from '../exporter/command.js';
import { listenArgument, UsageError } from '../src/cli-args.js';
import { DEFAULT_LISTEN } from '../src/config/listen-address.js';
import { ConfigError } from '../src/config/yaml-file.js';
import { createLogger } from '../src/log.js';
import { exitOnSignals } from '../src/shutdown.js';
import { VERSION } from '../src/version.js';

/** Exit codes: 0 success, 1 runtime failure, 2 bad input (config, flags). */
export const EXIT_BAD_INPUT = 2;

/**
 * The program with every command. When the exporter is what runs, the other components (SQL
 * drivers, mail, templates) are not even loaded: a DaemonSet pod's memory is what it imports.
 */
export async function buildProgram(argv: readonly string[] = process.argv): Promise<Command> {
  const program = new Command('gpuwatch')
    .description('Monitoring and on-call toolkit for GPU clusters (OpenPAI and Kubernetes).')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride((err) => {
      process.exit(err.exitCode === 0 ? 0 : EXIT_BAD_INPUT);
    });

  program
    .command('exporter')
    .description('Per-node Prometheus exporter: GPU health, ECC, and which job uses which GPU.')
    .option('-c, --config <file>', 'gpuwatch.yaml (cluster layout, exporter settings)')
    .addOption(new Option('-b, --backend <backend>', 'GPU source (auto: NVML, then nvidia-smi)').choices(['auto', 'nvml', 'nvidia-smi', 'replay']))
    .option('-r, --replay <path>', 'recorded nvidia-smi output (.xml, .csv, a directory) or a scenario (.yaml); implies --backend replay')
    .option('-l, --listen <host:port>', `where to serve /metrics (default ${DEFAULT_LISTEN.exporter})`, listenArgument(DEFAULT_LISTEN.exporter))
    .option('-n, --node <name>', 'node label (default: $NODE_NAME, then the host name)')
    .option('--once', 'print one exposition to stdout and exit')
    .action(async (flags: { config?: string; backend?: string; replay?: string; listen?: string; node?: string; once?: boolean }) => {
      const log = createLogger('exporter');
      const running = await startExporter(flags, log);
      if (flags.once) {
        process.stdout.write(running.collector.exposition);
        await running.stop();
        return;
      }
      // A GPU read stuck inside the driver keeps its worker thread, and so the process, alive:
      // after a grace period the exporter ends itself the hard way rather than hang on shutdown.
      exitOnSignals(log, () => running.stop(), {
        stuck: {
          afterMs: 5_000,
          then: () => {
            log.error('a GPU read is still stuck after 5 s: exiting with SIGKILL');
            process.kill(process.pid, 'SIGKILL');
          },
        },
      });
    });

  if (argv[2] !== 'exporter') {
    (await import('../rule-service/cli.js')).registerRuleServiceCommands(program);
    (await import('../alertmanager/cli.js')).registerRouterCommand(program);
    (await import('../rules-gen/cli.js')).registerGenerateCommand(program);
    (await import('../rules-gen/layout-metrics/command.js')).registerLayoutMetricsCommand(program);
    (await import('../stack/cli.js')).registerStackCommand(program);
    (await import('../rightsize/cli.js')).registerRightsizeCommand(program);
  }
  return program;
}

async function main(): Promise<void> {
  try {
    await (await buildProgram()).parseAsync(process.argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`gpuwatch: configuration error\n${err.message}\n`);
      process.exit(EXIT_BAD_INPUT);
    }
    if (err instanceof UsageError) {
      process.stderr.write(`gpuwatch: ${err.message}\n`);
      process.exit(EXIT_BAD_INPUT);
    }
    process.stderr.write(`gpuwatch: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

void main();
