/**
 * Small panel constructors over the foundation SDK's builders: every panel queries the dashboard's
 * `${datasource}`, gets refIds A, B, C… in query order, and states its unit. Tables show only the
 * columns named, in that order, under readable headers.
 */
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as text from '@grafana/grafana-foundation-sdk/text';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

export const DATASOURCE: common.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

export interface Query {
  expr: string;
  /** Grafana legend template, e.g. `GPU {{gpu}}`. */
  legend?: string;
}

export interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  queries: Query[];
  /** Grid columns out of 24. */
  width: number;
  height: number;
  min?: number;
  max?: number;
}

/** The builder methods every panel kind shares (each returns the builder itself). */
interface CommonPanelBuilder {
  title(title: string): unknown;
  description(description: string): unknown;
  datasource(datasource: common.DataSourceRef): unknown;
  span(w: number): unknown;
  height(h: number): unknown;
  unit(unit: string): unknown;
  min(min: number): unknown;
  max(max: number): unknown;
  targets(targets: cog.Builder<cog.Dataquery>[]): unknown;
}

type QueryMode = 'range' | 'instant-table' | 'instant';

function refId(index: number): string {
  return String.fromCharCode('A'.charCodeAt(0) + index);
}

function target(query: Query, index: number, mode: QueryMode): prometheus.DataqueryBuilder {
  const t = new prometheus.DataqueryBuilder().datasource(DATASOURCE).refId(refId(index)).expr(query.expr);
  if (query.legend !== undefined) t.legendFormat(query.legend);
  if (mode === 'range') t.range();
  if (mode !== 'range') t.instant();
  if (mode === 'instant-table') t.format(prometheus.PromQueryFormat.Table);
  return t;
}

function applyCommon<P extends CommonPanelBuilder>(panel: P, spec: PanelSpec, mode: QueryMode): P {
  panel.title(spec.title);
  panel.description(spec.description);
  panel.datasource(DATASOURCE);
  panel.span(spec.width);
  panel.height(spec.height);
  panel.unit(spec.unit);
  if (spec.min !== undefined) panel.min(spec.min);
  if (spec.max !== undefined) panel.max(spec.max);
  panel.targets(spec.queries.map((q, i) => target(q, i, mode)));
  return panel;
}

function thresholds(steps: dashboard.Threshold[]): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps(steps);
}

/** Green below `warn`, red from `warn` on: for counts where any is bad (missing GPUs, breaches). */
export function badFrom(warn: number): dashboard.ThresholdsConfigBuilder {
  return thresholds([
    { value: null, color: 'green' },
    { value: warn, color: 'red' },
  ]);
}

/** Red below `low`, green from it: for shares where a low value is bad (utilization, SLA met). */
export function goodFrom(low: number): dashboard.ThresholdsConfigBuilder {
  return thresholds([
    { value: null, color: 'red' },
    { value: low, color: 'green' },
  ]);
}

export function timeseriesPanel(spec: PanelSpec): timeseries.PanelBuilder {
  return applyCommon(new timeseries.PanelBuilder(), spec, 'range')
    .legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom))
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending))
    .fillOpacity(10)
    .lineWidth(1);
}

export interface StatSpec extends PanelSpec {
  /** `name` shows the legend (a label such as the job's owner) instead of the number. */
  show?: 'value' | 'name';
  colors?: dashboard.ThresholdsConfigBuilder;
  /** Shown when the query returns nothing, e.g. `0` for a count of firing alerts. */
  noValue?: string;
}

export function statPanel(spec: StatSpec): stat.PanelBuilder {
  const panel = applyCommon(new stat.PanelBuilder(), spec, 'instant')
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .graphMode(common.BigValueGraphMode.None)
    .textMode(spec.show === 'name' ? common.BigValueTextMode.Name : common.BigValueTextMode.Auto)
    .colorMode(spec.colors ? common.BigValueColorMode.Value : common.BigValueColorMode.None);
  if (spec.colors) panel.thresholds(spec.colors);
  if (spec.noValue !== undefined) panel.noValue(spec.noValue);
  return panel;
}

export function barGaugePanel(spec: PanelSpec): bargauge.PanelBuilder {
  return applyCommon(new bargauge.PanelBuilder(), spec, 'instant')
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .displayMode(common.BarGaugeDisplayMode.Basic)
    .orientation(common.VizOrientation.Horizontal)
    .showUnfilled(true);
}

export interface Column {
  /** Field name in the query result: a label, or `Value` (one query) / `Value #A` (several). */
  field: string;
  header: string;
  unit?: string;
  /** A data link on the cell, e.g. to the node dashboard for that node. */
  link?: { title: string; url: string };
}

export interface TableSpec extends Omit<PanelSpec, 'unit'> {
  columns: Column[];
}

/**
 * The SDK's table defaults still write `options.footer`, a shape Grafana's v13 schema removed
 * (footers are per field now, and none of these tables has one); this builder leaves it out.
 */
class TableBuilder extends table.PanelBuilder {
  override build() {
    const panel = super.build();
    if (panel.options && typeof panel.options === 'object') delete (panel.options as { footer?: unknown }).footer;
    return panel;
  }
}

/** Instant queries as one table: merged on their shared labels, cut to `columns`. */
export function tablePanel(spec: TableSpec): table.PanelBuilder {
  const panel = applyCommon(new TableBuilder(), { ...spec, unit: 'short' }, 'instant-table')
    .cellHeight(common.TableCellHeight.Sm)
    .showHeader(true);
  if (spec.queries.length > 1) panel.withTransformation({ id: 'merge', options: {} });
  panel.withTransformation({
    id: 'filterFieldsByName',
    options: { include: { names: spec.columns.map((c) => c.field) } },
  });
  panel.withTransformation({
    id: 'organize',
    options: {
      excludeByName: {},
      indexByName: Object.fromEntries(spec.columns.map((c, i) => [c.field, i])),
      renameByName: Object.fromEntries(spec.columns.map((c) => [c.field, c.header])),
    },
  });
  for (const column of spec.columns) {
    const properties: dashboard.DynamicConfigValue[] = [];
    if (column.unit !== undefined) properties.push({ id: 'unit', value: column.unit });
    if (column.link !== undefined) properties.push({ id: 'links', value: [column.link] });
    // Overrides run after `organize`, so they name the renamed header.
    if (properties.length > 0) panel.overrideByName(column.header, properties);
  }
  return panel;
}

export function textPanel(title: string, markdown: string, width: number, height: number): text.PanelBuilder {
  return new text.PanelBuilder().title(title).mode(text.TextMode.Markdown).content(markdown).span(width).height(height);
}

export function row(title: string): dashboard.RowBuilder {
  return new dashboard.RowBuilder(title);
}

/** A row of a dashboard and the panels under it. */
export type Section = [title: string, panels: cog.Builder<dashboard.Panel>[]];

/** Each row and then its panels, in order, added to the dashboard. */
export function withSections(builder: dashboard.DashboardBuilder, sections: Section[]): dashboard.DashboardBuilder {
  for (const [title, panels] of sections) {
    builder.withRow(row(title));
    for (const panel of panels) builder.withPanel(panel);
  }
  return builder;
}
