/**
 * What gpuwatch reads from OpenPAI rest-server's JSON replies (v1.x API, DESIGN §9), as zod schemas:
 * the rule service reads job lists, the router job and user records. A reply that does not fit is
 * refused with the field named, never taken as it is. Fields nobody reads are dropped.
 */
import { z } from 'zod';

/** One job as rest-server lists it (GET /api/v2/jobs). */
export const listedJobSchema = z.object({
  name: z.string(),
  username: z.string(),
  state: z.string(),
  virtualCluster: z.string().optional(),
  totalGpuNumber: z.number().optional(),
  /** null means default. */
  jobPriority: z.string().nullable().optional(),
});

export type ListedJob = z.infer<typeof listedJobSchema>;

/** rest-server answers a bare list, or `{totalCount, data}` when asked `withTotalCount`: the list either way. */
export const jobListSchema = z.preprocess((reply) => (isRecord(reply) && 'data' in reply ? reply.data : reply), z.array(listedJobSchema));

/** One job's record (GET /api/v2/jobs/{user}~{job}): its owner is `jobStatus.username` (`username` on older servers). */
export const jobRecordSchema = z.object({
  username: z.string().optional(),
  jobStatus: z.object({ username: z.string().optional() }).optional(),
});

/** A user's record (GET /api/v2/users/{name}); `email` is empty when none is set. */
export const userRecordSchema = z.object({ email: z.string().nullable().optional() });

/** rest-server's error body: `{code: "NoJobError", message: "…"}`. */
export const errorReplySchema = z.object({ code: z.string().optional(), message: z.string().optional() });

/** The reply as `schema` reads it, or where it does not fit (e.g. `3.state: Required`: job 3 of a list has no state). */
export function parseReply<S extends z.ZodTypeAny>(schema: S, reply: unknown): { ok: true; data: z.output<S> } | { ok: false; error: string } {
  const parsed = schema.safeParse(reply);
  if (parsed.success) return { ok: true, data: parsed.data as z.output<S> };
  const problems = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(reply)'}: ${i.message}`);
  return { ok: false, error: problems.join('; ') };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
