/** Loads gpuwatch.yaml and the files it names (layout.yaml, HiveD config; paths relative to the config file). */
import { access } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { loadLayout, type Layout } from './layout.js';
import { configSchema, type ClusterConfig, type GpuwatchConfig } from './schema.js';
import { problemAt, readYamlWith } from './yaml-file.js';

export interface LoadedCluster extends ClusterConfig {
  layoutFile: string;
  layoutData: Layout;
  /** The HiveD config's resolved path, when the cluster names one. */
  hivedFile?: string;
}

export interface LoadedConfig {
  file: string;
  config: GpuwatchConfig;
  clusters: LoadedCluster[];
}

export async function loadConfig(file: string): Promise<LoadedConfig> {
  const config = await readYamlWith(file, configSchema);
  const base = dirname(resolve(file));
  const clusters = await Promise.all(
    config.clusters.map(async (c, i): Promise<LoadedCluster> => {
      const layoutFile = await existingFile(file, resolve(base, c.layout), ['clusters', i, 'layout']);
      const hivedFile = c.hived === undefined ? undefined : await existingFile(file, resolve(base, c.hived), ['clusters', i, 'hived']);
      return { ...c, layoutFile, layoutData: await loadLayout(layoutFile), ...(hivedFile ? { hivedFile } : {}) };
    }),
  );
  return { file, config, clusters };
}

/** The path when the file exists; otherwise a ConfigError at the field of gpuwatch.yaml that names it. */
async function existingFile(configFile: string, path: string, field: (string | number)[]): Promise<string> {
  try {
    await access(path);
    return path;
  } catch {
    throw await problemAt(configFile, field, `${path}: file not found`);
  }
}

export { ConfigError, formatProblem } from './yaml-file.js';
