/** Helpers the scaled-topology tests share: the scale example, with changes, generated into a directory. */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { generateRules } from '../generate.js';
import type { Topology } from '../scale/topology.js';
import { SCALE_FILES } from '../scale/topology.js';
import type { ArtifactFiles } from '../types.js';
import { tempDirWith } from './test-support.js';

export const SCALE_EXAMPLE = new URL('../../examples/gpuwatch-scale.yaml', import.meta.url).pathname;

export interface ExampleChanges {
  /** Replaces the `scale:` section. */
  scale?: Record<string, unknown>;
  /** Merged into `exporter:`. */
  exporter?: Record<string, unknown>;
  /** Merged into the (one) cluster. */
  cluster?: Record<string, unknown>;
  /** The `policies:` section. */
  policies?: Record<string, unknown>;
}

/** The scale example's gpuwatch.yaml with `changes`, and its layout (or `layout`), in a temporary directory. */
export async function scaleExampleCopy(changes: ExampleChanges = {}, layout?: string): Promise<string> {
  const text = await readFile(SCALE_EXAMPLE, 'utf8');
  const doc = parse(text) as { clusters: Record<string, unknown>[]; exporter?: Record<string, unknown>; scale?: unknown; policies?: unknown };
  if (changes.scale) doc.scale = changes.scale;
  if (changes.exporter) doc.exporter = { ...doc.exporter, ...changes.exporter };
  if (changes.cluster) doc.clusters = [{ ...doc.clusters[0], ...changes.cluster }];
  if (changes.policies) doc.policies = changes.policies;
  const config = Object.keys(changes).length === 0 ? text : stringify(doc);
  return tempDirWith({
    'gpuwatch.yaml': config,
    'layout.yaml': layout ?? (await readFile(join(dirname(SCALE_EXAMPLE), 'layout.yaml'), 'utf8')),
  });
}

export async function generatedIn(dir: string): Promise<ArtifactFiles> {
  return generateRules(await loadConfig(join(dir, 'gpuwatch.yaml')));
}

export function topologyOf(files: ArtifactFiles): Topology {
  return JSON.parse(files.get(SCALE_FILES.topology) ?? '{}') as Topology;
}

/** The paths under scale/, sorted. */
export const scalePaths = (files: ArtifactFiles) => [...files.keys()].filter((p) => p.startsWith('scale/')).sort();
