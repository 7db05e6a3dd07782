/**
 * What `gpuwatch stack --scale` runs, as pure functions of the loaded config and the stack plan:
 * the topology of the `scale:` section (rules-gen/scale/topology.ts) with its scrape configs
 * pointed at the stack's local replay exporters, and each of its processes as a command this
 * machine runs: Debian's binary names, this gpuwatch for the routers, the path that says it is
 * ready, and the order they start in (what a process sends to is up before it).
 */
import { join } from 'node:path';
import type { LoadedConfig } from '../src/config/load.js';
import type { ScaleConfig } from '../src/config/scale.js';
import { ConfigError } from '../src/config/yaml-file.js';
import { parseDatabaseUrl } from '../src/storage/database-url.js';
import { createContext } from '../rules-gen/context.js';
import { shardPrometheusConfig, vmagentScrapeConfig } from '../rules-gen/scale/files.js';
import { CONFIG_PLACEHOLDER, SCALE_FILES, scaleTopology, type ProcessRole, type ScaleProcess, type Topology } from '../rules-gen/scale/topology.js';
import type { ArtifactFiles } from '../rules-gen/types.js';
import { GENERATED_HEADER, yamlText } from '../rules-gen/yaml-text.js';
import { localExporterTarget, type StackPlan } from './plan.js';

export interface ScaledProcess {
  name: string;
  role: ProcessRole;
  /** Tried in order on PATH; empty when `executable` is set. */
  binaries: readonly string[];
  /** The routers: this Node.js running this gpuwatch. */
  executable?: string;
  /** The Debian package that has the binary, for the message when it is missing. */
  debianPackage?: string;
  args: string[];
  listen: string;
  readyPath: string;
}

interface Engine {
  binaries: readonly string[];
  debianPackage: string;
  readyPath: string;
}

const VICTORIA: Omit<Engine, 'binaries'> = { debianPackage: 'victoria-metrics', readyPath: '/health' };
const ENGINES: Record<string, Engine> = {
  'victoria-metrics': { binaries: ['victoria-metrics'], ...VICTORIA },
  vmalert: { binaries: ['vmalert'], ...VICTORIA },
  vmagent: { binaries: ['vmagent'], ...VICTORIA },
  prometheus: { binaries: ['prometheus'], debianPackage: 'prometheus', readyPath: '/-/ready' },
  // Debian names Alertmanager's binary prometheus-alertmanager.
  alertmanager: { binaries: ['prometheus-alertmanager', 'alertmanager'], debianPackage: 'prometheus-alertmanager', readyPath: '/-/ready' },
};

/** Start order: the store, the layout constants, the Alertmanagers, the routers they notify, then rule evaluation and the shards. */
const START_ORDER: readonly ProcessRole[] = ['store', 'layout', 'alertmanager', 'router', 'rules', 'shard'];

/** Where the topology's relative paths (rule files, data/) are: the stack's generated directory. */
export const scaledDataDir = (plan: StackPlan) => join(plan.generatedDir, 'data');

/** The `scale:` section, or a clear error: --scale runs what that section describes. */
export function scaleSection(loaded: LoadedConfig): ScaleConfig {
  const { scale } = loaded.config;
  if (scale) return scale;
  const message = 'gpuwatch stack --scale runs the topology of a scale: section, and this config has none (see examples/gpuwatch-scale.yaml)';
  throw new ConfigError(`${loaded.file}: scale: ${message}`, loaded.file, [{ file: loaded.file, field: 'scale', message }]);
}

/** More than one router needs a database they can share: MySQL/MariaDB, not a SQLite file. */
export function checkSharedRouterDb(loaded: LoadedConfig, routerDb: string, scale: ScaleConfig): void {
  if (scale.routers < 2 || parseDatabaseUrl(routerDb).dialect === 'mysql') return;
  const message = `scale.routers is ${scale.routers}: the routers share one database, so set router.db to a mysql:// URL (e.g. mysql://root@127.0.0.1:3306/gpuwatch_scale), not ${routerDb}`;
  throw new ConfigError(`${loaded.file}: router.db: ${message}`, loaded.file, [{ file: loaded.file, field: 'router.db', message }]);
}

/** The generated scrape configs with each exporter target replaced by its local replay's address. */
export function localScrapeFiles(loaded: LoadedConfig, plan: StackPlan, scale: ScaleConfig): ArtifactFiles {
  const ctx = createContext(loaded);
  const topology = scaleTopology(ctx, scale);
  const target = localExporterTarget(plan);
  const header = `${GENERATED_HEADER}\nWritten by gpuwatch stack --scale: the exporters are this machine's replays.`;
  if (scale.engine === 'victoriametrics') return new Map([[SCALE_FILES.vmagentScrape, yamlText(vmagentScrapeConfig(ctx, topology, target), header)]]);
  return new Map(
    Array.from({ length: scale.shards }, (_, i) => [
      SCALE_FILES.shardPrometheus(i),
      yamlText(shardPrometheusConfig(ctx, scale.shards, i, topology, target), header),
    ]),
  );
}

/** Every process of the topology, in start order, as this machine runs it; `gpuwatch` is the argv prefix that runs this gpuwatch. */
export function scaledProcesses(topology: Topology, configFile: string, gpuwatch: readonly string[]): ScaledProcess[] {
  const ordered = START_ORDER.flatMap((role) => topology.processes.filter((p) => p.role === role));
  return ordered.map((p) => {
    const args = p.args.map((a) => (a === CONFIG_PLACEHOLDER ? configFile : a));
    if (p.command === 'gpuwatch') {
      const [executable = 'gpuwatch', ...prefix] = gpuwatch;
      return { name: p.name, role: p.role, binaries: [], executable, args: [...prefix, ...args], listen: p.listen, readyPath: '/healthz' };
    }
    const engine = engineOf(p);
    return { name: p.name, role: p.role, binaries: engine.binaries, debianPackage: engine.debianPackage, args, listen: p.listen, readyPath: engine.readyPath };
  });
}

function engineOf(p: ScaleProcess): Engine {
  const engine = ENGINES[p.command];
  if (!engine) throw new Error(`topology process ${p.name}: no known binary for ${p.command}`);
  return engine;
}
