import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/journal';
import { runCommand, splitCommand, resolveUser } from '../../src/notify/command';
import { NotifyFifo } from '../../src/notify/fifo';
import { Notifier } from '../../src/notify/notifier';
import { waitFor } from '../helpers/netns';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-notify-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return p;
}

describe('command splitting and running', () => {
  it('splits like keepalived: quotes group words, quote characters are removed', () => {
    expect(splitCommand(`/bin/x 'a b' "c d" e\\ f`)).toEqual(['/bin/x', 'a b', 'c d', 'e f']);
    expect(splitCommand('  ')).toEqual([]);
  });
  it('execs an executable directly and appends extra arguments', async () => {
    const out = path.join(dir, 'args.out');
    const s = script('args.sh', `printf '%s|' "$@" > ${out}`);
    const r = await runCommand(`${s} 'x y'`, { extraArgs: ['INSTANCE', 'VI_1', 'MASTER', '150'] });
    expect(r.exitCode).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe('x y|INSTANCE|VI_1|MASTER|150|');
  });
  it('falls back to the shell for a non-executable command line (keepalived system())', async () => {
    const out = path.join(dir, 'sh.out');
    const r = await runCommand(`echo hi > ${out}; exit 3`);
    expect(r.exitCode).toBe(3);
    expect(fs.readFileSync(out, 'utf8')).toBe('hi\n');
  });
  it('kills the whole process group on timeout and reports it', async () => {
    const s = script('slow.sh', 'sleep 30 & sleep 30');
    const r = await runCommand(s, { timeoutMs: 200 });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBeNull();
    // the background child was in the same group and is gone too
    const alive = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).some((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(s);
      } catch {
        return false;
      }
    });
    expect(alive).toBe(false);
  });
  it('reports a missing program as an error result, never a throw', async () => {
    const r = await runCommand('/nonexistent/prog arg');
    expect(r.exitCode).not.toBe(0);
  });
  it('resolves users from /etc/passwd and refuses unknown ones', () => {
    expect(resolveUser('root')).toEqual({ uid: 0, gid: 0 });
    expect(resolveUser('nobody-kw-none')).toBeInstanceOf(Error);
  });
});

describe('notifier as a journal observer', () => {
  it('runs per-state then generic scripts in order and writes keepalived FIFO lines', async () => {
    const log = path.join(dir, 'order.log');
    const per = script('per.sh', `echo "per $1" >> ${log}`);
    const gen = script('gen.sh', `echo "gen $*" >> ${log}`);
    const fifoPath = path.join(dir, 'notify.fifo');
    const fifo = new NotifyFifo(fifoPath);
    expect(fifo.open()).toBe(true);
    expect(fs.statSync(fifoPath).isFIFO()).toBe(true);
    const reader = fs.openSync(fifoPath, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const j = new Journal();
    const n = new Notifier(j, {
      instances: new Map([['VI_1', { master: { command: `${per} master` }, backup: { command: `${per} backup` }, generic: { command: gen } }]]),
      groups: new Map([['G1', { generic: { command: gen } }]]),
      vrrpFifos: [fifo],
      lvsFifos: [fifo],
    });
    n.start();
    const base = { instance: 'VI_1', vrid: 51, intf: 'eth0' };
    j.emit({ type: 'vrrp.notify', ...base, state: 'MASTER', priority: 150 });
    j.emit({ type: 'vrrp.group_notify', group: 'G1', state: 'MASTER' });
    j.emit({ type: 'vrrp.notify', ...base, state: 'BACKUP', priority: 150 });
    j.emit({ type: 'realserver.state', virtualServer: '[192.0.2.10]:tcp:80', realServer: '[198.51.100.2]:tcp:80', up: false, weight: 0, reason: 'checker' });
    await n.drain();
    await waitFor(() => fs.existsSync(log) && fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).length === 5, 'all notify scripts');
    const lines = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
    // per instance order is kept: MASTER scripts before BACKUP scripts
    const inst = lines.filter((l) => !l.includes('GROUP'));
    expect(inst).toEqual(['per master', 'gen INSTANCE VI_1 MASTER 150', 'per backup', 'gen INSTANCE VI_1 BACKUP 150']);
    expect(lines).toContain('gen GROUP G1 MASTER 0');
    const buf = Buffer.alloc(4096);
    const got = buf.subarray(0, fs.readSync(reader, buf)).toString();
    expect(got).toBe(
      'INSTANCE "VI_1" MASTER 150\nGROUP "G1" MASTER 0\nINSTANCE "VI_1" BACKUP 150\nRS [198.51.100.2]:tcp:80 [192.0.2.10]:tcp:80 DOWN\n',
    );
    const runs = j.recent().filter((e) => e.type === 'notify.run');
    expect(runs).toHaveLength(5);
    n.stop();
    fifo.close();
    fs.closeSync(reader);
  });
  it('a FIFO path that is a regular file is an error, not a crash', () => {
    const p = path.join(dir, 'plain');
    fs.writeFileSync(p, '');
    const f = new NotifyFifo(p);
    expect(f.open()).toBe(false);
    expect(f.write('x')).toMatch(/not a FIFO/);
  });
});
