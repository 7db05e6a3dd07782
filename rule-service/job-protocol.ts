/**
 * Reading OpenPAI job protocols (YAML, or JSON for the admission API): the GPUs, VC and priority a
 * job asks for; and rewriting a YAML job with another priority class (or another name, for a
 * resubmission).
 */
import { isMap, parseDocument } from 'yaml';
import { z } from 'zod';
import { priorityClassFor, type Priority } from './priority.js';

const PRIORITY_PATH = ['extras', 'hivedScheduler', 'jobPriorityClass'] as const;

export const jobProtocolSchema = z
  .object({
    name: z.string().min(1).optional(),
    defaults: z
      .object({ virtualCluster: z.string().min(1).optional() })
      .passthrough()
      .nullish(),
    taskRoles: z
      .record(
        z
          .object({
            instances: z.number().int().min(0).optional(),
            resourcePerInstance: z
              .object({ gpu: z.number().int('expected a whole number of GPUs (OpenPAI counts whole GPUs)').min(0).optional() })
              .passthrough()
              .optional(),
          })
          .passthrough(),
      )
      .refine((roles) => Object.keys(roles).length > 0, 'a job needs at least one task role'),
    extras: z
      .object({
        hivedScheduler: z
          .object({ jobPriorityClass: z.enum(['prod', 'test', 'oppo']).optional() })
          .passthrough()
          .nullish(),
      })
      .passthrough()
      .nullish(),
  })
  .passthrough();

export interface JobSummary {
  name?: string;
  vc: string;
  /** Unset means test (DESIGN §6). */
  priority: Priority;
  gpus: number;
}

export class JobProtocolError extends Error {}

/** Parses a job as sent to rest-server: JSON when the content type says so, else YAML. */
export function parseJobText(text: string, contentType: string | undefined): unknown {
  if (isJsonContentType(contentType)) {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new JobProtocolError(`job is not valid JSON: ${(err as Error).message}`);
    }
  }
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) throw new JobProtocolError(`job is not valid YAML: ${doc.errors[0]?.message.split('\n')[0]}`);
  return doc.toJS() as unknown;
}

export function summarizeJob(protocol: unknown): JobSummary {
  const parsed = jobProtocolSchema.safeParse(protocol);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new JobProtocolError(`job protocol: ${issue?.path.join('.') || '(top level)'}: ${issue?.message}`);
  }
  const job = parsed.data;
  const gpus = Object.values(job.taskRoles).reduce((sum, role) => sum + (role.instances ?? 1) * (role.resourcePerInstance?.gpu ?? 0), 0);
  return {
    name: job.name,
    vc: job.defaults?.virtualCluster ?? 'default',
    priority: job.extras?.hivedScheduler?.jobPriorityClass ?? 'test',
    gpus,
  };
}

/** rest-server reads a submission with yaml.safeLoad: a body sent as JSON never parses as a job. */
export const JSON_SUBMISSION_MESSAGE =
  'The job protocol must be sent as YAML (content-type text/yaml): rest-server reads it with yaml.safeLoad and refuses a JSON body.';

export function isJsonContentType(contentType: string | undefined): boolean {
  return /json/i.test(contentType ?? '');
}

/** The same YAML job text with `extras.hivedScheduler.jobPriorityClass` set (and the name, if given). */
export function rewriteJob(text: string, change: { priority?: Priority; name?: string }): string {
  // Edit the YAML document in place so comments and layout survive.
  const doc = parseDocument(text);
  if (!isMap(doc.contents)) throw new JobProtocolError('job protocol is not a map');
  if (change.priority !== undefined) {
    // `extras:` or `hivedScheduler:` left empty (null) must become maps before a key goes in.
    for (let depth = 1; depth < PRIORITY_PATH.length; depth++) {
      const node = doc.getIn(PRIORITY_PATH.slice(0, depth), true);
      if (node !== undefined && !isMap(node)) doc.setIn(PRIORITY_PATH.slice(0, depth), doc.createNode({}));
    }
    doc.setIn([...PRIORITY_PATH], priorityClassFor(change.priority));
  }
  if (change.name !== undefined) doc.set('name', change.name);
  return doc.toString();
}
