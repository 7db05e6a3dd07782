/**
 * The stack's admission rules: the rules file is loaded into the rule service at every start. The
 * table is replaced only when it differs from the file, so a restart with the same file changes
 * nothing (no new ids, no audit entry).
 */
import { readFile } from 'node:fs/promises';
import { problemAt } from '../src/config/yaml-file.js';
import { formatOf, formatRuleFile, parseRuleFile } from '../rule-service/rule-file.js';
import type { RuleStore } from '../rule-service/rule-store.js';
import type { StackPlan } from './plan.js';

export type RulesLoaded = { file: string; count: number; replaced: boolean } | { file: string; absent: true };

export async function loadStackRules(store: RuleStore, rules: StackPlan['rules'], configFile: string): Promise<RulesLoaded> {
  const text = await readFile(rules.file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (text === undefined) {
    if (rules.explicit) throw await problemAt(configFile, ['stack', 'rules'], `${rules.file}: file not found`);
    return { file: rules.file, absent: true };
  }
  const wanted = parseRuleFile(text, rules.file, formatOf(rules.file));
  const same = formatRuleFile(await store.list(), 'yaml') === formatRuleFile(wanted, 'yaml');
  if (!same) await store.import(wanted, 'gpuwatch stack', 'replace');
  return { file: rules.file, count: wanted.length, replaced: !same };
}

/** What the banner says about the rule service's rules. */
export function rulesNote(loaded: RulesLoaded): string {
  if ('absent' in loaded) return `no rules (no ${loaded.file}; set stack.rules): every job keeps its priority`;
  return `${loaded.count} rules from ${loaded.file}${loaded.replaced ? '' : ' (unchanged)'}`;
}
