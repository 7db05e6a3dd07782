/**
 * `gpuwatch layout-metrics --config FILE [--listen HOST:PORT]`: serves the layout constants of
 * gpuwatch.yaml's clusters on /metrics (series.ts), for the VictoriaMetrics topology's shards to
 * scrape in place of the `gpuwatch-layout` recording group; /healthz answers once it serves. The
 * layout is read at the start: restart it after a layout change, as the generated rules are
 * regenerated then.
 */
import type { Command } from 'commander';
import { loadConfig } from '../../src/config/load.js';
import { listen, type Listening } from '../../src/http/listen.js';
import { createLogger } from '../../src/log.js';
import { exitOnSignals } from '../../src/shutdown.js';
import { createContext } from '../context.js';
import { layoutConstants } from '../recording.js';
import { layoutRegistry } from './series.js';

export const DEFAULT_LAYOUT_METRICS_LISTEN = '127.0.0.1:9449';

export async function serveLayoutMetrics(configFile: string, address: string): Promise<Listening & { series: number }> {
  const ctx = createContext(await loadConfig(configFile));
  const registry = layoutRegistry(ctx);
  const body = await registry.metrics();
  const server = await listen((req, res) => {
    if (req.url === '/metrics') res.writeHead(200, { 'content-type': registry.contentType }).end(body);
    else if (req.url === '/healthz') res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    else res.writeHead(404).end('not found: /metrics and /healthz only\n');
  }, address);
  return { ...server, series: layoutConstants(ctx).length };
}

export function registerLayoutMetricsCommand(program: Command): void {
  program
    .command('layout-metrics')
    .description("Serve the layout's expected GPUs per worker and cluster on /metrics (the VictoriaMetrics topology scrapes them).")
    .requiredOption('-c, --config <file>', 'gpuwatch.yaml (its clusters and layout files)')
    .option('-l, --listen <host:port>', 'where to serve', DEFAULT_LAYOUT_METRICS_LISTEN)
    .action(async (flags: { config: string; listen: string }) => {
      const log = createLogger('layout-metrics');
      const running = await serveLayoutMetrics(flags.config, flags.listen);
      log.info({ url: running.url, series: running.series }, 'serving the layout constants');
      exitOnSignals(log, () => running.close());
    });
}
