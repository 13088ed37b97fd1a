import { describe, expect, it } from 'vitest';
import { createFsm, type FsmAction, type FsmEvent, type FsmState, type TimerName } from '../../src/vrrp/fsm';
import { createSyncGroup, gateFor, startSyncGroup, stopSyncGroup, syncStep, type GroupAction, type MemberStart, type SyncGroupState } from '../../src/vrrp/sync-group';
import { cfg } from './vrrp-sim';

/** A sync group driven by a fake scheduler: member timers live here; time is a number. */
class Group {
  g: SyncGroupState;
  m: Record<string, FsmState> = {};
  timers: Record<string, Map<TimerName, number>> = {};
  now = 0;
  log: Array<{ at: number; who: string; a: FsmAction }> = [];
  glog: Array<{ at: number; a: GroupAction }> = [];

  constructor(members: Record<string, Parameters<typeof cfg>[0]>) {
    this.g = createSyncGroup('G1', Object.keys(members));
    for (const [name, c] of Object.entries(members)) {
      this.m[name] = createFsm(cfg(c));
      this.timers[name] = new Map();
    }
  }

  apply(r: { group: SyncGroupState; members: Record<string, FsmState>; actions: Array<{ instance: string; actions: FsmAction[] }>; groupActions: GroupAction[] }): void {
    this.g = r.group;
    this.m = r.members;
    for (const { instance, actions } of r.actions) {
      for (const a of actions) {
        if (a.type === 'armTimer') this.timers[instance].set(a.timer, a.at);
        if (a.type === 'cancelTimer') this.timers[instance].delete(a.timer);
        this.log.push({ at: this.now, who: instance, a });
      }
    }
    for (const a of r.groupActions) this.glog.push({ at: this.now, a });
  }

  start(starts: Record<string, MemberStart> = {}): void {
    this.apply(startSyncGroup(this.g, this.m, starts, this.now));
  }

  ev(who: string, e: FsmEvent): void {
    this.apply(syncStep(this.g, this.m, who, e, this.now));
  }

  runUntil(t: number): void {
    for (;;) {
      let best: { who: string; name: TimerName; at: number } | null = null;
      for (const [who, ts] of Object.entries(this.timers)) for (const [name, at] of ts) if (!best || at < best.at) best = { who, name, at };
      if (!best || best.at > t) break;
      this.now = Math.max(this.now, best.at);
      this.timers[best.who].delete(best.name);
      this.ev(best.who, { type: 'timer', timer: best.name });
    }
    this.now = Math.max(this.now, t);
  }

  states(): string {
    return `${this.g.state}:${this.g.members.map((n) => this.m[n].state).join(',')}`;
  }

  acts<T extends FsmAction['type']>(type: T, since = 0, who?: string): Array<Extract<FsmAction, { type: T }> & { who: string; at: number }> {
    return this.log.filter((x) => x.at >= since && x.a.type === type && (!who || x.who === who)).map((x) => ({ ...(x.a as Extract<FsmAction, { type: T }>), who: x.who, at: x.at }));
  }

  groupNotifies(since = 0): string[] {
    return this.glog.filter((x) => x.at >= since && x.a.type === 'groupNotify').map((x) => (x.a as { state: string }).state);
  }
}

const two = (): Group =>
  new Group({
    VI_1: { vrid: 51, priority: 100, primaryAddress: '192.0.2.12' },
    VI_2: { vrid: 52, priority: 100, primaryAddress: '192.0.2.12' },
  });

describe('sync group start (vrrp_sync_set_group, vrrp_init_state)', () => {
  it('all members BACKUP: group BACKUP, notified', () => {
    const g = two();
    g.start();
    expect(g.states()).toBe('BACKUP:BACKUP,BACKUP');
    expect(g.groupNotifies()).toEqual(['BACKUP']);
    expect(g.acts('notify').map((n) => `${n.who}:${n.state}`)).toEqual(['VI_1:BACKUP', 'VI_2:BACKUP']);
  });

  it('one member with a fault: the whole group starts in FAULT, every member notified', () => {
    const g = two();
    g.start({ VI_2: { faults: [{ source: 'intf:eth1', reason: 'interface_down' }] } });
    expect(g.states()).toBe('FAULT:FAULT,FAULT');
    expect(g.groupNotifies()).toEqual(['FAULT']);
    expect(g.acts('notify').map((n) => `${n.who}:${n.state}`)).toEqual(['VI_1:FAULT', 'VI_2:FAULT']);
  });

  it('a member still waiting for a script holds every member in FAULT until it reports', () => {
    const g = two();
    g.start({ VI_1: { pending: ['script:chk'] } });
    expect(g.states()).toBe('INIT:FAULT,FAULT');
    expect(g.groupNotifies()).toEqual([]);
    expect(g.acts('notify')).toEqual([]);
    g.now = 100;
    g.ev('VI_1', { type: 'fault', source: 'script:chk', down: false, reason: 'track_script' });
    expect(g.states()).toBe('BACKUP:BACKUP,BACKUP');
    expect(g.groupNotifies()).toEqual(['BACKUP']);
    expect(g.timers.VI_2.get('master_down')).toBe(100 + 3609.375);
  });

  it('mixed owner / non-owner MASTER wishes: nobody starts wanting MASTER (vrrp_complete_init)', () => {
    const g = new Group({
      VI_1: { vrid: 51, priority: 255, primaryAddress: '192.0.2.12' },
      VI_2: { vrid: 52, priority: 100, initialState: 'MASTER', primaryAddress: '192.0.2.12' },
    });
    g.start();
    expect(g.m.VI_1.wantState).toBe('BACKUP');
    expect(g.m.VI_2.wantState).toBe('BACKUP');
    expect(g.timers.VI_1.get('master_down')).toBe(3003.906);
  });

  it('all address owners wanting MASTER: group MASTER, all members go MASTER at once', () => {
    const g = new Group({
      VI_1: { vrid: 51, priority: 255, primaryAddress: '192.0.2.12' },
      VI_2: { vrid: 52, priority: 255, primaryAddress: '192.0.2.12' },
    });
    g.start();
    g.runUntil(1);
    expect(g.states()).toBe('MASTER:MASTER,MASTER');
  });
});

describe('sync group transitions (vrrp_sync.c)', () => {
  it('MASTER only when every member wants it: a member whose timer fires first waits in BACKUP', () => {
    const g = new Group({
      VI_1: { vrid: 51, priority: 100, primaryAddress: '192.0.2.12' },
      VI_2: { vrid: 52, priority: 100, primaryAddress: '192.0.2.12', advertIntMs: 2000 },
    });
    g.start();
    g.runUntil(3609.375);
    // VI_1 timed out, but VI_2 still wants BACKUP: VI_1 waits with a fresh down timer
    expect(g.states()).toBe('BACKUP:BACKUP,BACKUP');
    expect(g.m.VI_1.wantState).toBe('MASTER');
    expect(g.timers.VI_1.get('master_down')).toBe(3609.375 * 2);
    // VI_2 times out at 6609.375: it goes MASTER and takes VI_1 with it
    g.runUntil(6609.375);
    expect(g.states()).toBe('MASTER:MASTER,MASTER');
    expect(g.groupNotifies()).toEqual(['BACKUP', 'MASTER']);
    expect(g.acts('transition').filter((t) => t.to === 'MASTER').map((t) => `${t.who}:${t.reason}`)).toEqual(['VI_2:master_timeout', 'VI_1:sync_group']);
  });

  it('an advert received while held by the group makes the member want BACKUP again', () => {
    const g = new Group({
      VI_1: { vrid: 51, priority: 100, primaryAddress: '192.0.2.12' },
      VI_2: { vrid: 52, priority: 100, primaryAddress: '192.0.2.12', advertIntMs: 2000 },
    });
    g.start();
    g.runUntil(3609.375);
    expect(g.m.VI_1.wantState).toBe('MASTER');
    g.now = 4000;
    g.ev('VI_1', { type: 'advert', advert: { priority: 150, advertIntMs: 1000 }, src: '192.0.2.11' });
    expect(g.m.VI_1.wantState).toBe('BACKUP');
    g.runUntil(6609.375);
    // VI_2 times out but VI_1 no longer wants MASTER: VI_2 waits too
    expect(g.states()).toBe('BACKUP:BACKUP,BACKUP');
  });

  it('one member yielding to a higher priority master takes the others out of MASTER (vrrp_sync_backup)', () => {
    const g = two();
    g.start();
    g.runUntil(4000);
    expect(g.states()).toBe('MASTER:MASTER,MASTER');
    const t = (g.now = 4500);
    g.ev('VI_2', { type: 'advert', advert: { priority: 200, advertIntMs: 1000 }, src: '192.0.2.11' });
    expect(g.states()).toBe('BACKUP:BACKUP,BACKUP');
    expect(g.groupNotifies(t)).toEqual(['BACKUP']);
    expect(g.acts('transition', t).map((x) => `${x.who}:${x.reason}`)).toEqual(['VI_2:higher_priority_master', 'VI_1:sync_group']);
    // no priority 0 on a sync backup (leave_master advF=false)
    expect(g.acts('sendAdvert', t)).toEqual([]);
    expect(g.acts('removeVips', t).map((x) => x.who)).toEqual(['VI_2', 'VI_1']);
  });

  it('one member faulting takes every member to FAULT (vrrp_sync_fault); all must clear to come back', () => {
    const g = two();
    g.start();
    g.runUntil(4000);
    const t = (g.now = 4200);
    g.ev('VI_1', { type: 'fault', source: 'intf:eth0', down: true, reason: 'interface_down' });
    expect(g.states()).toBe('FAULT:FAULT,FAULT');
    expect(g.groupNotifies(t)).toEqual(['FAULT']);
    // VI_1 (own fault): two priority 0, one counted; VI_2 (synced): one, uncounted
    expect(g.acts('sendAdvert', t).map((x) => `${x.who}:${x.priority}`)).toEqual(['VI_1:0', 'VI_1:0', 'VI_2:0']);
    expect(g.acts('count', t).filter((c) => c.counter === 'pri_zero_sent').map((c) => c.who)).toEqual(['VI_1']);
    expect(g.acts('transition', t).map((x) => `${x.who}:${x.reason}`)).toEqual(['VI_1:interface_down', 'VI_2:sync_group']);

    g.now = 5000;
    g.ev('VI_2', { type: 'fault', source: 'script:x', down: true, reason: 'track_script' });
    // VI_2 was already FAULT because of the group: its own FAULT notify is suppressed
    expect(g.acts('notify', 5000)).toEqual([]);
    g.now = 6000;
    g.ev('VI_1', { type: 'fault', source: 'intf:eth0', down: false, reason: 'interface_up' });
    expect(g.states()).toBe('FAULT:FAULT,FAULT'); // VI_2 still has its own fault
    g.now = 7000;
    g.ev('VI_2', { type: 'fault', source: 'script:x', down: false, reason: 'track_script' });
    expect(g.states()).toBe('BACKUP:BACKUP,BACKUP');
    expect(g.groupNotifies(7000)).toEqual(['BACKUP']);
    expect(g.timers.VI_1.get('master_down')).toBe(7000 + 3609.375);
    expect(g.timers.VI_2.get('master_down')).toBe(7000 + 3609.375);
  });

  it('a MASTER member hearing a lower priority makes the other members send their lower-prio GARPs', () => {
    const g = two();
    g.start();
    g.runUntil(4000);
    const t = (g.now = 4300);
    g.ev('VI_1', { type: 'advert', advert: { priority: 50, advertIntMs: 1000 }, src: '192.0.2.11' });
    expect(g.acts('sendGarp', t).map((x) => `${x.who}:${x.why}`)).toEqual(['VI_1:lower_prio', 'VI_2:lower_prio']);
  });

  it('a VIP deleted under one MASTER: every MASTER member leaves with priority 0 and retakes; group BACKUP silently, then MASTER', () => {
    const g = two();
    g.start();
    g.runUntil(4000);
    const t = (g.now = 4100);
    g.ev('VI_1', { type: 'vipDeleted' });
    expect(g.states()).toBe('BACKUP:BACKUP,BACKUP');
    expect(g.groupNotifies(t)).toEqual([]);
    expect(g.acts('count', t).filter((c) => c.counter === 'pri_zero_sent').map((c) => c.who)).toEqual(['VI_1', 'VI_2']);
    g.runUntil(t + 3 * 609.375);
    expect(g.states()).toBe('MASTER:MASTER,MASTER');
    expect(g.groupNotifies(t)).toEqual(['MASTER']);
  });

  it('stop: members STOP (a MASTER sends priority 0), then the group STOP', () => {
    const g = two();
    g.start();
    g.runUntil(4000);
    g.now = 4400;
    g.apply(stopSyncGroup(g.g, g.m, g.now));
    expect(g.states()).toBe('STOP:STOP,STOP');
    expect(g.acts('sendAdvert', 4400).map((x) => x.priority)).toEqual([0, 0]);
    expect(g.groupNotifies(4400)).toEqual(['STOP']);
  });

  it('the gate a member sees reflects the others', () => {
    const g = two();
    g.start({ VI_2: { pending: ['s'] } });
    expect(gateFor(g.g, g.m, 'VI_1')).toEqual({ groupState: 'INIT', othersWantMaster: false, othersFaulty: false, othersPending: true });
  });
});

