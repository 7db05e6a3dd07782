/**
 * Bad input is answered 400 (or exit code 2) naming the field: whole GPU counts only, one check
 * for HTTP and the CLI, ids and descriptions that fit the SQL columns, on SQLite and MariaDB.
 */
import { Command, CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createThrowawayMysqlDatabase, type ThrowawayDatabase } from '../src/storage/testing/throwaway-mysql.js';
import { registerRuleServiceCommands } from './cli.js';
import type { RunningRuleService } from './service.js';
import { API_TOKEN, http, SEED_RULES_FILE, startTestService } from '../test/rule-service-support.js';

const JOB_WITH_HALF_GPU = 'name: half\ntaskRoles:\n  train:\n    instances: 1\n    resourcePerInstance: { cpu: 1, memoryMB: 512, gpu: 1.5 }\n';

describe.each(['sqlite', 'mysql'])('HTTP input on %s', (dialect) => {
  let service: RunningRuleService;
  let db: ThrowawayDatabase | undefined;

  beforeAll(async () => {
    db = dialect === 'mysql' ? await createThrowawayMysqlDatabase() : undefined;
    service = await startTestService(db ? { db: db.url } : {});
  });

  afterAll(async () => {
    await service?.close();
    await db?.drop();
  });

  const admit = (body: unknown, headers?: Record<string, string>, query = '') => http(`${service.url}/api/v1/admission${query}`, { body, headers });

  it('refuses fractional GPUs in a summary, in holdings and in a job protocol', async () => {
    const half = await admit({ user: 'alice', priority: 'oppo', gpus: 1.5 });
    expect(half.status).toBe(400);
    expect(half.json.error).toMatch(/^gpus: expected a whole number of GPUs/);
    const held = await admit({ user: 'alice', priority: 'oppo', gpus: 1, held: { oppo: 0.5 } });
    expect(held.status).toBe(400);
    expect(held.json.error).toMatch(/^held\.oppo: expected a whole number/);
    const job = await admit(JOB_WITH_HALF_GPU, { 'content-type': 'text/yaml' }, '?user=alice');
    expect(job.status).toBe(400);
    expect(job.json.error).toMatch(/taskRoles\.train\.resourcePerInstance\.gpu: expected a whole number/);
  });

  it('refuses a rule comparing with a fractional count', async () => {
    const answer = await http(`${service.url}/api/v1/rules`, { body: { requested: '2.5', result: 'fail' }, token: API_TOKEN });
    expect(answer.status).toBe(400);
    expect(answer.json.problems).toEqual([{ field: 'requested', message: expect.stringMatching(/not a comparison \("2\.5"\).*whole number/) }]);
  });

  it('answers 400 naming the id for ids no rule can have', async () => {
    for (const [method, path] of [
      ['GET', '/99999999999999999999'],
      ['PUT', '/4294967296'],
      ['DELETE', '/1e3'],
      ['GET', '/0'],
    ] as const) {
      const answer = await http(`${service.url}/api/v1/rules${path}`, { method, token: API_TOKEN, body: method === 'PUT' ? { result: 'fail' } : undefined });
      expect(answer.status, `${method} ${path}`).toBe(400);
      expect(answer.json.problems).toEqual([{ field: 'id', message: expect.stringMatching(/whole number from 1 to 2147483647/) }]);
    }
    const huge = await http(`${service.url}/api/v1/rules`, { body: { id: 1e15, result: 'fail' }, token: API_TOKEN });
    expect(huge.status).toBe(400);
    expect(huge.json.problems[0].field).toBe('id');
  });

  it('answers 400 naming the description when it is too long', async () => {
    const answer = await http(`${service.url}/api/v1/rules`, { body: { user: '^x$', result: 'fail', description: 'é'.repeat(70_000) }, token: API_TOKEN });
    expect(answer.status).toBe(400);
    expect(answer.json.problems).toEqual([{ field: 'description', message: expect.stringMatching(/longer than 2000 characters/) }]);
    const table = await http(`${service.url}/api/v1/rules`, { method: 'PUT', body: [{ result: 'fail', description: 'x'.repeat(2_001) }], token: API_TOKEN });
    expect(table.status).toBe(400);
    expect(table.json.problems[0].field).toBe('0.description');
  });
});

describe('the CLI checks a job the way HTTP does', () => {
  async function check(...args: string[]): Promise<unknown> {
    const program = new Command('gpuwatch').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
    registerRuleServiceCommands(program, { out: () => undefined, err: () => undefined });
    return program.parseAsync(['node', 'gpuwatch', 'rules', 'check', '--rules', SEED_RULES_FILE, '--priority', 'oppo', ...args]).catch((e: unknown) => e);
  }

  it.each([
    [['--user', '', '--gpus', '1'], /--user: String must contain at least 1 character/],
    [['--user', 'alice', '--gpus', '1e20'], /--gpus: Number must be less than or equal to 1000000/],
    [['--user', 'alice', '--gpus', '1.5'], /--gpus: expected a whole number/],
    [['--user', 'alice', '--gpus', '1', '--held', 'oppo=0.5'], /--held oppo=N: expected a whole number/],
  ])('refuses %j with exit code 2', async (args, message) => {
    const error = await check(...args);
    expect(error).toBeInstanceOf(CommanderError);
    expect((error as CommanderError).exitCode).toBe(2);
    expect((error as Error).message).toMatch(message);
  });
});
