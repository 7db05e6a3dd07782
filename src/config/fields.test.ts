import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { positiveDuration } from './duration-field.js';
import { databaseUrl, httpUrl, notBoth, portNumber, secretFields, secretGivenOnce } from './fields.js';

const messages = (schema: z.ZodTypeAny, value: unknown) => schema.safeParse(value).error?.issues.map((i) => i.message) ?? [];

describe('shared config fields', () => {
  it('httpUrl takes http and https URLs only', () => {
    expect(messages(httpUrl, 'https://router:9460/x')).toEqual([]);
    expect(messages(httpUrl, 'ftp://router/')).toEqual(['expected an http:// or https:// URL']);
  });

  it('portNumber takes 1 to 65535', () => {
    expect(portNumber.safeParse(65535).success).toBe(true);
    expect(portNumber.safeParse(0).success).toBe(false);
    expect(portNumber.safeParse(65536).success).toBe(false);
    expect(portNumber.safeParse(80.5).success).toBe(false);
  });

  it('databaseUrl says why a URL is not a database', () => {
    expect(messages(databaseUrl, 'sqlite://./rules.db')).toEqual([]);
    expect(messages(databaseUrl, 'postgres://db/x')).toHaveLength(1);
  });

  it('notBoth refuses the two fields together', () => {
    const schema = z
      .object({ token: z.string().optional(), tokenFile: z.string().optional() })
      .refine(notBoth('token', 'tokenFile'), 'give token or tokenFile, not both');
    expect(messages(schema, { token: 'a' })).toEqual([]);
    expect(messages(schema, {})).toEqual([]);
    expect(messages(schema, { token: 'a', tokenFile: 'f' })).toEqual(['give token or tokenFile, not both']);
  });

  it('positiveDuration refuses zero and what is not a duration', () => {
    expect(messages(positiveDuration, '30m')).toEqual([]);
    expect(messages(positiveDuration, '0s')).toEqual(['must be longer than 0']);
    expect(messages(positiveDuration, 'soon')).toEqual(['not a duration ("soon"); use e.g. 30m, 2h, 1w']);
  });

  it('secretFields and secretGivenOnce take a secret inline or from a file, not both', () => {
    const schema = z
      .object({ ...secretFields('apiToken') })
      .strict()
      .refine(...secretGivenOnce('apiToken'));
    expect(schema.parse({ apiToken: 'a' })).toEqual({ apiToken: 'a' });
    expect(schema.parse({ apiTokenFile: '/etc/token' })).toEqual({ apiTokenFile: '/etc/token' });
    expect(messages(schema, { apiToken: 'a', apiTokenFile: 'f' })).toEqual(['give apiToken or apiTokenFile, not both']);
    expect(messages(schema, { apiToken: '' })).toHaveLength(1);
  });
});
