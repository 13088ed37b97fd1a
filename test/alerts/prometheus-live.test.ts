// Live validation of the alert rules and the fleet dashboard: a real Debian Prometheus
// scrapes keepwatch-format agents every second and evaluates alerts/keepwatch.rules.yml.
//
// The agents here are fake (test/alerts/fake-agent.ts: two "hosts" on two loopback ports,
// metrics computed from a VRRP model the test drives). The same scenarios run against real
// keepwatch agents by swapping the LiveFleet implementation.
//
// Time scaling: the rule files keep their real durations (sized for 15–30s scrapes). This
// test loads a throw-away copy with every `for:` and range window divided by FACTOR
// (rules-lib.ts scaledRules), so `for: 1m` becomes 15s against 1s scrapes — the same
// ratio of `for` to scrape interval the real rules have at 4s scrapes, a harsher one than
// production's 15s. Nothing else in the rules changes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/netns';
import { startPrometheus, type ActiveAlert, type PrometheusServer } from '../helpers/prometheus';
import { FakeFleet } from './fake-agent';
import { labelValuesSelector, substituteVars } from './promql';
import { ROOT, writeScaledRules } from './rules-lib';

// Loopback ports of helper "d": 19400–19499.
const PROM_PORT = 19401;
const H1_PORT = 19411;
const H2_PORT = 19412;
const FACTOR = 4;
const SPLIT_BRAIN_FOR_S = 60 / FACTOR;

const fleet = new FakeFleet([
  {
    port: H1_PORT,
    instances: [
      { iname: 'VI_1', intf: 'eth0', vrid: 51, vrrpDomain: 'lan1', vips: ['192.0.2.100', '192.0.2.101'], priority: 150, state: 'MASTER' },
      // a second L2 domain reusing VRID 51: never part of lan1's cluster
      { iname: 'VI_2', intf: 'eth1', vrid: 51, vrrpDomain: 'lan2', vips: ['198.51.100.100'], priority: 100, state: 'BACKUP' },
    ],
    virtualServers: [{
      vs: '192.0.2.100:80', quorum: 1,
      realServers: [
        { rs: '203.0.113.11:80', up: true, weight: 1 },
        { rs: '203.0.113.12:80', up: true, weight: 1 },
        { rs: '203.0.113.13:80', up: false, weight: 1 },
      ],
    }],
  },
  {
    port: H2_PORT,
    instances: [
      { iname: 'VI_1', intf: 'eth0', vrid: 51, vrrpDomain: 'lan1', vips: ['192.0.2.100', '192.0.2.101'], priority: 100, state: 'BACKUP' },
      { iname: 'VI_2', intf: 'eth1', vrid: 51, vrrpDomain: 'lan2', vips: ['198.51.100.100'], priority: 150, state: 'MASTER' },
    ],
  },
]);
const H1 = 0;
const H2 = 1;

let prom: PrometheusServer;
let rulesDir: string;

const mastersLan1 = async () => Number((await prom.query('sum(keepalived_vrrp_status{vrrp_domain="lan1", vrid="51", state="MASTER"})'))[0]?.value[1] ?? NaN);
const find = (alerts: ActiveAlert[], name: string, extra: Record<string, string> = {}) =>
  alerts.filter((a) => a.labels['alertname'] === name && Object.entries(extra).every(([k, v]) => a.labels[k] === v));
const firing = (alerts: ActiveAlert[]) => alerts.filter((a) => a.state === 'firing');
// Standing condition of the fake fleet: one real server of h1's pool fails its checks, so
// KeepalivedRealServerDown fires from the start (and is the one alert "steady" expects).
const DOWN_RS = { alertname: 'KeepalivedRealServerDown', real_server: '203.0.113.13:80' };
const isStanding = (a: ActiveAlert) => Object.entries(DOWN_RS).every(([k, v]) => a.labels[k] === v);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  await fleet.start();
  rulesDir = mkdtempSync(path.join(tmpdir(), 'kwt-d-live-rules-'));
  const rules = path.join(rulesDir, 'keepwatch.rules.yml');
  writeScaledRules('alerts/keepwatch.rules.yml', FACTOR, rules);
  prom = await startPrometheus({
    port: PROM_PORT,
    jobs: [{ job: 'keepalived', targets: fleet.targets }],
    ruleFiles: [rules],
  });
  await prom.waitForTargetsUp();
  await waitFor(async () => (await mastersLan1()) === 1, 'Prometheus sees one MASTER in lan1', 30_000, 200);
});

afterAll(async () => {
  await prom?.stop();
  await fleet.stop();
  if (rulesDir) rmSync(rulesDir, { recursive: true, force: true });
});

describe('Prometheus with keepwatch rules scraping keepwatch-format agents', () => {
  it('loads every rule of the scaled copy and evaluates them without errors', async () => {
    const groups = (await waitFor(async () => {
      const g = await prom.ruleGroups();
      const rules = g.flatMap((x) => x.rules);
      return rules.length > 0 && rules.every((r) => r.health !== 'unknown') ? g : undefined;
    }, 'first evaluation of every rule', 30_000, 250))!;
    const rules = groups.flatMap((g) => g.rules);
    expect(rules.length).toBe(21);
    for (const r of rules) expect(r.health, `${r.name}: ${r.lastError ?? ''}`).toBe('ok');
  });

  it('raises nothing in steady state but the real server that is really down', async () => {
    // 35 scrapes per target: longer than every scaled range window the rules look at
    await waitFor(async () => {
      const v = await prom.query('min(count_over_time(up{job="keepalived"}[40s]))');
      return Number(v[0]?.value[1] ?? 0) >= 35;
    }, '35 seconds of scrapes', 90_000, 500);
    // the standing condition does fire (scaled for: 30s) ...
    await waitFor(async () => (await prom.alerts()).some((a) => isStanding(a) && a.state === 'firing'), 'KeepalivedRealServerDown firing', 60_000, 250);
    // ... and nothing else is even pending
    const alerts = await prom.alerts();
    expect(alerts.filter((a) => !isStanding(a))).toEqual([]);
    expect(alerts.filter(isStanding).map((a) => [a.state, a.labels['instance'], a.labels['virtual_server']]))
      .toEqual([['firing', fleet.instanceOf(H1), '192.0.2.100:80']]);
  });

  it('a clean failover seen through scrape skew goes pending at most, never firing', async () => {
    const t0 = Date.now();
    // The new MASTER is scraped as MASTER while the old one's last sample still says
    // MASTER: hold that overlap until the rule has seen it (pending), then complete the
    // failover — the worst skew one scrape interval can produce.
    fleet.setState(H2, 'VI_1', 'MASTER', 'preempt');
    await waitFor(async () => (await mastersLan1()) === 2, 'both lan1 hosts scraped as MASTER', 20_000, 50);
    await waitFor(async () => find(await prom.alerts(), 'KeepalivedSplitBrain').some((a) => a.state === 'pending'),
      'KeepalivedSplitBrain pending', 20_000, 50);
    fleet.setState(H1, 'VI_1', 'BACKUP', 'higher_priority_backup');
    await waitFor(async () => find(await prom.alerts(), 'KeepalivedSplitBrain').length === 0, 'split brain cleared', 20_000, 100);
    const healed = Date.now();
    // Watch for longer than every scaled `for:` a failover can trip (AdvertLoss: 30s).
    const seenFiring = new Set<string>();
    while (Date.now() - healed < 45_000) {
      for (const a of firing(await prom.alerts())) if (!isStanding(a)) seenFiring.add(a.labels['alertname']!);
      await sleep(250);
    }
    expect([...seenFiring]).toEqual([]);
    const window = Math.ceil((Date.now() - t0) / 1000) + 5;
    expect(await prom.query(`count_over_time(ALERTS{alertstate="firing", alertname!="${DOWN_RS.alertname}"}[${window}s])`)).toEqual([]);
    const pend = await prom.query(`count_over_time(ALERTS{alertname="KeepalivedSplitBrain", alertstate="pending"}[${window}s])`);
    expect(pend.length, 'the overlap was visible to the rule').toBe(1);
    expect(await mastersLan1()).toBe(1);
  });

  it('a sustained double MASTER goes pending, then firing, and resolves after', async () => {
    fleet.setState(H1, 'VI_1', 'MASTER', 'master_timeout');
    const pending = (await waitFor(async () => find(await prom.alerts(), 'KeepalivedSplitBrain').find((a) => a.state === 'pending'),
      'KeepalivedSplitBrain pending', 20_000, 100))!;
    const fired = (await waitFor(async () => find(await prom.alerts(), 'KeepalivedSplitBrain').find((a) => a.state === 'firing'),
      'KeepalivedSplitBrain firing', 60_000, 100))!;
    expect(fired.activeAt).toBe(pending.activeAt);
    expect(fired.labels).toEqual({ alertname: 'KeepalivedSplitBrain', severity: 'critical', vrrp_domain: 'lan1', vrid: '51' });
    expect(fired.annotations['summary']).toBe('Split brain: 2 MASTERs for VRID 51 in domain lan1');
    expect(fired.annotations['description']).toContain(`${fleet.instanceOf(H1)}/VI_1 ${fleet.instanceOf(H2)}/VI_1`);
    expect(fired.annotations['runbook_url']).toBe('docs/alerts.md#keepalivedsplitbrain');
    // Prometheus held it pending for the whole (scaled) for: duration
    const firedAt = Date.now();
    expect(firedAt - Date.parse(fired.activeAt)).toBeGreaterThanOrEqual(SPLIT_BRAIN_FOR_S * 1000 - 1000);
    // each MASTER hears the other's adverts
    await waitFor(async () => find(await prom.alerts(), 'KeepalivedMasterHearsOtherMaster').filter((a) => a.state === 'firing').length === 2,
      'KeepalivedMasterHearsOtherMaster firing on both hosts', 60_000, 200);
    // the other domain reusing VRID 51 is not involved
    expect((await prom.alerts()).filter((a) => a.labels['vrrp_domain'] === 'lan2')).toEqual([]);

    fleet.setState(H2, 'VI_1', 'BACKUP', 'higher_priority_backup');
    await waitFor(async () => find(await prom.alerts(), 'KeepalivedSplitBrain').length === 0, 'KeepalivedSplitBrain resolved', 30_000, 100);
    await waitFor(async () => find(await prom.alerts(), 'KeepalivedMasterHearsOtherMaster').length === 0, 'KeepalivedMasterHearsOtherMaster resolved', 60_000, 200);
  });

  it('both members BACKUP fires KeepalivedNoMaster, which resolves on takeover', async () => {
    fleet.setState(H1, 'VI_1', 'BACKUP', 'priority_zero_received');
    const fired = (await waitFor(async () => find(await prom.alerts(), 'KeepalivedNoMaster', { vrrp_domain: 'lan1' }).find((a) => a.state === 'firing'),
      'KeepalivedNoMaster firing', 60_000, 100))!;
    expect(fired.annotations['description']).toContain(`${fleet.instanceOf(H1)}/VI_1=BACKUP ${fleet.instanceOf(H2)}/VI_1=BACKUP`);
    fleet.setState(H1, 'VI_1', 'MASTER', 'master_timeout');
    await waitFor(async () => find(await prom.alerts(), 'KeepalivedNoMaster').length === 0, 'KeepalivedNoMaster resolved', 30_000, 100);
  });

  it('every query of the fleet dashboard returns data', async () => {
    const dash = (await import(path.join(ROOT, 'dashboards', 'keepwatch-fleet.json'), { with: { type: 'json' } })).default as any;
    const vars = { job: '.*', vrrp_domain: '.*', vrid: '.*', instance: '.*', __range: '5m', __rate_interval: '5s', __interval: '2s' };
    const queries: Array<{ where: string; expr: string }> = [];
    for (const p of dash.panels) for (const t of p.targets ?? []) queries.push({ where: `panel ${p.id} "${p.title}" ${t.refId}`, expr: t.expr });
    for (const a of dash.annotations.list) if (a.expr) queries.push({ where: `annotation "${a.name}"`, expr: a.expr });
    for (const v of dash.templating.list) if (v.type === 'query') queries.push({ where: `variable ${v.name}`, expr: labelValuesSelector(v.query.query)! });
    expect(queries.length).toBeGreaterThan(30);
    const empty: string[] = [];
    for (const q of queries) {
      const res = await prom.query(substituteVars(q.expr, vars));
      if (res.length === 0) empty.push(q.where);
    }
    expect(empty).toEqual([]);
  });

  it('stop() ends the Prometheus process it started', async () => {
    const pid = prom.pid;
    await prom.stop();
    expect(prom.running).toBe(false);
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
