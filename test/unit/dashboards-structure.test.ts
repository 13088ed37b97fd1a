// Structure of the Grafana dashboards: generated from dashboards/build.mjs, stable uids,
// datasource only through ${datasource}, variables, ids and grid positions, every PromQL
// expression parsed by the real promtool, and every metric name taken from
// shared/research/observability-anchors.md §8 (A or B; compat dashboard: A only).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { METRICS, PROMETHEUS_SYNTHETIC, familyOf } from '../alerts/metric-names';
import { labelValuesSelector, metricNames, promtoolCheckExprs, substituteVars, varsOutsideRegexMatchers } from '../alerts/promql';

const ROOT = path.resolve(__dirname, '..', '..');
const DIR = path.join(ROOT, 'dashboards');
const PROM_DS = { type: 'prometheus', uid: '${datasource}' };

type Json = any;
const load = (f: string): Json => JSON.parse(readFileSync(path.join(DIR, f), 'utf8'));
const DASHBOARDS: Record<string, { uid: string; vars: string[]; compat: boolean }> = {
  'keepwatch-fleet.json': { uid: 'keepwatch-fleet', vars: ['datasource', 'job', 'vrrp_domain', 'vrid', 'instance'], compat: false },
  'keepwatch-host.json': { uid: 'keepwatch-host', vars: ['datasource', 'job', 'instance', 'iname'], compat: false },
  'keepalived-compat.json': { uid: 'keepalived-compat', vars: ['datasource', 'job', 'instance', 'vrid'], compat: true },
};

interface Expr { where: string; expr: string }

/** Every PromQL expression of a dashboard: panel targets, annotations, variable selectors. */
function expressions(d: Json): Expr[] {
  const out: Expr[] = [];
  for (const p of d.panels) for (const t of p.targets ?? []) out.push({ where: `panel ${p.id} "${p.title}" ${t.refId}`, expr: t.expr });
  for (const a of d.annotations.list) if (a.expr) out.push({ where: `annotation "${a.name}"`, expr: a.expr });
  for (const v of d.templating.list) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : v.query.query;
    const sel = labelValuesSelector(q);
    expect(sel, `variable ${v.name} uses label_values(selector, label)`).toBeTruthy();
    out.push({ where: `variable ${v.name}`, expr: sel! });
  }
  return out;
}

/** Values a Grafana render would put in: All (".*") for variables, short ranges for macros. */
const SUBST = {
  datasource: 'prom', job: '.*', vrrp_domain: '.*', vrid: '.*', instance: '.*', iname: '.*',
  __range: '1h', __rate_interval: '1m', __interval: '30s',
};

/** Names prom-client really exposes as default metrics (the process_* / nodejs_* row of §8). */
async function promClientDefaults(): Promise<Set<string>> {
  const reg = new Registry();
  collectDefaultMetrics({ register: reg });
  const names = new Set<string>();
  for (const m of await reg.getMetricsAsJSON()) {
    names.add(m.name);
    if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
  }
  return names;
}

describe('dashboards are what dashboards/build.mjs produces', () => {
  it('committed JSON equals the generator output', async () => {
    const mod = (await import(path.join(DIR, 'build.mjs'))) as { buildDashboards: () => Record<string, Json>; render: (o: Json) => string; SCHEMA_VERSION: number };
    const built = mod.buildDashboards();
    expect(Object.keys(built).sort()).toEqual(Object.keys(DASHBOARDS).sort());
    for (const [f, obj] of Object.entries(built)) {
      expect(readFileSync(path.join(DIR, f), 'utf8'), `${f} is stale: run node dashboards/build.mjs`).toBe(mod.render(obj));
    }
  });
});

describe.each(Object.entries(DASHBOARDS))('%s', (file, spec) => {
  const d = load(file);

  it('has a stable uid, a title and the schemaVersion of current Grafana', async () => {
    expect(d.uid).toBe(spec.uid);
    expect(d.uid.length).toBeGreaterThanOrEqual(8);
    expect(d.uid.length).toBeLessThanOrEqual(40);
    expect(d.title).toBeTruthy();
    expect(d.id).toBeUndefined();
    // 41 = latest of Grafana 12.x; must not exceed what current Grafana (@grafana/schema) knows.
    const schema = (await import('@grafana/schema')) as { defaultDashboard: { schemaVersion: number } };
    expect(d.schemaVersion).toBe(41);
    expect(d.schemaVersion).toBeLessThanOrEqual(schema.defaultDashboard.schemaVersion);
  });

  it('never hard-codes a datasource uid', () => {
    const seen: string[] = [];
    const walk = (node: Json, where: string) => {
      if (Array.isArray(node)) { node.forEach((n, i) => walk(n, `${where}[${i}]`)); return; }
      if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (k === 'datasource') {
            seen.push(where);
            if (typeof v === 'string') throw new Error(`${where}: datasource given as a name`);
            const ds = v as { type?: string; uid?: string } | null;
            if (ds?.type === 'grafana') expect(ds.uid, where).toBe('-- Grafana --');
            else expect(ds, where).toEqual(PROM_DS);
          }
          walk(v, `${where}.${k}`);
        }
      }
    };
    walk(d, file);
    expect(seen.length).toBeGreaterThan(10);
    const dsVar = d.templating.list.find((v: Json) => v.name === 'datasource');
    expect(dsVar).toMatchObject({ type: 'datasource', query: 'prometheus' });
  });

  it('has the expected template variables', () => {
    const names = d.templating.list.map((v: Json) => v.name);
    expect(names).toEqual(spec.vars);
    for (const v of d.templating.list) {
      if (v.type !== 'query') continue;
      expect(v.datasource, v.name).toEqual(PROM_DS);
      if (v.includeAll) expect(v.allValue, `${v.name}: All must be a regex`).toBe('.*');
    }
  });

  it('has unique panel ids, sane non-overlapping grid positions, and Prometheus targets on every panel', () => {
    const ids = new Set<number>();
    const boxes: Array<{ id: number; x: number; y: number; w: number; h: number }> = [];
    let lastY = -1;
    let lastX = -1;
    for (const p of d.panels) {
      expect(Number.isInteger(p.id) && p.id > 0, `id of ${p.title}`).toBe(true);
      expect(ids.has(p.id), `duplicate id ${p.id}`).toBe(false);
      ids.add(p.id);
      const g = p.gridPos;
      for (const k of ['x', 'y', 'w', 'h']) expect(Number.isInteger(g[k]), `${p.title} gridPos.${k}`).toBe(true);
      expect(g.x >= 0 && g.y >= 0 && g.w >= 1 && g.h >= 1 && g.x + g.w <= 24, `${p.title} gridPos ${JSON.stringify(g)}`).toBe(true);
      // Grafana lays panels out in array order: keep reading order.
      expect(g.y > lastY || (g.y === lastY && g.x > lastX), `${p.title} out of reading order`).toBe(true);
      lastY = g.y; lastX = g.x;
      for (const b of boxes) {
        const overlap = g.x < b.x + b.w && b.x < g.x + g.w && g.y < b.y + b.h && b.y < g.y + g.h;
        expect(overlap, `panel ${p.id} overlaps panel ${b.id}`).toBe(false);
      }
      boxes.push({ id: p.id, ...g });
      if (p.type === 'row') {
        expect(p.panels).toEqual([]);
        expect(p.collapsed).toBe(false);
        expect(g).toMatchObject({ x: 0, w: 24, h: 1 });
        continue;
      }
      expect(p.title, `panel ${p.id} title`).toBeTruthy();
      expect(p.description, `panel ${p.id} description`).toBeTruthy();
      expect(p.datasource, `panel ${p.id} datasource`).toEqual(PROM_DS);
      expect(p.targets.length, `panel ${p.id} has queries`).toBeGreaterThan(0);
      const refIds = new Set<string>();
      for (const t of p.targets) {
        expect(t.datasource, `panel ${p.id} ${t.refId}`).toEqual(PROM_DS);
        expect(refIds.has(t.refId), `panel ${p.id} duplicate refId`).toBe(false);
        refIds.add(t.refId);
        expect(typeof t.expr === 'string' && t.expr.trim().length > 0).toBe(true);
      }
      if (p.repeat) expect(spec.vars, `repeat variable of ${p.title}`).toContain(p.repeat);
    }
  });

  it('uses template variables only inside regex matchers (multi-select and All safe)', () => {
    for (const e of expressions(d)) expect(varsOutsideRegexMatchers(e.expr), e.where).toEqual([]);
  });

  it('every expression parses with promtool', () => {
    const exprs = expressions(d).map((e) => ({ name: e.where, expr: substituteVars(e.expr, SUBST) }));
    for (const e of exprs) expect(e.expr, e.name).not.toMatch(/\$/);
    const r = promtoolCheckExprs(exprs);
    expect(r.output).toContain(`SUCCESS: ${exprs.length} rules found`);
    expect(r.code).toBe(0);
  });

  it(`uses only metric names of observability-anchors §8 (${spec.compat ? 'A' : 'A or B'})`, async () => {
    const defaults = await promClientDefaults();
    const used = new Set<string>();
    for (const e of expressions(d)) {
      for (const name of metricNames(substituteVars(e.expr, SUBST))) {
        used.add(name);
        if (PROMETHEUS_SYNTHETIC.includes(name)) continue;
        if (!spec.compat && /^(process|nodejs)_/.test(name)) {
          expect(defaults, `${e.where}: ${name} is not a prom-client default metric`).toContain(name);
          continue;
        }
        const fam = familyOf(name);
        expect(fam, `${e.where}: ${name} is not in §8`).toBeDefined();
        if (spec.compat) expect(fam!.set, `${e.where}: ${name} is not a keepalived-exporter name`).toBe('A');
      }
    }
    expect(used.size).toBeGreaterThan(spec.compat ? 15 : 20);
  });
});

describe('keepwatch-fleet content', () => {
  const d = load('keepwatch-fleet.json');
  const panels = d.panels.filter((p: Json) => p.type !== 'row');
  const exprOf = (p: Json) => p.targets.map((t: Json) => t.expr).join('\n');
  const find = (type: string, metric: string) =>
    panels.find((p: Json) => p.type === type && metricNames(substituteVars(exprOf(p), SUBST)).some((n) => n === metric));

  it('variables: vrid multi, instance multi with All', () => {
    const v = (n: string) => d.templating.list.find((x: Json) => x.name === n);
    expect(v('vrid').multi).toBe(true);
    expect(v('instance')).toMatchObject({ multi: true, includeAll: true });
    expect(v('job').query.query).toContain('label_values(');
    expect(v('vrrp_domain').query.query).toContain('vrrp_domain');
  });

  it('MASTERs per VRID stat: 0 red, 1 green, >=2 red, grouped by the cluster key', () => {
    const p = find('stat', 'keepalived_vrrp_status');
    expect(p).toBeDefined();
    expect(p.targets[0].expr).toMatch(/^sum by \(vrrp_domain, vrid\) \(keepalived_vrrp_status\{state="MASTER"/);
    expect(p.fieldConfig.defaults.thresholds.steps).toEqual([
      { color: 'red', value: null }, { color: 'green', value: 1 }, { color: 'red', value: 2 },
    ]);
  });

  it('state timeline repeated per VRID with one row per host', () => {
    const p = find('state-timeline', 'keepalived_vrrp_status');
    expect(p.repeat).toBe('vrid');
    expect(p.targets[0].expr).toMatch(/sum by \(vrrp_domain, instance, iname\)/);
    const texts = Object.values(p.fieldConfig.defaults.mappings[0].options).map((o: Json) => o.text);
    expect(texts).toEqual(['INIT', 'BACKUP', 'MASTER', 'FAULT', 'STOP']);
  });

  it('has the flapping table, transition annotations with reasons, and the remaining panels', () => {
    expect(find('table', 'keepalived_vrrp_transitions_total')?.targets[0].expr).toContain('[$__range]');
    expect(d.annotations.list.some((a: Json) => a.expr?.includes('keepalived_vrrp_transitions_total') && a.textFormat.includes('{{reason}}'))).toBe(true);
    expect(d.annotations.list.some((a: Json) => a.expr?.includes('keepalived_vrrp_last_transition_timestamp_seconds'))).toBe(true);
    const required: Array<[string, string]> = [
      ['timeseries', 'keepalived_vrrp_priority_base'], ['timeseries', 'keepalived_vrrp_priority_effective'],
      ['timeseries', 'keepalived_vrrp_master_down_timer_remaining_seconds'],
      ['heatmap', 'keepalived_vrrp_advert_receive_interval_seconds_bucket'],
      ['timeseries', 'keepalived_vrrp_advert_send_lag_seconds_bucket'],
      ['timeseries', 'keepalived_vrrp_garp_sent_total'], ['timeseries', 'keepalived_vrrp_unsolicited_na_sent_total'],
      ['timeseries', 'keepalived_authentication_failure_total'],
      ['table', 'keepalived_virtual_server_real_servers_up'], ['table', 'keepalived_virtual_server_real_servers_configured'],
      ['table', 'keepalived_virtual_server_quorum_met'],
      ['stat', 'up'], ['timeseries', 'keepalived_config_reloads_total'], ['stat', 'keepalived_snmp_agentx_connected'],
      ['table', 'keepalived_build_info'],
    ];
    for (const [type, metric] of required) expect(find(type, metric), `${type} panel on ${metric}`).toBeDefined();
  });
});

describe('metric-name list matches observability-anchors §8', () => {
  const candidates = [
    path.resolve(ROOT, '..', 'shared', 'research', 'observability-anchors.md'),
    '/work/shared/research/observability-anchors.md',
  ];
  const doc = candidates.find((p) => existsSync(p));

  it('every fully spelled keepalived_* name in §8 is in the list, and every list entry is in §8', () => {
    expect(doc, `observability-anchors.md not found in ${candidates.join(', ')}`).toBeDefined();
    const text = readFileSync(doc!, 'utf8');
    // the tables of §8 (rows start with "|"); prose mentions other exporters' names
    const s8 = text.slice(text.indexOf('## 8. Metric superset table'), text.indexOf('## 9. Alert catalogue'))
      .split('\n').filter((l) => l.startsWith('|') || l.startsWith('### ')).join('\n');
    expect(s8.length).toBeGreaterThan(1000);
    const spelled = new Set([...s8.matchAll(/`(keepalived_[a-z0-9_]+)`/g)].map((m) => m[1]!));
    const abbreviated = [...s8.matchAll(/`…(_[a-z0-9_]+)`/g)].map((m) => m[1]!);
    const listed = new Set(METRICS.map((m) => m.name));
    for (const n of spelled) expect(listed, `§8 name ${n}`).toContain(n);
    for (const m of METRICS) {
      const ok = spelled.has(m.name) || abbreviated.some((suffix) => m.name.endsWith(suffix) && [...spelled].some((full) => full.split('_').slice(0, 4).join('_') === m.name.split('_').slice(0, 4).join('_')));
      expect(ok, `${m.name} is not in §8`).toBe(true);
    }
    for (const m of METRICS) {
      const inA = s8.slice(0, s8.indexOf('### B.')).includes(`\`${m.name}\``);
      if (m.set === 'A') expect(inA, `${m.name} is in table A`).toBe(true);
    }
  });

  it('the PromQL name scanner finds metrics and skips functions, labels, strings and durations', () => {
    expect(metricNames('sum by (vrrp_domain, vrid) (rate(foo_total{a="b", c=~"x|y"}[5m] offset 1m)) / on (job) group_left (x) bar and time() > 1e-9')).toEqual(['foo_total', 'bar']);
    expect(metricNames('label_replace(increase(a_total[5m]) > 0, "error", "auth", "", "") or histogram_quantile(0.99, sum by (le) (rate(h_bucket[$__rate_interval])))')).toEqual(['a_total', 'h_bucket']);
    expect(metricNames('up{job=~"$job"} == 0 or keepalived_up == bool 0')).toEqual(['up', 'keepalived_up']);
  });
});
