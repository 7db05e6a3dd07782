/**
 * Scoring of the alert quality run, a pure function of what Prometheus fired and the corpus labels.
 *
 * - Every firing series (alert name + labels) is attributed to the case that owns its node, job or
 *   cluster, and is a hit when it matches one of that case's expectations, fired no earlier than
 *   the fault. Anything else is a false page (on a healthy, blip or fault trace, or unattributed).
 * - Precision = hits / all firing series of the alert; recall = expectations hit / expectations.
 * - Time-to-detect = when the alert started firing (Prometheus: activeAt + for) − when its
 *   condition began to hold (the fault, plus the case's `fillSeconds`). Goal: ≤ for + 2 scrape intervals.
 */
import { FAULT_AT, nodesOf, type CaseKind, type Expectation, type QualityCase } from './corpus.js';

export interface FiredSeries {
  labels: Record<string, string>;
  /** Epoch ms at which the series started firing. */
  firingAt: number;
}

export interface CaseTiming {
  /** Epoch ms at which each of the case's nodes started (its scenario clock). */
  nodeStarts: Record<string, number>;
  /** Epoch ms of the first scrape of the case's nodes: nothing can be seen before. */
  observedFrom: number;
}

export interface Detection {
  case: string;
  alert: string;
  labels: Record<string, string>;
  /** Seconds from the condition holding to firing; undefined when never detected. */
  detectSeconds?: number;
  /** Seconds from the fault (or the node's start) to firing. */
  sinceFaultSeconds?: number;
}

export interface FalsePage {
  case: string | undefined;
  kind: CaseKind | 'unattributed';
  alert: string;
  labels: Record<string, string>;
  why: string;
}

export interface AlertRow {
  alert: string;
  forSeconds: number | undefined;
  expected: number;
  detected: number;
  fired: number;
  hits: number;
  precision: number | undefined;
  recall: number | undefined;
  detectMedianSeconds: number | undefined;
  detectMaxSeconds: number | undefined;
  goalSeconds: number | undefined;
  met: boolean;
}

export interface QualityScore {
  rows: AlertRow[];
  detections: Detection[];
  falsePages: FalsePage[];
  pagesOnHealthy: number;
  pagesOnBlips: number;
  recall: number;
  met: boolean;
}

export interface ScoreInput {
  corpus: readonly QualityCase[];
  fired: readonly FiredSeries[];
  timing: Record<string, CaseTiming>;
  /** Each alert rule's `for`, in seconds (from Prometheus' rules API), by alert name. */
  forSeconds: Record<string, number>;
  scrapeIntervalSeconds: number;
  /** The cluster of the cases without a cluster of their own. */
  sharedCluster: string;
}

const matches = (labels: Record<string, string>, wanted: Record<string, string>) => Object.entries(wanted).every(([k, v]) => labels[k] === v);

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The case a firing series belongs to: by node, then job, then a cluster of the case's own. */
export function ownerOf(corpus: readonly QualityCase[], labels: Record<string, string>, sharedCluster: string): QualityCase | undefined {
  if (labels.node) return corpus.find((c) => nodesOf(c).includes(labels.node as string));
  if (labels.job) return corpus.find((c) => c.nodes.some((n) => (n.jobs ?? []).some((j) => j.job === labels.job)));
  if (labels.cluster && labels.cluster !== sharedCluster) return corpus.find((c) => c.ownCluster && c.name === labels.cluster);
  return undefined;
}

/** When the fault began (for a fault present from the start: when Prometheus could first see it), epoch ms. */
function faultOf(c: QualityCase, e: Expectation, timing: CaseTiming): number {
  const node = e.labels?.node ?? nodesOf(c)[0] ?? c.name;
  const start = timing.nodeStarts[node] ?? Math.min(...Object.values(timing.nodeStarts));
  return e.fromStart ? Math.max(start, timing.observedFrom) : start + FAULT_AT * 1000;
}

/** When the expectation's condition began to hold, epoch ms. */
const onsetOf = (c: QualityCase, e: Expectation, timing: CaseTiming) => faultOf(c, e, timing) + (e.fillSeconds ?? 0) * 1000;

export function scoreQuality(input: ScoreInput): QualityScore {
  const { corpus, fired, timing } = input;
  const detections: Detection[] = [];
  const falsePages: FalsePage[] = [];
  const hitSeries = new Set<FiredSeries>();

  for (const c of corpus) {
    const t = timing[c.name];
    for (const e of c.expect) {
      const wanted = { alertname: e.alert, ...(e.labels ?? {}) };
      const candidates = fired.filter((f) => matches(f.labels, wanted) && ownerOf(corpus, f.labels, input.sharedCluster) === c);
      const onTime = t ? candidates.filter((f) => f.firingAt >= faultOf(c, e, t)).sort((a, b) => a.firingAt - b.firingAt) : [];
      const first = onTime[0];
      for (const f of onTime) hitSeries.add(f);
      detections.push({
        case: c.name,
        alert: e.alert,
        labels: e.labels ?? {},
        ...(first && t ? { detectSeconds: (first.firingAt - onsetOf(c, e, t)) / 1000, sinceFaultSeconds: (first.firingAt - faultOf(c, e, t)) / 1000 } : {}),
      });
    }
  }

  for (const f of fired) {
    if (hitSeries.has(f)) continue;
    const owner = ownerOf(corpus, f.labels, input.sharedCluster);
    const alert = f.labels.alertname ?? '';
    const expectedHere = owner?.expect.some((e) => matches(f.labels, { alertname: e.alert, ...(e.labels ?? {}) }));
    falsePages.push({
      case: owner?.name,
      kind: owner?.kind ?? 'unattributed',
      alert,
      labels: f.labels,
      why: !owner ? 'no case owns its node, job or cluster' : expectedHere ? 'fired before the fault' : `not expected on a ${owner.kind} trace`,
    });
  }

  const alerts = [
    ...new Set([...Object.keys(input.forSeconds), ...corpus.flatMap((c) => c.expect.map((e) => e.alert)), ...fired.map((f) => f.labels.alertname ?? '')]),
  ].sort();
  const rows = alerts.map((alert): AlertRow => {
    const mine = detections.filter((d) => d.alert === alert);
    const detectedTimes = mine.flatMap((d) => (d.detectSeconds === undefined ? [] : [d.detectSeconds]));
    const firedHere = fired.filter((f) => f.labels.alertname === alert);
    const hits = firedHere.filter((f) => hitSeries.has(f)).length;
    const forSeconds = input.forSeconds[alert];
    const goalSeconds = forSeconds === undefined ? undefined : forSeconds + 2 * input.scrapeIntervalSeconds;
    const detectMaxSeconds = detectedTimes.length > 0 ? Math.max(...detectedTimes) : undefined;
    const recall = mine.length > 0 ? detectedTimes.length / mine.length : undefined;
    const precision = firedHere.length > 0 ? hits / firedHere.length : undefined;
    const met =
      (recall === undefined || recall === 1) &&
      (precision === undefined || precision === 1) &&
      (detectMaxSeconds === undefined || goalSeconds === undefined || detectMaxSeconds <= goalSeconds);
    return {
      alert,
      forSeconds,
      expected: mine.length,
      detected: detectedTimes.length,
      fired: firedHere.length,
      hits,
      precision,
      recall,
      detectMedianSeconds: median(detectedTimes),
      detectMaxSeconds,
      goalSeconds,
      met,
    };
  });

  const pagesOnHealthy = falsePages.filter((p) => p.kind === 'healthy').length;
  const pagesOnBlips = falsePages.filter((p) => p.kind === 'blip').length;
  const detected = detections.filter((d) => d.detectSeconds !== undefined).length;
  const recall = detections.length > 0 ? detected / detections.length : 1;
  return { rows, detections, falsePages, pagesOnHealthy, pagesOnBlips, recall, met: recall === 1 && falsePages.length === 0 && rows.every((r) => r.met) };
}
