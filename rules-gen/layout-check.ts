/**
 * What the generator cannot monitor in a layout.yaml: gpuwatch scrapes and counts only machines
 * marked `pai-worker: "true"` (OpenPAI's own worker marker). A machine with GPUs but without the
 * marker is left out (a warning names it); a layout with no worker at all would generate a cluster
 * with nothing to scrape, and is refused.
 */
import type { LoadedConfig } from '../src/config/load.js';
import { ConfigError } from '../src/config/yaml-file.js';

export function layoutWarnings(loaded: LoadedConfig): string[] {
  return loaded.clusters.flatMap((c) =>
    c.layoutData.nodes.flatMap((n, i) =>
      n.expectedGpus > 0 && !n.isWorker
        ? [
            `${c.layoutFile}: machine-list[${i}] ${n.hostname} (machine-type ${n.sku}, ${n.expectedGpus} GPUs) has no pai-worker: "true"; gpuwatch neither scrapes it nor counts its GPUs`,
          ]
        : [],
    ),
  );
}

/** Throws a ConfigError naming the layout file of a cluster without a single worker. */
export function checkLayoutsHaveWorkers(loaded: LoadedConfig): void {
  for (const c of loaded.clusters) {
    if (c.layoutData.nodes.some((n) => n.isWorker)) continue;
    const machines = c.layoutData.nodes.map((n) => n.hostname).join(', ');
    const message = `no machine of cluster ${c.name} has pai-worker: "true" (machines: ${machines}); gpuwatch would monitor nothing there`;
    throw new ConfigError(`${c.layoutFile}: machine-list: ${message}`, c.layoutFile, [{ file: c.layoutFile, field: 'machine-list', message }]);
  }
}
