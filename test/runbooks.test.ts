/**
 * Every runbook link an alert carries leads somewhere: for the example config and for a config that
 * turns every policy (and every XID class) on, each generated alert's runbook_url points at
 * docs/runbooks.md and its anchor is a heading there (GitHub's anchor for a heading); so does each
 * alert of the scale example's scale/rules/central.yml (the VictoriaMetrics engine's self-checks).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../src/config/load.js';
import { policiesSchema } from '../src/config/policies.js';
import { knownKeysAt } from '../src/config/schema-keys.js';
import { generateRules, RULES_FILE } from '../rules-gen/generate.js';
import { SCALE_FILES } from '../rules-gen/scale/topology.js';
import { SCALE_EXAMPLE } from '../rules-gen/testing/scale-support.js';
import { EXAMPLE_CONFIG, SMALL_LAYOUT, tempDirWith } from '../rules-gen/testing/test-support.js';
import { ROOT } from './cli.js';

const RUNBOOKS = join(ROOT, 'docs', 'runbooks.md');
const DEFAULT_BASE = 'https://github.com/gpuwatch/gpuwatch/blob/main/docs/runbooks.md';

/** GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces as hyphens. */
function githubAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

async function runbookAnchors(): Promise<Set<string>> {
  const text = await readFile(RUNBOOKS, 'utf8');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => githubAnchor(m[1] ?? '')));
}

/** `enabled: true` wherever the policies schema has an `enabled` key, at any depth (policies, XID classes). */
function everythingEnabled(path: string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of knownKeysAt(policiesSchema, path)) {
    if (key === 'enabled') out[key] = true;
    else if (knownKeysAt(policiesSchema, [...path, key]).length > 0) {
      const inner = everythingEnabled([...path, key]);
      if (Object.keys(inner).length > 0) out[key] = inner;
    }
  }
  return out;
}

async function runbookUrls(configFile: string, rulesFile: string = RULES_FILE): Promise<{ alert: string; url: string }[]> {
  const files = generateRules(await loadConfig(configFile));
  const rules = parse(files.get(rulesFile) ?? '') as { groups: { rules: { alert?: string; annotations?: Record<string, string> }[] }[] };
  return rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [{ alert: r.alert, url: r.annotations?.runbook_url ?? '' }] : [])));
}

async function everythingOnConfig(): Promise<string> {
  const config = `clusters:\n  - {name: lab, layout: layout.yaml}\npolicies: ${JSON.stringify(everythingEnabled())}\n`;
  const dir = await tempDirWith({ 'layout.yaml': SMALL_LAYOUT, 'gpuwatch.yaml': config });
  return join(dir, 'gpuwatch.yaml');
}

describe('docs/runbooks.md', () => {
  it('turns every policy and XID class on in the everything-on config', () => {
    const on = everythingEnabled() as Record<string, { enabled?: boolean; classes?: Record<string, { enabled?: boolean }> }>;
    expect(on.powerSlowdown?.enabled).toBe(true);
    expect(on.xidErrors?.classes?.application?.enabled).toBe(true);
  });

  it.each([
    ['the example config', async () => EXAMPLE_CONFIG, RULES_FILE],
    ['a config with every policy on', everythingOnConfig, RULES_FILE],
    ["the scale example's central rules (VictoriaMetrics engine)", async () => SCALE_EXAMPLE, SCALE_FILES.centralRules],
  ])('has a section for every alert generated for %s', async (_name, configFile, rulesFile) => {
    const anchors = await runbookAnchors();
    const links = await runbookUrls(await configFile(), rulesFile);
    expect(links.length).toBeGreaterThan(20);
    for (const { alert, url } of links) {
      const [base, anchor] = url.split('#');
      expect(base, alert).toBe(DEFAULT_BASE);
      expect(anchor, alert).toBe(alert.toLowerCase());
    }
    const dead = [...new Set(links.map((l) => l.alert))].filter((alert) => !anchors.has(alert.toLowerCase()));
    expect(dead, `alerts without a "## AlertName" section in docs/runbooks.md`).toEqual([]);
  });

  it('gives every alert section what it means, how to confirm, what to do and when to escalate', async () => {
    const text = await readFile(RUNBOOKS, 'utf8');
    const links = [...(await runbookUrls(await everythingOnConfig())), ...(await runbookUrls(SCALE_EXAMPLE, SCALE_FILES.centralRules))];
    for (const alert of new Set(links.map((l) => l.alert))) {
      const section = text.split(/^## /m).find((s) => s.startsWith(`${alert}\n`)) ?? '';
      for (const part of ['**Meaning.**', '**Confirm.**', '**Act.**', '**Escalate**']) expect(section, `${alert}: ${part}`).toContain(part);
    }
  });
});
