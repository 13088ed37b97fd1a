// Validity of the Grafana dashboards against Grafana's own schema.
//
// Grafana publishes its dashboard schema (CUE "kinds", dashboard v1 JSON model) to npm only
// as the TypeScript types generated from that CUE: @grafana/schema (13.2.3, devDependency).
// Neither it nor @grafana/grafana-foundation-sdk ships a JSON Schema file, so there is no
// document for ajv. Instead each dashboard is emitted as a TypeScript object literal typed
// with those generated types and compiled with tsc (--noEmit, strict):
// - the dashboard against `Dashboard` (veneer of kinds/dashboard), variables against
//   `VariableModel`, annotations against `AnnotationQuery`;
// - each panel against `Panel` narrowed by its plugin's generated `Options` and
//   `FieldConfig` (stat, timeseries, table, state-timeline, heatmap panelcfg kinds);
// - queries against the Prometheus query model (fields of Grafana's Prometheus dataquery).
// Object literals get excess-property checks, so misspelt or unknown keys fail as well as
// wrong types, missing required fields and enum values Grafana does not know. Grafana's
// string enums are nominal in TypeScript, so `J<T>` maps them to their literal values
// (what dashboard JSON contains) before checking.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..', '..');
const FILES = ['keepwatch-fleet.json', 'keepwatch-host.json', 'keepalived-compat.json'];
const TSC = path.join(ROOT, 'node_modules', '.bin', 'tsc');

const TYPES = `
import type * as S from '@grafana/schema';
import type * as Stat from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type * as TimeSeries from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';
import type * as Table from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';
import type * as StateTimeline from '@grafana/schema/dist/esm/raw/composable/statetimeline/panelcfg/x/StateTimelinePanelCfg_types.gen';
import type * as Heatmap from '@grafana/schema/dist/esm/raw/composable/heatmap/panelcfg/x/HeatmapPanelCfg_types.gen';

/** Grafana's TS string enums are nominal: map them (deeply) to their literal values. */
export type J<T> =
  T extends string ? \`\${T}\` :
  T extends number | boolean | null | undefined ? T :
  T extends readonly (infer U)[] ? J<U>[] :
  T extends object ? { [K in keyof T]: J<T[K]> } :
  T;

type PromDatasource = { type: 'prometheus'; uid: '\${datasource}' };

/** Query model of Grafana's Prometheus data source (dataquery: PromQuery). */
interface PromQuery {
  refId: string;
  datasource: PromDatasource;
  expr: string;
  editorMode?: 'code' | 'builder';
  legendFormat?: string;
  range?: boolean;
  instant?: boolean;
  format?: 'time_series' | 'table' | 'heatmap';
  exemplar?: boolean;
  interval?: string;
  intervalFactor?: number;
  hide?: boolean;
}

type FieldDefaults<C> = Omit<J<S.FieldConfig>, 'custom'> & { custom?: J<C> };
type PanelOf<T extends string, O, C> = Omit<J<S.Panel>, 'type' | 'options' | 'fieldConfig' | 'targets' | 'datasource'> & {
  type: T;
  id: number;
  title: string;
  gridPos: J<S.GridPos>;
  datasource: PromDatasource;
  targets: PromQuery[];
  options: J<O>;
  fieldConfig: { defaults: FieldDefaults<C>; overrides: J<S.FieldConfigSource['overrides']> };
};
type StatPanel = PanelOf<'stat', Stat.Options, Record<string, never>>;
type TimeSeriesPanel = PanelOf<'timeseries', TimeSeries.Options, TimeSeries.FieldConfig>;
type TablePanel = PanelOf<'table', Table.Options, Table.FieldConfig>;
type StateTimelinePanel = PanelOf<'state-timeline', StateTimeline.Options, StateTimeline.FieldConfig>;
type HeatmapPanel = PanelOf<'heatmap', Heatmap.Options, Heatmap.FieldConfig>;
type RowPanel = J<S.RowPanel> & { type: 'row'; gridPos: J<S.GridPos> };
export type AnyPanel = StatPanel | TimeSeriesPanel | TablePanel | StateTimelinePanel | HeatmapPanel | RowPanel;

/** Prometheus annotation query (fields Grafana's Prometheus annotation support reads). */
type PromAnnotation = Omit<J<S.AnnotationQuery>, 'datasource'> & {
  datasource: PromDatasource;
  expr: string;
  step?: string;
  titleFormat?: string;
  textFormat?: string;
  tagKeys?: string;
  useValueForTime?: boolean;
};

export type DashboardDoc = Omit<J<S.Dashboard>, 'panels' | 'annotations' | 'uid' | 'title' | 'schemaVersion'> & {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: AnyPanel[];
  annotations: { list: Array<J<S.AnnotationQuery> | PromAnnotation> };
};
`;

const cacheRoot = path.join(ROOT, 'node_modules', '.cache');
mkdirSync(cacheRoot, { recursive: true });
// Inside the repository so that '@grafana/schema' resolves from node_modules.
const work = mkdtempSync(path.join(cacheRoot, 'kwt-d-dashboards-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function tsModule(json: string): string {
  return `import type { DashboardDoc } from './schema-types';\n\nexport const dashboard: DashboardDoc = ${json.trimEnd()};\n`;
}

function runTsc(files: string[]): { code: number | null; out: string } {
  writeFileSync(path.join(work, 'schema-types.ts'), TYPES);
  writeFileSync(path.join(work, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true, noEmit: true, target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext',
      skipLibCheck: true, types: [],
    },
    files: ['schema-types.ts', ...files],
  }));
  const r = spawnSync(TSC, ['-p', path.join(work, 'tsconfig.json'), '--pretty', 'false'], { cwd: work, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

describe('dashboards against Grafana\'s schema (@grafana/schema types, tsc)', () => {
  it('the schema package is the one the test is written for', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'node_modules/@grafana/schema/package.json'), 'utf8')) as { version: string };
    expect(pkg.version).toBe('13.2.3');
  });

  it('all three dashboards type-check; broken copies do not', () => {
    const good: string[] = [];
    for (const f of FILES) {
      const name = f.replace('.json', '.ts');
      writeFileSync(path.join(work, name), tsModule(readFileSync(path.join(ROOT, 'dashboards', f), 'utf8')));
      good.push(name);
    }
    // Mutations the check must reject: a wrong type, an unknown key, an enum value Grafana
    // does not have, and a missing required plugin option.
    const fleet = JSON.parse(readFileSync(path.join(ROOT, 'dashboards', FILES[0]!), 'utf8')) as { panels: Array<Record<string, any>> };
    const panelOfType = (t: string) => fleet.panels.findIndex((p) => p['type'] === t);
    const mutants: Record<string, (d: typeof fleet) => void> = {
      'bad-gridpos-type': (d) => { d.panels[1]!['gridPos'].w = '12'; },
      'bad-unknown-key': (d) => { d.panels[1]!['fieldConfg'] = {}; },
      'bad-enum-value': (d) => { d.panels[panelOfType('timeseries')]!['options'].tooltip.mode = 'everything'; },
      'bad-missing-option': (d) => { delete d.panels[panelOfType('stat')]!['options'].reduceOptions; },
    };
    const bad: string[] = [];
    for (const [name, mutate] of Object.entries(mutants)) {
      const copy = JSON.parse(JSON.stringify(fleet)) as typeof fleet;
      mutate(copy);
      writeFileSync(path.join(work, `${name}.ts`), tsModule(JSON.stringify(copy, null, 2)));
      bad.push(`${name}.ts`);
    }
    const r = runTsc([...good, ...bad]);
    if (process.env.KWT_SHOW_TSC) console.log(r.out);
    for (const g of good) expect(r.out, `errors in ${g}:\n${r.out}`).not.toContain(`${g}(`);
    for (const b of bad) expect(r.out, `tsc must reject ${b}`).toContain(`${b}(`);
    expect(r.out).not.toContain('schema-types.ts(');
    expect(r.out).not.toMatch(/Cannot find module/);
  });
});
