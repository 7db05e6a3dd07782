/**
 * The `rightsize:` section of gpuwatch.yaml, read by `gpuwatch rightsize` (rightsize/): where the
 * history is, how job runs are grouped into recurring jobs and when a group gets a recommendation.
 * Every field can be overridden by the command's flags.
 */
import { z } from 'zod';
import { duration, positiveDuration } from './duration-field.js';
import { httpUrl, secretFields, secretGivenOnce } from './fields.js';

/** `train-3`, `train_17`, `train-run4`: a dash or underscore, an optional `run`, digits, at the end. */
export const DEFAULT_RUN_SUFFIX = '[-_](?:run)?[0-9]+';

const regexText = z.string().superRefine((s, ctx) => {
  try {
    new RegExp(s);
  } catch (err) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `not a regular expression: ${(err as Error).message}` });
  }
});

export const rightsizeSchema = z
  .object({
    /** Any Prometheus-compatible HTTP API (Prometheus, Thanos Query, Mimir's /prometheus prefix). */
    prometheus: httpUrl.default('http://127.0.0.1:9090'),
    /** Longest a single query may take (the HTTP request and Prometheus's own query timeout). */
    timeout: positiveDuration.default('60s'),
    /** How far back runs are looked for, ending now (or at --at). */
    lookback: positiveDuration.default('7d'),
    /**
     * Resolution of the subqueries that follow each GPU through a run: utilization is sampled once
     * a step, memory is the highest sample of each step. The queries' cost grows with lookback / step.
     */
    step: positiveDuration.default('2m'),
    /**
     * The run suffix removed from an OpenPAI job name (`user~name`) to name its recurring job; an
     * RE2/JavaScript regular expression matched at the end of the name (no `$` needed).
     */
    runSuffix: regexText.default(DEFAULT_RUN_SUFFIX),
    /** Completed normal runs a recurring job needs before it gets a recommendation. */
    minRuns: z.number().int().min(1).default(10),
    /** Percent added to the peak GPU memory before rounding up to whole GiB. */
    headroom: z.number().min(0).max(1000).default(20),
    /** Percent added to the peak busy GPU count before rounding up to an allowed request size. */
    gpuHeadroom: z.number().min(0).max(1000).default(0),
    /** A GPU of a run is busy when this quantile of its utilization over the run reaches busyThreshold. */
    busyQuantile: z.number().min(0).max(1).default(0.95),
    busyThreshold: z.number().min(0).max(1).default(0.1),
    /**
     * Without OpenPAI: a completed run is normal when it lasted at least this share of the median
     * duration of its recurring job's completed runs (shorter ones failed or were stopped midway).
     */
    minDurationRatio: z.number().min(0).max(1).default(0.5),
    /**
     * Also read host CPU and memory (gpuwatch_node_*) of the nodes a run held GPUs on; reported for
     * recurring jobs whose runs held whole nodes (two more queries).
     */
    host: z.boolean().default(false),
    /** GPUs per node for rounding when the layout does not say (no --config, or a node not in it). */
    gpusPerNode: z.number().int().min(1).default(8),
    /**
     * OpenPAI rest-server: when set, a completed normal run is one whose job state there is
     * SUCCEEDED (one list call per 50,000 jobs), instead of the rule from the series. `token` or
     * `tokenFile` (relative to gpuwatch.yaml): a user or application token that may list jobs.
     */
    openpai: z
      .object({ url: httpUrl, ...secretFields('token'), timeout: duration.default('10s') })
      .strict()
      .refine(...secretGivenOnce('token'))
      .optional(),
  })
  .strict();

export type RightsizeConfig = z.output<typeof rightsizeSchema>;
