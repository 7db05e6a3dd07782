/** The rule service's rest-server client against the fake rest-server told to misbehave: replies are parsed, not cast. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenPai, type FakeOpenPai } from '../test/fake-openpai/server.js';
import { OpenPaiClient, OpenPaiError } from './openpai-client.js';

let fake: FakeOpenPai;
let client: OpenPaiClient;

beforeAll(async () => {
  fake = await startFakeOpenPai({ users: [{ name: 'admin', admin: true }] });
  client = new OpenPaiClient({ url: fake.url, token: fake.tokenFor('admin', { application: true }) });
});
afterAll(async () => {
  await fake?.close();
});
afterEach(() => {
  fake.replyWith('/api/v2/jobs', undefined);
});

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (err: unknown) => err,
  );

describe('OpenPAI client', () => {
  it('reads the {totalCount, data} form of the job list, and names a field of the wrong type in it', async () => {
    const job = { name: 'big', username: 'carol', state: 'RUNNING', totalGpuNumber: 4, jobPriority: null, retries: 0 };
    fake.replyWith('/api/v2/jobs', { totalCount: 1, data: [job] });
    expect(await client.listJobs({ username: 'carol' })).toEqual([{ name: 'big', username: 'carol', state: 'RUNNING', totalGpuNumber: 4, jobPriority: null }]);
    fake.replyWith('/api/v2/jobs', { totalCount: 1, data: [{ ...job, totalGpuNumber: '4' }] });
    await expect(client.listJobs({ username: 'carol' })).rejects.toThrow(
      /^rest-server GET \/api\/v2\/jobs answered with an unexpected reply: 0\.totalGpuNumber: Expected number, received string$/,
    );
  });

  it('takes no code from an error reply that is not rest-server error JSON, and keeps its text', async () => {
    fake.replyWith('/api/v2/jobs', { code: 503, message: { text: 'maintenance' } }, 503);
    const err = await failure(client.listJobs({ username: 'carol' }));
    expect(err).toBeInstanceOf(OpenPaiError);
    expect(err).toMatchObject({ status: 503, code: undefined, transient: true });
    expect((err as Error).message).toBe('rest-server GET /api/v2/jobs: 503: {"code":503,"message":{"text":"maintenance"}}');
  });

  it("reads rest-server's own error code and message", async () => {
    fake.replyWith('/api/v2/jobs', { code: 'InvalidParametersError', message: 'Limit exceeds max number 50000.' }, 400);
    expect(await failure(client.listJobs({ username: 'carol' }))).toMatchObject({
      status: 400,
      code: 'InvalidParametersError',
      message: 'rest-server GET /api/v2/jobs: 400 InvalidParametersError: Limit exceeds max number 50000.',
    });
  });
});
