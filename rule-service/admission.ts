/**
 * One admission decision with everything around the pure engine: the rules from the store (none
 * when it cannot be read), the user's holdings (given, or asked of rest-server), and metrics.
 */
import type { Logger } from '../src/log.js';
import { HOLDING_STATES, holdingsFromJobs } from './holdings.js';
import type { OpenPaiClient } from './openpai-client.js';
import { NO_HOLDINGS, type Holdings, type Priority } from './priority.js';
import type { RuleStore } from './rule-store.js';
import { decide, EMPTY_RULE_SET, type Decision } from './rules.js';
import type { RuleServiceMetrics } from './metrics.js';

export type HoldingsPolicy = 'request-only' | 'reject';

export interface AdmissionRequest {
  user: string;
  vc: string;
  priority: Priority;
  gpus: number;
  /** What the user holds now; asked of rest-server when absent. */
  held?: Holdings;
}

export interface AdmissionAnswer extends Decision {
  job: { user: string; vc: string; priority: Priority; gpus: number };
  /** Where the holdings came from: the request, rest-server, not needed by any rule, or unknown. */
  holdings: Holdings & { source: 'request' | 'rest-server' | 'not-needed' | 'unknown' };
  store: 'ok' | 'unavailable';
  /** Anything that made this decision less informed than usual. */
  notes: string[];
}

export interface AdmissionDeps {
  store: RuleStore;
  metrics: RuleServiceMetrics;
  log: Logger;
  /** Where holdings come from; absent: holdings are unknown unless given. */
  openpai?: OpenPaiClient;
  /** What to do when holdings are needed but cannot be read. */
  holdingsPolicy: HoldingsPolicy;
}

/** One decision as the service's page lists it. */
export interface RecentDecision {
  at: string;
  job: AdmissionAnswer['job'];
  result: AdmissionAnswer['result'];
  priority: Priority;
  matched: number[];
  reasons: string[];
  notes: string[];
}

/** How many decisions the page shows. */
const RECENT_DECISIONS = 20;

export class Admission {
  private readonly recentDecisions: RecentDecision[] = [];

  constructor(private readonly deps: AdmissionDeps) {}

  /** The last decisions, newest first. */
  recent(): readonly RecentDecision[] {
    return this.recentDecisions;
  }

  /** `token` lists the user's jobs when the rest-server client has no token of its own. */
  async decide(request: AdmissionRequest, options: { token?: string } = {}): Promise<AdmissionAnswer> {
    const { store, metrics } = this.deps;
    const job = { user: request.user, vc: request.vc, priority: request.priority, gpus: request.gpus };
    const notes: string[] = [];
    const read = await store.readRuleSet();
    if (!read.ok) notes.push(`rule store unavailable (${read.error.message}): the job is kept as submitted`);
    const ruleSet = read.ok ? read.ruleSet : EMPTY_RULE_SET;
    if (read.ok) metrics.rules.set(ruleSet.rules.length);

    let holdings: AdmissionAnswer['holdings'];
    if (request.held) {
      holdings = { ...request.held, source: 'request' };
    } else if (!ruleSet.usesHoldings) {
      holdings = { ...NO_HOLDINGS, source: 'not-needed' };
    } else {
      const fetched = await this.fetchHoldings(request.user, options.token);
      if (fetched.ok) {
        holdings = { ...fetched.held, source: 'rest-server' };
      } else {
        holdings = { ...NO_HOLDINGS, source: 'unknown' };
        if (this.deps.holdingsPolicy === 'reject') {
          const reason = `cannot read your current jobs from OpenPAI (${fetched.why}); try again later`;
          return this.count({
            result: 'fail',
            priority: job.priority,
            reasons: [reason],
            matched: [],
            ignored: [],
            job,
            holdings,
            store: read.ok ? 'ok' : 'unavailable',
            notes: [...notes, reason],
          });
        }
        notes.push(`holdings unknown (${fetched.why}): decided with the requested GPUs only`);
      }
    }
    const { source: _source, ...held } = holdings;
    const decision = decide(ruleSet, { ...job, held });
    if (decision.ignored.length > 0) {
      metrics.raisingRulesIgnored.inc(decision.ignored.length);
      this.deps.log.warn({ rules: decision.ignored, user: job.user, priority: job.priority }, 'rules that would raise the priority were ignored');
      notes.push(`rules ${decision.ignored.join(', ')} would have raised the priority and were ignored`);
    }
    return this.count({ ...decision, job, holdings, store: read.ok ? 'ok' : 'unavailable', notes });
  }

  private count(answer: AdmissionAnswer): AdmissionAnswer {
    this.deps.metrics.decisions.inc({ result: answer.result });
    const { job, result, priority, matched, reasons, notes } = answer;
    this.recentDecisions.unshift({ at: new Date().toISOString(), job, result, priority, matched, reasons, notes });
    this.recentDecisions.length = Math.min(this.recentDecisions.length, RECENT_DECISIONS);
    return answer;
  }

  private async fetchHoldings(user: string, token: string | undefined): Promise<{ ok: true; held: Holdings } | { ok: false; why: string }> {
    const { openpai, metrics, log } = this.deps;
    if (!openpai) return { ok: false, why: 'no rest-server configured' };
    try {
      return { ok: true, held: holdingsFromJobs(await openpai.userJobs(user, HOLDING_STATES, token)) };
    } catch (err) {
      metrics.holdingsErrors.inc();
      log.warn({ err: (err as Error).message, user }, 'cannot read holdings from rest-server');
      return { ok: false, why: (err as Error).message };
    }
  }
}
