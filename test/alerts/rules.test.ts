// The alert rule files against the real Debian promtool: syntax/lint, every promtool unit
// test, coverage of every alert by a firing case and a silent case, runbook anchors, and
// mutation checks proving that the scrape-skew, extrapolation and advert-age cases would
// catch the naive versions of those rules.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  PROMTOOL, ROOT, RULE_FILES, RULE_TESTS_DIR, promtool, readAlertRules, readRuleTestExpectations, scaledRules,
} from './rules-lib';

const testFiles = readdirSync(path.join(ROOT, RULE_TESTS_DIR))
  .filter((f) => f.endsWith('.test.yml'))
  .sort()
  .map((f) => path.join(RULE_TESTS_DIR, f));

const allRules = RULE_FILES.flatMap((f) => readAlertRules(f));

// §9 of shared/research/observability-anchors.md: the catalogue this rule pack must cover.
const CATALOGUE = [
  'KeepalivedSplitBrain', 'KeepalivedSplitBrainCompat', 'KeepalivedNoMaster', 'KeepalivedNoMasterCompat',
  'KeepalivedMasterHearsOtherMaster', 'KeepalivedFlapping', 'KeepalivedFlappingCompat', 'KeepalivedPriorityDegraded',
  'KeepalivedFault', 'KeepalivedTrackScriptFailing', 'KeepalivedRealServerDown', 'KeepalivedPoolBelowQuorum',
  'KeepalivedPoolDegraded', 'KeepalivedAgentDown', 'KeepalivedAgentAbsent', 'KeepalivedAdvertsStale',
  'KeepalivedAdvertLoss', 'KeepalivedAdvertLossCompat', 'KeepalivedMasterNotAdvertising', 'KeepalivedMasterWithoutVips',
  'KeepalivedVipSetMismatch', 'KeepalivedAuthOrConfigErrors', 'KeepalivedRestartLoop', 'KeepalivedConfigReloadFailed',
  'KeepalivedAgentxDisconnected',
];

const tmpDirs: string[] = [];
afterAll(() => { for (const d of tmpDirs) rmSync(d, { recursive: true, force: true }); });

/** Copy of alerts/ (rules + tests) with one rule file rewritten by `edit`. */
function mutatedCopy(ruleFile: string, edit: (text: string) => string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kwt-d-rules-'));
  tmpDirs.push(dir);
  mkdirSync(path.join(dir, 'tests'));
  for (const f of RULE_FILES) copyFileSync(path.join(ROOT, f), path.join(dir, path.basename(f)));
  for (const f of testFiles) copyFileSync(path.join(ROOT, f), path.join(dir, 'tests', path.basename(f)));
  const target = path.join(dir, path.basename(ruleFile));
  const before = readFileSync(target, 'utf8');
  const after = edit(before);
  expect(after, 'mutation must change the rule file').not.toBe(before);
  writeFileSync(target, after);
  return dir;
}

describe('alert rule files', () => {
  it('the Debian promtool is installed', () => {
    expect(existsSync(PROMTOOL)).toBe(true);
    const v = promtool(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout + v.stderr).toMatch(/promtool, version 2\./);
  });

  it.each(RULE_FILES)('%s passes promtool check rules (lint fatal) with the rule count we parse', (file) => {
    const r = promtool(['check', 'rules', '--lint=all', '--lint-fatal', file]);
    expect(r.stderr + r.stdout).toContain('SUCCESS');
    expect(r.code).toBe(0);
    const n = readAlertRules(file).length;
    expect(n).toBeGreaterThan(0);
    expect(r.stdout).toContain(`SUCCESS: ${n} rules found`);
  });

  it('covers the §9 alert catalogue', () => {
    const names = new Set(allRules.map((r) => r.name));
    for (const name of CATALOGUE) expect(names, name).toContain(name);
    expect(names.size, 'alert names are unique').toBe(allRules.length);
  });

  it('every alert has severity, summary, description and a runbook anchor that exists in docs/alerts.md', () => {
    const doc = readFileSync(path.join(ROOT, 'docs/alerts.md'), 'utf8');
    const anchors = new Set(
      [...doc.matchAll(/^#{1,6} (.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^a-z0-9 _-]/g, '').replace(/ /g, '-')),
    );
    for (const rule of allRules) {
      expect(['critical', 'warning'], rule.name).toContain(rule.labels['severity']);
      expect(rule.annotations['summary'], rule.name).toBeTruthy();
      expect(rule.annotations['description'], rule.name).toBeTruthy();
      expect(rule.annotations['runbook_url'], rule.name).toBe(`docs/alerts.md#${rule.name.toLowerCase()}`);
      expect(anchors, `runbook section for ${rule.name}`).toContain(rule.name.toLowerCase());
    }
  });

  it('cross-host rules group by the cluster key and wait out a scrape-skewed failover', () => {
    for (const name of ['KeepalivedSplitBrain', 'KeepalivedNoMaster', 'KeepalivedVipSetMismatch', 'KeepalivedFlapping']) {
      const rule = allRules.find((r) => r.name === name)!;
      expect(rule.expr, name).toMatch(/by \(vrrp_domain, vrid\)/);
    }
    for (const name of ['KeepalivedSplitBrain', 'KeepalivedNoMaster', 'KeepalivedSplitBrainCompat', 'KeepalivedNoMasterCompat']) {
      const rule = allRules.find((r) => r.name === name)!;
      // >= 2 scrape intervals of the common 15s / 30s settings
      expect(rule.for, name).toBe('1m');
    }
  });
});

describe('promtool unit tests (alerts/tests)', () => {
  it('there are test files for both rule files', () => {
    expect(testFiles.length).toBeGreaterThanOrEqual(4);
    const referenced = testFiles.map((f) => readFileSync(path.join(ROOT, f), 'utf8'));
    for (const rf of RULE_FILES) expect(referenced.some((t) => t.includes(`../${path.basename(rf)}`)), rf).toBe(true);
  });

  it.each(testFiles)('promtool test rules %s succeeds', (file) => {
    const r = promtool(['test', 'rules', file]);
    expect(r.stdout + r.stderr).not.toContain('FAILED');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('SUCCESS');
  });

  it('every alert has a test case that expects it to fire and one that expects silence', () => {
    const exp = readRuleTestExpectations(testFiles);
    const known = new Set(allRules.map((r) => r.name));
    for (const e of exp) expect(known, `${e.file} tests unknown alert ${e.alertname}`).toContain(e.alertname);
    for (const rule of allRules) {
      expect(exp.some((e) => e.alertname === rule.name && e.firing), `${rule.name} has a firing case`).toBe(true);
      expect(exp.some((e) => e.alertname === rule.name && !e.firing), `${rule.name} has a silent case`).toBe(true);
    }
  });
});

describe('the unit tests catch the naive rules (mutation checks)', () => {
  it('split brain without for: fires on a clean failover seen through scrape skew', () => {
    const dir = mutatedCopy('alerts/keepwatch.rules.yml', (t) =>
      t.replace(/(- alert: KeepalivedSplitBrain\n(?:.*\n)*?\s+for: )1m/, '$10s'));
    const r = promtool(['test', 'rules', 'tests/cluster.test.yml'], dir);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('clean failovers seen through scrape skew raise nothing');
  });

  it('flapping with "> 3" fires on three transitions inflated by extrapolation', () => {
    const dir = mutatedCopy('alerts/keepwatch.rules.yml', (t) => t.replace(') >= 4\n', ') > 3\n'));
    const r = promtool(['test', 'rules', 'tests/cluster.test.yml'], dir);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('three MASTER changes in 15m stay below the threshold despite extrapolation');
  });

  it('flapping counted on keepalived_vrrp_transitions_total misses each first transition', () => {
    const dir = mutatedCopy('alerts/keepwatch.rules.yml', (t) =>
      t.replace('increase(keepalived_become_master_total[15m])', 'increase(keepalived_vrrp_transitions_total{to="MASTER"}[15m])'));
    const r = promtool(['test', 'rules', 'tests/cluster.test.yml'], dir);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('first MASTER changes count: four changes for four different reasons fire KeepalivedFlapping');
  });

  it('advert age from time() instead of timestamp() fires between scrapes', () => {
    const dir = mutatedCopy('alerts/keepwatch.rules.yml', (t) =>
      t.replace('timestamp(keepalived_vrrp_last_advert_received_timestamp_seconds)', 'time()'));
    const r = promtool(['test', 'rules', 'tests/instance.test.yml'], dir);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('a healthy BACKUP evaluated between two scrapes is not stale');
  });

  it('compat split brain counting VIP series instead of hosts fires on one MASTER with three VIPs', () => {
    const dir = mutatedCopy('alerts/keepalived-compat.rules.yml', (t) =>
      t.replace('count by (vrrp_domain, vrid) (count by (vrrp_domain, vrid, instance) (keepalived_vrrp_state == 2)) > 1',
        'count by (vrrp_domain, vrid) (keepalived_vrrp_state == 2) > 1'));
    const r = promtool(['test', 'rules', 'tests/compat.test.yml'], dir);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('three VIPs per instance: one MASTER host is not a split brain');
  });

  it('split brain grouped by vrid alone fires on two domains reusing a VRID', () => {
    const dir = mutatedCopy('alerts/keepwatch.rules.yml', (t) =>
      t.replace('sum by (vrrp_domain, vrid) (keepalived_vrrp_status{state="MASTER"}) > 1', 'sum by (vrid) (keepalived_vrrp_status{state="MASTER"}) > 1'));
    const r = promtool(['test', 'rules', 'tests/cluster.test.yml'], dir);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('two domains reusing VRID 51 are two clusters');
  });
});

describe('time-scaled copy for the live test', () => {
  it('divides for: and range selectors and still passes promtool check rules', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kwt-d-scaled-'));
    tmpDirs.push(dir);
    for (const f of RULE_FILES) {
      const text = scaledRules(f, 6);
      expect(text).not.toMatch(/^\s+for: 1m$/m);
      expect(text).not.toMatch(/\[15m\]/);
      const dest = path.join(dir, path.basename(f));
      writeFileSync(dest, text);
      const r = promtool(['check', 'rules', dest]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
    const split = readFileSync(path.join(dir, 'keepwatch.rules.yml'), 'utf8');
    expect(split).toMatch(/- alert: KeepalivedSplitBrain\n(?:.*\n)*?\s+for: 10s/);
    expect(split).toContain('[150s]');
  });
});
