/**
 * The scaled topology at 100,000 GPUs: VictoriaMetrics and vmalert, as `scale: {engine:
 * victoriametrics}` generates them, over 12,500 nodes × 8 GPUs of bench/synthetic-cluster.ts (about
 * 30% of the GPUs in multi-GPU jobs), next to one Prometheus at 1,250 nodes × 8 GPUs (10,000 GPUs,
 * bench/rules-eval.ts) measured in the same run over the same model.
 *
 * VictoriaMetrics gets 2 h of history of every series the rules read through its own import path
 * (`/api/v1/import`, JSON lines streamed in chunks), then the current values pushed every step
 * (`/api/v1/import/prometheus`) while vmalert evaluates both generated rule files
 * (scale/rules/per-node.yml and central.yml) with topology.json's command lines. Once vmalert's
 * 5-minute lookback holds only live samples and every group ran three times, each group is read several times one
 * evaluation interval apart: vmalert's own median iteration time (its vmalert_iteration_duration_seconds
 * summary); the medians of those reads are reported, with each rule's last evaluationTime (rules API).
 * Groups that never reach three iterations (an overloaded store) and failing rules are reported, not fatal.
 * Also: VictoriaMetrics' RSS (its /metrics) and disk (du of its data directory after a forced flush),
 * series, samples, the import's time and rate; the same figures for the Prometheus; the ratios, and
 * what each costs per 1,000 GPUs. Goal: every alerting group under 1 s at 100,000 GPUs.
 *
 * Runs alone: NODE_OPTIONS=--max-old-space-size=6144 npx tsx bench/scale.ts [--nodes 12500] [--prom-nodes 1250] [--reads 5] [--hours 2]
 * (or GPUWATCH_BENCH_NODES=…, GPUWATCH_BENCH_PROM_NODES=…); try `--nodes 500 --prom-nodes 100 --hours 0.5`
 * first. The full run takes about 20–30 minutes and a few GiB of memory (VictoriaMetrics).
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { numericOptions } from './bench-util.js';
import { benchRulesEval, jobLine, printRulesEval, RULES_EVAL_DEFAULTS, type RulesEvalResult } from './rules-eval.js';
import { benchVictoriaMetrics, type VmOptions, type VmResult } from './scale-vm.js';
import { PER_NODE_GROUP_SUFFIX } from '../rules-gen/scale/split.js';

export interface ScaleOptions extends VmOptions {
  /** Nodes of the Prometheus baseline (× gpusPerNode GPUs). */
  promNodes: number;
}

export interface ScaleResult {
  vm: VmResult;
  prometheus: RulesEvalResult;
}

export const SCALE_DEFAULTS: ScaleOptions = {
  nodes: 12_500,
  promNodes: 1250,
  gpusPerNode: 8,
  historyHours: 2,
  stepSeconds: 30,
  evaluationSeconds: 30,
  reads: 5,
  settleSeconds: 360,
};

/** The Prometheus baseline first (it needs the machine for about 8 minutes; `measured` sees it at once), then VictoriaMetrics. */
export async function benchScale(options: Partial<ScaleOptions> = {}, measured: (p: RulesEvalResult) => unknown = () => undefined): Promise<ScaleResult> {
  const opts = { ...SCALE_DEFAULTS, ...options };
  const { promNodes, ...vmOpts } = opts;
  const prometheus = await benchRulesEval({ ...RULES_EVAL_DEFAULTS, ...vmOpts, nodes: promNodes });
  await measured(prometheus);
  const vm = await benchVictoriaMetrics(vmOpts);
  return { vm, prometheus };
}

const ms = (s: number) => (s * 1000).toFixed(1);
const per1000 = (mb: number, gpus: number) => ((mb * 1000) / gpus).toFixed(1);

export function printScale({ vm, prometheus: p }: ScaleResult, withPrometheus = true): void {
  if (withPrometheus) printRulesEval(p);
  console.log('');
  const k = (n: number) => n.toLocaleString('en-US');
  console.log(
    `## scaled topology: VictoriaMetrics + vmalert at ${vm.nodes} nodes (${k(vm.gpus)} GPUs) vs one Prometheus at ${p.nodes} nodes (${k(p.gpus)} GPUs)`,
  );
  console.log(`VM   ${jobLine(vm.jobs)}`);
  console.log(`Prom ${jobLine(p.jobs)}`);
  console.log(
    `VM history: ${vm.series} series, ${vm.samples} samples imported in ${vm.importSeconds.toFixed(0)} s (${(vm.samples / vm.importSeconds / 1e6).toFixed(2)} M samples/s); ` +
      `${vm.storedSeries} series stored at the end (recordings included); ${vm.livePushes} live pushes (${vm.latePushes} late, ${vm.failedPushes} failed)`,
  );
  console.log(
    `VM RSS ${vm.vmRssMb.toFixed(0)} MB (${vm.vmRssAfterImportMb.toFixed(0)} MB right after the import), vmalert RSS ${vm.vmalertRssMb.toFixed(0)} MB, ` +
      `disk ${vm.vmDiskMb.toFixed(0)} MB (vm_data_size_bytes ${vm.vmDataSizeMb.toFixed(0)} MB)`,
  );
  console.log(
    `Prom history: ${p.series} series, ${p.samples} samples backfilled in ${p.backfillSeconds.toFixed(0)} s; RSS ${p.prometheusRssMb.toFixed(0)} MB, disk ${p.prometheusDiskMb.toFixed(0)} MB`,
  );
  console.table([
    {
      per: '1,000 GPUs',
      'VM RSS MB': per1000(vm.vmRssMb, vm.gpus),
      'VM disk MB': per1000(vm.vmDiskMb, vm.gpus),
      'Prom RSS MB': per1000(p.prometheusRssMb, p.gpus),
      'Prom disk MB': per1000(p.prometheusDiskMb, p.gpus),
    },
    { per: 'ratio VM/Prom (whole)', 'VM RSS MB': (vm.vmRssMb / p.prometheusRssMb).toFixed(2), 'VM disk MB': (vm.vmDiskMb / p.prometheusDiskMb).toFixed(2) },
  ]);
  const promGroup = new Map(p.groups.map((g) => [g.group, g]));
  console.table(
    vm.groups.map((g) => {
      const whole = g.group.endsWith(PER_NODE_GROUP_SUFFIX) ? g.group.slice(0, -PER_NODE_GROUP_SUFFIX.length) : '';
      const base = promGroup.get(g.group) ?? promGroup.get(whole);
      return {
        group: g.group,
        rules: g.rules,
        alerting: g.alerting ? 'yes' : '',
        'VM median ms': ms(g.medianSeconds),
        'VM min–max ms': `${ms(g.minSeconds)}–${ms(g.maxSeconds)}`,
        'VM last ms': ms(g.lastSpanSeconds),
        // A group split in two (`<name>-node` on the shards) is compared with the whole group in Prometheus.
        'Prom median ms': base ? ms(base.medianSeconds) : '',
        'VM/Prom': base ? (g.medianSeconds / base.medianSeconds).toFixed(1) : '',
      };
    }),
  );
  if (vm.notSteady.length > 0) console.log(`groups that had not run three times when the reads began: ${vm.notSteady.join(', ')}`);
  if (vm.ruleErrors.length > 0) console.log(`${vm.ruleErrors.length} rules failing at the last read, e.g.:\n  ${vm.ruleErrors.slice(0, 5).join('\n  ')}`);
  console.log('slowest vmalert rules (last evaluation):');
  console.table(vm.slowestRules.map((x) => ({ group: x.group, rule: x.rule, ms: ms(x.seconds) })));
  const over = vm.groups.filter((g) => g.alerting && !(g.medianSeconds < 1));
  console.log(
    over.length === 0 ? 'every alerting group under the 1 s goal' : `OVER the 1 s goal: ${over.map((g) => `${g.group} ${ms(g.medianSeconds)} ms`).join(', ')}`,
  );
}

const FLAGS = { nodes: 'nodes', 'prom-nodes': 'promNodes', reads: 'reads', hours: 'historyHours', settle: 'settleSeconds' } as const;

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const json = process.env.GPUWATCH_BENCH_JSON;
  const result = await benchScale(numericOptions(FLAGS), async (p) => {
    printRulesEval(p);
    if (json) await writeFile(`${json}.prometheus.json`, JSON.stringify(p, null, 1));
  });
  // The raw figures too, where asked: a long run's numbers survive a printing mistake.
  if (json) await writeFile(json, JSON.stringify(result, null, 1));
  printScale(result, false);
}
