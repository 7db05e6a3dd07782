/** The zod field for a Prometheus-style duration, shared by every section of gpuwatch.yaml. */
import { z } from 'zod';
import { parseDuration } from './duration.js';

export const duration = z.string().refine(
  (s) => parseDuration(s) !== undefined,
  (s) => ({ message: `not a duration ("${s}"); use e.g. 30s, 5m, 1h` }),
);

/** A duration longer than zero. */
export const positiveDuration = z.string().superRefine((s, ctx) => {
  const ms = parseDuration(s);
  if (ms === undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `not a duration ("${s}"); use e.g. 30m, 2h, 1w` });
  else if (ms <= 0) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be longer than 0' });
});
