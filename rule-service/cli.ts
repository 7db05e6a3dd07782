/**
 * The rule service's commands, registered on the gpuwatch program:
 *   gpuwatch rule-service [--config FILE] [--listen HOST:PORT] [--db URL] [--proxy-to URL]
 *   gpuwatch rules check --rules FILE --user U [--vc V] --priority P --gpus N [--held PRIORITY=N ...]
 *   gpuwatch rules import FILE [--db URL] [--config FILE] [--format yaml|csv] [--append]
 *   gpuwatch rules export [--db URL] [--config FILE] [--format yaml|csv] [--output FILE]
 * Bad input (a rule file, the config, a flag) ends with exit code 2 and says where the problem is.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { Kysely } from 'kysely';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { databaseUrlArgument, serviceFlags } from '../src/cli-args.js';
import { DEFAULT_LISTEN } from '../src/config/listen-address.js';
import { z } from 'zod';
import { policiesSchema } from '../src/config/policies.js';
import { ConfigError, readYamlWith } from '../src/config/yaml-file.js';
import { createLogger } from '../src/log.js';
import { openDatabase } from '../src/storage/database.js';
import { redactUrl } from '../src/storage/database-url.js';
import { exitOnSignals } from '../src/shutdown.js';
import { migrateToLatest } from '../src/storage/migrate.js';
import { ruleServiceConfigSchema } from '../src/config/rule-service.js';
import { resolveRuleServiceConfig, type RuleServiceOptions } from './config.js';
import type { RuleServiceDatabase } from './db-schema.js';
import { RULE_SERVICE_MIGRATIONS } from './migrations.js';
import { holdingsOf, PRIORITIES, type Priority } from './priority.js';
import { AdmissionInputError, checkedSummary } from './admission-input.js';
import type { AdmissionRequest } from './admission.js';
import { formatOf, formatRuleFile, parseRuleFile, withMatchingOrderIds, type RuleFileFormat } from './rule-file.js';
import { RuleStore } from './rule-store.js';
import { compileRuleSet, decide } from './rules.js';
import { startRuleService } from './service.js';

export interface CliOutput {
  /** Where results go (stdout by default). */
  out(text: string): void;
  /** Where progress messages go (stderr by default). */
  err(text: string): void;
}

const STDIO: CliOutput = { out: (t) => void process.stdout.write(t), err: (t) => void process.stderr.write(t) };

/** Only `ruleService:` (and `policies:`, for the idleness criterion) are read here; the other sections belong to other commands. */
const configFileSchema = z.object({ ruleService: ruleServiceConfigSchema.default({}), policies: policiesSchema }).passthrough();

export async function loadRuleServiceOptions(configFile: string | undefined): Promise<RuleServiceOptions> {
  if (!configFile) return resolveRuleServiceConfig(ruleServiceConfigSchema.parse({}));
  const file = await readYamlWith(configFile, configFileSchema);
  return resolveRuleServiceConfig(file.ruleService, configFile, file.policies);
}

export function registerRuleServiceCommands(program: Command, io: CliOutput = STDIO): void {
  registerServe(program);
  const rules = program.command('rules').description('Check, import and export job-admission rules.');
  registerCheck(rules, io);
  registerImport(rules, io);
  registerExport(rules, io);
}

/** `gpuwatch rule-service`: serve admission, the rules API and the actions. */
function registerServe(program: Command): void {
  serviceFlags(
    program.command('rule-service').description('Job-admission rules for OpenPAI (keep, lower or reject with reasons) and the kill/downgrade actions.'),
    {
      config: 'gpuwatch.yaml (its ruleService: section)',
      listenDefault: DEFAULT_LISTEN.ruleService,
      db: 'rule store: sqlite:///path.db, sqlite::memory: or mysql://user:pass@host:3306/db',
    },
  )
    .option('--proxy-to <url>', 'sit in front of this OpenPAI rest-server and decide job submissions on the way', urlArg)
    .action(async (flags: { config?: string; listen?: string; db?: string; proxyTo?: string }) => {
      const options = await loadRuleServiceOptions(flags.config);
      const log = createLogger('rule-service');
      const running = await startRuleService(
        { ...options, listen: flags.listen ?? options.listen, db: flags.db ?? options.db, proxyTo: flags.proxyTo ?? options.proxyTo },
        log,
      );
      exitOnSignals(log, () => running.close());
    });
}

/** `gpuwatch rules check`: one decision, offline, against a rule file. */
function registerCheck(rules: Command, io: CliOutput): void {
  rules
    .command('check')
    .description('Decide one job offline against a rule file; prints one JSON line (exit 0 for every decision).')
    .requiredOption('--rules <file>', 'rules in the YAML export format (or .csv)')
    .requiredOption('--user <user>', 'who submits the job')
    .option('--vc <vc>', 'virtual cluster', 'default')
    .addOption(new Option('--priority <priority>', 'priority the job is submitted with').choices(PRIORITIES).makeOptionMandatory())
    .requiredOption('--gpus <n>', 'GPUs the job asks for (a whole number)', numberArg)
    .option('--held <priority=n>', 'GPUs the user already holds at a priority (repeatable)', heldArg)
    .action(
      async (
        flags: { rules: string; user: string; vc: string; priority: Priority; gpus: number; held?: Partial<Record<Priority, number>> },
        command: Command,
      ) => {
        const job = checkedJobFlags(flags, command);
        const text = await readRuleFileText(flags.rules);
        const ruleSet = compileRuleSet(withMatchingOrderIds(parseRuleFile(text, flags.rules, formatOf(flags.rules))));
        const decision = decide(ruleSet, { ...job, held: job.held ?? holdingsOf({}) });
        io.out(`${JSON.stringify({ result: decision.result, priority: decision.priority, reasons: decision.reasons, matched: decision.matched })}\n`);
      },
    );
}

/** `gpuwatch rules import`: a rule file into the rule store. */
function registerImport(rules: Command, io: CliOutput): void {
  rules
    .command('import')
    .description('Load rules (YAML export format or CSV, in matching order) into the rule store.')
    .argument('<file>', 'rules file (.yaml or .csv)')
    .option('--db <url>', 'rule store URL (default: from --config, else sqlite://./gpuwatch-rules.db)', databaseUrlArgument)
    .option('-c, --config <file>', 'gpuwatch.yaml (its ruleService: section)')
    .addOption(new Option('--format <format>', 'file format (default: from the extension)').choices(['yaml', 'csv']))
    .option('--append', 'put the rules on top of the existing ones instead of replacing the table')
    .action(async (file: string, flags: { db?: string; config?: string; format?: RuleFileFormat; append?: boolean }) => {
      const parsed = parseRuleFile(await readRuleFileText(file), file, flags.format ?? formatOf(file));
      const url = flags.db ?? (await loadRuleServiceOptions(flags.config)).db;
      await withRuleStore(url, async (store) => {
        const mode = flags.append ? 'append' : 'replace';
        const imported = await store.import(parsed, 'cli', mode);
        io.err(`imported ${imported.length} rules into ${redactUrl(url)} (${mode})\n`);
      });
    });
}

/** `gpuwatch rules export`: the rule store as YAML or CSV. */
function registerExport(rules: Command, io: CliOutput): void {
  rules
    .command('export')
    .description('Write the rule store as YAML (the import format) or CSV, in matching order.')
    .option('--db <url>', 'rule store URL (default: from --config, else sqlite://./gpuwatch-rules.db)', databaseUrlArgument)
    .option('-c, --config <file>', 'gpuwatch.yaml (its ruleService: section)')
    .addOption(new Option('--format <format>', 'output format (default: from --output, else yaml)').choices(['yaml', 'csv']))
    .option('-o, --output <file>', 'write here instead of stdout')
    .action(async (flags: { db?: string; config?: string; format?: RuleFileFormat; output?: string }) => {
      const url = flags.db ?? (await loadRuleServiceOptions(flags.config)).db;
      const format = flags.format ?? (flags.output ? formatOf(flags.output) : 'yaml');
      await withRuleStore(url, async (store) => {
        const text = formatRuleFile(await store.list(), format);
        if (flags.output) await writeFile(flags.output, text);
        else io.out(text);
      });
    });
}

async function withRuleStore(url: string, work: (store: RuleStore) => Promise<void>): Promise<void> {
  const opened = openDatabase<RuleServiceDatabase>(url, { connections: 1 });
  try {
    await migrateToLatest(opened.db as Kysely<unknown>, RULE_SERVICE_MIGRATIONS);
    await work(new RuleStore(opened.db));
  } finally {
    await opened.close();
  }
}

async function readRuleFileText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message;
    throw new ConfigError(`${file}: ${why}`, file, [{ file, field: '', message: why }]);
  }
}

function urlArg(value: string): string {
  if (!/^https?:\/\/[^/]/.test(value)) throw new InvalidArgumentError('expected an http:// or https:// URL');
  return value;
}

/** The job the flags describe, checked exactly as POST /api/v1/admission checks a summary. */
function checkedJobFlags(
  flags: { user: string; vc: string; priority: Priority; gpus: number; held?: Partial<Record<Priority, number>> },
  command: Command,
): AdmissionRequest {
  try {
    return checkedSummary({ user: flags.user, vc: flags.vc, priority: flags.priority, gpus: flags.gpus, held: flags.held });
  } catch (err) {
    if (!(err instanceof AdmissionInputError)) throw err;
    const flag = (field: string) => (field.startsWith('held.') ? `--held ${field.slice(5)}=N` : `--${field}`);
    return command.error(`error: ${err.problems.map((p) => `${flag(p.field)}: ${p.message}`).join('; ')}`, { exitCode: 2, code: 'gpuwatch.invalidArgument' });
  }
}

/** A number as written; whether it is a valid GPU count is checked with the rest of the job. */
function numberArg(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || Number.isNaN(n)) throw new InvalidArgumentError('expected a number of GPUs');
  return n;
}

function heldArg(value: string, previous: Partial<Record<Priority, number>> = {}): Partial<Record<Priority, number>> {
  const match = /^([a-z]+)=(.+)$/.exec(value);
  const priority = match?.[1];
  if (!match || !(PRIORITIES as readonly string[]).includes(priority ?? '')) {
    throw new InvalidArgumentError(`expected PRIORITY=N with PRIORITY one of ${PRIORITIES.join(', ')}`);
  }
  const n = numberArg(match[2] as string);
  const key = priority as Priority;
  return { ...previous, [key]: (previous[key] ?? 0) + n };
}
