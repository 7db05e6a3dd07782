/** The shapes rules-gen produces: rule groups, promtool unit tests, and files to write. */

/** Relative path (e.g. `prometheus/rules.yml`) → file text. */
export type ArtifactFiles = Map<string, string>;

export interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  rules: (RecordingRule | AlertRule)[];
}

/** One input series of a promtool test: `values` in promtool's expanding notation (`0+1x10 _ 5`). */
export interface SeriesInput {
  series: string;
  values: string;
}

export interface ExpectedAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** At `evalTime`, exactly `alerts` fire for `alertname` (none: the list is empty). */
export interface AlertCheck {
  evalTime: string;
  alertname: string;
  alerts: ExpectedAlert[];
}

export interface PromtoolTest {
  name: string;
  inputSeries: SeriesInput[];
  checks: AlertCheck[];
}

/** An alerting rule with the unit tests that prove it fires, and that it does not when it must not. */
export interface GeneratedAlert {
  rule: AlertRule;
  tests: PromtoolTest[];
}
