import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { AdmissionInputError, admissionRequestFrom } from './admission-input.js';
import { CsvSyntaxError, formatCsv, parseCsv } from './csv.js';
import { holdingsFromJobs } from './holdings.js';
import { JobProtocolError, parseJobText, rewriteJob, summarizeJob } from './job-protocol.js';
import { tokenUser } from './token.js';

describe('job protocols', () => {
  it('sums instances × gpu over task roles, with OpenPAI defaults', () => {
    const job = {
      name: 'j',
      taskRoles: {
        ps: { instances: 2, resourcePerInstance: { gpu: 0 } },
        worker: { instances: 4, resourcePerInstance: { gpu: 2 } },
        chief: { resourcePerInstance: { gpu: 1 } },
        cpu: {},
      },
    };
    expect(summarizeJob(job)).toEqual({ name: 'j', vc: 'default', priority: 'test', gpus: 9 });
    expect(summarizeJob({ ...job, defaults: { virtualCluster: 'nlp' }, extras: { hivedScheduler: { jobPriorityClass: 'oppo' } } })).toMatchObject({
      vc: 'nlp',
      priority: 'oppo',
    });
    expect(() => summarizeJob({ name: 'j' })).toThrow(JobProtocolError);
    expect(() => summarizeJob({ taskRoles: { w: { instances: 1.5 } } })).toThrow(/taskRoles\.w\.instances/);
  });

  it('parses YAML or JSON by content type', () => {
    expect(parseJobText('{"name":"x"}', 'application/json; charset=utf-8')).toEqual({ name: 'x' });
    expect(parseJobText('name: x\n', 'text/yaml')).toEqual({ name: 'x' });
    expect(parseJobText('name: x\n', undefined)).toEqual({ name: 'x' });
    expect(() => parseJobText('{"name":', 'application/json')).toThrow(/not valid JSON/);
    expect(() => parseJobText('a: [', 'text/yaml')).toThrow(/not valid YAML/);
  });

  it('rewrites the priority class in YAML, keeping comments, creating empty maps', () => {
    const text = '# my job\nname: j # short\ntaskRoles:\n  w:\n    instances: 1\nextras:\n';
    const out = rewriteJob(text, { priority: 'oppo' });
    expect(out).toContain('# my job');
    expect(out).toContain('name: j # short');
    expect(parse(out).extras).toEqual({ hivedScheduler: { jobPriorityClass: 'oppo' } });
    const renamed = parse(
      rewriteJob('name: j\nextras:\n  hivedScheduler:\n    jobPriorityClass: prod\n    other: 1\n', { priority: 'default', name: 'j-test' }),
    );
    expect(renamed).toEqual({ name: 'j-test', extras: { hivedScheduler: { jobPriorityClass: 'test', other: 1 } } });
  });
});

describe('holdings from listed jobs', () => {
  it('sums GPUs of running and waiting jobs by priority, null meaning default', () => {
    const jobs = [
      { name: 'a', username: 'u', state: 'RUNNING', totalGpuNumber: 4, jobPriority: 'prod' },
      { name: 'b', username: 'u', state: 'WAITING', totalGpuNumber: 2, jobPriority: null },
      { name: 'c', username: 'u', state: 'RUNNING', totalGpuNumber: 8, jobPriority: 'oppo' },
      { name: 'd', username: 'u', state: 'SUCCEEDED', totalGpuNumber: 64, jobPriority: 'oppo' },
      { name: 'e', username: 'u', state: 'RUNNING', totalGpuNumber: 1, jobPriority: 'weird' },
      { name: 'f', username: 'u', state: 'RUNNING' },
    ];
    expect(holdingsFromJobs(jobs)).toEqual({ prod: 4, test: 0, default: 3, oppo: 8 });
  });
});

describe('bearer tokens', () => {
  const jwt = (payload: object) => `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;

  it('names the user of an OpenPAI JWT', () => {
    expect(tokenUser(jwt({ username: 'alice', admin: false }))).toBe('alice');
    expect(tokenUser(jwt({ sub: 'bob' }))).toBe('bob');
    expect(tokenUser(jwt({ admin: true }))).toBeUndefined();
    expect(tokenUser('opaque-token')).toBeUndefined();
    expect(tokenUser('a.!!!.c')).toBeUndefined();
  });
});

describe('CSV', () => {
  it('reads quotes, doubled quotes, line breaks in quotes, CRLF and a byte-order mark', () => {
    const rows = parseCsv('\ufeffa,b\r\n"x, y","say ""hi""\nthere"\r\n\r\nlast,\n');
    expect(rows).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 2, cells: ['x, y', 'say "hi"\nthere'] },
      { line: 5, cells: ['last', ''] },
    ]);
    expect(() => parseCsv('a,"b\n')).toThrow(/not closed/);
    expect(
      parseCsv(
        formatCsv([
          ['a,1', ' lead', 'q"'],
          ['', 'plain', ''],
        ]),
      ),
    ).toEqual([
      { line: 1, cells: ['a,1', ' lead', 'q"'] },
      { line: 2, cells: ['', 'plain', ''] },
    ]);
  });
});

describe('CSV quoting and positions', () => {
  const failure = (text: string) => {
    try {
      parseCsv(text);
    } catch (err) {
      return err instanceof CsvSyntaxError ? { line: err.line, column: err.column, message: err.message } : err;
    }
    return 'parsed';
  };

  it('refuses text after a closing quote, naming line and cell', () => {
    expect(failure('a,"b"c\n')).toEqual({ line: 1, column: 2, message: expect.stringMatching(/after the closing quote/) });
    expect(failure('user,result\n.*,"retain" \n')).toEqual({ line: 2, column: 2, message: expect.stringMatching(/after the closing quote/) });
  });

  it('refuses a quote inside an unquoted field', () => {
    expect(failure('user\nab"c\n')).toEqual({ line: 2, column: 1, message: expect.stringMatching(/quote inside an unquoted field/) });
  });

  it('refuses a quoted field that is not closed', () => {
    expect(failure('a\n"b,c\n')).toMatchObject({ message: 'a quoted field is not closed' });
  });

  it('counts a CRLF inside a quoted field as one line', () => {
    expect(failure('h,i\r\n"two\r\nlines",ok\r\nz,"bad"x\r\n')).toMatchObject({ line: 4, column: 2 });
    expect(parseCsv('h,i\r\n"two\r\nlines",ok\r\nz,y\r\n')).toEqual([
      { line: 1, cells: ['h', 'i'] },
      { line: 2, cells: ['two\r\nlines', 'ok'] },
      { line: 4, cells: ['z', 'y'] },
    ]);
  });

  it('reads quoted commas, doubled quotes, CRLF and a byte-order mark', () => {
    expect(parseCsv('\ufeffuser,description\r\n"^a,b$","say ""no"""\r\n,""\r\n')).toEqual([
      { line: 1, cells: ['user', 'description'] },
      { line: 2, cells: ['^a,b$', 'say "no"'] },
      { line: 3, cells: ['', ''] },
    ]);
  });
});

describe('admission input', () => {
  it('tells a summary, a wrapped job and a bare protocol apart', () => {
    expect(admissionRequestFrom({ user: 'a', priority: 'oppo', gpus: 2, held: { oppo: 3 } }, 'application/json', undefined)).toEqual({
      user: 'a',
      vc: 'default',
      priority: 'oppo',
      gpus: 2,
      held: { prod: 0, test: 0, default: 0, oppo: 3 },
    });
    expect(admissionRequestFrom({ user: 'b', job: { taskRoles: { w: { resourcePerInstance: { gpu: 2 } } } } }, 'application/json', 'ignored')).toMatchObject({
      user: 'b',
      gpus: 2,
      held: undefined,
    });
    expect(admissionRequestFrom({ taskRoles: { w: {} } }, 'application/json', 'c')).toMatchObject({ user: 'c', gpus: 0, priority: 'test' });
    expect(() => admissionRequestFrom([], 'application/json', 'c')).toThrow(AdmissionInputError);
    expect(() => admissionRequestFrom({ user: 'a', priority: 'oppo', gpus: 1, held: { gold: 1 } }, 'application/json', undefined)).toThrow(
      /held: Unrecognized key/,
    );
  });
});
