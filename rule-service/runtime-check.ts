/**
 * Before a kill or downgrade for running too long: ask Prometheus how long the job has run
 * (`time() - gpuwatch_job_start_time_seconds{job="…"}`, one series per node the job runs on) and
 * compare it with the `policies.jobRunningTooLong` threshold that applies to the job's labels, the
 * way the generated alert picks it: the first override whose regex matches the series' vc, priority
 * or cluster, else the base threshold; exempt jobs have none. The job is confirmed when one of its
 * series has run at least its threshold (so the smallest threshold among its label sets counts).
 * No Prometheus, no start time, exempt or too young: the action is refused (fail closed).
 */
import { formatDuration, parseDuration } from '../src/config/duration.js';
import type { Policies } from '../src/config/policies.js';
import type { Exempt } from '../src/config/policy-fields.js';
import { applicableOverride, isExempt, overrideKeyOf, type OverrideSelector } from '../src/config/policy-match.js';
import { instantQuery, promqlString, type PrometheusTarget, type Sample } from './prometheus-query.js';

export interface RuntimeOverride extends OverrideSelector {
  thresholdSeconds: number;
}

/** policies.jobRunningTooLong with durations in seconds. */
export interface RuntimePolicy {
  enabled: boolean;
  thresholdSeconds: number;
  overrides: RuntimeOverride[];
  exempt: Exempt;
}

export interface RuntimeCheckOptions extends PrometheusTarget {
  policy: RuntimePolicy;
}

export type RuntimeVerdict = { tooLong: true; message: string } | { tooLong: false; message: string };

const seconds = (text: string) => Math.round((parseDuration(text) ?? 0) / 1_000);

/** The policy section (already validated) in the form the check uses. */
export function runtimePolicyOf(section: Policies['jobRunningTooLong']): RuntimePolicy {
  const overrides = section.overrides.map((o): RuntimeOverride => {
    const label = overrideKeyOf(o);
    return { [label]: o[label], thresholdSeconds: seconds(o.threshold ?? section.threshold) };
  });
  return { enabled: section.enabled, thresholdSeconds: seconds(section.threshold), overrides, exempt: section.exempt };
}

/** The threshold for one series' labels and where it comes from; undefined when the series is exempt (src/config/policy-match.ts). */
export function thresholdFor(policy: RuntimePolicy, labels: Record<string, string>): { seconds: number; scope: string } | undefined {
  if (isExempt(policy.exempt, labels)) return undefined;
  const override = policy.overrides[applicableOverride(policy.overrides, labels)];
  if (!override) return { seconds: policy.thresholdSeconds, scope: '' };
  const label = overrideKeyOf(override);
  return { seconds: override.thresholdSeconds, scope: ` (override for ${label} "${override[label] ?? ''}")` };
}

/** PromQL for how long ago the job started, per series of its start time. */
export function runtimeQuery(job: string): string {
  return `time() - gpuwatch_job_start_time_seconds{job=${promqlString(job)}}`;
}

/** The verdict from the query's series (each: the job's labels on one node, and its age in seconds). */
export function judgeRuntime(job: string, policy: RuntimePolicy, ages: readonly Sample[]): RuntimeVerdict {
  if (!policy.enabled) return { tooLong: false, message: `policies.jobRunningTooLong is disabled, so no job is stopped for running too long` };
  const valid = ages.filter((a) => Number.isFinite(a.value));
  if (valid.length === 0) {
    return {
      tooLong: false,
      message: `Prometheus has no start time (gpuwatch_job_start_time_seconds) for ${job}, so it cannot be confirmed to have run too long`,
    };
  }
  const judged = valid.flatMap((a) => {
    const limit = thresholdFor(policy, a.labels);
    return limit ? [{ age: a.value, ...limit }] : [];
  });
  if (judged.length === 0) return { tooLong: false, message: `${job} is exempt from policies.jobRunningTooLong` };
  const worst = judged.reduce((a, b) => (b.age - b.seconds > a.age - a.seconds ? b : a));
  const age = formatDuration(Math.max(0, Math.floor(worst.age)) * 1_000);
  const limit = formatDuration(worst.seconds * 1_000);
  if (worst.age < worst.seconds) {
    return { tooLong: false, message: `${job} has run ${age}, less than the ${limit} policies.jobRunningTooLong allows${worst.scope}` };
  }
  return { tooLong: true, message: `${job} confirmed running too long: started ${age} ago, at least the ${limit} limit${worst.scope}` };
}

export class RuntimeCheck {
  constructor(private readonly options: RuntimeCheckOptions) {}

  async confirm(job: string): Promise<RuntimeVerdict> {
    try {
      return judgeRuntime(job, this.options.policy, await instantQuery(this.options, runtimeQuery(job)));
    } catch (err) {
      return { tooLong: false, message: `cannot ask Prometheus how long ${job} has run (${(err as Error).message}), so the action is refused` };
    }
  }
}
