/**
 * What POST /api/v1/admission accepts: a summary `{user, vc, priority, gpus, held?}`, a job protocol
 * (YAML or JSON) with the user from `?user=` or the bearer token, or `{user, job, held?}`.
 */
import { z } from 'zod';
import { JobProtocolError, parseJobText, summarizeJob } from './job-protocol.js';
import type { AdmissionRequest } from './admission.js';
import { holdingsOf, PRIORITIES } from './priority.js';
import { MAX_MATCHED_LENGTH } from './pattern.js';

/** More GPUs than any cluster has: a count above this is a typo or an attack, not a job. */
export const MAX_GPUS = 1_000_000;

const name = z.string().min(1).max(MAX_MATCHED_LENGTH);
const gpuCount = z.number().int('expected a whole number of GPUs (OpenPAI counts whole GPUs)').min(0).max(MAX_GPUS);

export const heldSchema = z
  .object(Object.fromEntries(PRIORITIES.map((p) => [p, gpuCount.optional()])) as Record<(typeof PRIORITIES)[number], z.ZodOptional<typeof gpuCount>>)
  .strict();

export const admissionSummarySchema = z
  .object({ user: name, vc: name.default('default'), priority: z.enum(PRIORITIES), gpus: gpuCount, held: heldSchema.optional() })
  .strict();

const wrappedJobSchema = z.object({ user: name.optional(), job: z.union([z.string(), z.record(z.unknown())]), held: heldSchema.optional() }).strict();

export class AdmissionInputError extends Error {
  constructor(
    message: string,
    /** Each problem with the field it is about (`gpus`, `held.oppo`, …) when known. */
    readonly problems: readonly { field: string; message: string }[] = [],
  ) {
    super(message);
  }
}

export function admissionRequestFrom(body: unknown, contentType: string | undefined, fallbackUser: string | undefined): AdmissionRequest {
  if (typeof body === 'string') return fromJob(parseOrThrow(body, contentType), fallbackUser, undefined);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new AdmissionInputError('expected a job protocol or {user, vc, priority, gpus}');
  if ('job' in body) {
    const wrapped = check(wrappedJobSchema, body);
    const job = typeof wrapped.job === 'string' ? parseOrThrow(wrapped.job, 'text/yaml') : wrapped.job;
    return fromJob(job, wrapped.user ?? fallbackUser, wrapped.held);
  }
  if ('taskRoles' in body) return fromJob(body, fallbackUser, undefined);
  return checkedSummary(body);
}

/** A summary `{user, vc?, priority, gpus, held?}`, checked the same way for HTTP and the CLI. */
export function checkedSummary(value: unknown): AdmissionRequest {
  const summary = check(admissionSummarySchema, value);
  return { user: summary.user, vc: summary.vc, priority: summary.priority, gpus: summary.gpus, held: summary.held && holdingsOf(summary.held) };
}

function fromJob(job: unknown, user: string | undefined, held: z.output<typeof heldSchema> | undefined): AdmissionRequest {
  if (user === undefined || user === '') throw new AdmissionInputError('whose job is it? give ?user=NAME, a bearer token, or {user, job}');
  if (user.length > MAX_MATCHED_LENGTH) throw new AdmissionInputError(`user: longer than ${MAX_MATCHED_LENGTH} characters`);
  try {
    const summary = summarizeJob(job);
    if (summary.vc.length > MAX_MATCHED_LENGTH) throw new AdmissionInputError(`defaults.virtualCluster: longer than ${MAX_MATCHED_LENGTH} characters`);
    return { user, vc: summary.vc, priority: summary.priority, gpus: summary.gpus, held: held && holdingsOf(held) };
  } catch (err) {
    if (err instanceof JobProtocolError) throw new AdmissionInputError(err.message);
    throw err;
  }
}

function parseOrThrow(text: string, contentType: string | undefined): unknown {
  try {
    return parseJobText(text, contentType);
  } catch (err) {
    throw new AdmissionInputError((err as Error).message);
  }
}

function check<S extends z.ZodTypeAny>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message }));
  throw new AdmissionInputError(problems.map((p) => `${p.field}: ${p.message}`).join('; '), problems);
}
