import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventInput } from '../../src/journal/events';
import { Journal } from '../../src/journal/journal';
import { attachLogger, createLogger, fmtService, formatCTime, type LoggerOptions } from '../../src/observe/log';
import { REF_DIR } from '../obs/fixtures';

let oldTz: string | undefined;
beforeAll(() => {
  oldTz = process.env.TZ;
  process.env.TZ = 'UTC'; // the reference logs were captured on a UTC host
});
afterAll(() => {
  if (oldTz === undefined) delete process.env.TZ;
  else process.env.TZ = oldTz;
});

function rig(opts: LoggerOptions) {
  let wall = 0;
  const journal = new Journal({ mono: () => wall, wall: () => wall });
  const out: string[] = [];
  const logger = createLogger({ ...opts, destination: { write: (s: string) => void out.push(s) } });
  const detach = attachLogger(journal, logger);
  return {
    out,
    detach,
    /** emit at a wall time in seconds (reference logs carry epoch seconds) */
    at(sec: number, e: EventInput) {
      wall = Math.round(sec * 1000);
      journal.emit(e as never);
    },
  };
}

const I = { instance: 'VI_1', vrid: 51, intf: 'eth0' } as const;

/** keepalived's stderr lines from a reference log (the first column is the harness's timestamp). */
function refLines(file: string, keep: (msg: string) => boolean): string[] {
  return readFileSync(path.join(REF_DIR, 'logs', file), 'utf8')
    .split('\n')
    .filter((l) => / \d{4}: /.test(l))
    .map((l) => l.slice(l.indexOf(' ') + 1))
    .filter((l) => keep(l.slice(l.indexOf(': ') + 2)));
}

/** the lines keepalived prints that have a journal counterpart (banner, netlink setup, fds … do not) */
const OURS = /^(\(VI_1\)|VRRP_Script|Sending |Stopping$)/;

describe('console mode (-l -D): keepalived 2.2.7 lines, timestamps included', () => {
  it('reproduces the v2 backup run (init, priority 0, takeover, GARPs, stop)', () => {
    const r = rig({ console: true, detail: true });
    r.at(1795515060.438031, { type: 'vrrp.vip', ...I, op: 'remove', address: '192.0.2.50', dev: 'eth0', ok: true });
    r.at(1795515060.438089, { type: 'vrrp.transition', ...I, from: 'INIT', to: 'BACKUP', reason: 'startup', priority: 100, masterPriority: 0 });
    r.at(1795515060.440381, { type: 'track.script', name: 'chk_file', result: 'success', exitCode: 0, durationMs: 2, status: 'good' });
    for (let k = 0; k < 10; k++) r.at(1795515061 + k, { type: 'vrrp.advert.received', ...I, src: '192.0.2.11', priority: 150, advertIntCs: 100, inMaster: false });
    r.at(1795515073.341747, { type: 'vrrp.advert.received', ...I, src: '192.0.2.11', priority: 0, advertIntCs: 100, inMaster: false });
    r.at(1795515073.951209, { type: 'vrrp.master_down', ...I, intervalMs: 609.4 });
    r.at(1795515073.951269, { type: 'vrrp.transition', ...I, from: 'BACKUP', to: 'MASTER', reason: 'priority_zero_received', priority: 100, masterPriority: 0 });
    r.at(1795515073.951294, { type: 'vrrp.vip', ...I, op: 'add', address: '192.0.2.50', dev: 'eth0', ok: true });
    r.at(1795515073.951331, { type: 'vrrp.garp', ...I, family: 'ipv4', count: 5, dev: 'eth0', address: '192.0.2.50' });
    r.at(1795515076.434188, { type: 'daemon.stop', signal: 'SIGTERM' });
    r.at(1795515076.435662, { type: 'vrrp.advert.sent', ...I, priority: 0, scheduledMono: 0, lagMs: 0 });
    r.at(1795515076.435706, { type: 'vrrp.vip', ...I, op: 'remove', address: '192.0.2.50', dev: 'eth0', ok: true });
    r.at(1795515076.4358, { type: 'vrrp.transition', ...I, from: 'MASTER', to: 'STOP', reason: 'shutdown', priority: 100, masterPriority: 0 });
    expect(r.out.map((l) => l.replace(/\n$/, ''))).toEqual(refLines('v2-backup.log', (m) => OURS.test(m)));
  });

  it('reproduces the v2 master start-up (advert timeout from the transition reason alone)', () => {
    const r = rig({ console: true, detail: true });
    r.at(1795515060.475126, { type: 'vrrp.vip', ...I, op: 'remove', address: '192.0.2.50', dev: 'eth0', ok: true });
    r.at(1795515060.482333, { type: 'vrrp.transition', ...I, from: 'INIT', to: 'BACKUP', reason: 'startup', priority: 150, masterPriority: 0 });
    r.at(1795515060.482405, { type: 'track.script', name: 'chk_file', result: 'success', exitCode: 0, durationMs: 2, status: 'good' });
    r.at(1795515063.893047, { type: 'vrrp.transition', ...I, from: 'BACKUP', to: 'MASTER', reason: 'master_timeout', priority: 150, masterPriority: 0 });
    r.at(1795515063.893123, { type: 'vrrp.vip', ...I, op: 'add', address: '192.0.2.50', dev: 'eth0', ok: true });
    r.at(1795515063.89336, { type: 'vrrp.garp', ...I, family: 'ipv4', count: 5, dev: 'eth0', address: '192.0.2.50' });
    const got = r.out.map((l) => l.slice(l.indexOf(': ') + 2).replace(/\n$/, ''));
    const want = refLines('v2-snmp-master.log', (m) => OURS.test(m))
      .map((l) => l.slice(l.indexOf(': ') + 2))
      .slice(0, got.length);
    expect(got).toEqual(want);
    expect(got.slice(0, 6)).toEqual([
      '(VI_1) removing VIPs.',
      '(VI_1) Entering BACKUP STATE (init)',
      'VRRP_Script(chk_file) succeeded',
      '(VI_1) Receive advertisement timeout',
      '(VI_1) Entering MASTER STATE',
      '(VI_1) setting VIPs.',
    ]);
  });

  it('IPv6: unsolicited neighbour advert lines', () => {
    const r = rig({ console: true, detail: true });
    r.at(1795515108.904539, { type: 'vrrp.garp', ...I, family: 'ipv6', count: 5, dev: 'eth0', address: '2001:db8::50' });
    const want = refLines('vrrp-v3-ipv6-h2.log', (m) => /Neighbour Advert/.test(m));
    expect(want).toHaveLength(6);
    expect(r.out.map((l) => l.slice(l.indexOf(': ') + 2).replace(/\n$/, ''))).toEqual(want.map((l) => l.slice(l.indexOf(': ') + 2)));
  });

  it('without -D the detail-only lines are not printed', () => {
    const r = rig({ console: true, detail: false });
    r.at(1795515073.341747, { type: 'vrrp.advert.received', ...I, src: '192.0.2.11', priority: 0, advertIntCs: 100, inMaster: false });
    r.at(1795515073.951269, { type: 'vrrp.transition', ...I, from: 'BACKUP', to: 'MASTER', reason: 'master_timeout', priority: 100, masterPriority: 0 });
    r.at(1795515073.951331, { type: 'vrrp.garp', ...I, family: 'ipv4', count: 5, dev: 'eth0', address: '192.0.2.50' });
    r.at(1795515076.435662, { type: 'vrrp.advert.sent', ...I, priority: 0, scheduledMono: 0, lagMs: 0 });
    // "Receive advertisement timeout" is a LOG_DETAIL line in keepalived 2.2.7 (vrrp_scheduler.c)
    expect(r.out).toEqual(['Tue Nov 24 10:11:13 2026: (VI_1) Entering MASTER STATE\n']);
  });

  it('priority changes, preemption, lower-priority adverts, FAULT, scripts, netlink, sync groups', () => {
    const r = rig({ console: true });
    const t = 1795515100;
    r.at(t, { type: 'track.script', name: 'chk_file', result: 'success', exitCode: 0, durationMs: 2, status: 'good' });
    r.at(t, { type: 'track.script', name: 'chk_file', result: 'failure', exitCode: 1, durationMs: 2, status: 'good' });
    r.at(t, { type: 'track.script', name: 'chk_file', result: 'failure', exitCode: 1, durationMs: 2, status: 'bad' });
    r.at(t, { type: 'track.script', name: 'chk_file', result: 'failure', exitCode: 1, durationMs: 2, status: 'bad' });
    r.at(t, { type: 'vrrp.priority', ...I, from: 150, to: 90, cause: 'track_script chk_file' });
    r.at(t, { type: 'vrrp.advert.received', ...I, src: '192.0.2.11', priority: 90, advertIntCs: 100, inMaster: false, discarded: 'lower_priority' });
    r.at(t, { type: 'vrrp.transition', ...I, from: 'MASTER', to: 'BACKUP', reason: 'higher_priority_master', priority: 90, masterPriority: 100, masterAddress: '192.0.2.12' });
    r.at(t, { type: 'track.script', name: 'chk_t', result: 'timeout', exitCode: null, durationMs: 5000, status: 'bad' });
    r.at(t, { type: 'track.interface', intf: 'eth0', up: false });
    r.at(t, { type: 'vrrp.transition', ...I, from: 'BACKUP', to: 'FAULT', reason: 'interface_down', priority: 90, masterPriority: 100 });
    r.at(t, { type: 'vrrp.sync_group', group: 'G1', from: 'BACKUP', to: 'FAULT', reason: 'sync_group' });
    r.at(t, { type: 'daemon.signal', signal: 'SIGUSR2', action: 'STATS' });
    r.at(t, { type: 'realserver.state', virtualServer: '192.0.2.100:80', realServer: '198.51.100.22:80', up: false, weight: 0, reason: 'HTTP_GET' });
    expect(r.out.map((l) => l.slice(26).replace(/\n$/, ''))).toEqual([
      'VRRP_Script(chk_file) succeeded',
      'Script `chk_file` now returning 1',
      'VRRP_Script(chk_file) failed (exited with status 1)',
      '(VI_1) Changing effective priority from 150 to 90',
      '(VI_1) received lower priority (90) advert from 192.0.2.11 - discarding',
      '(VI_1) Master received advert from 192.0.2.12 with higher priority 100, ours 90',
      '(VI_1) Entering BACKUP STATE',
      'VRRP_Script(chk_t) timed_out',
      'Netlink reports eth0 down',
      '(VI_1) Entering FAULT STATE',
      'VRRP_Group(G1) Syncing instances to FAULT state',
      `Printing VRRP stats for process(${process.pid}) on signal`,
      'Removing service [198.51.100.22]:80 from VS [192.0.2.100]:80',
    ]);
  });

  it('formats %c like the C locale (space-padded day)', () => {
    expect(formatCTime(Date.UTC(2026, 10, 4, 9, 5, 7))).toBe('Wed Nov  4 09:05:07 2026');
    expect(fmtService('[2001:db8::1]:80')).toBe('[2001:db8::1]:80');
    expect(fmtService('fwmark:7')).toBe('FWM 7');
  });
});

describe("the engine's own keepalived lines (vrrp.log / lvs.log)", () => {
  const tick = () => new Promise((r) => setImmediate(r));

  it('console: each line once, engine-only lines kept, detail lines only with -D', async () => {
    for (const detail of [false, true]) {
      const r = rig({ console: true, detail });
      const t = 1795515200;
      // what the FSM journals for a takeover: its text first, then the structured event
      r.at(t, { type: 'vrrp.log', level: 'info', message: '(VI_1) Master received advert from 192.0.2.9 with same priority 100 but higher IP address than ours' });
      r.at(t, { type: 'vrrp.log', level: 'info', message: '(VI_1) Entering BACKUP STATE' });
      r.at(t, { type: 'vrrp.transition', ...I, from: 'MASTER', to: 'BACKUP', reason: 'higher_priority_master', priority: 100, masterPriority: 100, masterAddress: '192.0.2.9' });
      r.at(t, { type: 'vrrp.log', level: 'debug', message: '(VI_1) Receive advertisement timeout' });
      r.at(t, { type: 'vrrp.log', level: 'info', message: '(VI_1) Entering MASTER STATE' });
      r.at(t, { type: 'vrrp.transition', ...I, from: 'BACKUP', to: 'MASTER', reason: 'master_timeout', priority: 150, masterPriority: 0 });
      r.at(t, { type: 'vrrp.log', level: 'info', message: '(VI_1) Received advert from 192.0.2.12 with lower priority 90, ours 150, forcing new election' });
      r.at(t, { type: 'lvs.log', level: 'warning', message: 'VS 192.0.2.100:80: quorum 5 is more than the total weight, clamping' });
      await tick();
      // a line the engine printed in an earlier tick is not printed again by the structured event
      r.at(t + 0.2, { type: 'vrrp.log', level: 'info', message: 'VRRP_Script(chk_file) succeeded' });
      await tick();
      r.at(t + 0.3, { type: 'track.script', name: 'chk_file', result: 'success', exitCode: 0, durationMs: 2, status: 'good', changed: 'good' });
      await tick();
      expect(r.out.map((l) => l.slice(26).replace(/\n$/, ''))).toEqual([
        '(VI_1) Master received advert from 192.0.2.9 with same priority 100 but higher IP address than ours',
        '(VI_1) Entering BACKUP STATE',
        ...(detail ? ['(VI_1) Receive advertisement timeout'] : []),
        '(VI_1) Entering MASTER STATE',
        '(VI_1) Received advert from 192.0.2.12 with lower priority 90, ours 150, forcing new election',
        'VS 192.0.2.100:80: quorum 5 is more than the total weight, clamping',
        'VRRP_Script(chk_file) succeeded',
      ]);
    }
  });

  it('a bad-packet flood (vrrp.error + the engine\'s text for each) prints one keepalived line per second', async () => {
    const r = rig({ console: true });
    for (let k = 0; k < 500; k++) {
      r.at(20 + k * 0.001, { type: 'vrrp.error', ...I, counter: 'ip_ttl_err', src: '192.0.2.66', detail: 'invalid TTL/HL. Received 64 and expect 255' });
      r.at(20 + k * 0.001, { type: 'vrrp.log', level: 'info', message: '(VI_1) invalid TTL/HL. Received 64 and expect 255' });
    }
    await tick();
    r.at(21.2, { type: 'vrrp.error', ...I, counter: 'ip_ttl_err', src: '192.0.2.66', detail: 'invalid TTL/HL. Received 64 and expect 255' });
    r.at(21.2, { type: 'vrrp.log', level: 'info', message: '(VI_1) invalid TTL/HL. Received 64 and expect 255' });
    await tick();
    expect(r.out.map((l) => l.slice(26).replace(/\n$/, ''))).toEqual([
      '(VI_1) invalid TTL/HL. Received 64 and expect 255',
      '(VI_1) invalid TTL/HL. Received 64 and expect 255 [499 similar suppressed]',
    ]);
  });

  it('JSON: the structured record replaces the engine duplicate of the same tick', async () => {
    const r = rig({ console: false });
    r.at(5, { type: 'vrrp.log', level: 'info', message: '(VI_1) Changing effective priority from 150 to 90' });
    r.at(5, { type: 'vrrp.priority', ...I, from: 150, to: 90, cause: 'track_script' });
    r.at(5, { type: 'vrrp.log', level: 'error', message: '(VI_1) cannot open VRRP socket on eth9: ENODEV' });
    await new Promise((res) => setImmediate(res));
    const recs = r.out.map((l) => JSON.parse(l));
    expect(recs.map((x) => [x.event, x.level, x.msg])).toEqual([
      ['vrrp.priority', 'info', '(VI_1) Changing effective priority from 150 to 90'],
      ['vrrp.log', 'error', '(VI_1) cannot open VRRP socket on eth9: ENODEV'],
    ]);
    expect(recs[0]).toMatchObject({ from: 150, to: 90, cause: 'track_script', time: 5000 });
  });
});

describe('JSON mode', () => {
  it('one JSON line per event that matters, with fields and the keepalived message', () => {
    const r = rig({ console: false });
    r.at(1795515063.893, { type: 'vrrp.transition', ...I, from: 'BACKUP', to: 'MASTER', reason: 'master_timeout', priority: 150, masterPriority: 0 });
    r.at(1795515063.894, { type: 'vrrp.advert.sent', ...I, priority: 150, scheduledMono: 0, lagMs: 0.2 });
    r.at(1795515063.895, { type: 'vrrp.advert.received', ...I, src: '192.0.2.12', priority: 100, advertIntCs: 100, inMaster: true });
    r.at(1795515063.896, { type: 'notify.run', event: 'MASTER', target: 'VI_1', command: '/bin/false', exitCode: 1, durationMs: 3 });
    expect(r.out).toHaveLength(2);
    const a = JSON.parse(r.out[0]);
    expect(a).toMatchObject({ level: 'info', time: 1795515063893, pid: process.pid, event: 'vrrp.transition', instance: 'VI_1', vrid: 51, intf: 'eth0', from: 'BACKUP', to: 'MASTER', reason: 'master_timeout', priority: 150, msg: '(VI_1) Entering MASTER STATE' });
    const b = JSON.parse(r.out[1]);
    expect(b).toMatchObject({ level: 'warn', event: 'notify.run', notifyEvent: 'MASTER', exitCode: 1 });
  });

  it('GARP in JSON is one line with the count (detail-only → debug without -D)', () => {
    const r = rig({ console: false, level: 'debug' });
    r.at(1, { type: 'vrrp.garp', ...I, family: 'ipv4', count: 5, dev: 'eth0', address: '192.0.2.50' });
    expect(r.out).toHaveLength(1);
    expect(JSON.parse(r.out[0])).toMatchObject({ level: 'debug', count: 5, msg: '(VI_1) Sending/queueing gratuitous ARPs on eth0 for 192.0.2.50' });
  });

  it('a flood of bad packets is rate-limited per instance and counter', () => {
    const r = rig({ console: false });
    for (let k = 0; k < 1000; k++) r.at(10 + k * 0.001, { type: 'vrrp.error', ...I, counter: 'ip_ttl_err', src: '192.0.2.66' });
    r.at(11.5, { type: 'vrrp.error', ...I, counter: 'ip_ttl_err', src: '192.0.2.66' });
    r.at(11.5, { type: 'vrrp.error', ...I, counter: 'auth_failure', src: '192.0.2.66' });
    expect(r.out).toHaveLength(3);
    expect(JSON.parse(r.out[1])).toMatchObject({ counter: 'ip_ttl_err', suppressed: 999 });
    expect(JSON.parse(r.out[2])).toMatchObject({ counter: 'auth_failure', suppressed: 0 });
  });

  it('level filtering and detaching', () => {
    const r = rig({ console: false, level: 'warn' });
    r.at(1, { type: 'vrrp.transition', ...I, from: 'BACKUP', to: 'MASTER', reason: 'master_timeout', priority: 150, masterPriority: 0 });
    r.at(2, { type: 'config.error', file: '/etc/keepalived/keepalived.conf', diagnostics: [{ severity: 'error', file: 'k.conf', line: 12, message: 'unknown keyword "foo"' }] });
    r.detach();
    r.at(3, { type: 'config.error', file: 'x', diagnostics: [] });
    expect(r.out.map((l) => JSON.parse(l).msg)).toEqual(['k.conf:12: unknown keyword "foo"']);
  });
});
