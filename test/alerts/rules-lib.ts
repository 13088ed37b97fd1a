// Helpers shared by the alert-rule tests: locate the rule files, run the Debian promtool,
// read alert blocks without a YAML library (the rule files keep one fixed layout, which
// the tests below also check by comparing with promtool's own rule count), and make the
// time-scaled copy of the rules used by the live Prometheus test.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const PROMTOOL = '/usr/bin/promtool';
export const RULE_FILES = ['alerts/keepwatch.rules.yml', 'alerts/keepalived-compat.rules.yml'];
export const RULE_TESTS_DIR = 'alerts/tests';

export interface RunResult { code: number | null; stdout: string; stderr: string }

export function promtool(args: string[], cwd = ROOT): RunResult {
  const r = spawnSync(PROMTOOL, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  if (r.error) return { code: null, stdout: r.stdout ?? '', stderr: String(r.error) };
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface AlertRule {
  name: string;
  file: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Alert rules of one file, read from its fixed layout (`- alert:` items, 2-space YAML). */
export function readAlertRules(file: string): AlertRule[] {
  const text = readFileSync(path.resolve(ROOT, file), 'utf8');
  const lines = text.split('\n');
  const out: AlertRule[] = [];
  let cur: AlertRule | undefined;
  let section: 'labels' | 'annotations' | 'expr' | undefined;
  let itemIndent = 0;
  for (const line of lines) {
    const m = /^(\s*)- alert: (\S+)\s*$/.exec(line);
    if (m) {
      cur = { name: m[2]!, file, expr: '', labels: {}, annotations: {} };
      itemIndent = m[1]!.length + 2;
      section = undefined;
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    if (/^\s*- (name|record):/.test(line) || /^\S/.test(line)) { cur = undefined; continue; }
    const indent = line.length - line.trimStart().length;
    const body = line.trim();
    if (body === '' || body.startsWith('#')) continue;
    if (indent === itemIndent) {
      const kv = /^(\w+):\s*(.*)$/.exec(body);
      if (!kv) continue;
      const [, key, rest] = kv as unknown as [string, string, string];
      section = undefined;
      if (key === 'expr') {
        section = rest === '|-' || rest === '|' ? 'expr' : undefined;
        if (!section) cur.expr = rest;
      } else if (key === 'for') cur.for = rest;
      else if (key === 'labels') section = 'labels';
      else if (key === 'annotations') section = 'annotations';
    } else if (indent > itemIndent && section === 'expr') {
      cur.expr += (cur.expr ? '\n' : '') + body;
    } else if (indent === itemIndent + 2 && section) {
      const kv = /^(\w+):\s*(.*)$/.exec(body);
      if (kv) (section === 'labels' ? cur.labels : cur.annotations)[kv[1]!] = unquote(kv[2]!);
    }
  }
  return out;
}

function unquote(s: string): string {
  if (s.length >= 2 && ((s.startsWith('"') && s.endsWith('"')) || (s.startsWith("'") && s.endsWith("'")))) {
    return s.slice(1, -1);
  }
  return s;
}

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

export function durationSeconds(d: string): number {
  let total = 0;
  const re = /(\d+)(ms|s|m|h|d)/g;
  let m: RegExpExecArray | null;
  let consumed = '';
  while ((m = re.exec(d)) !== null) {
    total += Number(m[1]) * UNIT_SECONDS[m[2]!]!;
    consumed += m[0];
  }
  if (consumed !== d) throw new Error(`not a Prometheus duration: ${d}`);
  return total;
}

function fmtSeconds(s: number): string {
  return `${Math.max(1, Math.round(s))}s`;
}

/**
 * A copy of a rule file with every `for:` and every range selector `[d]` divided by
 * `factor`, for the live Prometheus test that scrapes every second. The rule files
 * themselves keep their real durations (sized for 15–30s scrapes); only this throw-away
 * copy is compressed, so a live run takes seconds instead of minutes.
 */
export function scaledRules(file: string, factor: number): string {
  const text = readFileSync(path.resolve(ROOT, file), 'utf8');
  return text
    .replace(/^(\s*for:\s*)(\S+)\s*$/gm, (_all, pre: string, d: string) => `${pre}${fmtSeconds(durationSeconds(d) / factor)}`)
    .replace(/\[(\d+(?:ms|s|m|h|d))\]/g, (_all, d: string) => `[${fmtSeconds(durationSeconds(d) / factor)}]`);
}

export function writeScaledRules(file: string, factor: number, dest: string): void {
  writeFileSync(dest, scaledRules(file, factor));
}

export interface RuleTestExpectation { alertname: string; firing: boolean; file: string }

/** Every `alertname:` case of the promtool unit-test files, firing or expected silent. */
export function readRuleTestExpectations(files: string[]): RuleTestExpectation[] {
  const out: RuleTestExpectation[] = [];
  for (const file of files) {
    const lines = readFileSync(path.resolve(ROOT, file), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const m = /^\s*alertname:\s*(\S+)\s*$/.exec(lines[i]!);
      if (!m) continue;
      let j = i + 1;
      while (j < lines.length && !/^\s*exp_alerts:/.test(lines[j]!)) j++;
      const rest = (lines[j] ?? '').replace(/^\s*exp_alerts:\s*/, '').trim();
      const firing = rest === '' && /^\s*- exp_labels:/.test(lines[j + 1] ?? '');
      out.push({ alertname: m[1]!, firing, file });
    }
  }
  return out;
}
