import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/yaml-file.js';
import { loadRouterOptions, registerRouterCommand } from './cli.js';
import { DEFAULT_LISTEN } from '../src/config/listen-address.js';
import { DEFAULT_ROUTER_DB, routerConfigSchema } from '../src/config/router.js';
import { resolveRouterConfig } from './options.js';
import { slaFor } from './schedule/sla.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'router-config-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('router configuration', () => {
  it('has defaults a platform team can start with: the DESIGN SLA table, dry-run actions', async () => {
    const config = routerConfigSchema.parse({});
    expect(config).toMatchObject({ listen: DEFAULT_LISTEN.router, db: DEFAULT_ROUTER_DB, ackLinkTtl: '24h', defaultSeverity: 2, pollInterval: '1s' });
    expect(config.actions).toMatchObject({ dryRun: true, hourlyBudget: 10, grace: '30m' });
    expect(config.rotation).toMatchObject({ drisPerShift: 1, shiftLength: '1w', handoff: { weekday: 'monday', time: '10:00', timeZone: 'UTC' } });
    expect(config.workingHours).toMatchObject({ weekdays: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'], start: '09:00', end: '18:00' });
    const options = await resolveRouterConfig(config);
    const h = 3_600_000;
    expect(slaFor(options.sla, 0, 'production')).toEqual({ acknowledgeMs: h / 2, updateMs: 2 * h, hours: '24x7' });
    expect(slaFor(options.sla, 1, 'production')).toEqual({ acknowledgeMs: h / 2, updateMs: 2 * h, hours: 'working' });
    expect(slaFor(options.sla, 2, 'production')).toEqual({ acknowledgeMs: 2 * h, updateMs: 24 * h, hours: 'working' });
    expect(slaFor(options.sla, 3, 'dev')).toEqual({ acknowledgeMs: 4 * h, updateMs: 24 * h, hours: 'working' });
    expect(slaFor(options.sla, 1, 'staging')).toEqual({ acknowledgeMs: 4 * h, updateMs: 24 * h, hours: 'working' });
  });

  it('refuses what it cannot use, naming the field', () => {
    const issues = (input: unknown) => routerConfigSchema.safeParse(input).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues({ rotation: { drisPerShift: 3 } })).toEqual(['rotation.drisPerShift: Number must be less than or equal to 2']);
    expect(issues({ rotation: { shiftLength: '36h' } })).toEqual(['rotation.shiftLength: a shift lasts whole days (e.g. 1w, 7d, 1d)']);
    expect(issues({ workingHours: { timeZone: 'Mars/Olympus' } })).toEqual([
      'workingHours.timeZone: unknown time zone "Mars/Olympus"; use an IANA name such as Europe/Berlin',
    ]);
    expect(issues({ sla: [{ severity: [0, 1, 2], acknowledge: '1h', update: '1h' }] })).toEqual([
      'sla: no row covers severity 3 on production clusters',
      'sla: no row covers severity 3 on staging clusters',
      'sla: no row covers severity 3 on dev clusters',
    ]);
    expect(issues({ actions: { grace: 'soon' } })).toEqual(['actions.grace: not a duration ("soon"); use e.g. 30m, 2h, 1w']);
    expect(issues({ team: [{ name: 'a', email: 'a@x.example' }], rotation: { drisPerShift: 2 } })).toEqual([
      'rotation.drisPerShift: 2 DRIs per shift need at least as many team members',
    ]);
    expect(issues({ apiToken: 'a', apiTokenFile: 'b' })).toEqual([': give apiToken or apiTokenFile, not both']);
    expect(issues({ pagerduty: {} })).toEqual([": Unrecognized key(s) in object: 'pagerduty'"]);
  });

  it('reads gpuwatch.yaml: secrets from files, the database next to it, cluster priorities', async () => {
    write('api-token', 'file-token\n');
    const file = write(
      'gpuwatch.yaml',
      [
        'clusters:',
        '  - {name: prod-a, layout: a.yaml}',
        '  - {name: lab, priority: dev, layout: b.yaml}',
        'exporter: {interval: 10s}',
        'router:',
        '  apiTokenFile: api-token',
        '  db: sqlite://./state/router.db',
        '  smtp: {host: mail.example, auth: {user: u, pass: p}}',
        '',
      ].join('\n'),
    );
    const options = await loadRouterOptions(file);
    expect(options.apiToken).toBe('file-token');
    expect(options.db).toBe(`sqlite://${join(dir, 'state/router.db')}`);
    expect(options.clusters).toEqual({ 'prod-a': 'production', lab: 'dev' });
    expect(options.smtp).toMatchObject({ host: 'mail.example', port: 25, auth: { user: 'u', pass: 'p' }, timeoutMs: 15_000 });
  });

  it('says where a mistake is: file, line, column and field', async () => {
    const file = write('bad.yaml', ['clusters: []', 'router:', '  rotation:', '    drisPerShift: 5', ''].join('\n'));
    const error = await loadRouterOptions(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(`${file}:4:19: router.rotation.drisPerShift: Number must be less than or equal to 2`);
    await expect(loadRouterOptions(write('missing-secret.yaml', 'router: {ackSecretFile: nowhere}\n'))).rejects.toThrow(
      /router\.ackSecretFile: .*nowhere: file not found/,
    );
  });

  it('refuses live actions without a webhook token or OpenPAI, and a grace below the floor', () => {
    const issues = (input: unknown) => routerConfigSchema.safeParse(input).error?.issues.map((i) => `${i.path.join('.')}: ${i.message.split(':')[0]}`);
    expect(issues({ actions: { dryRun: false } })).toEqual([
      'webhookToken: required when actions.dryRun is false',
      'actions.openpai: required when actions.dryRun is false',
    ]);
    expect(issues({ webhookToken: 't', actions: { dryRun: false, openpai: { url: 'http://pai.example' } } })).toBeUndefined();
    expect(issues({ actions: { grace: '5m' } })).toEqual(['actions.grace: shorter than actions.minGrace (15m)']);
    expect(routerConfigSchema.parse({}).actions.minGrace).toBe('15m');
  });

  it('`gpuwatch router` with live actions and no webhook token exits 2, naming the field and the line', () => {
    const file = write(
      'live.yaml',
      ['router:', '  listen: 127.0.0.1:0', '  db: "sqlite::memory:"', '  actions:', '    dryRun: false', '    openpai: {url: "http://127.0.0.1:9"}', ''].join(
        '\n',
      ),
    );
    const cli = fileURLToPath(new URL('../cli/gpuwatch.ts', import.meta.url));
    const run = spawnSync(process.execPath, ['--import', 'tsx', cli, 'router', '--config', file], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('router.webhookToken: required when actions.dryRun is false');
  });

  it('registers `gpuwatch router` with its flags, checking them', async () => {
    const program = new Command('gpuwatch').exitOverride().configureOutput({ writeErr: () => undefined });
    registerRouterCommand(program);
    const router = program.commands.find((c) => c.name() === 'router');
    expect(router?.options.map((o) => o.long)).toEqual(['--config', '--listen', '--db']);
    await expect(program.parseAsync(['node', 'gpuwatch', 'router', '--listen', 'nowhere'])).rejects.toThrow(/expected HOST:PORT/);
    await expect(program.parseAsync(['node', 'gpuwatch', 'router', '--db', 'postgres://x/y'])).rejects.toThrow(/unsupported scheme/);
  });
});

describe('router.web: personal tokens and the login cookie', () => {
  const issues = (web: unknown) => {
    const result = routerConfigSchema.safeParse({ web });
    return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('reads each user token (inline or from a file) and makes the cookie Secure behind https', async () => {
    const file = write('cho-token', 'cho-secret\n');
    const config = routerConfigSchema.parse({
      publicUrl: 'https://oncall.example.org',
      web: {
        users: [
          { name: 'ana', token: 'ana-secret' },
          { name: 'cho', tokenFile: file },
        ],
      },
    });
    const options = await resolveRouterConfig(config);
    expect(options.web).toEqual({
      users: [
        { name: 'ana', token: 'ana-secret' },
        { name: 'cho', token: 'cho-secret' },
      ],
      secureCookie: true,
      sessionTtlMs: 12 * 3_600_000,
    });
    expect((await resolveRouterConfig(routerConfigSchema.parse({}))).web.secureCookie).toBe(false);
    expect((await resolveRouterConfig(routerConfigSchema.parse({ web: { secureCookie: true } }))).web.secureCookie).toBe(true);
  });

  it('names the user field that is wrong', async () => {
    expect(issues({ users: [{ name: 'ana' }] })).toEqual(['web.users.0: give token or tokenFile']);
    expect(issues({ users: [{ name: 'ana', token: 'a', tokenFile: 'f' }] })).toEqual(['web.users.0: give token or tokenFile, not both']);
    expect(
      issues({
        users: [
          { name: 'ana', token: 'a' },
          { name: 'ana', token: 'b' },
        ],
      }),
    ).toEqual(['web.users.1.name: "ana" is listed twice']);
    expect(issues({ users: [{ name: 'shared-token', token: 'a' }] })[0]).toMatch(/^web\.users\.0\.name: "shared-token" is how the shared apiToken is recorded/);
    expect(issues({ users: [{ name: 'ana', token: 'a' }], secureCookie: 'yes' })[0]).toMatch(/^web\.secureCookie: /);
    const shared = routerConfigSchema.parse({ apiToken: 'same', web: { users: [{ name: 'ana', token: 'same' }] } });
    await expect(resolveRouterConfig(shared)).rejects.toThrow(/router\.web\.users\.0: ana's token is the same as the shared apiToken/);
    await expect(resolveRouterConfig(routerConfigSchema.parse({ web: { users: [{ name: 'ana', tokenFile: join(dir, 'missing') }] } }))).rejects.toThrow(
      ConfigError,
    );
  });
});
