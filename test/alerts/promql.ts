// Small PromQL helpers for the dashboard and rule tests: which metric names an expression
// selects (a tokenizer, not a parser: promtool does the real parsing), Grafana variable
// substitution, and a promtool check over a batch of expressions.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promtool } from './rules-lib';

const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'atan2', 'inf', 'nan', 'start', 'end']);
const LABEL_LIST_AFTER = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const AGGREGATORS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile']);

/** Metric names selected by a PromQL expression (identifiers that are not functions,
 *  keywords, label lists, label matchers, strings, numbers or durations). */
export function metricNames(expr: string): string[] {
  const out = new Set<string>();
  let i = 0;
  const n = expr.length;
  const skipSpace = () => { while (i < n && /\s/.test(expr[i]!)) i++; };
  const skipString = () => {
    const q = expr[i]!;
    i++;
    while (i < n && expr[i] !== q) { if (expr[i] === '\\' && q !== '`') i++; i++; }
    i++;
  };
  const skipBalanced = (open: string, close: string) => {
    let depth = 0;
    while (i < n) {
      const c = expr[i]!;
      if (c === '"' || c === "'" || c === '`') { skipString(); continue; }
      if (c === open) depth++;
      if (c === close) { depth--; if (depth === 0) { i++; return; } }
      i++;
    }
  };
  while (i < n) {
    const c = expr[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '"' || c === "'" || c === '`') { skipString(); continue; }
    if (c === '{') { skipBalanced('{', '}'); continue; }
    if (c === '[') { skipBalanced('[', ']'); continue; }
    if (c === '#') { while (i < n && expr[i] !== '\n') i++; continue; }
    if (/[0-9.]/.test(c)) { while (i < n && /[0-9a-zA-Z_.+-]/.test(expr[i]!) && !(/[+-]/.test(expr[i]!) && !/[eE]/.test(expr[i - 1]!))) i++; continue; }
    if (/[a-zA-Z_:]/.test(c)) {
      const start = i;
      while (i < n && /[a-zA-Z0-9_:]/.test(expr[i]!)) i++;
      const word = expr.slice(start, i);
      const lower = word.toLowerCase();
      skipSpace();
      const next = expr[i];
      if (KEYWORDS.has(lower)) {
        if (LABEL_LIST_AFTER.has(lower) && next === '(') skipBalanced('(', ')');
        continue;
      }
      if (next === '(') continue; // function or aggregation
      // aggregation with a leading clause: sum by (l) (...), count without (l) (...)
      if (AGGREGATORS.has(lower) && /^(by|without)\b/i.test(expr.slice(i))) continue;
      out.add(word);
      continue;
    }
    i++;
  }
  return [...out];
}

export interface GrafanaVars { [name: string]: string }

/** Replace Grafana macros and template variables (`$x`, `${x}`, `[[x]]`). */
export function substituteVars(expr: string, vars: GrafanaVars): string {
  return expr
    .replace(/\$\{(\w+)(?::\w+)?\}/g, (all, name: string) => vars[name] ?? all)
    .replace(/\[\[(\w+)\]\]/g, (all, name: string) => vars[name] ?? all)
    .replace(/\$(\w+)/g, (all, name: string) => vars[name] ?? all);
}

/** Template variables that appear outside a regex matcher value (=~"..."): unsafe for
 *  multi-select / All values. Grafana macros ($__range …) are exempt. */
export function varsOutsideRegexMatchers(expr: string): string[] {
  const stripped = expr.replace(/=~\s*"(?:[^"\\]|\\.)*"/g, '=~""');
  return [...stripped.matchAll(/\$\{?(\w+)/g)].map((m) => m[1]!).filter((v) => !v.startsWith('__'));
}

/** The inner expression of a Grafana `label_values(expr, label)` variable query. */
export function labelValuesSelector(query: string): string | undefined {
  const m = /^\s*label_values\((.*),\s*(\w+)\s*\)\s*$/s.exec(query);
  return m ? m[1] : undefined;
}

export interface NamedExpr { name: string; expr: string }

/** Run `promtool check rules` over the expressions as recording rules. Returns the
 *  promtool output and exit code. */
export function promtoolCheckExprs(exprs: NamedExpr[]): { code: number | null; output: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'kwt-d-exprs-'));
  try {
    const lines = ['groups:', '  - name: dashboard-expressions', '    rules:'];
    exprs.forEach((e, idx) => {
      const record = `dashboard:expr_${idx}:${e.name.replace(/[^a-zA-Z0-9_]/g, '_')}`;
      lines.push(`      - record: ${record}`, `        expr: ${JSON.stringify(e.expr)}`);
    });
    const file = path.join(dir, 'exprs.rules.yml');
    writeFileSync(file, lines.join('\n') + '\n');
    const r = promtool(['check', 'rules', file]);
    return { code: r.code, output: r.stdout + r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
