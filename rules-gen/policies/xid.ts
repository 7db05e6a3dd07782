/**
 * XID errors (NVIDIA's driver error codes), one alert per class: critical (the GPU needs a reset or
 * service), application (usually the job's own code) and every other XID.
 */
import { EXPORTER_METRICS, GPU_METRICS } from '../../src/catalog/metrics.js';
import { alertRule, type AlertSpec } from '../alert-builder.js';
import { eventCases } from '../cases.js';
import type { GenContext } from '../context.js';
import { anyOf, by, on, range, selector, type Matcher } from '../promql.js';
import { seriesText } from '../timeline.js';
import type { GeneratedAlert } from '../types.js';
import { variantsOf } from '../variants.js';
import { gpuLabelsFor } from './gpu-labels.js';
import { GPU_BY, where } from './gpu-health.js';

export function xidErrors(ctx: GenContext): GeneratedAlert[] {
  const policy = ctx.policies.xidErrors;
  if (!policy.enabled) return [];
  const { critical, application, other } = policy.classes;
  const everyListed = [...critical.xids, ...application.xids];
  const classes = [
    { name: 'critical', enabled: critical.enabled, severity: critical.severity, op: '=~', xids: critical.xids, sample: critical.xids[0] },
    { name: 'application', enabled: application.enabled, severity: application.severity, op: '=~', xids: application.xids, sample: application.xids[0] },
    { name: 'other', enabled: other.enabled, severity: other.severity, op: '!~', xids: everyListed, sample: firstNotIn(everyListed) },
  ] as const;
  return classes
    .filter((c) => c.enabled && c.xids.length > 0)
    .flatMap((c) =>
      // The class's severity is the base; an override's severity replaces it.
      variantsOf({ ...policy, severity: c.severity }).map((v) => {
        const m: Matcher[] = [{ label: 'xid', op: c.op, value: anyOf(c.xids) }, ...v.matchers];
        const sel = selector(GPU_METRICS.xid.name, m);
        const spec: AlertSpec = {
          gpuHolder: true,
          name: 'GpuXidError',
          expr: xidExpr(sel, policy.window),
          for: v.for,
          severity: v.severity,
          ruleLabels: { ...v.labels, xid_class: c.name },
          text: {
            summary: (s) => `XID ${s.label('xid')} (${c.name}) on GPU ${s.label('gpu')} of ${s.label('node')}`,
            description: (s) => `${where(s)} reported XID ${s.label('xid')} in the last ${policy.window}${v.scope}. ${XID_ADVICE[c.name]}`,
          },
        };
        const gpu = gpuLabelsFor(ctx, v.matchers);
        const xid = String(c.sample ?? 1);
        const tests = gpu
          ? eventCases(ctx, spec, ` (${c.name} XID ${xid})${v.scope}`, {
              series: seriesText(GPU_METRICS.xid.name, { ...gpu.withInstance, xid }),
              labels: { ...gpu.labels, xid },
              window: policy.window,
              appearsWithFirstEvent: true,
            })
          : [];
        return { rule: alertRule(ctx, spec), tests };
      }),
    );
}

const BUILD_INFO = EXPORTER_METRICS.buildInfo.name;

/** How long a gap in scraping may last before an old XID that reappears with the other series counts as new. */
const SCRAPE_GAP_MEMORY = '1h';

/**
 * XIDs are counted from the exporter's start, so a code's first event creates its series: a series
 * that was absent at the window's start counts as a new event too, except on a node whose exporter
 * was in a gap in scraping then (seen within the hour before, but not at the window's start): after
 * such a gap every series reappears, and an old XID is not a new one.
 */
function xidExpr(sel: string, window: string): string {
  const offset = range(window).slice(1, -1);
  return [
    `max ${by([...GPU_BY, 'xid'])} (`,
    `  increase(${sel}${range(window)}) > 0`,
    `  or (`,
    `    (${sel} unless ${sel} offset ${offset})`,
    `    unless ${on(['cluster', 'node'])}`,
    `    (last_over_time(${BUILD_INFO}${range(SCRAPE_GAP_MEMORY)} offset ${offset}) unless ${BUILD_INFO} offset ${offset})`,
    `  )`,
    `)`,
  ].join('\n');
}

const XID_ADVICE: Record<'critical' | 'application' | 'other', string> = {
  critical: 'This XID class means the GPU needs a reset or service (ECC, row remap, NVLink, fallen off the bus); the jobs on it have likely failed.',
  application: "This XID class is usually caused by the job's own code (illegal memory access, exceptions); tell the job's owner if it repeats.",
  other: "Look the XID up in NVIDIA's XID catalog and check the driver log (dmesg) of the node.",
};

function firstNotIn(xids: readonly number[]): number {
  let n = 1;
  while (xids.includes(n)) n++;
  return n;
}
