/**
 * Parity with the real keepalived 2.2.7: every fixture is checked by
 * `/usr/sbin/keepalived -t -f FILE` and by loadConfig() on the same host, and
 * both must give the same verdict and exit code.
 *
 * test/fixtures/configs/valid: keepalived accepts (exit 0);
 * test/fixtures/configs/invalid: keepalived refuses (2, 4, 5 or 6).
 * examples/keepalived.conf must be accepted by both.
 */
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadConfig, formatDiagnostics } from '../../src/config/load';

const ROOT = path.resolve(__dirname, '../..');
const FIXTURES = path.join(ROOT, 'test/fixtures/configs');
const KEEPALIVED = '/usr/sbin/keepalived';

function fixtures(kind: 'valid' | 'invalid'): string[] {
  return fs
    .readdirSync(path.join(FIXTURES, kind))
    .filter((f) => f.endsWith('.conf'))
    .sort()
    .map((f) => path.join(FIXTURES, kind, f));
}

interface KeepalivedVerdict {
  /** exit status, or null when keepalived crashed (2.2.7 segfaults on a few bad configs) */
  status: number | null;
  signal: string | null;
  stderr: string;
}

function keepalivedTest(file: string): KeepalivedVerdict {
  // cwd = the fixture's directory, as relative includes are resolved from it
  const r = spawnSync(KEEPALIVED, ['-t', '-f', file], { encoding: 'utf8', timeout: 60_000, cwd: path.dirname(file) });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stderr: r.stderr };
}

/**
 * The valid/invalid split assumes the interfaces the fixtures name exist
 * (eth0, ifb0, ifb1 here); on a host without one of them keepalived itself
 * refuses the file, and only the parity assertion is meaningful.
 */
function hostHasFixtureInterfaces(file: string): boolean {
  const text = fs.readFileSync(file, 'utf8');
  const names = new Set(text.match(/\b(eth[0-9]+|ifb[0-9]+)\b/g) ?? []);
  return [...names].every((n) => fs.existsSync(`/sys/class/net/${n}`));
}

function compare(file: string): KeepalivedVerdict {
  const k = keepalivedTest(file);
  const ours = loadConfig(file);
  const detail = `keepalived: ${k.status ?? k.signal}\n${k.stderr}\nkeepwatch: ${ours.exitCode}\n${formatDiagnostics(ours.diagnostics)}`;
  if (k.status === null) {
    // keepalived crashed on a configuration it was rejecting; we must refuse it too
    expect(ours.exitCode, detail).not.toBe(0);
    return k;
  }
  expect(ours.exitCode, detail).toBe(k.status);
  // accepted ⇒ a model is produced
  if (k.status === 0) expect(ours.config, detail).not.toBeNull();
  return k;
}

describe('keepalived -t parity', () => {
  it('the real keepalived 2.2.7 is installed', () => {
    const v = spawnSync(KEEPALIVED, ['--version'], { encoding: 'utf8' });
    expect(v.stderr + v.stdout).toMatch(/Keepalived v2\.2\.7/);
  });

  const valid = fixtures('valid');
  const invalid = fixtures('invalid');

  it('has a broad corpus', () => {
    expect(valid.length).toBeGreaterThanOrEqual(60);
    expect(invalid.length).toBeGreaterThanOrEqual(200);
  });

  it.each(valid.map((f) => [path.basename(f), f]))('valid/%s: same verdict and exit code', (_n, f) => {
    const k = compare(f);
    if (hostHasFixtureInterfaces(f)) expect(k.status, k.stderr).toBe(0);
  });

  it.each(invalid.map((f) => [path.basename(f), f]))('invalid/%s: same verdict and exit code', (_n, f) => {
    const k = compare(f);
    if (hostHasFixtureInterfaces(f)) expect(k.status).not.toBe(0);
  });

  it('examples/keepalived.conf passes both', () => {
    const f = path.join(ROOT, 'examples/keepalived.conf');
    const k = keepalivedTest(f);
    const ours = loadConfig(f);
    expect(ours.exitCode, formatDiagnostics(ours.diagnostics)).toBe(k.status);
    if (!hostHasFixtureInterfaces(f)) return;
    expect(k.status, k.stderr).toBe(0);
    expect(ours.config!.instances).toHaveLength(2);
    expect(ours.config!.syncGroups).toHaveLength(1);
    expect(ours.config!.scripts).toHaveLength(1);
    expect(ours.config!.virtualServers[0].realServers[0].checkers[0].type).toBe('TCP_CHECK');
  });
});
