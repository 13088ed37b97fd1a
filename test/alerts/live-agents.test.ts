// Live validation of the alert rules and the fleet dashboard against REAL keepwatch agents:
// three daemons (bin/keepwatch) in their own namespaces on one bridge, members of VRRP
// instance VI_1 (VRID 51, VIP 192.0.2.50/24, VRRPv3, 100 ms adverts), scraped every second by
// a real Debian Prometheus that runs INSIDE the lab's client namespace (its
// `wrap: ['ip', 'netns', 'exec', NS]` option) and evaluates alerts/keepwatch.rules.yml.
//
//   kwtpasw  br0 ── pa ── kwtpaa  192.0.2.11  keepwatch prio 150 (+ AgentX to a real snmpd)
//                ├─ pb ── kwtpab  192.0.2.12  keepwatch prio 100
//                ├─ pc ── kwtpac  192.0.2.13  keepwatch prio 90
//                └─ pcl ─ kwtpacl 192.0.2.100 Prometheus (127.0.0.1:19701 in the namespace)
//
// The test process reaches Prometheus' HTTP API through test/helpers/live-nsproxy.ts
// (root 127.0.0.1:19701 → unix socket → forwarder inside kwtpacl → 127.0.0.1:19701).
//
// Time scaling: exactly as test/alerts/prometheus-live.test.ts (the fake-agent variant):
// a throw-away copy of the rules with every `for:` and every range window divided by
// FACTOR = 4 (rules-lib.ts writeScaledRules), so `for: 1m` becomes 15s against 1s scrapes.
//
// Scenarios: steady state (every fleet-dashboard query has data, bar a justified list);
// a clean failover (SIGTERM of the MASTER, then its restart) raises no alert; a split brain
// (bridge port isolation between the agents, scrapes unaffected) fires KeepalivedSplitBrain,
// which resolves after the heal.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLab, waitFor, type Lab } from '../helpers/netns';
import { LiveAgentFleet } from '../helpers/live-fleet';
import { forwardIntoNetns, type NsPortForward } from '../helpers/live-nsproxy';
import { startPrometheus, type ActiveAlert, type PrometheusServer } from '../helpers/prometheus';
import { startSnmpd, type Snmpd } from '../helpers/snmpd';
import { labelValuesSelector, substituteVars } from './promql';
import { ROOT, writeScaledRules } from './rules-lib';

// Ports of helper "p": 19700–19799.
const AGENT_PORT = 19700; // each agent, in its own namespace
const PROM_PORT = 19701; // Prometheus inside kwtpacl, and the forwarder on the root loopback
const SNMP_PORT = 19760; // snmpd (AgentX master for agent a), root loopback UDP
const FACTOR = 4;
const SPLIT_BRAIN_FOR_S = 60 / FACTOR;
const DOMAIN = '192.0.2.0/24'; // vrrp_domain the agents derive from the VIP network
const [A, B, C] = [0, 1, 2];

let lab: Lab | undefined;
let fleet: LiveAgentFleet | undefined;
let prom: PrometheusServer | undefined;
let fwd: NsPortForward | undefined;
let snmpd: Snmpd | undefined;
let scratch: string | undefined;
let promStartedAt = 0;
let splitAt = 0;

/** what the test saw, printed at the end (the report's timings and observations) */
const notes: string[] = [];
const note = (s: string) => notes.push(s);
const t0 = Date.now();
const at = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;

const P = () => prom!;
const masters = async () => Number((await P().query(`sum(keepalived_vrrp_status{vrrp_domain="${DOMAIN}", vrid="51", state="MASTER"})`))[0]?.value[1] ?? NaN);
const named = (alerts: ActiveAlert[], name: string) => alerts.filter((a) => a.labels['alertname'] === name);
const summary = (alerts: ActiveAlert[]) => alerts.map((a) => `${a.labels['alertname']}[${a.state}${a.labels['instance'] ? ' ' + a.labels['instance'] : ''}]`).sort();

/**
 * Fleet-dashboard queries that cannot return data in this lab, with the reason. Everything
 * else must return at least one series.
 */
const NEVER_IN_THIS_LAB: Record<string, string> = {
  // The host kernel has no IPVS (test/ipvs runs in UML): the daemon logs "LVS disabled:
  // IPVS unavailable" and exports no virtual/real server series at all.
  'panel 18 "Virtual servers: real servers up / configured, quorum" A': 'no IPVS in the host kernel',
  'panel 18 "Virtual servers: real servers up / configured, quorum" B': 'no IPVS in the host kernel',
  'panel 18 "Virtual servers: real servers up / configured, quorum" C': 'no IPVS in the host kernel',
  'panel 18 "Virtual servers: real servers up / configured, quorum" D': 'no IPVS in the host kernel',
  'panel 19 "Pool health" A': 'no IPVS in the host kernel',
  'panel 20 "Real servers down" A': 'no IPVS in the host kernel (and it needs a failing real server)',
  'panel 21 "IPVS connections per virtual server" A': 'no IPVS in the host kernel',
  // keepwatch does not implement the VRRP authentication extension (keepalived 2.2.7 has
  // none either), so the family it would count into is never exported.
  'panel 16 "Dropped adverts by error" I': 'authentication extension not implemented',
};
/** Queries that need a state transition inside the queried range: empty in steady state
 *  (the agents' start-up transitions happened before Prometheus' first scrape), checked
 *  again after the failover and split brain. */
const NEED_TRANSITION_IN_RANGE = [
  'panel 7 "Transition reasons (time range)" A',
  'annotation "VRRP state changes"',
  'annotation "Transition reasons"',
];

const VARS = { job: '.*', vrrp_domain: '.*', vrid: '.*', instance: '.*', __range: '5m', __rate_interval: '5s', __interval: '2s' };

/**
 * Node script run inside the client namespace: one VRRPv3 advert (VRID 51, priority 50,
 * 1 address 192.0.2.50, 100 ms) to 224.0.0.18 whose checksum is the correct one (RFC 5798
 * §5.2.8, IPv4 pseudo-header) with every bit flipped. raw-socket as src/net/vrrp-socket.ts
 * uses it (SO_BINDTODEVICE so the multicast goes out of eth0, multicast TTL 255).
 */
const BAD_CHECKSUM_ADVERT = `
const raw = require(process.argv[1]);
const vrrp = Buffer.from([0x31, 51, 50, 1, 0x00, 10, 0, 0, 192, 0, 2, 50]);
const pseudo = Buffer.concat([Buffer.from([192, 0, 2, 100, 224, 0, 0, 18, 0, 112, 0, vrrp.length]), vrrp]);
let sum = 0;
for (let i = 0; i < pseudo.length; i += 2) sum += (pseudo[i] << 8) + (pseudo[i + 1] || 0);
while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
vrrp.writeUInt16BE((~sum & 0xffff) ^ 0xffff, 6);
const s = raw.createSocket({ protocol: 112 });
const dev = Buffer.from('eth0\\0', 'latin1');
s.setOption(1, 25, dev, dev.length); // SOL_SOCKET, SO_BINDTODEVICE
s.setOption(0, 33, 255); // IPPROTO_IP, IP_MULTICAST_TTL
s.send(vrrp, 0, vrrp.length, '224.0.0.18', (err) => { if (err) { console.error(String(err)); process.exit(1); } s.close(); process.exit(0); });
`;

interface Query { where: string; expr: string }
async function fleetDashboardQueries(): Promise<Query[]> {
  const dash = (await import(path.join(ROOT, 'dashboards', 'keepwatch-fleet.json'), { with: { type: 'json' } })).default as any;
  const queries: Query[] = [];
  for (const p of dash.panels) for (const t of p.targets ?? []) queries.push({ where: `panel ${p.id} "${p.title}" ${t.refId}`, expr: t.expr });
  for (const a of dash.annotations.list) if (a.expr) queries.push({ where: `annotation "${a.name}"`, expr: a.expr });
  for (const v of dash.templating.list) if (v.type === 'query') queries.push({ where: `variable ${v.name}`, expr: labelValuesSelector(v.query.query)! });
  return queries;
}
async function runQueries(queries: Query[], vars: Record<string, string>): Promise<{ empty: string[]; withData: Map<string, number> }> {
  const empty: string[] = [];
  const withData = new Map<string, number>();
  for (const q of queries) {
    const res = await P().query(substituteVars(q.expr, vars));
    if (res.length === 0) empty.push(q.where);
    else withData.set(q.where, res.length);
  }
  return { empty, withData };
}

/** Poll the alerts API every 250 ms for `ms`, collecting every alert that was firing. */
async function watchFiring(ms: number): Promise<{ firing: Set<string>; seen: Set<string> }> {
  const firing = new Set<string>();
  const seen = new Set<string>();
  const end = Date.now() + ms;
  while (Date.now() < end) {
    for (const a of await P().alerts()) {
      seen.add(`${a.labels['alertname']}:${a.state}`);
      if (a.state === 'firing') firing.add(a.labels['alertname']!);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { firing, seen };
}

beforeAll(async () => {
  lab = makeLab('pa', [
    { name: 'a', v4: ['192.0.2.11/24'] },
    { name: 'b', v4: ['192.0.2.12/24'] },
    { name: 'c', v4: ['192.0.2.13/24'] },
    { name: 'cl', v4: ['192.0.2.100/24'] },
  ]);
  scratch = mkdtempSync(path.join(tmpdir(), 'kwt-p-live-'));
  // a real AgentX master for agent a, so the SNMP panel has a live session to show
  snmpd = await startSnmpd({ dir: scratch, port: SNMP_PORT });
  fleet = new LiveAgentFleet(
    lab,
    [
      { host: 'a', addr: '192.0.2.11', priority: 150, globalDefs: ['enable_snmp_vrrp', `snmp_socket unix:${snmpd.socket}`] },
      { host: 'b', addr: '192.0.2.12', priority: 100 },
      { host: 'c', addr: '192.0.2.13', priority: 90 },
    ],
    AGENT_PORT,
  );
  await fleet.start();
  await fleet.waitStates(['MASTER', 'BACKUP', 'BACKUP']);
  note(`${at()} agents up, a MASTER`);

  const rules = path.join(scratch, 'keepwatch.rules.yml');
  writeScaledRules('alerts/keepwatch.rules.yml', FACTOR, rules);
  fwd = await forwardIntoNetns(lab.hosts['cl']!, PROM_PORT);
  prom = await startPrometheus({
    port: PROM_PORT,
    host: '127.0.0.1',
    wrap: ['ip', 'netns', 'exec', lab.hosts['cl']!.name],
    jobs: [{ job: 'keepalived', targets: fleet.targets }],
    ruleFiles: [rules],
  });
  promStartedAt = Date.now();
  await prom.waitForTargetsUp();
  await waitFor(async () => (await masters()) === 1, 'Prometheus sees one MASTER', 30_000, 200);
  note(`${at()} Prometheus up (pid ${prom.pid}), targets ${fleet.targets.join(' ')} up`);
}, 180_000);

afterAll(async () => {
  await prom?.stop().catch(() => undefined);
  await fwd?.close().catch(() => undefined);
  await fleet?.stop().catch(() => undefined);
  await snmpd?.stop().catch(() => undefined);
  lab?.destroy();
  for (const d of fleet?.dirs() ?? []) rmSync(d, { recursive: true, force: true });
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  // eslint-disable-next-line no-console
  console.log(`live-agents observations:\n  ${notes.join('\n  ')}\n  total ${at()}`);
}, 60_000);

describe('Prometheus with keepwatch rules scraping real keepwatch agents', () => {
  it('loads every rule of the scaled copy and evaluates them without errors', async () => {
    const groups = (await waitFor(async () => {
      const g = await P().ruleGroups();
      const rules = g.flatMap((x) => x.rules);
      return rules.length > 0 && rules.every((r) => r.health !== 'unknown') ? g : undefined;
    }, 'first evaluation of every rule', 30_000, 250))!;
    const rules = groups.flatMap((g) => g.rules);
    expect(rules.length).toBe(21);
    for (const r of rules) expect(r.health, `${r.name}: ${r.lastError ?? ''}`).toBe('ok');
  });

  it('steady state: every fleet-dashboard query has data except the listed ones, and no alert is active', async () => {
    // 33 scrapes per target in the last 35 s: longer than every scaled range window the
    // rules look at (AdvertLoss: 30s). Before that, rate() over a series younger than its
    // window under-estimates (extrapolation stops at the first sample), so AdvertLoss goes
    // pending on every BACKUP for ~15 s after Prometheus starts; its for: (= its window)
    // keeps it from firing.
    await waitFor(async () => Number((await P().query('min(count_over_time(up{job="keepalived"}[35s]))'))[0]?.value[1] ?? 0) >= 33,
      '35 seconds of scrapes', 90_000, 250);
    await waitFor(async () => (await P().query('keepalived_snmp_agentx_connected == 1')).length === 1, 'agent a AgentX session in Prometheus', 30_000, 250);
    const queries = await fleetDashboardQueries();
    expect(queries.length).toBeGreaterThan(30);
    for (const k of [...Object.keys(NEVER_IN_THIS_LAB), ...NEED_TRANSITION_IN_RANGE]) {
      expect(queries.some((q) => q.where === k), `exception "${k}" names a real query`).toBe(true);
    }
    const { empty, withData } = await runQueries(queries, VARS);
    note(`${at()} steady state: ${withData.size}/${queries.length} queries with data`);
    expect(empty.sort()).toEqual([...Object.keys(NEVER_IN_THIS_LAB), ...NEED_TRANSITION_IN_RANGE].sort());
    // per-host panels show all three agents ...
    expect(withData.get('panel 4 "VRRP state per host — VRID $vrid" A')).toBe(3);
    expect(withData.get('panel 23 "Agents scraped" A')).toBe(3);
    expect(withData.get('panel 16 "Dropped adverts by error" J')).toBe(3);
    // ... and the BACKUP-only / MASTER-only ones the right hosts
    const headroom = await P().query(substituteVars(queries.find((q) => q.where.startsWith('panel 10 ') && q.where.endsWith(' A'))!.expr, VARS));
    expect(headroom.map((s) => s.metric['instance']).sort()).toEqual([fleet!.instanceOf(B), fleet!.instanceOf(C)]);
    const current = await P().query(substituteVars(queries.find((q) => q.where.startsWith('panel 3 '))!.expr, VARS));
    expect(current.map((s) => s.metric['instance'])).toEqual([fleet!.instanceOf(A)]);
    expect(await P().alerts()).toEqual([]);
  });

  it('a corrupted advert on the wire shows on every agent in the error panel (the first error counts)', async () => {
    const panel = (await fleetDashboardQueries()).find((q) => q.where === 'panel 16 "Dropped adverts by error" J')!;
    const rates = async () => new Map((await P().query(substituteVars(panel.expr, VARS))).map((s) => [s.metric['instance']!, Number(s.value[1])]));
    expect([...(await rates()).values()]).toEqual([0, 0, 0]);
    // One VRRPv3 advert for VRID 51 with a wrong checksum, multicast from the client, TTL
    // 255 (RFC 5798 §7.1): each agent drops it and counts a checksum error (§7.1 "MUST
    // verify the VRRP checksum"; keepalived: vrrpRouterChecksumErrors).
    lab!.hosts['cl']!.exec(process.execPath, ['-e', BAD_CHECKSUM_ADVERT, path.join(ROOT, 'node_modules', 'raw-socket')]);
    const seen = (await waitFor(async () => {
      const r = await rates();
      return r.size === 3 && [...r.values()].every((v) => v > 0) ? r : undefined;
    }, 'a checksum error rate on all three agents', 30_000, 200))!;
    note(`${at()} corrupted advert: checksum error rate ${[...seen].map(([k, v]) => `${k}=${v.toFixed(2)}/s`).join(' ')}`);
    const totals = await P().query('keepalived_vrrp_checksum_errors_total');
    expect(totals.map((s) => [s.metric['instance'], s.metric['intf'], s.value[1]]).sort()).toEqual(
      [A, B, C].map((h) => [fleet!.instanceOf(h), 'eth0', '1']));
    expect(await fleet!.states()).toEqual(['MASTER', 'BACKUP', 'BACKUP']);
  });

  it('a clean failover (SIGTERM of the MASTER, then its restart) raises no alert', async () => {
    const start = Date.now();
    await fleet!.stopAgent(A);
    await fleet!.waitStates([undefined, 'MASTER', 'BACKUP']);
    note(`${at()} failover: b MASTER ${Date.now() - start} ms after SIGTERM of a`);
    // A stopped agent is an alert of its own (KeepalivedAgentDown, scaled for: 15s): an
    // operator's restart brings it back well within that, and its return is a second
    // clean failover (a has the highest priority and preempts b).
    await fleet!.startAgent(A);
    await fleet!.waitStates(['MASTER', 'BACKUP', 'BACKUP']);
    await waitFor(async () => (await masters()) === 1 && (await P().query(`keepalived_vrrp_status{state="MASTER", instance="${fleet!.instanceOf(A)}"} == 1`)).length === 1,
      'Prometheus sees a MASTER again', 30_000, 200);
    const back = Date.now();
    note(`${at()} failover: a MASTER again ${back - start} ms after its SIGTERM`);
    // Watch for longer than every scaled `for:` a failover can trip (AdvertLoss: 30s over a
    // 30s window; split brain / no master / agent down: 15s).
    const { firing, seen } = await watchFiring(35_000);
    note(`${at()} failover watch: active during the watch ${[...seen].sort().join(' ') || '(none)'}`);
    expect([...firing]).toEqual([]);
    const window = Math.ceil((Date.now() - start) / 1000) + 5;
    expect(await P().query(`count_over_time(ALERTS{alertstate="firing"}[${window}s])`)).toEqual([]);
    const pending = await P().query(`count_over_time(ALERTS{alertstate="pending"}[${window}s])`);
    note(`${at()} failover: pending at some point: ${pending.map((s) => `${s.metric['alertname']}${s.metric['instance'] ? '@' + s.metric['instance'] : ''} (${s.value[1]} evals)`).join(', ') || '(none)'}`);
    expect(await masters()).toBe(1);
    expect((await P().alerts()).filter((a) => a.state === 'firing')).toEqual([]);
  });

  it('a split brain (adverts lost between the agents, scrapes unaffected) fires KeepalivedSplitBrain, which resolves after the heal', async () => {
    splitAt = Date.now();
    fleet!.isolate([A, B, C], true);
    const split = splitAt;
    try {
      await fleet!.waitStates(['MASTER', 'MASTER', 'MASTER']);
      note(`${at()} split: three MASTERs ${Date.now() - split} ms after isolation`);
      await waitFor(async () => (await masters()) === 3, 'Prometheus sees three MASTERs', 30_000, 100);
      const pending = (await waitFor(async () => named(await P().alerts(), 'KeepalivedSplitBrain').find((a) => a.state === 'pending'),
        'KeepalivedSplitBrain pending', 30_000, 100))!;
      const fired = (await waitFor(async () => named(await P().alerts(), 'KeepalivedSplitBrain').find((a) => a.state === 'firing'),
        'KeepalivedSplitBrain firing', 60_000, 100))!;
      note(`${at()} split: KeepalivedSplitBrain firing ${Date.now() - split} ms after isolation (activeAt ${fired.activeAt})`);
      expect(fired.activeAt).toBe(pending.activeAt);
      expect(Date.now() - Date.parse(fired.activeAt)).toBeGreaterThanOrEqual(SPLIT_BRAIN_FOR_S * 1000 - 1000);
      expect(fired.labels).toEqual({ alertname: 'KeepalivedSplitBrain', severity: 'critical', vrrp_domain: DOMAIN, vrid: '51' });
      expect(fired.annotations['summary']).toBe(`Split brain: 3 MASTERs for VRID 51 in domain ${DOMAIN}`);
      for (const h of [A, B, C]) expect(fired.annotations['description']).toContain(`${fleet!.instanceOf(h)}/VI_1`);
      note(`${at()} split: active alerts while firing: ${summary(await P().alerts()).join(' ')}`);
    } finally {
      fleet!.isolate([A, B, C], false);
    }
    const heal = Date.now();
    await fleet!.waitStates(['MASTER', 'BACKUP', 'BACKUP']);
    note(`${at()} heal: b, c BACKUP ${Date.now() - heal} ms after isolation off`);
    const hears = new Set<string>();
    await waitFor(async () => {
      const alerts = await P().alerts();
      for (const a of named(alerts, 'KeepalivedMasterHearsOtherMaster')) hears.add(`${a.state}@${a.labels['instance']}`);
      return named(alerts, 'KeepalivedSplitBrain').length === 0;
    }, 'KeepalivedSplitBrain resolved', 30_000, 100);
    note(`${at()} heal: KeepalivedSplitBrain resolved ${Date.now() - heal} ms after isolation off`);
    expect(await masters()).toBe(1);
    // Recorded, not asserted: after the heal, the surviving MASTER hears the others'
    // adverts until they step down (RFC 5798 §6.4.3), a burst of one or two each.
    const window = Math.ceil((Date.now() - split) / 1000) + 5;
    const heard = await P().query(`max_over_time(increase(keepalived_vrrp_advertisements_received_in_master_total[15s])[${window}s:1s])`);
    const hearsAlerts = await P().query(`count_over_time(ALERTS{alertname="KeepalivedMasterHearsOtherMaster"}[${window}s])`);
    note(`${at()} heal: received-in-master max increase over 15s: ${heard.map((s) => `${s.metric['instance']}=${Number(s.value[1]).toFixed(1)}`).join(' ')}; ` +
      `KeepalivedMasterHearsOtherMaster: ${hearsAlerts.map((s) => `${s.metric['alertstate']}@${s.metric['instance']}`).join(' ') || 'never active'}${hears.size ? ` (seen ${[...hears].join(' ')})` : ''}`);
    note(`${at()} heal: active alerts now: ${summary(await P().alerts()).join(' ') || '(none)'}`);
  });

  it('after the split brain, the queries that need a transition in range have data, first transitions included', async () => {
    // A Grafana time range from just before the isolation to now. Prometheus must have
    // scraped the agents at its start (the tables count series born inside the range only
    // for agents known at the start: dashboards/build.mjs transitionsIn). The annotations
    // use a fixed 2m window, longer than Prometheus has run here: they show what changes()
    // saw — b's MASTER->BACKUP (higher priority MASTER heard), first after a's restart and
    // again after the heal.
    const range = Math.ceil((Date.now() - splitAt) / 1000) + 3;
    expect(Date.now() - promStartedAt).toBeGreaterThan(range * 1000);
    const vars = { ...VARS, __range: `${range}s` };
    const queries = (await fleetDashboardQueries()).filter((q) => NEED_TRANSITION_IN_RANGE.includes(q.where));
    expect(queries).toHaveLength(NEED_TRANSITION_IN_RANGE.length);
    const { empty, withData } = await runQueries(queries, vars);
    note(`${at()} transition queries over the last ${range}s: ${[...withData].map(([k, n]) => `${k}=${n}`).join(', ')}`);
    expect(empty).toEqual([]);
    const reasons = await P().query(substituteVars(queries.find((q) => q.where.startsWith('panel 7 '))!.expr, vars));
    const rows = reasons.map((s) => `${s.metric['instance']} ${s.metric['from']}->${s.metric['to']} ${s.metric['reason']} ${s.value[1]}`).sort();
    note(`${at()} transition reasons in range: ${rows.join('; ')}`);
    // b and c took over when the adverts stopped (RFC 5798 §6.4.2 Master_Down_Timer) and
    // stepped down after the heal: one MASTER entry each, counted even where this was the
    // first transition of that kind (series born inside the range).
    for (const h of [B, C]) {
      expect(rows).toContain(`${fleet!.instanceOf(h)} BACKUP->MASTER master_timeout 1`);
      expect(rows.filter((r) => r.startsWith(`${fleet!.instanceOf(h)} MASTER->BACKUP `))).toHaveLength(1);
    }
    expect(rows.filter((r) => r.startsWith(fleet!.instanceOf(A)))).toEqual([]);
  });

  it('stop() ends Prometheus and every agent it started, by PID', async () => {
    const pids = [prom!.pid, ...fleet!.nodes.map((n) => n!.pid)];
    await prom!.stop();
    await fleet!.stop();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });
});
