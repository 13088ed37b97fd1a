import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { computePriority, type TrackerStatus } from '../../src/track/priority';
import { initialCounter, stepCounter, type ScriptCounter } from '../../src/track/script';
import { readTrackFile, FileTracker } from '../../src/track/file';
import { countMatching, matches } from '../../src/track/process';
import { waitFor } from '../helpers/netns';

const sc = (weight: number, ok: boolean | null, reverse = false): TrackerStatus => ({ kind: 'script', name: 's', weight, reverse, ok });

describe('effective priority (keepalived vrrp_track.c)', () => {
  it('adds a positive weight only while OK and a negative weight only while failing', () => {
    expect(computePriority(100, [sc(20, true)]).effective).toBe(120);
    expect(computePriority(100, [sc(20, false)]).effective).toBe(100);
    expect(computePriority(100, [sc(-30, true)]).effective).toBe(100);
    expect(computePriority(100, [sc(-30, false)]).effective).toBe(70);
  });
  it('reverse flips the sign', () => {
    expect(computePriority(100, [sc(20, true, true)]).effective).toBe(80);
    expect(computePriority(100, [sc(-30, false, true)]).effective).toBe(130);
  });
  it('an undecided script (init) contributes nothing', () => {
    expect(computePriority(100, [sc(20, null), sc(-30, null)]).effective).toBe(100);
  });
  it('clamps to 1..254 and never changes an address owner', () => {
    expect(computePriority(250, [sc(20, true)]).effective).toBe(254);
    expect(computePriority(10, [sc(-50, false)]).effective).toBe(1);
    expect(computePriority(255, [sc(-50, false)]).effective).toBe(255);
  });
  it('weight 0 makes the tracker a hard dependency (FAULT), reverse inverts it', () => {
    expect(computePriority(100, [sc(0, false)]).fault).toBe(true);
    expect(computePriority(100, [sc(0, true)]).fault).toBe(false);
    expect(computePriority(100, [sc(0, true, true)]).fault).toBe(true);
    expect(computePriority(100, [sc(0, null)]).fault).toBe(false);
    const ifDown: TrackerStatus = { kind: 'interface', name: 'eth1', weight: 0, reverse: false, ok: false };
    expect(computePriority(100, [ifDown]).faultBy?.name).toBe('eth1');
  });
  it('track_file: value × weight, weight 0 faults on non-zero, below -253 faults', () => {
    const f = (weight: number, value: number, reverse = false): TrackerStatus => ({ kind: 'file', name: 'f', weight, reverse, ok: null, value });
    expect(computePriority(100, [f(2, 10)]).effective).toBe(120);
    expect(computePriority(100, [f(2, 10, true)]).effective).toBe(80);
    expect(computePriority(100, [f(0, 3)]).fault).toBe(true);
    expect(computePriority(100, [f(0, 0)]).fault).toBe(false);
    expect(computePriority(100, [f(1, -300)]).fault).toBe(true);
  });
});

describe('vrrp_script rise/fall counter (vrrp_scheduler.c)', () => {
  const run = (rise: number, fall: number, initFail: boolean, seq: boolean[]) => {
    let c: ScriptCounter = initialCounter(rise, initFail);
    const flips: string[] = [];
    for (const s of seq) {
      const r = stepCounter(c, s, rise, fall);
      c = r.next;
      if (r.changed) flips.push(r.changed);
    }
    return { c, flips };
  };
  it('one success is enough at start-up, whatever rise is', () => {
    expect(run(3, 2, false, [true]).flips).toEqual(['good']);
  });
  it('a first failure is reported bad at once', () => {
    expect(run(2, 3, false, [false]).flips).toEqual(['bad']);
  });
  it('needs `fall` consecutive failures to go bad and `rise` successes to come back', () => {
    const r = run(2, 3, false, [true, false, false, true, false, false, false, true, true]);
    expect(r.flips).toEqual(['good', 'bad', 'good']);
  });
  it('init_fail starts failed and needs `rise` successes', () => {
    const r = run(3, 1, true, [true, true, true]);
    expect(r.flips).toEqual(['good']);
    expect(run(3, 1, true, [true, true]).flips).toEqual([]);
    expect(run(3, 1, true, [true, true]).c.status).toBe('init_failed');
  });
  it('rise 1 fall 1 flips on every change', () => {
    expect(run(1, 1, false, [true, false, true, true, false]).flips).toEqual(['good', 'bad', 'good', 'bad']);
  });
});

describe('track_file and track_process on the real filesystem and /proc', () => {
  it('reads numbers, treats garbage and missing files as 0, and follows changes via inotify', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-tf-'));
    const file = path.join(dir, 'prio');
    expect(readTrackFile(file)).toBe(0);
    fs.writeFileSync(file, '  -12\n');
    expect(readTrackFile(file)).toBe(-12);
    fs.writeFileSync(file, 'garbage');
    expect(readTrackFile(file)).toBe(0);
    const seen: number[] = [];
    const t = new FileTracker({ name: 'tf', file, init: { value: 5, overwrite: true } }, (_n, v) => seen.push(v));
    expect(t.value).toBe(5);
    t.start();
    fs.writeFileSync(file + '.tmp', '42\n');
    fs.renameSync(file + '.tmp', file); // replaced by rename, as config tools do
    await waitFor(() => seen.includes(42), 'inotify update');
    t.stop();
    fs.rmSync(dir, { recursive: true });
  });
  it('counts this very process by name and matches parameters exactly, initially or partially', () => {
    const comm = fs.readFileSync(`/proc/${process.pid}/comm`, 'utf8').trim();
    expect(countMatching({ process: comm })).toBeGreaterThanOrEqual(1);
    expect(countMatching({ process: 'no-such-proc-kw' })).toBe(0);
    const p = { comm: 'nginx', argv: ['nginx', '-g', 'daemon off;'] };
    expect(matches({ process: 'nginx' }, p)).toBe(true);
    expect(matches({ process: 'nginx', params: ['-g', 'daemon off;'] }, p)).toBe(true);
    expect(matches({ process: 'nginx', params: ['-g'] }, p)).toBe(false);
    expect(matches({ process: 'nginx', params: ['-g'], paramMatch: 'initial' }, p)).toBe(true);
    expect(matches({ process: 'nginx', params: ['daemon'], paramMatch: 'partial' }, p)).toBe(true);
    expect(matches({ process: 'ngin' }, p)).toBe(false);
  });
});
