/** Zod fields that several components' config sections share (durations are in duration-field.ts). */
import { z } from 'zod';
import { parseDatabaseUrl } from '../storage/database-url.js';

export const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'expected an http:// or https:// URL');

/** A TCP port, 1–65535. */
export const portNumber = z.number().int().min(1).max(65535);

/** A sqlite:// or mysql:// URL, with parseDatabaseUrl's reason when it is not one. */
export const databaseUrl = z.string().superRefine((url, ctx) => {
  try {
    parseDatabaseUrl(url);
  } catch (err) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message });
  }
});

/** For `.refine`: not both `a` and `b` are set (a value or the file it is read from, say). */
export const notBoth = (a: string, b: string) => (v: Record<string, unknown>) => !(v[a] !== undefined && v[b] !== undefined);

/** A secret given inline or in a file: the optional fields `<name>` and `<name>File`. */
export function secretFields<N extends string>(name: N): Record<N | `${N}File`, z.ZodOptional<z.ZodString>> {
  return { [name]: z.string().min(1).optional(), [`${name}File`]: z.string().min(1).optional() } as Record<N | `${N}File`, z.ZodOptional<z.ZodString>>;
}

/** The `.refine` arguments that refuse a secret given both inline and in a file. */
export function secretGivenOnce(name: string): [(v: Record<string, unknown>) => boolean, string] {
  return [notBoth(name, `${name}File`), `give ${name} or ${name}File, not both`];
}
