/** The owner of a job and their address, read from the fake rest-server: replies that do not fit are named, not taken. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenPai, type FakeOpenPai } from '../../test/fake-openpai/server.js';
import { OwnerDirectory } from './owner-directory.js';

let fake: FakeOpenPai;
let service: { url: string; token: string; timeoutMs: number };

beforeAll(async () => {
  fake = await startFakeOpenPai({
    users: [
      { name: 'admin', admin: true },
      { name: 'alice', email: 'alice@research.example' },
    ],
  });
  fake.addJob({ user: 'alice', name: 'train' });
  service = { url: fake.url, token: fake.tokenFor('admin', { application: true }), timeoutMs: 2_000 };
});
afterAll(async () => {
  await fake?.close();
});
afterEach(() => {
  fake.replyWith('/api/v2/jobs/alice~train', undefined);
  fake.replyWith('/api/v2/users/alice', undefined);
});

describe('owner directory', () => {
  it("finds the owner in the job's record and their address in the user's", async () => {
    expect(await new OwnerDirectory(service, undefined).ownerOf('alice~train')).toEqual({ ok: true, name: 'alice', email: 'alice@research.example' });
  });

  it('refuses a job record whose owner field has the wrong type, naming it', async () => {
    fake.replyWith('/api/v2/jobs/alice~train', { name: 'train', username: 'alice', jobStatus: { username: 7 } });
    expect(await new OwnerDirectory(service, 'users.example').usernameOf('alice~train')).toEqual({
      ok: false,
      permanent: true,
      error: "OpenPAI's record of job alice~train does not fit: jobStatus.username: Expected string, received number",
    });
  });

  it('names the field of a user record that does not fit, and falls back to the mail domain only when there is one', async () => {
    fake.replyWith('/api/v2/users/alice', { username: 'alice', email: ['alice@research.example'] });
    expect(await new OwnerDirectory(service, undefined).ownerOf('alice~train')).toEqual({
      ok: false,
      permanent: true,
      error: "OpenPAI's record of user alice does not fit: email: Expected string, received array",
    });
    expect(await new OwnerDirectory(service, 'users.example').ownerOf('alice~train')).toEqual({ ok: true, name: 'alice', email: 'alice@users.example' });
  });
});
