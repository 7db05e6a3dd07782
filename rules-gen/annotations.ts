/**
 * Alert text written once and rendered two ways: as Prometheus templates in rules.yml, and as the
 * exact strings the generated unit tests expect for given labels and value.
 */
import { goPercent, goValue } from './go-format.js';

export interface Slots {
  /** A label of the alert. */
  label(name: string): string;
  /** The alert's value as Prometheus prints it. */
  readonly value: string;
  /** The alert's value (a 0-1 ratio) as a percentage. */
  readonly percent: string;
  /** ` Held by job … (user …, VC …).` when the alert carries a job label, else nothing. */
  readonly holder: string;
}

export interface AlertText {
  summary(s: Slots): string;
  description(s: Slots): string;
}

export const templateSlots: Slots = {
  label: (name) => `{{ $labels.${name} }}`,
  value: '{{ $value }}',
  percent: '{{ $value | humanizePercentage }}',
  holder: '{{ if $labels.job }} Held by job {{ $labels.job }} (user {{ $labels.user }}, VC {{ $labels.vc }}).{{ end }}',
};

export function concreteSlots(labels: Readonly<Record<string, string>>, value: number): Slots {
  return {
    label: (name) => labels[name] ?? '',
    value: goValue(value),
    percent: goPercent(value),
    holder: labels.job ? ` Held by job ${labels.job} (user ${labels.user ?? ''}, VC ${labels.vc ?? ''}).` : '',
  };
}
