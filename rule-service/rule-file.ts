/**
 * The rule table as files: the YAML export format (a list of rules in matching order, first =
 * highest id, each a map with the optional keys user, vc, priority, requested, occupied,
 * occupiedHigh, result, description) and CSV with those names as its header.
 */
import { stringify } from 'yaml';
import { z } from 'zod';
import { ConfigError, formatProblem, parseYamlWith, type ConfigProblem } from '../src/config/yaml-file.js';
import { CsvSyntaxError, formatCsv, parseCsv } from './csv.js';
import { normalizeRule, RULE_FIELDS, ruleProblems, type Rule, type RuleField, type RuleFields } from './rule.js';

export type RuleFileFormat = 'yaml' | 'csv';

const fieldValue = z.union([z.string(), z.number(), z.null()]).optional();

/** One rule as written by people: every key optional, numbers accepted for comparisons. */
export const ruleInputSchema = z
  .object(Object.fromEntries(RULE_FIELDS.map((f) => [f, fieldValue])) as Record<RuleField, typeof fieldValue>)
  .strict()
  .transform((raw) => normalizeRule(raw))
  .superRefine((rule, ctx) => {
    for (const p of ruleProblems(rule)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [p.field], message: p.message });
  });

export const ruleListSchema = z.array(ruleInputSchema);

export function parseRuleFile(text: string, file: string, format: RuleFileFormat): RuleFields[] {
  return format === 'csv' ? parseRulesCsv(text, file) : parseYamlWith(text, file, ruleListSchema);
}

export function formatRuleFile(rules: readonly RuleFields[], format: RuleFileFormat): string {
  return format === 'csv' ? formatRulesCsv(rules) : formatRulesYaml(rules);
}

/** The format named by a file's extension (.csv, else YAML). */
export function formatOf(file: string): RuleFileFormat {
  return /\.csv$/i.test(file) ? 'csv' : 'yaml';
}

/** Rules listed in matching order get ids count…1, so the first one has the highest id. */
export function withMatchingOrderIds(rules: readonly RuleFields[]): Rule[] {
  return rules.map((r, i) => ({ ...r, id: rules.length - i }));
}

export function formatRulesYaml(rules: readonly RuleFields[]): string {
  if (rules.length === 0) return '[]\n';
  const entries = rules.map((r) => Object.fromEntries(RULE_FIELDS.filter((f) => r[f] !== '').map((f) => [f, r[f]])));
  return stringify(entries, { lineWidth: 0 });
}

export function formatRulesCsv(rules: readonly RuleFields[]): string {
  return formatCsv([[...RULE_FIELDS], ...rules.map((r) => RULE_FIELDS.map((f) => r[f]))]);
}

export function parseRulesCsv(text: string, file: string): RuleFields[] {
  let rows;
  try {
    rows = parseCsv(text);
  } catch (err) {
    if (err instanceof CsvSyntaxError) throw fail(file, [{ file, line: err.line, column: err.column, field: '', message: err.message }]);
    throw err;
  }
  const [header, ...body] = rows;
  if (!header) return [];
  const problems: ConfigProblem[] = [];
  const columns = header.cells.map((c) => c.trim());
  columns.forEach((name, i) => {
    if (!(RULE_FIELDS as readonly string[]).includes(name)) {
      problems.push({ file, line: header.line, column: i + 1, field: name, message: `unknown column; expected ${RULE_FIELDS.join(', ')}` });
    }
  });
  if (problems.length > 0) throw fail(file, problems);
  const rules = body.map((row, index) => {
    if (row.cells.length > columns.length) {
      problems.push({ file, line: row.line, field: String(index), message: `${row.cells.length} cells but ${columns.length} columns` });
    }
    const rule = normalizeRule(Object.fromEntries(columns.map((c, i) => [c, row.cells[i] ?? ''])));
    for (const p of ruleProblems(rule))
      problems.push({ file, line: row.line, column: cellColumn(columns, p.field), field: `${index}.${p.field}`, message: p.message });
    return rule;
  });
  if (problems.length > 0) throw fail(file, problems);
  return rules;
}

/** The 1-based column (cell number) of a field, for error positions. */
function cellColumn(columns: readonly string[], field: string): number | undefined {
  const i = columns.indexOf(field);
  return i < 0 ? undefined : i + 1;
}

function fail(file: string, problems: ConfigProblem[]): ConfigError {
  return new ConfigError(problems.map(formatProblem).join('\n'), file, problems);
}
