/** The rule service's own metrics, registered with prom-client from the catalog's definitions. */
import { Counter, Gauge, Registry } from 'prom-client';
import { RULE_SERVICE_METRICS } from '../src/catalog/metrics.js';

export class RuleServiceMetrics {
  readonly registry = new Registry();
  readonly decisions: Counter<'result'>;
  readonly storeUp: Gauge;
  readonly storeErrors: Counter;
  readonly holdingsErrors: Counter;
  readonly actions: Counter<'action' | 'result'>;
  readonly rules: Gauge;
  readonly invalidRules: Gauge;
  readonly raisingRulesIgnored: Counter;

  constructor() {
    const m = RULE_SERVICE_METRICS;
    const registers = [this.registry];
    this.decisions = new Counter({ name: m.decisions.name, help: m.decisions.help, labelNames: m.decisions.labels, registers });
    this.storeUp = new Gauge({ name: m.storeUp.name, help: m.storeUp.help, registers });
    this.storeErrors = new Counter({ name: m.storeErrors.name, help: m.storeErrors.help, registers });
    this.holdingsErrors = new Counter({ name: m.holdingsErrors.name, help: m.holdingsErrors.help, registers });
    this.actions = new Counter({ name: m.actions.name, help: m.actions.help, labelNames: m.actions.labels, registers });
    this.rules = new Gauge({ name: m.rules.name, help: m.rules.help, registers });
    this.invalidRules = new Gauge({ name: m.invalidRules.name, help: m.invalidRules.help, registers });
    this.raisingRulesIgnored = new Counter({ name: m.raisingRulesIgnored.name, help: m.raisingRulesIgnored.help, registers });
    this.storeUp.set(1);
  }

  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
