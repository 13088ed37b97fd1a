import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPid, removePidFile, writePidFile } from '../../src/cli/pidfile';
import { waitFor } from '../helpers/netns';

const root = path.resolve(__dirname, '../..');
const bin = path.join(root, 'bin/keepwatch');

describe('--signum prints numbers keepwatch really handles', () => {
  it('matches keepalived 2.2.7 for every name (shared/reference signum.txt)', () => {
    const ref = fs
      .readFileSync(path.join(root, '../shared/reference/keepalived-2.2.7/signum.txt'), 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_]+ \d+/.test(l))
      .map((l) => l.split(' '));
    expect(ref.length).toBe(6);
    for (const [name, num] of ref) expect(execFileSync(bin, [`--signum=${name}`], { encoding: 'utf8' })).toBe(`${num}\n`);
  });
  it('an unknown name prints "Unknown sigfunc" and exits 1', () => {
    let err: { status?: number; stderr?: string } = {};
    try {
      execFileSync(bin, ['--signum=BOGUS'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.status).toBe(1);
    expect(err.stderr).toBe('Unknown sigfunc BOGUS\n');
  });
  it('a process using installSignalHandlers survives SIGRTMIN+2 and SIGRTMAX-1 and sees them', async () => {
    const code = `
      const { installSignalHandlers, SIGNUMS } = require(${JSON.stringify(path.join(root, 'dist/cli/signals.js'))});
      const seen = [];
      const log = (x) => { seen.push(x); process.stdout.write(x + '\\n'); if (seen.length === 6) process.exit(0); };
      installSignalHandlers({ stop: (s) => log('stop'), reload: () => log('reload'), data: () => log('data'),
        stats: () => log('stats'), statsClear: () => log('stats_clear'), json: () => log('json') }, (w) => { console.error(w); process.exit(3); });
      process.stdout.write('ready\\n');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
    // listen for the exit now: the child may be gone before the last send() returns
    const exited = new Promise((r) => child.on('exit', r));
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    await waitFor(() => out.includes('ready'), 'child ready');
    // numeric, exactly as operators do: kill -s $(keepwatch --signum=JSON) PID
    const send = async (sig: string, expectLine: string) => {
      const num = execFileSync(bin, [`--signum=${sig}`], { encoding: 'utf8' }).trim();
      execFileSync('/bin/kill', ['-s', num, String(child.pid)]);
      await waitFor(() => out.includes(expectLine + '\n'), expectLine);
    };
    await send('JSON', 'json');
    await send('STATS_CLEAR', 'stats_clear');
    await send('DATA', 'data');
    await send('STATS', 'stats');
    await send('RELOAD', 'reload');
    await send('STOP', 'stop');
    const code2 = await exited;
    expect(code2).toBe(0);
    // SIGUSR1 must never have opened the inspector
    expect(out).not.toContain('Debugger');
  });
});

describe('pid files as keepalived writes them', () => {
  it('writes "PID\\n", refuses when a live process owns it, removes only its own', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-pid-'));
    const f = path.join(dir, 'sub', 'keepalived.pid');
    expect(writePidFile(f)).toBeNull();
    expect(fs.readFileSync(f, 'utf8')).toBe(`${process.pid}\n`);
    // a live other process (our parent) already holds it
    fs.writeFileSync(f, `${process.ppid}\n`);
    expect(writePidFile(f)).toMatch(/already running/);
    removePidFile(f);
    expect(readPid(f)).toBe(process.ppid);
    // a stale pid (no such process) is taken over
    fs.writeFileSync(f, '999999999\n');
    expect(writePidFile(f)).toBeNull();
    removePidFile(f);
    expect(fs.existsSync(f)).toBe(false);
    fs.rmSync(dir, { recursive: true });
  });
});
