import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/yaml-file.js';
import { loadRuleServiceOptions, registerRuleServiceCommands } from './cli.js';
import { SEED_RULES_FILE } from '../test/rule-service-support.js';

async function run(args: string[]): Promise<{ out: string; err: string }> {
  let out = '';
  let err = '';
  const program = new Command('gpuwatch').exitOverride().configureOutput({ writeErr: (t) => (err += t), writeOut: (t) => (out += t) });
  registerRuleServiceCommands(program, { out: (t) => (out += t), err: (t) => (err += t) });
  await program.parseAsync(['node', 'gpuwatch', ...args]);
  return { out, err };
}

const check = (...args: string[]) => run(['rules', 'check', '--rules', SEED_RULES_FILE, ...args]);

describe('gpuwatch rules check', () => {
  it('prints one JSON line with result, priority, reasons and matched ids', async () => {
    const { out } = await check('--user', 'alice', '--priority', 'prod', '--gpus', '4');
    expect(out).toBe('{"result":"oppo","priority":"oppo","reasons":["ordinary users may only submit oppo jobs"],"matched":[4,2]}\n');
  });

  it('counts --held per priority and reports a rejection with every reason', async () => {
    const { out } = await check('--user', 'alice', '--priority', 'test', '--gpus', '2', '--held', 'oppo=10', '--held', 'oppo=9', '--held', 'prod=3');
    expect(JSON.parse(out)).toEqual({
      result: 'fail',
      priority: 'oppo',
      reasons: ['ordinary users may only submit oppo jobs', 'more than 20 GPUs will fail'],
      matched: [4, 3],
    });
  });

  it('says retain when the priority stays, also for a VC', async () => {
    const { out } = await check('--user', 'fa_test2', '--vc', 'nlp', '--priority', 'prod', '--gpus', '2', '--held', 'test=2');
    expect(out).toBe('{"result":"retain","priority":"prod","reasons":[],"matched":[10]}\n');
  });

  it('reads CSV rule files too', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gpuwatch-rules-'));
    const file = join(dir, 'rules.csv');
    await writeFile(file, 'user,priority,result,description\n^bob$,,fail,bob is banned\n');
    const { out } = await run(['rules', 'check', '--rules', file, '--user', 'bob', '--priority', 'oppo', '--gpus', '0']);
    expect(out).toBe('{"result":"fail","priority":"oppo","reasons":["bob is banned"],"matched":[1]}\n');
  });

  it('refuses a bad rule file naming file, line and field (exit code 2 through ConfigError)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gpuwatch-rules-'));
    const file = join(dir, 'rules.yaml');
    await writeFile(file, '- user: .*\n  result: retain\n- user: ^x(?=(a+)+$)\n  result: fail\n');
    const error = await run(['rules', 'check', '--rules', file, '--user', 'x', '--priority', 'oppo', '--gpus', '1']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:9: 1\\.user: "\\^x\\(\\?=\\(a\\+\\)\\+\\$\\)": needs a backtracking engine`),
    );
    const missing = await run(['rules', 'check', '--rules', join(dir, 'nope.yaml'), '--user', 'x', '--priority', 'oppo', '--gpus', '1']).catch(
      (e: unknown) => e,
    );
    expect(missing).toBeInstanceOf(ConfigError);
    expect((missing as Error).message).toMatch(/nope\.yaml: file not found/);
  });

  it('refuses bad flags as commander errors (exit code 2 in gpuwatch)', async () => {
    const cases: [string[], RegExp][] = [
      [['--user', 'a', '--priority', 'urgent', '--gpus', '1'], /Allowed choices are prod, test, default, oppo/],
      [['--user', 'a', '--priority', 'prod', '--gpus', 'many'], /expected a number of GPUs/],
      [['--user', 'a', '--priority', 'prod', '--gpus', '1', '--held', 'gold=3'], /expected PRIORITY=N/],
      [['--user', 'a', '--gpus', '1'], /required option '--priority <priority>' not specified/],
    ];
    for (const [args, message] of cases) {
      const error = await check(...args).catch((e: unknown) => e);
      expect(error, args.join(' ')).toBeInstanceOf(CommanderError);
      expect((error as CommanderError).message).toMatch(message);
    }
  });
});

describe('gpuwatch rules import / export', () => {
  it('imports the seed into SQLite and exports it back unchanged, as YAML and CSV', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gpuwatch-rules-'));
    const db = `sqlite://${join(dir, 'rules.db')}`;
    const imported = await run(['rules', 'import', SEED_RULES_FILE, '--db', db]);
    expect(imported.err).toMatch(/imported 12 rules into sqlite:.*rules\.db \(replace\)/);
    const yaml = await run(['rules', 'export', '--db', db]);
    const seedWithoutComments = (await readFile(SEED_RULES_FILE, 'utf8')).replace(/^#.*\n/gm, '');
    expect(yaml.out).toBe(seedWithoutComments);

    const csvFile = join(dir, 'rules.csv');
    await run(['rules', 'export', '--db', db, '--output', csvFile]);
    const csv = await readFile(csvFile, 'utf8');
    expect(csv.split('\r\n')[9]).toBe('.*,,prod/test/default,,,,oppo,ordinary users may only submit oppo jobs');

    // Re-importing the CSV replaces the table; --append puts rules on top.
    await run(['rules', 'import', csvFile, '--db', db]);
    const extra = join(dir, 'extra.yaml');
    await writeFile(extra, '- user: ^bob$\n  result: fail\n');
    await run(['rules', 'import', extra, '--db', db, '--append']);
    const after = await run(['rules', 'export', '--db', db]);
    expect(after.out).toBe(`- user: ^bob$\n  result: fail\n${seedWithoutComments}`);
  });

  it('takes the database from the config file, relative to it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gpuwatch-rules-'));
    const config = join(dir, 'gpuwatch.yaml');
    await writeFile(config, 'clusters: []\nruleService:\n  db: sqlite://./state/rules.db\n');
    expect((await loadRuleServiceOptions(config)).db).toBe(`sqlite://${join(dir, 'state/rules.db')}`);
    await run(['rules', 'import', SEED_RULES_FILE, '--config', config]);
    const { out } = await run(['rules', 'export', '--db', `sqlite://${join(dir, 'state/rules.db')}`, '--format', 'csv']);
    expect(out.split('\r\n')).toHaveLength(14);
  });

  it('reports config problems with file, line and field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gpuwatch-rules-'));
    const config = join(dir, 'gpuwatch.yaml');
    await writeFile(config, 'ruleService:\n  listen: nowhere\n  holdingsWhenUnreachable: guess\n');
    const error = await loadRuleServiceOptions(config).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(`${config}:2:11: ruleService.listen: expected HOST:PORT`);
    expect((error as Error).message).toContain(`${config}:3:28: ruleService.holdingsWhenUnreachable: Invalid enum value`);
    await writeFile(config, 'ruleService:\n  apiTokenFile: missing-token\n');
    await expect(loadRuleServiceOptions(config)).rejects.toThrow(/ruleService\.apiTokenFile: .*missing-token: file not found/);
  });

  it('uses the defaults without a config file', async () => {
    expect(await loadRuleServiceOptions(undefined)).toMatchObject({
      listen: '127.0.0.1:9470',
      db: `sqlite://${join(process.cwd(), 'gpuwatch-rules.db')}`,
      storeTimeoutMs: 150,
      holdingsWhenUnreachable: 'request-only',
    });
  });
});
