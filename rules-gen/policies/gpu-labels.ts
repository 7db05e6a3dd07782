/** Concrete per-GPU labels for generated tests, chosen to satisfy a variant's (cluster) matchers. */
import type { GenContext } from '../context.js';
import type { Matcher } from '../promql.js';
import { pickLabels } from '../variants.js';
import { gpuUuid } from './job-labels.js';

export interface GpuTestLabels {
  /** The labels an alert on this GPU carries. */
  labels: { cluster: string; node: string; gpu: string; uuid: string };
  /** The same plus the scrape's `instance`, as the input series carry them. */
  withInstance: Record<string, string>;
}

export function gpuLabelsFor(ctx: GenContext, matchers: readonly Matcher[]): GpuTestLabels | undefined {
  const picked = pickLabels(matchers, { cluster: ctx.candidates.cluster });
  if (!picked?.cluster) return undefined;
  const target = ctx.targetIn(picked.cluster);
  const labels = { cluster: picked.cluster, node: target.node, gpu: '0', uuid: gpuUuid(target.node, 0) };
  return { labels, withInstance: { ...labels, instance: target.instance } };
}

/** Node-level labels (cluster, node) for a variant, with the scrape's instance for input series. */
export function nodeLabelsFor(ctx: GenContext, matchers: readonly Matcher[]) {
  const picked = pickLabels(matchers, { cluster: ctx.candidates.cluster });
  if (!picked?.cluster) return undefined;
  const target = ctx.targetIn(picked.cluster);
  const labels = { cluster: picked.cluster, node: target.node };
  return { labels, withInstance: { ...labels, instance: target.instance }, target };
}
