/** /api/v1/rules: list (JSON, YAML or CSV), read, create, update, delete, replace all. */
import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { ConfigError } from '../src/config/yaml-file.js';
import { queryOf, rulesQuerySchema } from './query.js';
import { parseRuleFile, formatRuleFile, ruleInputSchema } from './rule-file.js';
import type { RuleFields } from './rule.js';
import { invalidRules, type RuleStore } from './rule-store.js';

const ACTOR = 'api';

type Handler = (req: Request, res: Response) => Promise<void>;

export function rulesRouter(store: RuleStore, guard: express.RequestHandler): Router {
  const router = Router();
  const json = express.json({ limit: '4mb' });
  const text = express.text({ type: ['text/*', 'application/yaml', 'application/x-yaml'], limit: '4mb' });
  router.get('/', listRules(store));
  router.get('/:id', readRule(store));
  router.post('/', guard, json, createRule(store));
  router.put('/:id', guard, json, updateRule(store));
  router.delete('/:id', guard, deleteRule(store));
  router.put('/', guard, json, text, replaceRules(store));
  return router;
}

/** The whole table as JSON (with its revision and the invalid rows), YAML or CSV. */
function listRules(store: RuleStore): Handler {
  return async (req, res) => {
    const query = queryOf(rulesQuerySchema, req, res);
    if (!query) return;
    const { format } = query;
    const [rules, revision] = await Promise.all([store.list(), store.revision()]);
    if (format === 'yaml' || format === 'csv') {
      res.type(format === 'csv' ? 'text/csv' : 'text/yaml').send(formatRuleFile(rules, format));
      return;
    }
    res.json({ revision, rules, invalid: invalidRules(rules) });
  };
}

function readRule(store: RuleStore): Handler {
  return async (req, res) => {
    const id = ruleId(req, res);
    if (id === undefined) return;
    const rule = await store.get(id);
    if (rule) res.json({ rule });
    else res.status(404).json({ error: `no rule ${id}` });
  };
}

/** A new rule, at the id the body asks for (409 when taken) or the next one. */
function createRule(store: RuleStore): Handler {
  return async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const { id: wanted, ...fields } = body;
    if (wanted !== undefined && !isRuleId(wanted)) {
      res.status(400).json({
        error: `id: expected a whole number from 1 to ${MAX_RULE_ID}`,
        problems: [{ field: 'id', message: `expected a whole number from 1 to ${MAX_RULE_ID}` }],
      });
      return;
    }
    const rule = validRule(fields, res);
    if (!rule) return;
    if (wanted !== undefined && (await store.get(wanted as number))) {
      res.status(409).json({ error: `rule ${String(wanted)} already exists` });
      return;
    }
    res.status(201).json({ rule: await store.create(rule, ACTOR, wanted as number | undefined) });
  };
}

function updateRule(store: RuleStore): Handler {
  return async (req, res) => {
    const id = ruleId(req, res);
    if (id === undefined) return;
    const { id: _ignored, ...fields } = (req.body ?? {}) as Record<string, unknown>;
    const rule = validRule(fields, res);
    if (!rule) return;
    const updated = await store.update(id, rule, ACTOR);
    if (updated) res.json({ rule: updated });
    else res.status(404).json({ error: `no rule ${id}` });
  };
}

function deleteRule(store: RuleStore): Handler {
  return async (req, res) => {
    const id = ruleId(req, res);
    if (id === undefined) return;
    if (await store.remove(id, ACTOR)) res.status(204).end();
    else res.status(404).json({ error: `no rule ${id}` });
  };
}

/** Replaces the whole table: a JSON list, the YAML export format, or CSV (text/csv). */
function replaceRules(store: RuleStore): Handler {
  return async (req, res) => {
    const rules = rulesFromBody(req, res);
    if (!rules) return;
    res.json({ rules: await store.import(rules, ACTOR, 'replace') });
  };
}

/** The rules of a replace request, or undefined after answering 400 with every problem named. */
function rulesFromBody(req: Request, res: Response): RuleFields[] | undefined {
  try {
    if (typeof req.body === 'string') {
      return parseRuleFile(req.body, 'request body', /csv/i.test(req.headers['content-type'] ?? '') ? 'csv' : 'yaml');
    }
    const parsed = z.array(ruleInputSchema).safeParse(req.body);
    if (parsed.success) return parsed.data;
    res.status(400).json({ error: 'invalid rules', problems: parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })) });
    return undefined;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    res.status(400).json({ error: 'invalid rules', problems: err.problems.map((p) => ({ field: p.field, line: p.line, message: p.message })) });
    return undefined;
  }
}

/** Rule ids are SQL integers (MySQL INT): larger ones can never exist. */
const MAX_RULE_ID = 2_147_483_647;

function isRuleId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= MAX_RULE_ID;
}

function ruleId(req: Request, res: Response): number | undefined {
  const text = String(req.params.id);
  const id = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (isRuleId(id)) return id;
  res.status(400).json({
    error: `id: not a rule id (${text.slice(0, 40)}); expected a whole number from 1 to ${MAX_RULE_ID}`,
    problems: [{ field: 'id', message: `expected a whole number from 1 to ${MAX_RULE_ID}` }],
  });
  return undefined;
}

/** The rule, or undefined after answering 400 with every problem. */
function validRule(fields: unknown, res: Response): RuleFields | undefined {
  const parsed = ruleInputSchema.safeParse(fields);
  if (!parsed.success) {
    res.status(400).json({ error: 'invalid rule', problems: parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })) });
    return undefined;
  }
  return parsed.data;
}
