/**
 * `gpuwatch exporter`: picks the GPU backend, wires attribution and host metrics into the collector,
 * and serves /metrics (or prints one exposition with --once).
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../src/cli-args.js';
import { findNode } from '../src/config/layout.js';
import { loadConfig, type LoadedConfig } from '../src/config/load.js';
import { parseDuration } from '../src/config/duration.js';
import { exporterSchema, type ExporterConfig } from '../src/config/schema.js';
import { problemAt } from '../src/config/yaml-file.js';
import { listen, type Listening } from '../src/http/listen.js';
import type { Logger } from '../src/log.js';
import { VERSION } from '../src/version.js';
import type { Attribution } from './attribution/types.js';
import { runOnce } from './backends/nvidia-smi/runner.js';
import { ReplayBackend } from './backends/replay/index.js';
import { Collector } from './collector.js';
import { exporterHandler } from './server.js';
import { SourceError, type GpuBackend, type GpuSnapshot } from './types.js';

export interface ExporterFlags {
  config?: string;
  backend?: string;
  replay?: string;
  listen?: string;
  node?: string;
  once?: boolean;
}

export interface RunningExporter {
  collector: Collector;
  http?: Listening;
  stop(): Promise<void>;
}

/**
 * The exporter settings: defaults, then the config file's `exporter:` section, then flags.
 * `preloaded` stands for --config when the caller has read the file already (gpuwatch stack).
 */
export async function exporterSettings(flags: ExporterFlags, preloaded?: LoadedConfig): Promise<{ settings: ExporterConfig; loaded?: LoadedConfig }> {
  const loaded = preloaded ?? (flags.config ? await loadConfig(flags.config) : undefined);
  const fromFile = loaded?.config.exporter ?? exporterSchema.parse({});
  const replayFromFile = fromFile.replay && loaded ? resolve(dirname(loaded.file), fromFile.replay) : fromFile.replay;
  if (flags.replay && !existsSync(flags.replay)) throw new UsageError(`--replay ${flags.replay}: file not found`);
  if (!flags.replay && replayFromFile && loaded && !existsSync(replayFromFile)) {
    throw await problemAt(loaded.file, ['exporter', 'replay'], `${replayFromFile}: file not found`);
  }
  const settings = exporterSchema.parse({
    ...fromFile,
    ...(replayFromFile ? { replay: replayFromFile } : {}),
    ...(flags.backend ? { backend: flags.backend } : {}),
    ...(flags.replay ? { replay: resolve(flags.replay), ...(flags.backend ? {} : { backend: 'replay' }) } : {}),
    ...(flags.listen ? { listen: flags.listen } : {}),
    ...(flags.node ? { node: flags.node } : {}),
  });
  if (settings.backend === 'replay' && !settings.replay) {
    throw new UsageError('--backend replay needs a source: --replay PATH (or exporter.replay in the config)');
  }
  return { settings, ...(loaded ? { loaded } : {}) };
}

export async function startExporter(flags: ExporterFlags, log: Logger, preloaded?: LoadedConfig): Promise<RunningExporter> {
  const { settings, loaded } = await exporterSettings(flags, preloaded);
  const node = settings.node ?? process.env.NODE_NAME ?? hostname();
  const intervalMs = parseDuration(settings.interval) ?? 10_000;
  const timeoutMs = parseDuration(settings.timeout) ?? 10_000;
  let collector: Collector | undefined;
  const onError =
    (source: string) =>
    (reason: string, message: string, repeat = false) => {
      if (!repeat) log.warn({ source, reason, err: message }, 'GPU source error');
      collector?.recordError(source, reason);
    };
  const backend = await openBackend(settings, { intervalMs, timeoutMs, log, onError });
  const attribute = await attributionFor(backend, settings, onError('pod-resources'), log);
  const expectedGpus = loaded ? expectedGpusOf(loaded, node, log) : undefined;
  collector = new Collector({
    node,
    version: VERSION,
    backend,
    attribute: attribute.fn,
    ...(settings.hostMetrics ? { host: (await import('./host.js')).readHost } : {}),
    ...(expectedGpus !== undefined ? { expectedGpus } : {}),
    intervalMs,
    timeoutMs,
    log,
  });
  const stopAll = async () => {
    await collector.stop();
    attribute.stop();
    await backend.close();
  };
  if (flags.once) {
    await collector.collectOnce();
    return { collector, stop: stopAll };
  }
  await collector.collectOnce();
  collector.start();
  const http = await listen(exporterHandler(collector), settings.listen);
  log.info({ url: http.url, node, backend: backend.name, intervalMs }, 'exporter listening');
  return {
    collector,
    http,
    stop: async () => {
      await http.close();
      await stopAll();
    },
  };
}

interface BackendContext {
  intervalMs: number;
  timeoutMs: number;
  log: Logger;
  onError: (source: string) => (reason: string, message: string, repeat?: boolean) => void;
}

/**
 * `auto` tries NVML, then nvidia-smi, then a replay source if one is configured. Backends (and
 * their native or gRPC libraries) are imported only when chosen: a DaemonSet pod's memory is
 * what it loads.
 */
async function openBackend(s: ExporterConfig, ctx: BackendContext): Promise<GpuBackend> {
  const nvml = async () => {
    const { NvmlBackend } = await import('./backends/nvml/index.js');
    return NvmlBackend.open({ libraryPath: s.nvmlLibrary, timeoutMs: ctx.timeoutMs, onError: ctx.onError('nvml') });
  };
  const nvidiaSmi = async () =>
    new (await import('./backends/nvidia-smi/index.js')).NvidiaSmiBackend({
      binary: s.nvidiaSmi,
      streamIntervalMs: ctx.intervalMs,
      xmlIntervalMs: parseDuration(s.slowInterval) ?? 60_000,
      timeoutMs: ctx.timeoutMs,
      onError: ctx.onError('nvidia-smi'),
    });
  /** A recording or scenario that cannot be read is bad input (exit 2), like the flag that names it. */
  const replay = async () => {
    if (!s.replay) throw new UsageError('the replay backend needs a source: --replay PATH (or exporter.replay in the config)');
    try {
      return await ReplayBackend.open({ path: s.replay });
    } catch (err) {
      throw err instanceof SourceError ? new UsageError(err.message) : err;
    }
  };
  switch (s.backend) {
    case 'nvml':
      return nvml();
    case 'nvidia-smi':
      return nvidiaSmi();
    case 'replay':
      return replay();
    case 'auto': {
      const tried: string[] = [];
      try {
        return await nvml();
      } catch (err) {
        tried.push(`nvml: ${(err as Error).message}`);
      }
      try {
        await runOnce(s.nvidiaSmi, ['-L'], { timeoutMs: ctx.timeoutMs });
        return await nvidiaSmi();
      } catch (err) {
        tried.push(`nvidia-smi: ${(err as Error).message}`);
      }
      if (s.replay) return replay();
      throw new Error(`no GPU source found (${tried.join('; ')}); on a machine without a GPU use --backend replay --replay FILE`);
    }
  }
}

async function attributionFor(
  backend: GpuBackend,
  s: ExporterConfig,
  onError: (reason: string, message: string) => void,
  log: Logger,
): Promise<{ fn: (gpus: GpuSnapshot) => Promise<Attribution>; stop: () => void }> {
  if (backend instanceof ReplayBackend) return { fn: async (gpus) => backend.attribution(gpus), stop: () => undefined };
  const { Attributor } = await import('./attribution/index.js');
  let podResources: import('./attribution/pod-resources.js').PodResourcesCache | undefined;
  if (existsSync(s.podResourcesSocket)) {
    const { PodResourcesCache } = await import('./attribution/pod-resources.js');
    podResources = new PodResourcesCache({
      socketPath: s.podResourcesSocket,
      refreshMs: parseDuration(s.podResourcesRefresh) ?? 10_000,
      onError,
    });
    podResources.start();
  } else {
    log.info({ socket: s.podResourcesSocket }, 'no kubelet pod-resources socket: attributing GPUs from processes only');
  }
  const attributor = new Attributor({ procRoot: s.procRoot, ...(podResources ? { podResources } : {}) });
  return { fn: (gpus) => attributor.attribute(gpus.gpus), stop: () => podResources?.stop() };
}

function expectedGpusOf(loaded: LoadedConfig, node: string, log: Logger): number | undefined {
  for (const cluster of loaded.clusters) {
    try {
      return findNode(cluster.layoutData, node).expectedGpus;
    } catch {
      // not in this cluster's layout; try the next
    }
  }
  log.warn({ node, layouts: loaded.clusters.map((c) => c.layoutFile) }, 'this node is in no layout.yaml: gpuwatch_node_expected_gpus is not exported');
  return undefined;
}
