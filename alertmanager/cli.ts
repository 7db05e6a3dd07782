/**
 * `gpuwatch router [--config FILE] [--listen HOST:PORT] [--db URL]`: the alert router. Reads the
 * `router:` section of gpuwatch.yaml and the cluster priorities from its `clusters:` list.
 */
import type { Command } from 'commander';
import { serviceFlags } from '../src/cli-args.js';
import { DEFAULT_LISTEN } from '../src/config/listen-address.js';
import { z } from 'zod';
import { readYamlWith } from '../src/config/yaml-file.js';
import { createLogger } from '../src/log.js';
import { exitOnSignals } from '../src/shutdown.js';
import { CLUSTER_PRIORITIES, routerConfigSchema } from '../src/config/router.js';
import { resolveRouterConfig, type RouterOptions } from './options.js';
import { startRouter } from './service.js';

/** Only `clusters:` (names and priorities) and `router:` are read here; other sections belong to other commands. */
const configFileSchema = z
  .object({
    clusters: z.array(z.object({ name: z.string().min(1), priority: z.enum(CLUSTER_PRIORITIES).default('production') }).passthrough()).default([]),
    router: routerConfigSchema.default({}),
  })
  .passthrough();

export async function loadRouterOptions(configFile: string | undefined): Promise<RouterOptions> {
  if (!configFile) return resolveRouterConfig(routerConfigSchema.parse({}));
  const file = await readYamlWith(configFile, configFileSchema);
  return resolveRouterConfig(file.router, file.clusters, configFile);
}

export function registerRouterCommand(program: Command): void {
  serviceFlags(
    program.command('router').description('Alert router: incidents from Alertmanager, DRI rotation, SLA timers, escalation, e-mail pages and job actions.'),
    {
      config: 'gpuwatch.yaml (its router: and clusters: sections)',
      listenDefault: DEFAULT_LISTEN.router,
      db: 'state: sqlite:///path.db or mysql://user:pass@host:3306/db (default sqlite://./gpuwatch-router.db)',
    },
  ).action(async (flags: { config?: string; listen?: string; db?: string }) => {
    const options = await loadRouterOptions(flags.config);
    const log = createLogger('router');
    const running = await startRouter({ ...options, listen: flags.listen ?? options.listen, db: flags.db ?? options.db }, log);
    exitOnSignals(log, () => running.close());
  });
}
