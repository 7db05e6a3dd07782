/**
 * A fake OpenPAI rest-server (v1.x API, DESIGN §9) for tests: job submit (YAML; a JSON body is refused as rest-server refuses it), list with
 * filters and paging, one job, its config, stop, tags, users. Tokens (`Bearer <jwt>`, or `Basic user:<jwt>`) are JWTs it signs
 * itself (admin and user tokens). It records every request it receives so tests can assert on them.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { IncomingHttpHeaders } from 'node:http';
import { parseDocument, stringify } from 'yaml';
import { listen } from '../../src/http/listen.js';
import { JSON_SUBMISSION_MESSAGE } from '../../rule-service/job-protocol.js';
import { TokenSigner, type TokenClaims } from './tokens.js';

export interface FakeUser {
  name: string;
  email?: string;
  admin?: boolean;
  virtualClusters?: string[];
}

export interface FakeJob {
  username: string;
  name: string;
  state: 'WAITING' | 'RUNNING' | 'STOPPING' | 'STOPPED' | 'SUCCEEDED' | 'FAILED';
  executionType: 'START' | 'STOP';
  virtualCluster: string;
  totalGpuNumber: number;
  totalTaskNumber: number;
  /** null: no priority class (listed as default). */
  jobPriority: 'prod' | 'test' | 'oppo' | null;
  tags: string[];
  submissionTime: number;
  launchedTime: number | null;
  /** The submitted protocol as YAML, as GET …/config returns it. */
  config: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: string;
  /** The user the bearer token named, when it was valid. */
  user?: string;
  status?: number;
}

export interface NewJob {
  user: string;
  name: string;
  state?: FakeJob['state'];
  vc?: string;
  gpus?: number;
  instances?: number;
  priority?: FakeJob['jobPriority'];
  tags?: string[];
}

export interface FakeOpenPai {
  url: string;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  tokenFor(user: string, options?: { application?: boolean }): string;
  addJob(job: NewJob): FakeJob;
  job(id: string): FakeJob | undefined;
  jobs(): FakeJob[];
  /** Misbehaves: answers every GET of `path` (e.g. `/api/v2/jobs`) with this JSON body and status (200); undefined: behaves again. */
  replyWith(path: string, body: unknown, status?: number): void;
  close(): Promise<void>;
}

const MAX_LIMIT = 50_000;
const DEFAULT_LIMIT = 5_000;
const JOB_NAME = /^[A-Za-z0-9_-]+$/;

type Authed = Request & { claims?: TokenClaims };

export async function startFakeOpenPai(options: { users: FakeUser[]; submitState?: FakeJob['state']; listen?: string }): Promise<FakeOpenPai> {
  const signer = new TokenSigner();
  const users = new Map(options.users.map((u) => [u.name, u]));
  const jobs = new Map<string, FakeJob>();
  const requests: RecordedRequest[] = [];
  const replies = new Map<string, { body: unknown; status: number }>();
  let clock = Date.now();
  const tick = () => ++clock;

  const addJob = (job: NewJob): FakeJob => {
    const gpus = job.gpus ?? 1;
    const instances = job.instances ?? 1;
    const protocol: Record<string, unknown> = {
      protocolVersion: 2,
      name: job.name,
      type: 'job',
      defaults: { virtualCluster: job.vc ?? 'default' },
      taskRoles: { worker: { instances, resourcePerInstance: { cpu: 4, memoryMB: 8192, gpu: gpus / instances }, commands: ['sleep 3600'] } },
      ...(job.priority ? { extras: { hivedScheduler: { jobPriorityClass: job.priority } } } : {}),
    };
    const created: FakeJob = {
      username: job.user,
      name: job.name,
      state: job.state ?? 'RUNNING',
      executionType: 'START',
      virtualCluster: job.vc ?? 'default',
      totalGpuNumber: gpus,
      totalTaskNumber: instances,
      jobPriority: job.priority ?? null,
      tags: job.tags ?? [],
      submissionTime: tick(),
      launchedTime: job.state === 'WAITING' ? null : clock,
      config: stringify(protocol),
    };
    jobs.set(`${job.user}~${job.name}`, created);
    return created;
  };

  const app = express();
  app.disable('x-powered-by');
  app.use(express.raw({ type: () => true, limit: '16mb' }));
  app.use((req: Authed, res, next) => {
    const record: RecordedRequest = {
      method: req.method,
      path: req.path,
      query: Object.fromEntries(new URLSearchParams(req.url.split('?')[1] ?? '')),
      headers: req.headers,
      body: Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '',
    };
    requests.push(record);
    res.on('finish', () => (record.status = res.statusCode));
    const claims = verifiedClaims(signer, req.headers.authorization);
    if (!claims || !users.has(claims.username)) {
      openPaiError(res, 401, 'UnauthorizedUserError', 'Guest is not allowed to do this operation.');
      return;
    }
    req.claims = claims;
    record.user = claims.username;
    next();
  });
  app.use((req, res, next) => {
    const reply = req.method === 'GET' ? replies.get(req.path) : undefined;
    if (reply === undefined) next();
    else res.status(reply.status).json(reply.body);
  });

  app.post('/api/v2/jobs', (req: Authed, res) => {
    if (/json/i.test(req.headers['content-type'] ?? '')) {
      // rest-server parses JSON bodies into an object before yaml.safeLoad, which then fails.
      openPaiError(res, 400, 'InvalidProtocolError', JSON_SUBMISSION_MESSAGE);
      return;
    }
    const text = bodyText(req);
    let protocol: unknown;
    try {
      protocol = parseYaml(text);
    } catch (err) {
      openPaiError(res, 400, 'InvalidProtocolError', `Cannot parse the job protocol: ${(err as Error).message}`);
      return;
    }
    const problem = protocolProblem(protocol);
    if (problem) {
      openPaiError(res, 400, 'InvalidProtocolError', problem);
      return;
    }
    const job = protocol as Protocol;
    const user = req.claims?.username as string;
    const id = `${user}~${job.name}`;
    if (jobs.has(id)) {
      openPaiError(res, 409, 'ConflictJobError', `Job ${id} already exists.`);
      return;
    }
    const roles = Object.values(job.taskRoles);
    const state = options.submitState ?? 'WAITING';
    jobs.set(id, {
      username: user,
      name: job.name,
      state,
      executionType: 'START',
      virtualCluster: job.defaults?.virtualCluster ?? 'default',
      totalGpuNumber: roles.reduce((s, r) => s + (r.instances ?? 1) * (r.resourcePerInstance?.gpu ?? 0), 0),
      totalTaskNumber: roles.reduce((s, r) => s + (r.instances ?? 1), 0),
      jobPriority: job.extras?.hivedScheduler?.jobPriorityClass ?? null,
      tags: [],
      submissionTime: tick(),
      launchedTime: state === 'RUNNING' ? clock : null,
      config: text,
    });
    res.status(202).json({ status: 202, message: `Update job ${job.name} for user ${user} successfully.` });
  });

  app.get('/api/v2/jobs', (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    const list = (key: string) => (q[key] === undefined ? undefined : String(q[key]).split(','));
    const limit = q.limit === undefined ? DEFAULT_LIMIT : parseInt(q.limit, 10);
    if (limit > MAX_LIMIT) {
      openPaiError(res, 400, 'InvalidParametersError', `Limit exceeds max number ${MAX_LIMIT}.`);
      return;
    }
    const offset = q.offset === undefined ? 0 : parseInt(q.offset, 10);
    const [usernames, vcs, states, priorities] = [list('username'), list('vc'), list('state'), list('jobPriority')];
    const matching = [...jobs.values()]
      .filter((j) => !usernames || usernames.includes(j.username))
      .filter((j) => !vcs || vcs.includes(j.virtualCluster))
      .filter((j) => !states || states.includes(j.state))
      .filter((j) => !priorities || priorities.includes(j.jobPriority ?? 'default'))
      .sort((a, b) => b.submissionTime - a.submissionTime);
    const data = matching.slice(offset, offset + limit).map(listItem);
    res.json(q.withTotalCount === 'true' ? { totalCount: matching.length, data } : data);
  });

  const withJob = (handler: (job: FakeJob, req: Authed, res: Response) => void) => (req: Authed, res: Response) => {
    const job = jobs.get(String(req.params.id));
    if (!job) {
      openPaiError(res, 404, 'NoJobError', `Job ${String(req.params.id)} is not found.`);
      return;
    }
    handler(job, req, res);
  };

  const ownerOrAdmin = (job: FakeJob, req: Authed, res: Response, verb: string): boolean => {
    if (req.claims?.admin || req.claims?.username === job.username) return true;
    openPaiError(res, 403, 'ForbiddenUserError', `User ${req.claims?.username} is not allowed to ${verb} job ${job.username}~${job.name}.`);
    return false;
  };

  app.get(
    '/api/v2/jobs/:id',
    withJob((job, _req, res) => {
      res.json({
        name: job.name,
        tags: job.tags,
        jobStatus: {
          username: job.username,
          state: job.state,
          executionType: job.executionType,
          virtualCluster: job.virtualCluster,
          totalGpuNumber: job.totalGpuNumber,
          jobPriority: job.jobPriority,
          createdTime: job.submissionTime,
          launchedTime: job.launchedTime,
        },
      });
    }),
  );

  app.get(
    '/api/v2/jobs/:id/config',
    withJob((job, _req, res) => {
      res.status(200).type('text/yaml').send(job.config);
    }),
  );

  app.put(
    '/api/v2/jobs/:id/executionType',
    withJob((job, req, res) => {
      const value = jsonBody(req).value;
      if (value !== 'STOP' && value !== 'START') {
        openPaiError(res, 400, 'InvalidParametersError', 'value must be START or STOP');
        return;
      }
      if (!ownerOrAdmin(job, req, res, 'execute')) return;
      job.executionType = value;
      if (value === 'STOP' && (job.state === 'RUNNING' || job.state === 'WAITING')) job.state = 'STOPPED';
      res.status(202).json({ status: 202, message: `Execute job ${job.username}~${job.name} successfully.` });
    }),
  );

  const tagRoute = (add: boolean) =>
    withJob((job, req, res) => {
      const value = jsonBody(req).value;
      if (typeof value !== 'string' || value === '') {
        openPaiError(res, 400, 'InvalidParametersError', 'value must be a tag');
        return;
      }
      if (!ownerOrAdmin(job, req, res, add ? 'add tag to' : 'delete tag from')) return;
      job.tags = add ? [...new Set([...job.tags, value])] : job.tags.filter((t) => t !== value);
      res
        .status(200)
        .json({ status: 200, message: `${add ? 'Add' : 'Delete'} tag ${value} ${add ? 'for' : 'from'} job ${job.username}~${job.name} successfully.` });
    });
  app.put('/api/v2/jobs/:id/tag', tagRoute(true));
  app.delete('/api/v2/jobs/:id/tag', tagRoute(false));

  app.get('/api/v2/users/:name', (req, res) => {
    const user = users.get(String(req.params.name));
    if (!user) {
      openPaiError(res, 404, 'NoUserError', `User ${String(req.params.name)} is not found.`);
      return;
    }
    res.json({ username: user.name, email: user.email ?? '', admin: user.admin ?? false, grouplist: [], virtualCluster: user.virtualClusters ?? ['default'] });
  });

  app.use((_req, res) => openPaiError(res, 404, 'NotFoundError', 'The requested endpoint is not found.'));
  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => openPaiError(res, 500, 'UnknownError', err.message));

  const server = await listen(app, options.listen ?? '127.0.0.1:0');
  return {
    url: server.url,
    requests,
    tokenFor: (user, opts = {}) => {
      const known = users.get(user);
      if (!known) throw new Error(`no such fake user: ${user}`);
      return signer.sign({ username: user, admin: known.admin ?? false, application: opts.application ?? false });
    },
    addJob,
    job: (id) => jobs.get(id),
    jobs: () => [...jobs.values()],
    replyWith: (path, body, status = 200) => {
      if (body === undefined) replies.delete(path);
      else replies.set(path, { body, status });
    },
    close: () => server.close(),
  };
}

interface Protocol {
  name: string;
  defaults?: { virtualCluster?: string };
  taskRoles: Record<string, { instances?: number; resourcePerInstance?: { gpu?: number } }>;
  extras?: { hivedScheduler?: { jobPriorityClass?: 'prod' | 'test' | 'oppo' } };
}

/** The schema checks rest-server applies that matter here; undefined when the job is acceptable. */
function protocolProblem(p: unknown): string | undefined {
  if (typeof p !== 'object' || p === null) return 'The job protocol must be a map.';
  const job = p as Partial<Protocol>;
  if (typeof job.name !== 'string' || !JOB_NAME.test(job.name)) return 'name: must match ^[a-zA-Z0-9_-]+$';
  if (typeof job.taskRoles !== 'object' || job.taskRoles === null || Object.keys(job.taskRoles).length === 0)
    return 'taskRoles: at least one task role is required';
  for (const [role, spec] of Object.entries(job.taskRoles)) {
    const gpu = spec?.resourcePerInstance?.gpu;
    if (spec?.instances !== undefined && !(Number.isInteger(spec.instances) && spec.instances >= 1))
      return `taskRoles.${role}.instances: must be an integer >= 1`;
    if (gpu !== undefined && !(typeof gpu === 'number' && gpu >= 0)) return `taskRoles.${role}.resourcePerInstance.gpu: must be a number >= 0`;
  }
  const priorityClass = job.extras?.hivedScheduler?.jobPriorityClass;
  if (priorityClass !== undefined && !['prod', 'test', 'oppo'].includes(priorityClass))
    return 'extras.hivedScheduler.jobPriorityClass: must be one of prod, test, oppo';
  return undefined;
}

function listItem(job: FakeJob): Record<string, unknown> {
  return {
    name: job.name,
    username: job.username,
    state: job.state,
    subState: job.state,
    executionType: job.executionType,
    virtualCluster: job.virtualCluster,
    totalGpuNumber: job.totalGpuNumber,
    totalTaskNumber: job.totalTaskNumber,
    jobPriority: job.jobPriority,
    tags: job.tags,
    submissionTime: job.submissionTime,
    launchedTime: job.launchedTime,
    retries: 0,
  };
}

/** `Bearer <token>`, or `Basic base64(user:<application token>)` naming the token's own user. */
function verifiedClaims(signer: TokenSigner, header: string | undefined): TokenClaims | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
  if (bearer) return signer.verify(bearer);
  const basic = /^Basic\s+(\S+)$/i.exec(header ?? '')?.[1];
  if (!basic) return undefined;
  const decoded = Buffer.from(basic, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const claims = colon < 0 ? undefined : signer.verify(decoded.slice(colon + 1));
  return claims && claims.username === decoded.slice(0, colon) ? claims : undefined;
}

function openPaiError(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ code, message });
}

function bodyText(req: Request): string {
  return Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
}

function jsonBody(req: Request): Record<string, unknown> {
  try {
    const parsed = JSON.parse(bodyText(req)) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function parseYaml(text: string): unknown {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(doc.errors[0]?.message.split('\n')[0]);
  return doc.toJS() as unknown;
}
