/** The zod field for a Prometheus-style duration, shared by every section of gpuwatch.yaml. */
import { z } from 'zod';
import { parseDuration } from './duration.js';

export const duration = z
  .string()
  .refine((s) => parseDuration(s) !== undefined, (s) => ({ message: `not a duration ("${s}"); use e.g. 30s, 5m, 1h` }));
