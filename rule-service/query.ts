/**
 * Query parameters of the rule service's HTTP API, parsed with zod: a missing one takes its
 * documented default, a bad or repeated one is a 400 naming it — never a silent default.
 */
import type { Request, Response } from 'express';
import { z } from 'zod';

const MAX_AUDIT_LIMIT = 1_000;

/** `?user=` names the submitter of a bare job protocol. */
export const admissionQuerySchema = z.object({ user: z.string().min(1, 'expected a user name').optional() });

/** `?format=`: the rule table as JSON (default), or as a YAML or CSV file. */
export const rulesQuerySchema = z.object({ format: z.enum(['json', 'yaml', 'csv']).default('json') });

export const auditQuerySchema = z.object({
  subject: z.string().optional(),
  limit: z
    .string()
    .regex(/^\d{1,4}$/, `expected a whole number from 1 to ${MAX_AUDIT_LIMIT}`)
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(1, `expected a whole number from 1 to ${MAX_AUDIT_LIMIT}`)
        .max(MAX_AUDIT_LIMIT, `expected a whole number from 1 to ${MAX_AUDIT_LIMIT}`),
    )
    .default('100'),
});

/** The request's query as `schema` reads it, or undefined after answering 400 with every bad parameter. */
export function queryOf<S extends z.ZodTypeAny>(schema: S, req: Request, res: Response): z.output<S> | undefined {
  const parsed = schema.safeParse(req.query);
  if (parsed.success) return parsed.data as z.output<S>;
  const problems = parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
  res.status(400).json({ error: problems.map((p) => `query parameter ${p.field}: ${p.message}`).join('; '), problems });
  return undefined;
}
