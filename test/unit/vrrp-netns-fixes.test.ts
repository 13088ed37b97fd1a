/**
 * Pure logic behind bugs the namespace suite (test/netns/vrrp-*.test.ts) found in the
 * real daemon; each case is checked against the FSM itself (fsm.ts step) so the two
 * cannot drift apart.
 */
import { describe, expect, it } from 'vitest';
import { createFsm, fsmConfig, step, type FsmConfig, type FsmState } from '../../src/vrrp/fsm';
import { backupDiscards } from '../../src/vrrp/instance';
import { deletedNotifyState } from '../../src/daemon/build';

function backup(c: Partial<FsmConfig> = {}): FsmState {
  const s = createFsm(fsmConfig({ vrid: 51, primaryAddress: '192.0.2.11', version: 3, advertIntMs: 100, priority: 150, ...c }));
  const r = step(s, { type: 'start' }, 0);
  expect(r.state.state).toBe('BACKUP');
  return r.state;
}

/** does the FSM itself log keepalived's discard line for this advert? */
function fsmDiscards(s: FsmState, prio: number, now: number): boolean {
  const r = step(s, { type: 'advert', advert: { priority: prio, advertIntMs: 100 }, src: '192.0.2.12' }, now);
  return r.actions.some((a) => a.type === 'log' && /received lower priority \(\d+\) advert from .* - discarding/.test(a.message));
}

describe('backupDiscards (journal vrrp.advert.received.discarded)', () => {
  it('a BACKUP drops lower-priority adverts only when it may preempt', () => {
    const s = backup();
    for (const [prio, want] of [
      [90, true],
      [149, true],
      [150, false],
      [200, false],
      [0, false],
    ] as const) {
      expect(backupDiscards(s, prio, 10)).toBe(want);
      expect(fsmDiscards(s, prio, 10)).toBe(want);
    }
  });

  it('nopreempt accepts every advert', () => {
    const s = backup({ nopreempt: true });
    expect(backupDiscards(s, 90, 10)).toBe(false);
    expect(fsmDiscards(s, 90, 10)).toBe(false);
  });

  it('preempt_delay: accepted while the delay runs, discarded after it', () => {
    let s = backup({ preemptDelayMs: 2000 });
    expect(backupDiscards(s, 100, 10)).toBe(false);
    expect(fsmDiscards(s, 100, 10)).toBe(false);
    // the first lower-priority advert starts the delay (keepalived preempt_time)
    s = step(s, { type: 'advert', advert: { priority: 100, advertIntMs: 100 }, src: '192.0.2.12' }, 10).state;
    expect(s.preemptAt).toBe(2010);
    expect(backupDiscards(s, 100, 1000)).toBe(false);
    expect(fsmDiscards(s, 100, 1000)).toBe(false);
    expect(backupDiscards(s, 100, 2011)).toBe(true);
    expect(fsmDiscards(s, 100, 2011)).toBe(true);
  });

  it('only in BACKUP', () => {
    const init = createFsm(fsmConfig({ vrid: 51, primaryAddress: '192.0.2.11', priority: 150 }));
    expect(backupDiscards(init, 90, 0)).toBe(false);
  });
});

describe('deletedNotifyState (instance removed by SIGHUP)', () => {
  it('FAULT by default, DELETED with notify_deleted, nothing when already FAULT', () => {
    expect(deletedNotifyState('MASTER', false)).toBe('FAULT');
    expect(deletedNotifyState('BACKUP', false)).toBe('FAULT');
    expect(deletedNotifyState('FAULT', false)).toBeNull();
    expect(deletedNotifyState('MASTER', true)).toBe('DELETED');
    expect(deletedNotifyState('FAULT', true)).toBe('DELETED');
  });
});
