import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/journal';
import { createMetrics } from '../../src/observe/metrics';
import { threeInstanceSnapshot } from '../obs/fixtures';

const root = path.resolve(__dirname, '../..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

describe('README documents what keepwatch exposes', () => {
  it('has the two commands', () => {
    expect(readme).toContain('npm ci && npm run demo');
    expect(readme).toContain('npm test');
  });
  it('lists every metric family keepwatch serves (rendered) or defines (source)', async () => {
    const j = new Journal();
    const snap = threeInstanceSnapshot();
    const m = createMetrics(j, () => snap, {});
    const { body } = await m.render();
    m.close();
    const rendered = [...body.matchAll(/^# TYPE (\S+) /gm)].map((x) => x[1]);
    const defined = [...fs.readFileSync(path.join(root, 'src/observe/metrics.ts'), 'utf8').matchAll(/'(keepalived_[a-z0-9_]+)'/g)].map((x) => x[1]);
    const names = [...new Set([...rendered, ...defined])];
    expect(names.length).toBeGreaterThan(60);
    const missing = names.filter((n) => !readme.includes(`\`${n}\``));
    expect(missing).toEqual([]);
  });
  it('documents every --signum name and every CLI long option', () => {
    for (const s of ['STOP', 'RELOAD', 'DATA', 'STATS', 'STATS_CLEAR', 'JSON']) expect(readme).toContain(`| ${s} |`);
    const args = fs.readFileSync(path.join(root, 'src/cli/args.ts'), 'utf8');
    const longs = [...args.matchAll(/long: \[([^\]]+)\]/g)].flatMap((x) => [...x[1].matchAll(/'([^']+)'/g)].map((y) => y[1]));
    const undocumented = longs.filter((l) => !readme.includes(`--${l}`) && !['perf', 'debug', 'no-mem-check', 'flush-log-file', 'log-file'].includes(l));
    expect(undocumented).toEqual([]);
  });
});
