#!/usr/bin/env node
// Builds the Grafana dashboards in this folder from one description, so the three files
// share datasource handling, variables and panel defaults:
//   node dashboards/build.mjs          write keepwatch-fleet.json, keepwatch-host.json,
//                                      keepalived-compat.json
//   node dashboards/build.mjs --check  exit 1 if a committed file differs from the build
// test/unit/dashboards-*.test.ts validate the output (Grafana schema types, structure,
// promtool on every expression, metric names against observability-anchors §8).
//
// Grafana facts relied on:
// - schemaVersion 41 is the latest of Grafana 12.x; Grafana 13 (@grafana/schema 13.2.3,
//   LATEST_VERSION 42) migrates it on load (V42 only touches hideFrom overrides, unused here).
// - No datasource uid is hard-coded: every panel, query, variable and annotation uses
//   {type: "prometheus", uid: "${datasource}"} from the `datasource` variable.
// - All user variables are used only inside regex matchers (=~"$var") so "All" (allValue
//   ".*") and multi-select values work.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SCHEMA_VERSION = 41;
const DS = { type: 'prometheus', uid: '${datasource}' };

// ---------------------------------------------------------------- panel building blocks
class Layout {
  constructor() { this.id = 0; this.y = 0; this.x = 0; this.rowH = 0; this.panels = []; }
  nextId() { return ++this.id; }
  row(title) {
    this.newline();
    this.panels.push({ type: 'row', id: this.nextId(), title, collapsed: false, panels: [], gridPos: { x: 0, y: this.y, w: 24, h: 1 } });
    this.y += 1;
  }
  newline() { if (this.x > 0) { this.y += this.rowH; this.x = 0; this.rowH = 0; } }
  add(panel, w, h) {
    if (this.x + w > 24) this.newline();
    panel.id = this.nextId();
    panel.gridPos = { x: this.x, y: this.y, w, h };
    this.x += w;
    this.rowH = Math.max(this.rowH, h);
    if (this.x >= 24) this.newline();
    this.panels.push(panel);
  }
  done() { this.newline(); return this.panels; }
}

function targets(list) {
  return list.map((t, i) => ({
    datasource: DS,
    refId: String.fromCharCode(65 + i),
    editorMode: 'code',
    expr: t.expr,
    legendFormat: t.legend ?? '__auto',
    range: !t.instant,
    instant: !!t.instant,
    ...(t.format ? { format: t.format } : {}),
  }));
}

const thresholds = (steps) => ({ mode: 'absolute', steps: steps.map(([color, value]) => ({ color, value })) });
const GREEN = thresholds([['green', null]]);

function valueMap(entries) {
  const options = {};
  entries.forEach(([value, text, color], index) => { options[String(value)] = { text, color, index }; });
  return { type: 'value', options };
}

// keepalived's state codes (INIT..FAULT as keepalived_vrrp_state of the mehdy exporter;
// STOP = 98 as keepalived's VRRP_STATE_STOP and keepalived_vrrp_wanted_state).
const STATE_MAPPING = valueMap([
  [0, 'INIT', 'purple'], [1, 'BACKUP', 'blue'], [2, 'MASTER', 'green'], [3, 'FAULT', 'red'], [98, 'STOP', 'text'],
]);
const UP_DOWN = [valueMap([[0, 'DOWN', 'red'], [1, 'UP', 'green']])];

// Options of the "MASTERs per VRID" stat: exactly one MASTER per cluster key is healthy,
// none means nobody serves the VIPs, two or more is a split brain.
const MASTER_COUNT = {
  steps: [['red', null], ['green', 1], ['red', 2]], decimals: 0,
  mappings: [valueMap([[0, 'NO MASTER', 'red']]), { type: 'range', options: { from: 2, to: null, result: { text: 'SPLIT BRAIN', color: 'red', index: 1 } } }],
};

// keepalived's per-instance receive error counters (vrrp_t stats; the exporter's names)
// with their legend, in the order every "Dropped adverts by error" panel lists them.
const ADVERT_ERRORS = [
  ['keepalived_packet_length_errors_total', 'packet length'],
  ['keepalived_advertisements_interval_errors_total', 'advert interval'],
  ['keepalived_ip_ttl_errors_total', 'IP TTL'],
  ['keepalived_invalid_type_received_total', 'invalid type'],
  ['keepalived_address_list_errors_total', 'address list'],
  ['keepalived_authentication_invalid_total', 'auth invalid'],
  ['keepalived_authentication_mismatch_total', 'auth mismatch'],
  ['keepalived_authentication_failure_total', 'auth failure'],
];

/** keepwatch's keepalived_vrrp_status stateset folded into keepalived's state code, summed by `by`. */
function stateCode(by, sel) {
  return `sum by (${by}) (
  keepalived_vrrp_status{state="BACKUP", ${sel}} * 1
  or keepalived_vrrp_status{state="MASTER", ${sel}} * 2
  or keepalived_vrrp_status{state="FAULT", ${sel}} * 3
  or keepalived_vrrp_status{state="STOP", ${sel}} * 98
  or keepalived_vrrp_status{state="INIT", ${sel}} * 0
)`;
}

function timeseries(title, description, tlist, { unit = 'short', stack = false, bars = false, overrides = [], min } = {}) {
  return {
    type: 'timeseries', title, description, datasource: DS,
    targets: targets(tlist),
    fieldConfig: {
      defaults: {
        color: { mode: 'palette-classic' },
        custom: {
          drawStyle: bars ? 'bars' : 'line', lineWidth: 1, fillOpacity: bars || stack ? 60 : 0,
          showPoints: 'never', spanNulls: false, axisPlacement: 'auto',
          stacking: { mode: stack ? 'normal' : 'none', group: 'A' },
        },
        unit, thresholds: GREEN, mappings: [],
        ...(min !== undefined ? { min } : {}),
      },
      overrides,
    },
    options: {
      legend: { calcs: [], displayMode: 'list', placement: 'bottom', showLegend: true },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
  };
}

function stat(title, description, tlist, { unit = 'none', steps = [['green', null]], mappings = [], textMode = 'value_and_name', colorMode = 'background', decimals } = {}) {
  return {
    type: 'stat', title, description, datasource: DS,
    targets: targets(tlist),
    fieldConfig: {
      defaults: { color: { mode: 'thresholds' }, unit, thresholds: thresholds(steps), mappings, ...(decimals !== undefined ? { decimals } : {}) },
      overrides: [],
    },
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      orientation: 'auto', textMode, colorMode, graphMode: 'none', justifyMode: 'auto',
      wideLayout: true, showPercentChange: false, percentChangeColorMode: 'standard', text: {},
    },
  };
}

function table(title, description, tlist, { transformations = [], steps = [['green', null]], unit = 'none', overrides = [], sortBy } = {}) {
  return {
    type: 'table', title, description, datasource: DS,
    targets: targets(tlist.map((t) => ({ instant: true, format: 'table', ...t }))),
    fieldConfig: {
      defaults: {
        color: { mode: 'thresholds' }, unit, thresholds: thresholds(steps), mappings: [],
        custom: { align: 'auto', cellOptions: { type: 'auto' }, inspect: false },
      },
      overrides,
    },
    options: { showHeader: true, frameIndex: 0, cellHeight: 'sm', ...(sortBy ? { sortBy } : {}) },
    transformations,
  };
}

function stateTimeline(title, description, tlist, { mappings = [STATE_MAPPING], repeat } = {}) {
  return {
    type: 'state-timeline', title, description, datasource: DS,
    ...(repeat ? { repeat, repeatDirection: 'h', maxPerRow: 2 } : {}),
    targets: targets(tlist),
    fieldConfig: {
      defaults: {
        color: { mode: 'thresholds' }, thresholds: GREEN, mappings,
        custom: { fillOpacity: 80, lineWidth: 0, hideFrom: { legend: false, tooltip: false, viz: false } },
      },
      overrides: [],
    },
    options: {
      mergeValues: true, showValue: 'auto', alignValue: 'left', rowHeight: 0.9,
      legend: { calcs: [], displayMode: 'list', placement: 'bottom', showLegend: true },
      tooltip: { mode: 'single', sort: 'none' },
    },
  };
}

function heatmap(title, description, tlist) {
  return {
    type: 'heatmap', title, description, datasource: DS,
    targets: targets(tlist.map((t) => ({ format: 'heatmap', legend: '{{le}}', ...t }))),
    fieldConfig: {
      defaults: { custom: { hideFrom: { legend: false, tooltip: false, viz: false }, scaleDistribution: { type: 'linear' } } },
      overrides: [],
    },
    options: {
      calculate: false, cellGap: 1,
      color: { mode: 'scheme', scheme: 'Oranges', fill: 'dark-orange', scale: 'exponential', exponent: 0.5, steps: 64, reverse: false },
      exemplars: { color: 'rgba(255,0,255,0.7)' },
      filterValues: { le: 1e-9 },
      legend: { show: true },
      rowsFrame: { layout: 'auto' },
      showValue: 'never',
      tooltip: { mode: 'single', yHistogram: false, showColorScale: false },
      yAxis: { axisPlacement: 'left', reverse: false, unit: 's' },
    },
  };
}

const organize = (excludeByName, renameByName = {}) => ({ id: 'organize', options: { excludeByName, renameByName, indexByName: {} } });
const merge = { id: 'merge', options: {} };
const dashedLike = (regex) => ({
  matcher: { id: 'byRegexp', options: regex },
  properties: [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }],
});

// ------------------------------------------------------------------ variables
function dsVar() {
  return { type: 'datasource', name: 'datasource', label: 'Data source', query: 'prometheus', hide: 0, refresh: 1, regex: '', skipUrlSync: false };
}
function queryVar(name, label, query, { multi = true, all = true, sort = 1 } = {}) {
  return {
    type: 'query', name, label, datasource: DS,
    query: { qryType: 1, query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    refresh: 2, regex: '', sort, multi, includeAll: all,
    ...(all ? { allValue: '.*' } : {}),
    hide: 0, skipUrlSync: false,
  };
}

function dashboard({ uid, title, description, tags, variables, panels, annotations = [] }) {
  return {
    uid, title, description, tags,
    editable: true, graphTooltip: 1, fiscalYearStartMonth: 0, liveNow: false,
    refresh: '30s', schemaVersion: SCHEMA_VERSION, version: 1, timezone: 'browser',
    time: { from: 'now-6h', to: 'now' },
    timepicker: {},
    links: [],
    templating: { list: variables },
    annotations: {
      list: [
        {
          builtIn: 1, datasource: { type: 'grafana', uid: '-- Grafana --' }, enable: true, hide: true,
          iconColor: 'rgba(0, 211, 255, 1)', name: 'Annotations & Alerts', type: 'dashboard',
        },
        ...annotations,
      ],
    },
    panels,
  };
}

// ------------------------------------------------------------------ transitions in a range
// keepalived_vrrp_transitions_total{from, to, reason} series are born at the first such
// transition, with value 1 (the label values are not known in advance). increase() and
// changes() only see what happens AFTER a series' first sample, so on their own they miss
// the first occurrence of every (host, from, to, reason) — exactly the new, interesting
// reason. Found by the live test against real agents (test/alerts/live-agents.test.ts):
// the transition tables only showed repeats. Series that did not exist at the start of
// the range count with their whole value, but only for agents Prometheus already scraped
// at the start of the range (else a freshly started Prometheus would attribute an agent's
// whole history to the range).
// While Prometheus is younger than the range, that part is empty and the plain
// increase()/changes() is what shows.
function transitionsIn(sel, range, fn = 'increase') {
  const t = `keepalived_vrrp_transitions_total{${sel}}`;
  const seen = fn === 'increase' ? `round(increase(${t}[${range}]))` : `changes(${t}[${range}])`;
  return `(
    (${t} unless ${t} offset ${range}) and on (job, instance, iname) (keepalived_vrrp_instance_info offset ${range})
    or ${seen}
  )`;
}

// ------------------------------------------------------------------ keepwatch-fleet
function fleet() {
  const J = 'job=~"$job"';
  const I = 'instance=~"$instance"';
  const V = 'vrid=~"$vrid"';
  const D = 'vrrp_domain=~"$vrrp_domain"';
  // Families other than the stateset and instance_info carry no vrrp_domain (§8): filter
  // them by joining on the agent's instance identity.
  const inDomain = `and on (job, instance, iname) keepalived_vrrp_instance_info{${J}, ${D}, ${V}}`;
  const L = new Layout();

  L.row('Cluster view: split brain and failover');
  L.add(stat('MASTERs per VRID',
    'Hosts in MASTER per cluster key (vrrp_domain, vrid): 0 = nobody serves the VIPs (red), 1 = healthy (green), 2 or more = split brain (red). Counts every live member regardless of the instance filter.',
    [{ expr: `sum by (vrrp_domain, vrid) (keepalived_vrrp_status{state="MASTER", ${J}, ${D}, ${V}})`, legend: '{{vrrp_domain}} / VRID {{vrid}}' }],
    MASTER_COUNT), 12, 7);
  L.add(table('Current MASTER per VRID',
    'Which host holds each virtual router now. More than one row for a cluster key is a split brain.',
    [{ expr: `keepalived_vrrp_status{state="MASTER", ${J}, ${D}, ${V}} == 1` }],
    { transformations: [organize({ Time: true, Value: true, __name__: true, state: true, job: true })] }), 12, 7);
  L.add(stateTimeline('VRRP state per host — VRID $vrid',
    'One row per host (and instance) for this VRID: the stateset folded into keepalived\'s state code (0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT, 98 STOP). Two green rows at the same time are a split brain.',
    [{
      expr: stateCode('vrrp_domain, instance, iname', `${J}, ${D}, ${V}, ${I}`),
      legend: '{{instance}} {{iname}} ({{vrrp_domain}})',
    }], { repeat: 'vrid' }), 24, 8);

  L.row('Flapping');
  // keepalived_become_master_total exists from the instance's start (at 0), so increase()
  // counts the first MASTER change too (see transitionsIn); it is what KeepalivedFlapping counts.
  L.add(table('Transitions to MASTER per VRID (time range)',
    'MASTER changes per cluster key over the dashboard range (keepalived_become_master_total); KeepalivedFlapping fires at 4 in 15 minutes.',
    [{ expr: `sort_desc(sum by (vrrp_domain, vrid) (
  round(increase(keepalived_become_master_total{${J}, ${V}}[$__range]))
  * on (job, instance, iname) group_left (vrrp_domain) keepalived_vrrp_instance_info{${J}, ${D}}
))` }],
    { steps: [['green', null], ['orange', 2], ['red', 4]],
      transformations: [organize({ Time: true }, { Value: 'transitions to MASTER' })],
      overrides: [{ matcher: { id: 'byName', options: 'transitions to MASTER' }, properties: [{ id: 'custom.cellOptions', value: { type: 'color-background' } }] }] }), 12, 8);
  L.add(table('Transition reasons (time range)',
    'Every state change over the range by host, from, to and reason (ietf-vrrp vocabulary: master_timeout, higher_priority_backup, priority_zero_received, preempt, interface_down, track_script, startup, shutdown, reload …).',
    [{ expr: `sort_desc(sum by (vrrp_domain, vrid, instance, iname, from, to, reason) (
  ${transitionsIn(`${J}, ${V}, ${I}`, '$__range')}
  * on (job, instance, iname) group_left (vrrp_domain) keepalived_vrrp_instance_info{${J}, ${D}}
) > 0)` }],
    { transformations: [organize({ Time: true }, { Value: 'count' })] }), 12, 8);

  L.row('Priorities and timers');
  L.add(timeseries('Priority: base vs effective',
    'Configured (dashed) and effective priority per host. Effective below base means a weighted tracker is failing (KeepalivedPriorityDegraded).',
    [
      { expr: `keepalived_vrrp_priority_base{${J}, ${V}, ${I}} ${inDomain}`, legend: '{{instance}} {{iname}} base' },
      { expr: `keepalived_vrrp_priority_effective{${J}, ${V}, ${I}} ${inDomain}`, legend: '{{instance}} {{iname}} effective' },
    ], { overrides: [dashedLike('/ base$/')] }), 12, 8);
  L.add(timeseries('Master-down headroom (BACKUPs)',
    'Time left on each BACKUP\'s Master_Down_Timer (RFC 5798 §6.4.2) at scrape time, against the full interval (dashed). Values near zero mean adverts arrive late; the BACKUP is about to take over.',
    [
      { expr: `keepalived_vrrp_master_down_timer_remaining_seconds{${J}, ${V}, ${I}} and on (job, instance, iname) keepalived_vrrp_status{state="BACKUP", ${J}, ${D}} == 1`, legend: '{{instance}} {{iname}} remaining' },
      { expr: `keepalived_vrrp_master_down_interval_seconds{${J}, ${V}, ${I}} ${inDomain}`, legend: '{{instance}} {{iname}} interval' },
    ], { unit: 's', min: 0, overrides: [dashedLike('/ interval$/')] }), 12, 8);
  L.add(heatmap('Advert inter-arrival (BACKUPs)',
    'Time between consecutive adverts received from the MASTER. A healthy cluster is one band at the advert interval; bands at 2x/3x are lost adverts, a smear is jitter.',
    [{ expr: `sum by (le) (rate(keepalived_vrrp_advert_receive_interval_seconds_bucket{${J}, ${V}, ${I}}[$__rate_interval]) ${inDomain})` }]), 12, 8);
  L.add(timeseries('Advert send lag (MASTERs)',
    'Delay between the scheduled and actual send time of adverts (p50 / p99): event-loop stalls on the MASTER show here before BACKUPs time out.',
    [
      { expr: `histogram_quantile(0.99, sum by (le, instance, iname) (rate(keepalived_vrrp_advert_send_lag_seconds_bucket{${J}, ${V}, ${I}}[$__rate_interval]) ${inDomain}))`, legend: '{{instance}} {{iname}} p99' },
      { expr: `histogram_quantile(0.5, sum by (le, instance, iname) (rate(keepalived_vrrp_advert_send_lag_seconds_bucket{${J}, ${V}, ${I}}[$__rate_interval]) ${inDomain}))`, legend: '{{instance}} {{iname}} p50' },
    ], { unit: 's', min: 0 }), 12, 8);

  L.row('On the wire');
  L.add(timeseries('Adverts sent / received',
    'Adverts per second. "received while MASTER" above zero means another router claims the VRID (KeepalivedMasterHearsOtherMaster).',
    [
      { expr: `sum by (instance, iname) (rate(keepalived_advertisements_sent_total{${J}, ${V}, ${I}}[$__rate_interval]) ${inDomain})`, legend: '{{instance}} {{iname}} sent' },
      { expr: `sum by (instance, iname) (rate(keepalived_advertisements_received_total{${J}, ${V}, ${I}}[$__rate_interval]) ${inDomain})`, legend: '{{instance}} {{iname}} received' },
      { expr: `sum by (instance, iname) (rate(keepalived_vrrp_advertisements_received_in_master_total{${J}, ${V}, ${I}}[$__rate_interval]) ${inDomain})`, legend: '{{instance}} {{iname}} received while MASTER' },
    ], { unit: 'pps' }), 12, 8);
  L.add(timeseries('Gratuitous ARP / unsolicited NA sent',
    'GARP (IPv4) and unsolicited Neighbour Advertisements (IPv6) sent by new MASTERs and by garp_master_refresh.',
    [
      { expr: `sum by (instance, iname) (increase(keepalived_vrrp_garp_sent_total{${J}, ${V}, ${I}}[$__rate_interval]) ${inDomain})`, legend: '{{instance}} {{iname}} GARP' },
      { expr: `sum by (instance, iname) (increase(keepalived_vrrp_unsolicited_na_sent_total{${J}, ${V}, ${I}}[$__rate_interval]) ${inDomain})`, legend: '{{instance}} {{iname}} NA' },
    ], { bars: true }), 12, 8);
  const err = (metric, name) => ({
    expr: `sum by (instance, iname) (rate(${metric}{${J}, ${V}, ${I}}[$__rate_interval]) ${inDomain})`,
    legend: `{{instance}} {{iname}} ${name}`,
  });
  L.add(timeseries('Dropped adverts by error',
    'keepalived\'s receive error counters (RFC 2787 vrrpRouterStatsTable) and keepwatch\'s authentication-extension and router-wide errors, per second. See KeepalivedAuthOrConfigErrors.',
    [
      ...ADVERT_ERRORS.map(([metric, name]) => err(metric, name)),
      { expr: `sum by (instance, iname, reason) (rate(keepalived_vrrp_authentication_extension_errors_total{${J}, ${V}, ${I}}[$__rate_interval]) ${inDomain})`, legend: '{{instance}} {{iname}} auth ext {{reason}}' },
      { expr: `sum by (instance, intf) (rate(keepalived_vrrp_checksum_errors_total{${J}, ${I}}[$__rate_interval]))`, legend: '{{instance}} {{intf}} checksum' },
      { expr: `sum by (instance, intf) (rate(keepalived_vrrp_version_errors_total{${J}, ${I}}[$__rate_interval]))`, legend: '{{instance}} {{intf}} version' },
      { expr: `sum by (instance, intf) (rate(keepalived_vrrp_vrid_errors_total{${J}, ${I}}[$__rate_interval]))`, legend: '{{instance}} {{intf}} VRID' },
    ], { unit: 'pps' }), 24, 8);

  L.row('IPVS pools');
  L.add(table('Virtual servers: real servers up / configured, quorum',
    'Per director and virtual server. quorum met = 0 means keepalived ran quorum_down (KeepalivedPoolBelowQuorum).',
    [
      { expr: `keepalived_virtual_server_real_servers_up{${J}, ${I}}` },
      { expr: `keepalived_virtual_server_real_servers_configured{${J}, ${I}}` },
      { expr: `keepalived_virtual_server_quorum{${J}, ${I}}` },
      { expr: `keepalived_virtual_server_quorum_met{${J}, ${I}}` },
    ],
    { transformations: [merge, organize({ Time: true, job: true },
      { 'Value #A': 'up', 'Value #B': 'configured', 'Value #C': 'quorum', 'Value #D': 'quorum met' })] }), 14, 8);
  L.add(stat('Pool health',
    'Share of real servers passing their checks per virtual server (KeepalivedPoolDegraded below 50%).',
    [{ expr: `sum by (instance, virtual_server) (keepalived_virtual_server_real_servers_up{${J}, ${I}}) / sum by (instance, virtual_server) (keepalived_virtual_server_real_servers_configured{${J}, ${I}})`, legend: '{{instance}} {{virtual_server}}' }],
    { unit: 'percentunit', steps: [['red', null], ['orange', 0.5], ['green', 1]] }), 10, 8);
  L.add(table('Real servers down',
    'Real servers currently held out of their pool by health checks.',
    [{ expr: `keepalived_real_server_up{${J}, ${I}} == 0` }],
    { transformations: [organize({ Time: true, Value: true, __name__: true, job: true })] }), 12, 8);
  L.add(timeseries('IPVS connections per virtual server',
    'New connections per second scheduled by IPVS on each director.',
    [{ expr: `sum by (instance, virtual_server) (rate(keepalived_ipvs_virtual_server_connections_total{${J}, ${I}}[$__rate_interval]))`, legend: '{{instance}} {{virtual_server}}' }],
    { unit: 'cps' }), 12, 8);

  L.row('Agents');
  L.add(stat('Agents scraped', 'Prometheus scrape status of each agent (up).',
    [{ expr: `up{${J}, ${I}}`, legend: '{{instance}}' }], { steps: [['red', null], ['green', 1]], mappings: UP_DOWN }), 6, 6);
  L.add(stat('VRRP running', 'keepalived_up: the agent\'s VRRP subsystem is running.',
    [{ expr: `keepalived_up{${J}, ${I}}`, legend: '{{instance}}' }], { steps: [['red', null], ['green', 1]], mappings: UP_DOWN }), 6, 6);
  L.add(stat('Last config reload', 'keepalived_config_last_reload_successful per agent (KeepalivedConfigReloadFailed).',
    [{ expr: `keepalived_config_last_reload_successful{${J}, ${I}}`, legend: '{{instance}}' }],
    { steps: [['red', null], ['green', 1]], mappings: [valueMap([[0, 'FAILED', 'red'], [1, 'OK', 'green']])] }), 6, 6);
  L.add(stat('SNMP AgentX', 'AgentX session with the SNMP master agent (only agents with SNMP enabled).',
    [{ expr: `keepalived_snmp_agentx_connected{${J}, ${I}}`, legend: '{{instance}}' }],
    { steps: [['orange', null], ['green', 1]], mappings: [valueMap([[0, 'DISCONNECTED', 'orange'], [1, 'CONNECTED', 'green']])] }), 6, 6);
  L.add(timeseries('Config reloads', 'Reloads (SIGHUP) per agent and result.',
    [{ expr: `sum by (instance, result) (increase(keepalived_config_reloads_total{${J}, ${I}}[$__rate_interval]))`, legend: '{{instance}} {{result}}' }],
    { bars: true }), 8, 8);
  L.add(table('Build and uptime', 'Agent version per host and process uptime.',
    [
      { expr: `keepalived_build_info{${J}, ${I}}` },
      { expr: `time() - process_start_time_seconds{${J}, ${I}}` },
    ],
    { unit: 's', transformations: [merge, organize({ Time: true, __name__: true, job: true, 'Value #A': true }, { 'Value #B': 'uptime' })] }), 16, 8);

  const annotations = [
    {
      datasource: DS, enable: true, hide: false, iconColor: 'orange', name: 'VRRP state changes',
      expr: `changes(keepalived_vrrp_last_transition_timestamp_seconds{${J}, ${V}, ${I}}[2m]) > 0 ${inDomain}`,
      step: '30s', titleFormat: '{{instance}} {{iname}} changed state', textFormat: 'VRID {{vrid}}',
      tagKeys: 'instance,iname,vrid', useValueForTime: false,
    },
    {
      datasource: DS, enable: true, hide: false, iconColor: 'red', name: 'Transition reasons',
      expr: `sum by (job, instance, iname, vrid, from, to, reason) (${transitionsIn(`${J}, ${V}, ${I}`, '2m', 'changes')}) > 0 ${inDomain}`,
      step: '30s', titleFormat: '{{instance}} {{iname}}: {{from}} → {{to}}', textFormat: 'reason: {{reason}}',
      tagKeys: 'instance,vrid,reason', useValueForTime: false,
    },
  ];

  return dashboard({
    uid: 'keepwatch-fleet',
    title: 'keepwatch / Fleet',
    description: 'keepwatch VRRP clusters across hosts: split brain, flapping, priorities, advert timing, IPVS pools, agent health.',
    tags: ['keepwatch', 'keepalived', 'vrrp', 'ipvs'],
    variables: [
      dsVar(),
      queryVar('job', 'Job', 'label_values(keepalived_vrrp_status, job)'),
      queryVar('vrrp_domain', 'VRRP domain', 'label_values(keepalived_vrrp_status{job=~"$job"}, vrrp_domain)'),
      queryVar('vrid', 'VRID', 'label_values(keepalived_vrrp_status{job=~"$job", vrrp_domain=~"$vrrp_domain"}, vrid)', { sort: 3 }),
      queryVar('instance', 'Host', 'label_values(keepalived_build_info{job=~"$job"}, instance)'),
    ],
    panels: L.done(),
    annotations,
  });
}

// ------------------------------------------------------------------ keepwatch-host
function host() {
  const S = 'job=~"$job", instance=~"$instance"';
  const N = 'iname=~"$iname"';
  const L = new Layout();

  L.row('Agent');
  L.add(stat('Scraped', 'Prometheus scrape status (up).', [{ expr: `up{${S}}`, legend: 'up' }], { steps: [['red', null], ['green', 1]], mappings: UP_DOWN, textMode: 'value' }), 4, 5);
  L.add(stat('VRRP running', 'keepalived_up.', [{ expr: `keepalived_up{${S}}`, legend: 'vrrp' }], { steps: [['red', null], ['green', 1]], mappings: UP_DOWN, textMode: 'value' }), 4, 5);
  L.add(stat('Last reload', 'keepalived_config_last_reload_successful.', [{ expr: `keepalived_config_last_reload_successful{${S}}`, legend: 'reload' }],
    { steps: [['red', null], ['green', 1]], mappings: [valueMap([[0, 'FAILED', 'red'], [1, 'OK', 'green']])], textMode: 'value' }), 4, 5);
  L.add(stat('Last successful reload', 'When the running configuration was loaded.', [{ expr: `keepalived_config_last_reload_success_timestamp_seconds{${S}} * 1000`, legend: 'loaded' }],
    { unit: 'dateTimeFromNow', colorMode: 'none', textMode: 'value' }), 4, 5);
  L.add(stat('SNMP AgentX', 'AgentX session with the master agent.', [{ expr: `keepalived_snmp_agentx_connected{${S}}`, legend: 'agentx' }],
    { steps: [['orange', null], ['green', 1]], mappings: [valueMap([[0, 'DISCONNECTED', 'orange'], [1, 'CONNECTED', 'green']])], textMode: 'value' }), 4, 5);
  L.add(stat('Uptime', 'Process uptime.', [{ expr: `time() - process_start_time_seconds{${S}}`, legend: 'uptime' }], { unit: 's', colorMode: 'none', textMode: 'value' }), 4, 5);
  L.add(table('Build', 'keepalived_build_info and the Node.js runtime.',
    [{ expr: `keepalived_build_info{${S}}` }, { expr: `nodejs_version_info{${S}}` }],
    { transformations: [merge, organize({ Time: true, __name__: true, job: true, 'Value #A': true, 'Value #B': true })] }), 12, 6);
  L.add(timeseries('CPU and event loop', 'CPU seconds per second and event-loop lag p99: stalls delay adverts (see send lag).',
    [
      { expr: `rate(process_cpu_seconds_total{${S}}[$__rate_interval])`, legend: 'CPU' },
      { expr: `nodejs_eventloop_lag_p99_seconds{${S}}`, legend: 'event loop lag p99' },
    ], { unit: 's' }), 6, 6);
  L.add(timeseries('Memory and handles', 'Resident memory and open file descriptors.',
    [
      { expr: `process_resident_memory_bytes{${S}}`, legend: 'RSS' },
      { expr: `nodejs_heap_size_used_bytes{${S}}`, legend: 'heap used' },
    ], { unit: 'bytes' }), 6, 6);
  L.add(timeseries('Reloads and SNMP', 'Config reloads by result, AgentX reconnects and notifications sent.',
    [
      { expr: `sum by (result) (increase(keepalived_config_reloads_total{${S}}[$__rate_interval]))`, legend: 'reload {{result}}' },
      { expr: `increase(keepalived_snmp_agentx_reconnects_total{${S}}[$__rate_interval])`, legend: 'AgentX reconnects' },
      { expr: `sum by (notification) (increase(keepalived_snmp_notifications_sent_total{${S}}[$__rate_interval]))`, legend: 'trap {{notification}}' },
    ], { bars: true }), 12, 6);
  L.add(timeseries('Open file descriptors', 'process_open_fds against process_max_fds.',
    [{ expr: `process_open_fds{${S}}`, legend: 'open' }, { expr: `process_max_fds{${S}}`, legend: 'max' }]), 12, 6);

  L.row('VRRP instances');
  L.add(table('Instances', 'Identity of each VRRP instance: cluster key, protocol version, family, VMAC, unicast, nopreempt, VIP-set hash.',
    [{ expr: `keepalived_vrrp_instance_info{${S}, ${N}}` }],
    { transformations: [organize({ Time: true, Value: true, __name__: true, job: true, instance: true })] }), 24, 6);
  L.add(stateTimeline('State', 'State per instance (0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT, 98 STOP).',
    [{
      expr: stateCode('iname, vrid', `${S}, ${N}`),
      legend: '{{iname}} (VRID {{vrid}})',
    }]), 16, 7);
  L.add(stateTimeline('Wanted state', 'keepalived wantstate: the state the FSM is heading to.',
    [{ expr: `keepalived_vrrp_wanted_state{${S}, ${N}}`, legend: '{{iname}}' }]), 8, 7);
  L.add(timeseries('Priorities', 'Base (dashed), effective, and the priority in the current MASTER\'s adverts.',
    [
      { expr: `keepalived_vrrp_priority_base{${S}, ${N}}`, legend: '{{iname}} base' },
      { expr: `keepalived_vrrp_priority_effective{${S}, ${N}}`, legend: '{{iname}} effective' },
      { expr: `keepalived_vrrp_master_priority{${S}, ${N}}`, legend: '{{iname}} master' },
    ], { overrides: [dashedLike('/ base$/')] }), 12, 7);
  L.add(timeseries('Timers', 'Configured advert interval, Master_Adver_Interval learned from the MASTER, skew time, Master_Down_Interval (RFC 5798 §6.1) and time left on the Master_Down_Timer.',
    [
      { expr: `keepalived_vrrp_advert_interval_seconds{${S}, ${N}}`, legend: '{{iname}} advert interval' },
      { expr: `keepalived_vrrp_master_advert_interval_seconds{${S}, ${N}}`, legend: '{{iname}} master advert interval' },
      { expr: `keepalived_vrrp_skew_time_seconds{${S}, ${N}}`, legend: '{{iname}} skew' },
      { expr: `keepalived_vrrp_master_down_interval_seconds{${S}, ${N}}`, legend: '{{iname}} master down interval' },
      { expr: `keepalived_vrrp_master_down_timer_remaining_seconds{${S}, ${N}}`, legend: '{{iname}} master down remaining' },
    ], { unit: 's', min: 0 }), 12, 7);
  L.add(timeseries('Last advert age (at scrape)', 'Age of the last advert received when the agent was scraped (what KeepalivedAdvertsStale measures).',
    [{ expr: `timestamp(keepalived_vrrp_last_advert_received_timestamp_seconds{${S}, ${N}}) - keepalived_vrrp_last_advert_received_timestamp_seconds{${S}, ${N}}`, legend: '{{iname}}' }],
    { unit: 's', min: 0 }), 8, 7);
  L.add(heatmap('Advert inter-arrival', 'Time between adverts received from the MASTER.',
    [{ expr: `sum by (le) (rate(keepalived_vrrp_advert_receive_interval_seconds_bucket{${S}, ${N}}[$__rate_interval]))` }]), 8, 7);
  L.add(timeseries('Advert send lag', 'Scheduled vs actual advert send time, p50 / p99.',
    [
      { expr: `histogram_quantile(0.99, sum by (le, iname) (rate(keepalived_vrrp_advert_send_lag_seconds_bucket{${S}, ${N}}[$__rate_interval])))`, legend: '{{iname}} p99' },
      { expr: `histogram_quantile(0.5, sum by (le, iname) (rate(keepalived_vrrp_advert_send_lag_seconds_bucket{${S}, ${N}}[$__rate_interval])))`, legend: '{{iname}} p50' },
    ], { unit: 's', min: 0 }), 8, 7);
  L.add(timeseries('Time in state', 'Fraction of time spent in each state.',
    [{ expr: `rate(keepalived_vrrp_time_in_state_seconds_total{${S}, ${N}}[$__rate_interval])`, legend: '{{iname}} {{state}}' }],
    { unit: 'percentunit', stack: true }), 12, 7);
  L.add(table('Transitions (time range)', 'State changes by from, to and reason over the dashboard range.',
    [{ expr: `sort_desc(${transitionsIn(`${S}, ${N}`, '$__range')} > 0)` }],
    { transformations: [organize({ Time: true, job: true, instance: true }, { Value: 'count' })] }), 12, 7);
  L.add(timeseries('Adverts', 'Adverts sent, received, and received while MASTER, per second.',
    [
      { expr: `rate(keepalived_advertisements_sent_total{${S}, ${N}}[$__rate_interval])`, legend: '{{iname}} sent' },
      { expr: `rate(keepalived_advertisements_received_total{${S}, ${N}}[$__rate_interval])`, legend: '{{iname}} received' },
      { expr: `rate(keepalived_vrrp_advertisements_received_in_master_total{${S}, ${N}}[$__rate_interval])`, legend: '{{iname}} received while MASTER' },
      { expr: `rate(keepalived_priority_zero_sent_total{${S}, ${N}}[$__rate_interval])`, legend: '{{iname}} priority 0 sent' },
      { expr: `rate(keepalived_priority_zero_received_total{${S}, ${N}}[$__rate_interval])`, legend: '{{iname}} priority 0 received' },
    ], { unit: 'pps' }), 12, 7);
  L.add(timeseries('GARP / NA and VIPs', 'GARP and unsolicited NA sent; VIPs installed vs configured (dashed).',
    [
      { expr: `increase(keepalived_vrrp_garp_sent_total{${S}, ${N}}[$__rate_interval])`, legend: '{{iname}} GARP' },
      { expr: `increase(keepalived_vrrp_unsolicited_na_sent_total{${S}, ${N}}[$__rate_interval])`, legend: '{{iname}} NA' },
      { expr: `keepalived_vrrp_vips_installed{${S}, ${N}}`, legend: '{{iname}} VIPs installed' },
      { expr: `keepalived_vrrp_vips_configured{${S}, ${N}}`, legend: '{{iname}} VIPs configured' },
    ], { overrides: [dashedLike('/configured$/')] }), 12, 7);
  const err = (metric, name) => ({ expr: `rate(${metric}{${S}, ${N}}[$__rate_interval])`, legend: `{{iname}} ${name}` });
  L.add(timeseries('Dropped adverts by error', 'Receive errors per second (keepalived counters, authentication extension, router-wide).',
    [
      ...ADVERT_ERRORS.map(([metric, name]) => err(metric, name)),
      { expr: `rate(keepalived_vrrp_authentication_extension_errors_total{${S}, ${N}}[$__rate_interval])`, legend: '{{iname}} auth ext {{reason}}' },
      { expr: `rate(keepalived_vrrp_checksum_errors_total{${S}}[$__rate_interval])`, legend: '{{intf}} checksum' },
      { expr: `rate(keepalived_vrrp_version_errors_total{${S}}[$__rate_interval])`, legend: '{{intf}} version' },
      { expr: `rate(keepalived_vrrp_vrid_errors_total{${S}}[$__rate_interval])`, legend: '{{intf}} VRID' },
    ], { unit: 'pps' }), 24, 7);

  L.row('Tracking and notify');
  L.add(table('Track scripts', 'Current vrrp_script result (init / good / bad / init_failed).',
    [{ expr: `keepalived_vrrp_script_status{${S}} == 1` }],
    { transformations: [organize({ Time: true, Value: true, __name__: true, job: true, instance: true })] }), 8, 7);
  L.add(timeseries('Track script runs', 'Runs per result and p99 duration.',
    [
      { expr: `sum by (name, result) (increase(keepalived_vrrp_script_runs_total{${S}}[$__rate_interval]))`, legend: '{{name}} {{result}}' },
      { expr: `histogram_quantile(0.99, sum by (le, name) (rate(keepalived_vrrp_script_duration_seconds_bucket{${S}}[$__rate_interval])))`, legend: '{{name}} p99 seconds' },
    ]), 8, 7);
  L.add(timeseries('Notify scripts', 'notify_master / backup / fault script duration, p99.',
    [{ expr: `histogram_quantile(0.99, sum by (le, event) (rate(keepalived_notify_script_duration_seconds_bucket{${S}}[$__rate_interval])))`, legend: '{{event}} p99' }],
    { unit: 's' }), 8, 7);
  L.add(table('Tracked interfaces and processes', 'track_interface link state; track_process running count and quorum.',
    [
      { expr: `keepalived_vrrp_track_interface_up{${S}, ${N}}` },
      { expr: `keepalived_vrrp_track_process_running{${S}}` },
      { expr: `keepalived_vrrp_track_process_quorum_met{${S}}` },
    ],
    { transformations: [merge, organize({ Time: true, job: true, instance: true }, { 'Value #A': 'interface up', 'Value #B': 'processes running', 'Value #C': 'quorum met' })] }), 12, 7);
  L.add(table('Sync groups', 'Current state of each vrrp_sync_group.',
    [{ expr: `keepalived_vrrp_sync_group_status{${S}} == 1` }],
    { transformations: [organize({ Time: true, Value: true, __name__: true, job: true, instance: true })] }), 12, 7);

  L.row('LVS / IPVS');
  L.add(table('Virtual servers', 'Scheduler, forwarding method and pool state.',
    [
      { expr: `keepalived_virtual_server_info{${S}}` },
      { expr: `keepalived_virtual_server_real_servers_up{${S}}` },
      { expr: `keepalived_virtual_server_real_servers_configured{${S}}` },
      { expr: `keepalived_virtual_server_quorum{${S}}` },
      { expr: `keepalived_virtual_server_quorum_met{${S}}` },
    ],
    { transformations: [merge, organize({ Time: true, job: true, instance: true, 'Value #A': true },
      { 'Value #B': 'up', 'Value #C': 'configured', 'Value #D': 'quorum', 'Value #E': 'quorum met' })] }), 12, 7);
  L.add(table('Real servers', 'Check state, weight, consecutive failed checks and IPVS connections.',
    [
      { expr: `keepalived_real_server_up{${S}}` },
      { expr: `keepalived_real_server_weight{${S}}` },
      { expr: `keepalived_real_server_failed_checks{${S}}` },
      { expr: `keepalived_ipvs_real_server_active_connections{${S}}` },
      { expr: `keepalived_ipvs_real_server_inactive_connections{${S}}` },
    ],
    { transformations: [merge, organize({ Time: true, job: true, instance: true },
      { 'Value #A': 'up', 'Value #B': 'weight', 'Value #C': 'failed checks', 'Value #D': 'active conns', 'Value #E': 'inactive conns' })] }), 12, 7);
  L.add(timeseries('Checker latency p99', 'Health-check duration per virtual server and checker type.',
    [{ expr: `histogram_quantile(0.99, sum by (le, virtual_server, checker) (rate(keepalived_checker_duration_seconds_bucket{${S}}[$__rate_interval])))`, legend: '{{virtual_server}} {{checker}}' }],
    { unit: 's' }), 8, 7);
  L.add(timeseries('Checks by result', 'Checks per second by result, and real-server transitions.',
    [
      { expr: `sum by (virtual_server, result) (rate(keepalived_checker_checks_total{${S}}[$__rate_interval]))`, legend: '{{virtual_server}} {{result}}' },
      { expr: `sum by (virtual_server, real_server, to) (increase(keepalived_real_server_transitions_total{${S}}[$__rate_interval]))`, legend: '{{real_server}} → {{to}}' },
    ]), 8, 7);
  L.add(timeseries('IPVS traffic', 'Connections, packets and bytes per second per virtual server.',
    [
      { expr: `rate(keepalived_ipvs_virtual_server_connections_total{${S}}[$__rate_interval])`, legend: '{{virtual_server}} conns' },
      { expr: `rate(keepalived_ipvs_virtual_server_incoming_packets_total{${S}}[$__rate_interval])`, legend: '{{virtual_server}} pkts in' },
      { expr: `rate(keepalived_ipvs_virtual_server_outgoing_packets_total{${S}}[$__rate_interval])`, legend: '{{virtual_server}} pkts out' },
      { expr: `rate(keepalived_ipvs_virtual_server_incoming_bytes_total{${S}}[$__rate_interval])`, legend: '{{virtual_server}} bytes in' },
      { expr: `rate(keepalived_ipvs_virtual_server_outgoing_bytes_total{${S}}[$__rate_interval])`, legend: '{{virtual_server}} bytes out' },
    ]), 8, 7);

  return dashboard({
    uid: 'keepwatch-host',
    title: 'keepwatch / Host',
    description: 'One keepwatch agent in depth: process, VRRP instances and timers, tracking, notify, LVS.',
    tags: ['keepwatch', 'keepalived', 'vrrp', 'ipvs'],
    variables: [
      dsVar(),
      queryVar('job', 'Job', 'label_values(keepalived_build_info, job)'),
      queryVar('instance', 'Host', 'label_values(keepalived_build_info{job=~"$job"}, instance)', { multi: false, all: false }),
      queryVar('iname', 'VRRP instance', 'label_values(keepalived_vrrp_status{job=~"$job", instance=~"$instance"}, iname)'),
    ],
    panels: L.done(),
    annotations: [{
      datasource: DS, enable: true, hide: false, iconColor: 'orange', name: 'State changes',
      expr: `changes(keepalived_vrrp_last_transition_timestamp_seconds{${S}, ${N}}[2m]) > 0`,
      step: '30s', titleFormat: '{{iname}} changed state', textFormat: 'VRID {{vrid}}', tagKeys: 'iname,vrid', useValueForTime: false,
    }],
  });
}

// ------------------------------------------------------------------ keepalived-compat
function compat() {
  const J = 'job=~"$job"';
  const I = 'instance=~"$instance"';
  const V = 'vrid=~"$vrid"';
  const L = new Layout();

  L.row('Cluster view');
  L.add(stat('keepalived up', 'keepalived_up per exporter: 0 when the dumps could not be read.',
    [{ expr: `keepalived_up{${J}, ${I}}`, legend: '{{instance}}' }], { steps: [['red', null], ['green', 1]], mappings: UP_DOWN }), 8, 6);
  L.add(stat('MASTERs per VRID',
    'Hosts reporting MASTER (keepalived_vrrp_state 2) per VRID, each host counted once whatever its number of VIPs; 0 and 2+ are red. Without a vrrp_domain target label all clusters reusing a VRID are counted together.',
    [{ expr: `count by (vrrp_domain, vrid) (count by (vrrp_domain, vrid, instance) (keepalived_vrrp_state{${J}, ${V}} == 2))
or 0 * count by (vrrp_domain, vrid) (keepalived_vrrp_state{${J}, ${V}})`, legend: '{{vrrp_domain}} VRID {{vrid}}' }],
    MASTER_COUNT), 8, 6);
  L.add(table('Current MASTER per VRID', 'Hosts reporting MASTER, one row per host and instance.',
    [{ expr: `count by (vrrp_domain, vrid, instance, iname) (keepalived_vrrp_state{${J}, ${V}} == 2)` }],
    { transformations: [organize({ Time: true }, { Value: 'VIPs' })] }), 8, 6);
  L.add(stateTimeline('VRRP state per host — VRID $vrid', 'keepalived_vrrp_state per host (0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT); two green rows at once are a split brain.',
    [{ expr: `max by (instance, iname) (keepalived_vrrp_state{${J}, ${V}, ${I}})`, legend: '{{instance}} {{iname}}' }],
    { repeat: 'vrid' }), 24, 8);

  L.row('Failovers');
  L.add(table('Became MASTER per VRID (time range)', 'keepalived_become_master_total increase over the range (counter resets handled).',
    [{ expr: `sort_desc(sum by (vrrp_domain, vrid) (round(increase(keepalived_become_master_total{${J}, ${V}}[$__range]))))` }],
    { steps: [['green', null], ['orange', 2], ['red', 4]], transformations: [organize({ Time: true }, { Value: 'became MASTER' })] }), 8, 8);
  L.add(timeseries('Become / release MASTER', 'State changes per host, shown as counts per interval.',
    [
      { expr: `increase(keepalived_become_master_total{${J}, ${V}, ${I}}[$__rate_interval])`, legend: '{{instance}} {{iname}} became MASTER' },
      { expr: `increase(keepalived_release_master_total{${J}, ${V}, ${I}}[$__rate_interval])`, legend: '{{instance}} {{iname}} released MASTER' },
    ], { bars: true }), 16, 8);

  L.row('Adverts and errors');
  L.add(timeseries('Adverts sent / received', 'Adverts per second.',
    [
      { expr: `rate(keepalived_advertisements_sent_total{${J}, ${V}, ${I}}[$__rate_interval])`, legend: '{{instance}} {{iname}} sent' },
      { expr: `rate(keepalived_advertisements_received_total{${J}, ${V}, ${I}}[$__rate_interval])`, legend: '{{instance}} {{iname}} received' },
    ], { unit: 'pps' }), 12, 8);
  L.add(timeseries('Priority 0 adverts', 'Priority-0 adverts: a MASTER resigning (RFC 5798 §6.4.3).',
    [
      { expr: `increase(keepalived_priority_zero_sent_total{${J}, ${V}, ${I}}[$__rate_interval])`, legend: '{{instance}} {{iname}} sent' },
      { expr: `increase(keepalived_priority_zero_received_total{${J}, ${V}, ${I}}[$__rate_interval])`, legend: '{{instance}} {{iname}} received' },
    ], { bars: true }), 12, 8);
  const err = (metric, name) => ({ expr: `rate(${metric}{${J}, ${V}, ${I}}[$__rate_interval])`, legend: `{{instance}} {{iname}} ${name}` });
  L.add(timeseries('Dropped adverts by error', 'keepalived\'s receive error counters per second.',
    [
      ...ADVERT_ERRORS.map(([metric, name]) => err(metric, name)),
    ], { unit: 'pps' }), 24, 8);

  L.row('Scripts and configuration');
  L.add(stat('Track scripts', 'keepalived_script_status: 0 BAD, 1 GOOD (text-dump mode only).',
    [{ expr: `keepalived_script_status{${J}, ${I}}`, legend: '{{instance}} {{name}}' }],
    { steps: [['red', null], ['green', 1]], mappings: [valueMap([[0, 'BAD', 'red'], [1, 'GOOD', 'green']])] }), 8, 6);
  L.add(stat('Track script state', 'keepalived_script_state: idle, running, requested termination, forcing termination.',
    [{ expr: `keepalived_script_state{${J}, ${I}}`, legend: '{{instance}} {{name}}' }],
    { mappings: [valueMap([[0, 'idle', 'green'], [1, 'running', 'blue'], [2, 'requested termination', 'orange'], [3, 'forcing termination', 'red']])] }), 8, 6);
  L.add(stat('Exporter check script', 'keepalived_exporter_check_script_status per VIP (only with the exporter\'s -cs option).',
    [{ expr: `keepalived_exporter_check_script_status{${J}, ${V}, ${I}}`, legend: '{{instance}} {{ip_address}}' }],
    { steps: [['red', null], ['green', 1]], mappings: [valueMap([[0, 'FAIL', 'red'], [1, 'OK', 'green']])] }), 8, 6);
  L.add(table('VIPs and excluded VIPs', 'State per VIP (keepalived_vrrp_state) and per excluded VIP.',
    [
      { expr: `keepalived_vrrp_state{${J}, ${V}, ${I}}` },
      { expr: `keepalived_vrrp_excluded_state{${J}, ${V}, ${I}}` },
    ],
    { transformations: [merge, organize({ Time: true, job: true }, { 'Value #A': 'state', 'Value #B': 'excluded state' })] }), 12, 7);
  L.add(table('garp_delay and exporter build', 'keepalived_gratuitous_arp_delay_total is the configured garp_delay in seconds (a config value exported as a counter), not a rate.',
    [
      { expr: `max by (instance, iname, vrid) (keepalived_gratuitous_arp_delay_total{${J}, ${V}, ${I}})` },
      { expr: `keepalived_exporter_build_info{${J}, ${I}}` },
    ],
    { transformations: [merge, organize({ Time: true, __name__: true, job: true, 'Value #B': true }, { 'Value #A': 'garp_delay (s)' })] }), 12, 7);

  return dashboard({
    uid: 'keepalived-compat',
    title: 'keepalived / Compat (keepalived-exporter metrics)',
    description: 'For keepalived + mehdy/keepalived-exporter fleets (and keepwatch, which exports the same names): cross-host split-brain view, failovers, adverts, errors, scripts.',
    tags: ['keepalived', 'vrrp', 'keepalived-exporter'],
    variables: [
      dsVar(),
      queryVar('job', 'Job', 'label_values(keepalived_up, job)'),
      queryVar('instance', 'Host', 'label_values(keepalived_up{job=~"$job"}, instance)'),
      queryVar('vrid', 'VRID', 'label_values(keepalived_vrrp_state{job=~"$job"}, vrid)', { sort: 3 }),
    ],
    panels: L.done(),
    annotations: [{
      datasource: DS, enable: true, hide: false, iconColor: 'orange', name: 'Became MASTER',
      expr: `changes(keepalived_become_master_total{${J}, ${V}, ${I}}[2m]) > 0`,
      step: '30s', titleFormat: '{{instance}} {{iname}} became MASTER', textFormat: 'VRID {{vrid}}', tagKeys: 'instance,vrid', useValueForTime: false,
    }],
  });
}

export function buildDashboards() {
  return {
    'keepwatch-fleet.json': fleet(),
    'keepwatch-host.json': host(),
    'keepalived-compat.json': compat(),
  };
}

export function render(obj) { return JSON.stringify(obj, null, 2) + '\n'; }

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [name, obj] of Object.entries(buildDashboards())) {
    const file = path.join(HERE, name);
    const text = render(obj);
    if (check) {
      let cur = '';
      try { cur = readFileSync(file, 'utf8'); } catch { /* missing counts as stale */ }
      if (cur !== text) { console.error(`${name} is not what build.mjs produces`); stale++; }
    } else {
      writeFileSync(file, text);
      console.log(`wrote dashboards/${name}`);
    }
  }
  process.exit(stale ? 1 : 0);
}
