/**
 * The exit codes the README promises, for every command: 2 and a message naming what was wrong for
 * a bad flag or a file that is not there (1 is kept for failures at run time).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SMALL_LAYOUT, tempDirWith } from '../rules-gen/testing/test-support.js';
import { runCli } from './cli.js';

const MISSING = '/nonexistent/gpuwatch.yaml';

describe('gpuwatch exits 2 on bad input (the real CLI)', () => {
  it.concurrent.each([
    [['exporter', '--backend', 'replay', '--once'], /--backend replay needs a source: --replay PATH/],
    [['exporter', '--replay', '/nonexistent/q.xml', '--once'], /--replay \/nonexistent\/q\.xml: file not found/],
    [['exporter', '--config', MISSING, '--once'], /nonexistent\/gpuwatch\.yaml: file not found/],
    [['exporter', '--listen', 'nowhere', '--once'], /option '-l, --listen <host:port>' argument 'nowhere' is invalid/],
    [['generate', '--config', MISSING, '--out', '/tmp/gpuwatch-never-written'], /nonexistent\/gpuwatch\.yaml: file not found/],
    [['generate', '--config', 'examples/gpuwatch.yaml'], /required option '-o, --out <dir>' not specified/],
    [['router', '--config', MISSING], /nonexistent\/gpuwatch\.yaml: file not found/],
    [['router', '--db', 'postgres://db/x'], /option '--db <url>' argument 'postgres:\/\/db\/x' is invalid/],
    [['rule-service', '--config', MISSING], /nonexistent\/gpuwatch\.yaml: file not found/],
    [['rule-service', '--proxy-to', 'rest-server'], /argument 'rest-server' is invalid\. expected an http/],
    [['rules', 'import', '/nonexistent/rules.yaml', '--db', 'sqlite::memory:'], /nonexistent\/rules\.yaml: file not found/],
    [
      ['rules', 'check', '--rules', '/nonexistent/rules.yaml', '--user', 'alice', '--priority', 'prod', '--gpus', '1'],
      /nonexistent\/rules\.yaml: file not found/,
    ],
    [['rules', 'export', '--config', MISSING], /nonexistent\/gpuwatch\.yaml: file not found/],
    [['stack', '--config', MISSING], /nonexistent\/gpuwatch\.yaml: file not found/],
    [['stack'], /required option '-c, --config <file>' not specified/],
    [['layout-metrics', '--config', MISSING], /nonexistent\/gpuwatch\.yaml: file not found/],
  ])('gpuwatch %j', async (args, message) => {
    const result = await runCli(args, { timeoutMs: 60_000 });
    expect(result.stderr).toMatch(message);
    expect(result.code, result.stderr).toBe(2);
  });

  it('exits 2 naming exporter.replay, with its line, when the config names a recording that is not there', async () => {
    const dir = await tempDirWith({
      'layout.yaml': SMALL_LAYOUT,
      'gpuwatch.yaml': 'clusters:\n  - {name: lab, layout: layout.yaml}\nexporter:\n  backend: replay\n  replay: recordings/q.xml\n',
    });
    const result = await runCli(['exporter', '--config', join(dir, 'gpuwatch.yaml'), '--once']);
    expect(result.stderr).toContain(`${join(dir, 'gpuwatch.yaml')}:5:11: exporter.replay: ${join(dir, 'recordings', 'q.xml')}: file not found`);
    expect(result.code).toBe(2);
  });

  it('exits 2 when a scenario replays a recording that is not there, or a folder holds no recording', async () => {
    const dir = await tempDirWith({ 'scenario.yaml': 'source: recordings/q.xml\ngpus: 2\n', 'empty/README': 'no recordings here\n' });
    const scenario = await runCli(['exporter', '--replay', join(dir, 'scenario.yaml'), '--once']);
    expect(scenario.stderr).toContain(`gpuwatch: replay source ${join(dir, 'recordings', 'q.xml')} does not exist`);
    expect(scenario.code).toBe(2);
    const empty = await runCli(['exporter', '--replay', join(dir, 'empty'), '--once']);
    expect(empty.stderr).toContain(`gpuwatch: replay directory ${join(dir, 'empty')} holds no .xml or .csv file`);
    expect(empty.code).toBe(2);
  });

  it('exits non-zero on an unknown command, naming it and listing the commands', async () => {
    const result = await runCli(['downsize']);
    expect(result.stderr).toContain("error: unknown command 'downsize'");
    for (const command of ['exporter', 'generate', 'layout-metrics', 'router', 'rule-service', 'rules', 'rightsize', 'stack']) {
      expect(result.stderr).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
    expect(result.code).toBe(2);
  });
});
