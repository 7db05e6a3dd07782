/**
 * `gpuwatch router` as a process of its own, for tests that kill it (and for running the router
 * from a checkout): `node --import tsx alertmanager/testing/router-main.ts router --config FILE`.
 */
import { Command } from 'commander';
import { ConfigError } from '../../src/config/yaml-file.js';
import { registerRouterCommand } from '../cli.js';

const program = new Command('gpuwatch').exitOverride();
registerRouterCommand(program);
program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`gpuwatch: ${err instanceof ConfigError ? 'configuration error\n' : ''}${(err as Error).message}\n`);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
