/** Helpers the scaled-topology tests share: the scale example, with changes, generated into a directory. */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { generateRules } from '../generate.js';
import type { Topology } from '../scale/topology.js';
import { SCALE_FILES } from '../scale/topology.js';
import type { ArtifactFiles } from '../types.js';
import { tempDirWith } from './test-support.js';

export const SCALE_EXAMPLE = new URL('../../examples/gpuwatch-scale.yaml', import.meta.url).pathname;

/** The scale example's files, its `scale:` section replaced by `scale` (YAML) when given, in a temporary directory. */
export async function scaleExampleCopy(scale?: string, layout?: string): Promise<string> {
  const text = await readFile(SCALE_EXAMPLE, 'utf8');
  const config = scale === undefined ? text : `${text.slice(0, text.indexOf('\nscale:'))}\n${scale}`;
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
