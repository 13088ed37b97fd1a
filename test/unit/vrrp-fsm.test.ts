import { describe, expect, it } from 'vitest';
import { acceptsAdverts, createFsm, effectivePriorityOf, fsmConfig, masterDownMs, shouldCheckAddresses, skewMs, step, type FsmAction } from '../../src/vrrp/fsm';
import { cfg, Lan, of, Sim } from './vrrp-sim';

const MDI_V2_P100 = 3609.375; // 3 × 1000 + (256−100)/256 s
const SKEW_V2_P100 = 609.375;
const MDI_V2_P150 = 3414.062;

/** a BACKUP instance (priority 100, v2, 1 s) started at t=0 */
function backup(over: Parameters<typeof cfg>[0] = {}): Sim {
  const sim = new Sim(cfg(over));
  sim.ev({ type: 'start' });
  return sim;
}

/** an instance brought to MASTER by its own down timer */
function master(over: Parameters<typeof cfg>[0] = {}): Sim {
  const sim = backup(over);
  sim.fire();
  expect(sim.s.state).toBe('MASTER');
  return sim;
}

const types = (acts: FsmAction[]): string[] => acts.filter((a) => a.type !== 'log').map((a) => a.type);

// ---------------------------------------------------------------------------
describe('RFC 3768 / RFC 5798 §6.4.1 Initialize', () => {
  it('Startup with priority 255: becomes MASTER at once (keepalived: via BACKUP with a 1 µs down timer)', () => {
    const sim = new Sim(cfg({ priority: 255 }));
    const a = sim.ev({ type: 'start' });
    expect(sim.s.state).toBe('BACKUP');
    // the transient BACKUP is not notified (vrrp_init_state owner branch)
    expect(of(a, 'notify')).toEqual([]);
    expect(of(a, 'armTimer')).toEqual([{ type: 'armTimer', timer: 'master_down', at: 0.001 }]);
    const m = sim.fire();
    expect(sim.s.state).toBe('MASTER');
    // "Send an ADVERTISEMENT; Broadcast a gratuitous ARP ...; Set the Adver_Timer to Advertisement_Interval"
    expect(types(m)).toEqual(['transition', 'cancelTimer', 'armTimer', 'sendAdvert', 'count', 'addVips', 'sendGarp', 'notify', 'armTimer']);
    expect(of(m, 'sendAdvert')).toEqual([{ type: 'sendAdvert', priority: 255 }]);
    expect(of(m, 'transition')[0]).toMatchObject({ from: 'BACKUP', to: 'MASTER', reason: 'address_owner', masterReason: 'preempted' });
    expect(of(m, 'armTimer')[0]).toEqual({ type: 'armTimer', timer: 'advert', at: 1000.001 });
  });

  it('Startup with priority < 255: BACKUP, Master_Down_Timer = Master_Down_Interval', () => {
    const sim = new Sim(cfg());
    const a = sim.ev({ type: 'start' });
    expect(sim.s.state).toBe('BACKUP');
    expect(of(a, 'transition')[0]).toMatchObject({ from: 'INIT', to: 'BACKUP', reason: 'startup' });
    expect(of(a, 'notify')).toEqual([{ type: 'notify', state: 'BACKUP' }]);
    expect(of(a, 'armTimer')).toEqual([{ type: 'armTimer', timer: 'master_down', at: MDI_V2_P100 }]);
    expect(of(a, 'log').map((l) => l.message)).toContain('Entering BACKUP STATE (init)');
  });

  it('v3 uses Master_Adver_Interval = Advertisement_Interval at start (RFC 5798 §6.4.1)', () => {
    const sim = new Sim(cfg({ version: 3, advertIntMs: 100 }));
    const a = sim.ev({ type: 'start' });
    expect(of(a, 'armTimer')[0].at).toBe(360.937);
  });

  it('keepalived: `state MASTER` with priority < 255 does not shorten start-up (RESULTS.md §4)', () => {
    const sim = new Sim(cfg({ priority: 150, initialState: 'MASTER', primaryAddress: '192.0.2.11' }));
    sim.ev({ type: 'start' });
    expect(sim.s.state).toBe('BACKUP');
    expect(sim.nextTimer()).toEqual(['master_down', MDI_V2_P150]);
  });

  it('`state MASTER` without a priority means priority 255; no state means MASTER iff 255 (vrrp_complete_instance)', () => {
    expect(fsmConfig({ vrid: 1, primaryAddress: '192.0.2.1', initialState: 'MASTER' }).priority).toBe(255);
    expect(fsmConfig({ vrid: 1, primaryAddress: '192.0.2.1' })).toMatchObject({ priority: 100, initialState: 'BACKUP' });
    expect(fsmConfig({ vrid: 1, primaryAddress: '192.0.2.1', priority: 255 }).initialState).toBe('MASTER');
    expect(createFsm(fsmConfig({ vrid: 1, primaryAddress: '192.0.2.1', priority: 255 })).wantState).toBe('MASTER');
    // defaults: garp_lower_prio_* follow garp_master_*
    expect(fsmConfig({ vrid: 1, primaryAddress: '192.0.2.1', garpMasterDelayMs: 2000, garpMasterRepeat: 3 })).toMatchObject({ garpLowerPrioDelayMs: 2000, garpLowerPrioRepeat: 3 });
  });

  it('a fault at start puts the instance in FAULT (notified); no timer runs', () => {
    const sim = new Sim(cfg());
    const a = sim.ev({ type: 'start', faults: [{ source: 'intf:eth0', reason: 'interface_down' }] });
    expect(sim.s.state).toBe('FAULT');
    expect(of(a, 'transition')[0]).toMatchObject({ to: 'FAULT', reason: 'interface_down' });
    expect(of(a, 'notify')).toEqual([{ type: 'notify', state: 'FAULT' }]);
    expect(sim.timers.size).toBe(0);
  });

  it('weight-0 scripts still in their first run: FAULT without a notify; first success → BACKUP', () => {
    const sim = new Sim(cfg());
    const a = sim.ev({ type: 'start', pending: ['script:chk'] });
    expect(sim.s.state).toBe('FAULT');
    expect(of(a, 'notify')).toEqual([]);
    sim.now = 500;
    const b = sim.ev({ type: 'fault', source: 'script:chk', down: false, reason: 'track_script' });
    expect(sim.s.state).toBe('BACKUP');
    expect(of(b, 'notify')).toEqual([{ type: 'notify', state: 'BACKUP' }]);
    expect(sim.nextTimer()).toEqual(['master_down', 500 + MDI_V2_P100]);
  });

  it('weight-0 script in its first run that fails: FAULT is notified then', () => {
    const sim = new Sim(cfg());
    sim.ev({ type: 'start', pending: ['script:chk'] });
    const b = sim.ev({ type: 'fault', source: 'script:chk', down: true, reason: 'track_script' });
    expect(sim.s.state).toBe('FAULT');
    expect(of(b, 'notify')).toEqual([{ type: 'notify', state: 'FAULT' }]);
  });

  it('an address owner waiting for its scripts goes MASTER as soon as they report (try_up_instance, leaving init)', () => {
    const sim = new Sim(cfg({ priority: 255 }));
    sim.ev({ type: 'start', pending: ['script:chk'] });
    expect(sim.s.state).toBe('FAULT');
    sim.now = 300;
    const a = sim.ev({ type: 'fault', source: 'script:chk', down: false, reason: 'track_script' });
    expect(sim.s.state).toBe('MASTER');
    expect(of(a, 'sendAdvert')).toEqual([{ type: 'sendAdvert', priority: 255 }]);
  });

  it('vrrp_startup_delay: BACKUP timers run from the end of the delay', () => {
    const sim = new Sim(cfg({ startupDelayUntil: 2000 }));
    sim.ev({ type: 'start' });
    expect(sim.nextTimer()).toEqual(['master_down', 2000 + MDI_V2_P100]);
    const owner = new Sim(cfg({ priority: 255, startupDelayUntil: 2000 }));
    owner.ev({ type: 'start' });
    expect(owner.nextTimer()).toEqual(['master_down', 2000.001]);
  });
});

// ---------------------------------------------------------------------------
describe('RFC 3768 / RFC 5798 §6.4.2 Backup', () => {
  it('"If a Shutdown event is received: Cancel the Master_Down_Timer, Transition to the {Initialize} state" (keepalived: STOP)', () => {
    const sim = backup();
    const a = sim.ev({ type: 'shutdown' });
    expect(sim.s.state).toBe('STOP');
    expect(types(a)).toEqual(['cancelTimer', 'transition', 'notify']);
    expect(of(a, 'sendAdvert')).toEqual([]); // only a MASTER sends priority 0
    expect(sim.timers.size).toBe(0);
    // and nothing happens any more
    expect(step(sim.s, { type: 'timer', timer: 'master_down' }, 1e9).actions).toEqual([]);
  });

  it('"If the Master_Down_Timer fires: Send an ADVERTISEMENT, Broadcast a gratuitous ARP, Set the Adver_Timer, Transition to {Master}"', () => {
    const sim = backup();
    const a = sim.fire();
    expect(sim.now).toBe(MDI_V2_P100);
    expect(sim.s.state).toBe('MASTER');
    const order = types(a);
    // keepalived 2.2.0+: the advert goes out before the VIPs and GARPs
    expect(order.indexOf('sendAdvert')).toBeLessThan(order.indexOf('addVips'));
    expect(order.indexOf('addVips')).toBeLessThan(order.indexOf('sendGarp'));
    expect(of(a, 'sendGarp')).toEqual([{ type: 'sendGarp', repeat: 5, why: 'become_master' }]);
    expect(of(a, 'transition')[0]).toMatchObject({ from: 'BACKUP', to: 'MASTER', reason: 'master_timeout', masterReason: 'masterNoResponse' });
    expect(sim.timers.get('advert')).toBe(MDI_V2_P100 + 1000);
    expect(of(a, 'count')).toEqual([{ type: 'count', counter: 'become_master' }]);
  });

  it('"If the Priority in the ADVERTISEMENT is Zero: Set the Master_Down_Timer to Skew_Time"', () => {
    const sim = backup();
    sim.now = 1000;
    sim.advert(150);
    sim.now = 1500;
    const a = sim.advert(0);
    expect(of(a, 'count')).toEqual([{ type: 'count', counter: 'pri_zero_rcvd' }]);
    expect(sim.nextTimer()).toEqual(['master_down', 1500 + SKEW_V2_P100]);
    const m = sim.fire();
    expect(of(m, 'transition')[0]).toMatchObject({ to: 'MASTER', reason: 'priority_zero_received', masterReason: 'priority' });
  });

  it('"If Preempt_Mode is False, or the Priority is >= local Priority: Reset the Master_Down_Timer to Master_Down_Interval"', () => {
    const sim = backup();
    sim.now = 2000;
    const a = sim.advert(150);
    expect(sim.nextTimer()).toEqual(['master_down', 2000 + MDI_V2_P100]);
    expect(of(a, 'masterLearned')).toEqual([{ type: 'masterLearned', address: '192.0.2.11', priority: 150, advertIntMs: 1000 }]);
    // equal priority also counts as a valid master in BACKUP (keepalived)
    sim.now = 2500;
    sim.advert(100, '192.0.2.1');
    expect(sim.nextTimer()).toEqual(['master_down', 2500 + MDI_V2_P100]);
  });

  it('"else: Discard the ADVERTISEMENT" — a lower priority advert leaves the timer running (preemption)', () => {
    const sim = backup();
    sim.now = 1000;
    sim.advert(150);
    sim.now = 2000;
    const a = sim.advert(90);
    expect(of(a, 'armTimer')).toEqual([]);
    expect(of(a, 'log').map((l) => l.message)).toContain('received lower priority (90) advert from 192.0.2.11 - discarding');
    expect(sim.nextTimer()).toEqual(['master_down', 1000 + MDI_V2_P100]);
    const m = sim.fire();
    expect(of(m, 'transition')[0]).toMatchObject({ to: 'MASTER', reason: 'preempt', masterReason: 'preempted' });
  });

  it('RFC 5798: v3 sets Master_Adver_Interval from the advert and recomputes Skew_Time and Master_Down_Interval', () => {
    const sim = backup({ version: 3, advertIntMs: 100 });
    sim.now = 50;
    const a = sim.advert(150, '192.0.2.11', 1000);
    expect(sim.s.masterAdverIntMs).toBe(1000);
    expect(masterDownMs(sim.s)).toBe(3609.375);
    expect(sim.nextTimer()).toEqual(['master_down', 50 + 3609.375]);
    expect(of(a, 'masterLearned')[0].advertIntMs).toBe(1000);
    // becoming MASTER it advertises (and computes) with its own interval again
    sim.fire();
    expect(sim.s.masterAdverIntMs).toBe(100);
    expect(sim.timers.get('advert')).toBe(sim.now + 100);
  });

  it('RFC 3768: v2 never learns the interval (a mismatching one is dropped by the codec)', () => {
    const sim = backup();
    sim.advert(150, '192.0.2.11', 3000);
    expect(sim.s.masterAdverIntMs).toBe(1000);
  });

  it('nopreempt: a lower priority master is accepted, so a live master is never preempted', () => {
    const sim = backup({ priority: 200, nopreempt: true });
    for (let t = 1000; t < 20_000; t += 1000) {
      sim.runUntil(t);
      sim.advert(50);
    }
    expect(sim.s.state).toBe('BACKUP');
    sim.runUntil(30_000);
    expect(sim.s.state).toBe('MASTER');
  });

  it('preempt_delay: lower priority adverts are accepted until the delay from the first one expires, then discarded', () => {
    const sim = backup({ priority: 200, preemptDelayMs: 5000 });
    const mdi = masterDownMs(sim.s);
    let last = 0;
    for (let t = 1000; t <= 15_000 && sim.s.state === 'BACKUP'; t += 1000) {
      sim.runUntil(t);
      if (sim.s.state !== 'BACKUP') break;
      const a = sim.advert(100);
      if (of(a, 'armTimer').length) last = t;
    }
    // the first lower advert at 1000 starts the delay (ends 6000); adverts up to 5000 are accepted,
    // the one at 6000 is not (preempt_time > now is false), so the takeover is at 5000 + MDI
    expect(last).toBe(5000);
    expect(sim.s.state).toBe('MASTER');
    expect(of(sim.actionsSince(0), 'transition').find((x) => x.to === 'MASTER')).toMatchObject({ reason: 'preempt' });
    expect(sim.all.find((x) => x.a.type === 'transition' && x.a.to === 'MASTER')!.at).toBe(5000 + mdi);
  });

  it('preempt_delay is cancelled by a higher or equal priority advert', () => {
    const sim = backup({ priority: 200, preemptDelayMs: 5000 });
    sim.now = 1000;
    sim.advert(100);
    expect(sim.s.preemptAt).toBe(6000);
    sim.now = 2000;
    sim.advert(200, '192.0.2.13');
    expect(sim.s.preemptAt).toBeNull();
    sim.now = 3000;
    sim.advert(100);
    expect(sim.s.preemptAt).toBe(8000);
  });

  it('a priority change while BACKUP moves the running timer by the change of the down interval', () => {
    const sim = backup();
    sim.now = 1000;
    sim.advert(150);
    const before = sim.nextTimer()![1];
    const a = sim.ev({ type: 'trackWeight', sum: -60 });
    expect(of(a, 'priority')).toEqual([{ type: 'priority', from: 100, to: 40, cause: 'tracking' }]);
    // skew grows by 60/256 s
    expect(sim.nextTimer()![1]).toBeCloseTo(before + 234.375, 9);
  });

  it('down_timer_adverts', () => {
    const sim = backup({ downTimerAdverts: 5 });
    expect(sim.nextTimer()).toEqual(['master_down', 5609.375]);
  });

  it('FAULT/INIT/STOP do not process adverts', () => {
    const sim = new Sim(cfg());
    expect(acceptsAdverts(sim.s)).toBe(false);
    expect(sim.advert(150)).toEqual([]);
    sim.ev({ type: 'start', faults: [{ source: 'i', reason: 'interface_down' }] });
    expect(acceptsAdverts(sim.s)).toBe(false);
    expect(sim.advert(0)).toEqual([]);
  });

  it('skip_check_adv_addr: addresses are checked only for a sender other than the known master', () => {
    const sim = backup({ skipCheckAdvAddr: true });
    expect(shouldCheckAddresses(sim.s, '192.0.2.11')).toBe(true);
    sim.advert(150);
    expect(shouldCheckAddresses(sim.s, '192.0.2.11')).toBe(false);
    expect(shouldCheckAddresses(sim.s, '192.0.2.13')).toBe(true);
    expect(shouldCheckAddresses(backup().s, '192.0.2.11')).toBe(true);
  });
});

// ---------------------------------------------------------------------------
describe('RFC 3768 / RFC 5798 §6.4.3 Master', () => {
  it('"If a Shutdown event is received: Cancel the Adver_Timer, Send an ADVERTISEMENT with Priority = 0, Transition to {Initialize}"', () => {
    const sim = master();
    const a = sim.ev({ type: 'shutdown' });
    expect(types(a)).toEqual(['sendAdvert', 'count', 'removeVips', 'cancelTimer', 'cancelTimer', 'transition', 'notify']);
    expect(of(a, 'sendAdvert')).toEqual([{ type: 'sendAdvert', priority: 0 }]);
    expect(of(a, 'count')).toEqual([{ type: 'count', counter: 'pri_zero_sent' }]);
    expect(of(a, 'notify')).toEqual([{ type: 'notify', state: 'STOP' }]);
    expect(sim.timers.size).toBe(0);
  });

  it('"If the Adver_Timer fires: Send an ADVERTISEMENT, Reset the Adver_Timer"', () => {
    const sim = master();
    const t0 = sim.now;
    const a = sim.fire();
    expect(sim.now).toBe(t0 + 1000);
    expect(types(a)).toEqual(['sendAdvert', 'armTimer']);
    expect(of(a, 'sendAdvert')).toEqual([{ type: 'sendAdvert', priority: 100 }]);
    expect(sim.timers.get('advert')).toBe(t0 + 2000);
  });

  it('"If the Priority in the ADVERTISEMENT is Zero: Send an ADVERTISEMENT, Reset the Adver_Timer"', () => {
    const sim = master();
    sim.now += 400;
    const a = sim.advert(0);
    expect(types(a)).toEqual(['count', 'sendAdvert', 'armTimer']);
    expect(sim.timers.get('advert')).toBe(sim.now + 1000);
    expect(sim.s.state).toBe('MASTER');
  });

  it('"If the Priority is greater than the local Priority": cancel Adver_Timer, set Master_Down_Timer, → Backup (no priority 0)', () => {
    const sim = master();
    sim.now += 300;
    const a = sim.advert(150);
    expect(sim.s.state).toBe('BACKUP');
    expect(of(a, 'sendAdvert')).toEqual([]);
    expect(types(a)).toEqual(['masterLearned', 'transition', 'removeVips', 'notify', 'cancelTimer', 'armTimer', 'count']);
    expect(of(a, 'cancelTimer')).toEqual([{ type: 'cancelTimer', timer: 'advert' }]);
    expect(of(a, 'transition')[0]).toMatchObject({ from: 'MASTER', to: 'BACKUP', reason: 'higher_priority_master', masterAddress: '192.0.2.11', masterPriority: 150 });
    expect(of(a, 'count')).toEqual([{ type: 'count', counter: 'release_master' }]);
    expect(sim.nextTimer()).toEqual(['master_down', sim.now + MDI_V2_P100]);
  });

  it('"... or equal and the primary IP Address of the sender is greater": → Backup (tie-break, higher IP wins)', () => {
    const sim = master(); // our address 192.0.2.12
    sim.advert(100, '192.0.2.200');
    expect(sim.s.state).toBe('BACKUP');
    const m2 = master();
    const a = m2.advert(100, '192.0.2.3');
    expect(m2.s.state).toBe('MASTER');
    expect(of(a, 'log').some((l) => l.message.includes('with lower priority 100, ours 100, forcing new election'))).toBe(true);
  });

  it('IPv6 tie-break compares the addresses as 128-bit numbers', () => {
    const sim = master({ family: 'ipv6', version: 3, primaryAddress: 'fe80::ff:fe00:1' });
    sim.advert(100, 'fe80::ff:fe00:2');
    expect(sim.s.state).toBe('BACKUP');
  });

  it('v3: on going BACKUP, Master_Adver_Interval comes from the advert (RFC 5798 §6.4.3)', () => {
    const sim = master({ version: 3, advertIntMs: 100 });
    sim.advert(150, '192.0.2.11', 200);
    expect(sim.s.masterAdverIntMs).toBe(200);
    expect(sim.nextTimer()![1]).toBe(sim.now + 3 * 200 + 121.875);
  });

  it('"else: Discard" — keepalived re-asserts itself with an advert at once (lower priority)', () => {
    const sim = master();
    sim.now += 250;
    const a = sim.advert(50);
    // (the delayed lower-prio burst is queued behind the earlier master_delay one: no new garp timer)
    expect(types(a)).toEqual(['sendAdvert', 'sendGarp', 'notifyEvent', 'armTimer']);
    expect(sim.s.garpJobs.map((j) => j.why)).toEqual(['master_delay', 'lower_prio_delay']);
    expect(of(a, 'sendAdvert')).toEqual([{ type: 'sendAdvert', priority: 100 }]);
    // garp_lower_prio_repeat defaults to garp_master_repeat, its delay to garp_master_delay
    expect(of(a, 'sendGarp')).toEqual([{ type: 'sendGarp', repeat: 5, why: 'lower_prio' }]);
    expect(of(a, 'notifyEvent')).toEqual([{ type: 'notifyEvent', event: 'MASTER_RX_LOWER_PRI' }]);
    expect(sim.timers.get('advert')).toBe(sim.now + 1000);
    expect(sim.s.state).toBe('MASTER');
  });

  it('lower_prio_no_advert (strict mode): no advert and the advert timer is not reset', () => {
    const sim = master({ lowerPrioNoAdvert: true, garpLowerPrioRepeat: 0 });
    const due = sim.timers.get('advert');
    sim.now += 250;
    const a = sim.advert(50);
    expect(of(a, 'sendAdvert')).toEqual([]);
    expect(of(a, 'sendGarp')).toEqual([]);
    expect(sim.timers.get('advert')).toBe(due);
  });

  it('higher_prio_send_advert: one advert before yielding', () => {
    const sim = master({ higherPrioSendAdvert: true });
    const a = sim.advert(150);
    expect(of(a, 'sendAdvert')).toEqual([{ type: 'sendAdvert', priority: 100 }]);
    expect(sim.s.state).toBe('BACKUP');
  });

  it('both address owners (255): ours drops to 254 and we yield (CONFIGURATION ERROR)', () => {
    const sim = new Sim(cfg({ priority: 255 }));
    sim.ev({ type: 'start' });
    sim.fire();
    expect(sim.s.state).toBe('MASTER');
    const a = sim.advert(255, '192.0.2.1'); // even from a lower address
    expect(of(a, 'priority')).toEqual([{ type: 'priority', from: 255, to: 254, cause: 'address owner conflict' }]);
    expect(sim.s.basePriority).toBe(254);
    expect(sim.s.state).toBe('BACKUP');
    expect(of(a, 'log').some((l) => l.level === 'error' && l.message.startsWith('CONFIGURATION ERROR'))).toBe(true);
  });

  it('equal priority from our own address: warning only, stays MASTER', () => {
    const sim = master();
    const a = sim.advert(100, '192.0.2.12');
    expect(sim.s.state).toBe('MASTER');
    expect(of(a, 'log')[0]).toMatchObject({ level: 'warning' });
  });

  it('a priority change while MASTER sends no extra advert; the next regular one carries it (RESULTS.md §6.4)', () => {
    const sim = master({ priority: 150, primaryAddress: '192.0.2.11' });
    const a = sim.ev({ type: 'trackWeight', sum: -60 });
    expect(of(a, 'sendAdvert')).toEqual([]);
    expect(of(a, 'priority')).toEqual([{ type: 'priority', from: 150, to: 90, cause: 'tracking' }]);
    expect(of(sim.fire(), 'sendAdvert')).toEqual([{ type: 'sendAdvert', priority: 90 }]);
  });
});

// ---------------------------------------------------------------------------
describe('priority from tracking (vrrp_set_effective_priority)', () => {
  it('clamps to [1, 254]; the owner (255) is never changed', () => {
    expect(effectivePriorityOf(100, -200)).toBe(1);
    expect(effectivePriorityOf(100, 200)).toBe(254);
    expect(effectivePriorityOf(255, -100)).toBe(255);
    const sim = backup({ priority: 255 });
    expect(sim.ev({ type: 'trackWeight', sum: -50 })).toEqual([]);
    expect(sim.s.effectivePriority).toBe(255);
  });
  it('an unchanged effective priority emits nothing', () => {
    const sim = backup({ priority: 250 });
    sim.ev({ type: 'trackWeight', sum: 10 });
    expect(sim.s.effectivePriority).toBe(254);
    expect(sim.ev({ type: 'trackWeight', sum: 20 })).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
describe('FAULT (down_instance / try_up_instance)', () => {
  it('MASTER → FAULT: two priority-0 adverts, one counted; VIPs removed; release_master', () => {
    const sim = master();
    const a = sim.ev({ type: 'fault', source: 'script:chk', down: true, reason: 'track_script' });
    expect(sim.s.state).toBe('FAULT');
    expect(of(a, 'sendAdvert')).toEqual([
      { type: 'sendAdvert', priority: 0 },
      { type: 'sendAdvert', priority: 0 },
    ]);
    expect(of(a, 'count').map((c) => c.counter)).toEqual(['pri_zero_sent', 'release_master']);
    expect(of(a, 'removeVips').length).toBe(1);
    expect(of(a, 'transition')[0]).toMatchObject({ from: 'MASTER', to: 'FAULT', reason: 'track_script' });
    expect(of(a, 'notify')).toEqual([{ type: 'notify', state: 'FAULT' }]);
    expect(sim.timers.size).toBe(1); // only the delayed GARP burst remains
    expect(sim.timers.has('garp')).toBe(true);
  });

  it('BACKUP → FAULT → BACKUP with a full down timer once every fault source cleared', () => {
    const sim = backup();
    sim.ev({ type: 'fault', source: 'intf:eth0', down: true, reason: 'interface_down' });
    sim.ev({ type: 'fault', source: 'script:a', down: true, reason: 'track_script' });
    expect(sim.s.state).toBe('FAULT');
    sim.now = 5000;
    expect(of(sim.ev({ type: 'fault', source: 'intf:eth0', down: false, reason: 'interface_up' }), 'transition')).toEqual([]);
    expect(sim.s.state).toBe('FAULT');
    const a = sim.ev({ type: 'fault', source: 'script:a', down: false, reason: 'track_script' });
    expect(sim.s.state).toBe('BACKUP');
    expect(of(a, 'transition')[0]).toMatchObject({ from: 'FAULT', to: 'BACKUP', reason: 'track_script' });
    expect(sim.nextTimer()).toEqual(['master_down', 5000 + MDI_V2_P100]);
  });

  it('the same source reported down twice counts once', () => {
    const sim = backup();
    sim.ev({ type: 'fault', source: 'i', down: true, reason: 'interface_down' });
    expect(sim.ev({ type: 'fault', source: 'i', down: true, reason: 'interface_down' })).toEqual([]);
    sim.ev({ type: 'fault', source: 'i', down: false, reason: 'interface_up' });
    expect(sim.s.state).toBe('BACKUP');
  });

  it('an address owner leaving a real fault waits a full down interval in BACKUP (its wantstate became FAULT)', () => {
    const sim = new Sim(cfg({ priority: 255 }));
    sim.ev({ type: 'start' });
    sim.fire();
    sim.ev({ type: 'fault', source: 'i', down: true, reason: 'interface_down' });
    sim.now = 10_000;
    sim.ev({ type: 'fault', source: 'i', down: false, reason: 'interface_up' });
    expect(sim.s.state).toBe('BACKUP');
    expect(sim.timers.get('master_down')).toBeCloseTo(10_000 + 3003.906, 9);
  });

  it('unicast: leaving FAULT sends a GARP/NA for our own source address', () => {
    const sim = backup({ unicast: true });
    sim.ev({ type: 'fault', source: 'i', down: true, reason: 'interface_down' });
    const a = sim.ev({ type: 'fault', source: 'i', down: false, reason: 'interface_up' });
    expect(of(a, 'sendSourceGarp').length).toBe(1);
  });

  it('no adverts are sent while in FAULT', () => {
    const sim = master();
    sim.ev({ type: 'fault', source: 'i', down: true, reason: 'interface_down' });
    const t = sim.now;
    sim.runUntil(t + 20_000);
    expect(of(sim.actionsSince(t + 0.0001), 'sendAdvert')).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
describe('gratuitous ARP schedule (RESULTS.md §6.7)', () => {
  it('5 on becoming MASTER, 5 more exactly garp_master_delay (5 s) later', () => {
    const sim = master();
    const t = sim.now;
    expect(sim.timers.get('garp')).toBe(t + 5000);
    sim.runUntil(t + 5000);
    expect(sim.all.filter((x) => x.a.type === 'sendGarp').map((x) => [x.at, (x.a as { repeat: number }).repeat])).toEqual([
      [t, 5],
      [t + 5000, 5],
    ]);
  });

  it('the delayed burst is not cancelled on leaving MASTER, and is sent only if MASTER again then', () => {
    const sim = master({ version: 3, advertIntMs: 10 });
    const t0 = sim.now;
    sim.now = t0 + 100;
    sim.advert(150, '192.0.2.11', 10); // yield
    expect(sim.s.state).toBe('BACKUP');
    expect(sim.timers.get('garp')).toBe(t0 + 5000);
    // the other master dies; we take over again at ~t0+136 (second burst pending from that too)
    sim.runUntil(t0 + 1000);
    expect(sim.s.state).toBe('MASTER');
    sim.runUntil(t0 + 5000);
    const delayed = sim.all.filter((x) => x.a.type === 'sendGarp' && (x.a as { why: string }).why === 'master_delay');
    expect(delayed.map((x) => x.at)).toEqual([t0 + 5000]);
    // but not when it is BACKUP at that moment
    const sim2 = master();
    const t2 = sim2.now;
    sim2.advert(200, '192.0.2.11');
    sim2.now = t2 + 4000;
    sim2.advert(200, '192.0.2.11');
    sim2.runUntil(t2 + 5000);
    expect(sim2.s.state).toBe('BACKUP');
    expect(of(sim2.actionsSince(t2 + 1), 'sendGarp')).toEqual([]);
  });

  it('garp_master_refresh: extra GARPs at advert times once the refresh interval has passed', () => {
    const sim = master({ garpMasterRefreshMs: 2500, garpMasterRefreshRepeat: 2, garpMasterDelayMs: 0 });
    const t = sim.now;
    sim.runUntil(t + 6000);
    const refresh = sim.all.filter((x) => x.a.type === 'sendGarp' && (x.a as { why: string }).why === 'refresh');
    expect(refresh.map((x) => [x.at - t, (x.a as { repeat: number }).repeat])).toEqual([
      [3000, 2],
      [6000, 2],
    ]);
  });

  it('garp_master_delay 0: no second burst', () => {
    const sim = master({ garpMasterDelayMs: 0 });
    expect(sim.timers.has('garp')).toBe(false);
  });

  it('lower-priority GARPs: now and again after garp_lower_prio_delay', () => {
    const sim = master({ garpLowerPrioDelayMs: 2000, garpLowerPrioRepeat: 3, garpMasterDelayMs: 0 });
    const t = sim.now + 100;
    sim.now = t;
    sim.advert(10);
    sim.runUntil(t + 2000);
    const g = sim.all.filter((x) => x.a.type === 'sendGarp' && x.at >= t).map((x) => [x.at - t, (x.a as { why: string }).why]);
    expect(g).toEqual([
      [0, 'lower_prio'],
      [2000, 'lower_prio_delay'],
    ]);
  });
});

// ---------------------------------------------------------------------------
describe('other keepalived behaviour', () => {
  it('a VIP deleted under a MASTER: priority 0 (counted), BACKUP, retake after Skew_Time (set_vrrp_backup)', () => {
    const sim = master();
    const t = sim.now + 10;
    sim.now = t;
    const a = sim.ev({ type: 'vipDeleted' });
    expect(sim.s.state).toBe('BACKUP');
    expect(of(a, 'sendAdvert')).toEqual([{ type: 'sendAdvert', priority: 0 }]);
    expect(of(a, 'count').map((c) => c.counter)).toEqual(['pri_zero_sent', 'release_master']);
    expect(of(a, 'transition')[0]).toMatchObject({ reason: 'vip_removed' });
    expect(sim.nextTimer()).toEqual(['master_down', t + SKEW_V2_P100]);
    sim.fire();
    expect(sim.s.state).toBe('MASTER');
  });

  it('reload while MASTER: state kept, an advert at once, no GARP burst (reload_master)', () => {
    const sim = master();
    const t = sim.now + 300;
    sim.now = t;
    const a = sim.ev({ type: 'reload', cfg: { ...sim.s.cfg, priority: 120 } });
    expect(of(a, 'transition')).toEqual([]);
    expect(of(a, 'priority')).toEqual([{ type: 'priority', from: 100, to: 120, cause: 'reload' }]);
    expect(sim.nextTimer()).toEqual(['advert', t]);
    const b = sim.fire();
    expect(types(b)).toEqual(['sendAdvert', 'armTimer']);
    expect(of(b, 'sendAdvert')[0].priority).toBe(120);
    expect(sim.timers.get('advert')).toBe(t + 1000);
    // with new VIPs, one GARP burst
    const c = sim.ev({ type: 'reload', cfg: sim.s.cfg, vipsAdded: true });
    expect(of(c, 'sendGarp')).toEqual([{ type: 'sendGarp', repeat: 5, why: 'reload' }]);
  });

  it('reload while BACKUP restarts the down timer', () => {
    const sim = backup();
    sim.now = 2000;
    sim.ev({ type: 'reload', cfg: sim.s.cfg });
    expect(sim.nextTimer()).toEqual(['master_down', 2000 + MDI_V2_P100]);
  });

  it('stale or early timer events are ignored', () => {
    const sim = backup();
    expect(step(sim.s, { type: 'timer', timer: 'advert' }, 99_999).actions).toEqual([]);
    expect(step(sim.s, { type: 'timer', timer: 'master_down' }, 100).actions).toEqual([]);
    expect(step(sim.s, { type: 'timer', timer: 'garp' }, 100).actions).toEqual([]);
  });

  it('step never mutates its input state', () => {
    const sim = backup();
    const frozen = JSON.stringify(sim.s);
    step(sim.s, { type: 'advert', advert: { priority: 0, advertIntMs: 1000 }, src: '192.0.2.11' }, 10);
    step(sim.s, { type: 'timer', timer: 'master_down' }, 1e6);
    step(sim.s, { type: 'fault', source: 'x', down: true, reason: 'interface_down' }, 10);
    expect(JSON.stringify(sim.s)).toBe(frozen);
  });

  it('skew and down interval follow the effective priority', () => {
    const sim = backup();
    expect(skewMs(sim.s)).toBe(SKEW_V2_P100);
    sim.ev({ type: 'trackWeight', sum: 50 });
    expect(skewMs(sim.s)).toBe(414.062);
  });
});

// ---------------------------------------------------------------------------
describe('deliberate deviations from keepalived 2.2.7', () => {
  it('1: a MASTER re-arms its advert timer only when it actually sent an advert', () => {
    const sim = master();
    const due = sim.timers.get('advert');
    sim.now += 500;
    sim.advert(100, '192.0.2.12'); // our own address, equal priority: no advert sent
    expect(sim.timers.get('advert')).toBe(due);
  });

  it('2: advert pacing runs from the deadline (no drift), restarting from now after a long stall', () => {
    const sim = master();
    const d = sim.timers.get('advert')!;
    sim.now = d + 0.4; // handled 0.4 ms late
    sim.timers.delete('advert');
    sim.ev({ type: 'timer', timer: 'advert' });
    expect(sim.timers.get('advert')).toBe(d + 1000);
    const d2 = d + 1000;
    sim.now = d2 + 2500; // a 2.5 s stall
    sim.timers.delete('advert');
    sim.ev({ type: 'timer', timer: 'advert' });
    expect(sim.timers.get('advert')).toBe(d2 + 3500);
  });
});

// ---------------------------------------------------------------------------
describe('two keepalived-like nodes on a LAN reproduce the reference measurements (RESULTS.md §3–§6)', () => {
  function pair(version: 2 | 3, advertIntMs: number): Lan {
    const lan = new Lan();
    lan.add('h1', cfg({ version, advertIntMs, priority: 150, initialState: 'MASTER', primaryAddress: '192.0.2.11' }));
    lan.add('h2', cfg({ version, advertIntMs, priority: 100, primaryAddress: '192.0.2.12' }));
    for (const n of lan.nodes) lan.ev(n, { type: 'start' });
    return lan;
  }

  for (const [version, adv, mdi1, skew2, mdi2] of [
    [2, 1000, 3414.062, 609.375, 3609.375],
    [3, 100, 341.406, 60.937, 360.937],
    [3, 50, 170.703, 30.468, 180.468],
    [3, 10, 34.14, 6.093, 36.093],
  ] as const) {
    describe(`v${version}, ${adv} ms adverts`, () => {
      it(`(a) start-up: h1 becomes MASTER after MDI(h1) = ${mdi1} ms, h2 stays BACKUP`, () => {
        const lan = pair(version, adv);
        lan.runUntil(20 * adv + 5000);
        expect(lan.becameMasterAt('h1')).toBe(mdi1);
        expect(lan.becameMasterAt('h2')).toBeUndefined();
        expect(lan.master()).toEqual(['h1']);
      });

      it(`(c) SIGTERM: priority 0, h2 takes over after Skew_Time(h2) = ${skew2} ms`, () => {
        const lan = pair(version, adv);
        lan.runUntil(10_000);
        const t0 = 10_000 + adv / 3;
        lan.runUntil(t0);
        lan.ev(lan.node('h1'), { type: 'shutdown' });
        lan.runUntil(t0 + 5 * adv + 5000);
        expect(lan.becameMasterAt('h2')! - t0).toBeCloseTo(skew2, 9);
      });

      it(`(b) crash: h2 takes over MDI(h2) = ${mdi2} ms after the last advert`, () => {
        const lan = pair(version, adv);
        lan.runUntil(10_000);
        const h1 = lan.node('h1');
        const last = h1.sent[h1.sent.length - 1].at;
        h1.alive = false;
        lan.runUntil(20_000);
        expect(lan.becameMasterAt('h2')! - last).toBeCloseTo(mdi2, 9);
      });

      it('(d) tracked script fails (weight −60): h2 discards the 90 adverts, takes over MDI after the last 150 one; h1 yields on h2\'s first advert', () => {
        const lan = pair(version, adv);
        lan.runUntil(10_000);
        const t0 = 10_000 + adv / 2;
        lan.runUntil(t0);
        const h1 = lan.node('h1');
        lan.ev(h1, { type: 'trackWeight', sum: -60 });
        lan.runUntil(t0 + 10 * adv + 5000);
        const last150 = h1.sent.filter((s) => s.priority === 150).pop()!.at;
        const takeover = lan.becameMasterAt('h2')!;
        expect(takeover - last150).toBeCloseTo(mdi2, 9);
        expect(h1.transitions.find((x) => x.to === 'BACKUP' && x.at >= t0)?.at).toBe(takeover);
        expect(lan.master()).toEqual(['h2']);
        // (f) the script recovers: h1 preempts after its own MDI from the last advert it accepted
        const t1 = lan.now + adv / 4;
        lan.runUntil(t1);
        lan.ev(h1, { type: 'trackWeight', sum: 0 });
        lan.runUntil(t1 + 10 * adv + 5000);
        const back = lan.becameMasterAt('h1', t1)!;
        const h2 = lan.node('h2');
        const lastAccepted = h2.sent.filter((s) => s.at < t1).pop()!.at;
        expect(back - lastAccepted).toBeCloseTo(mdi1, 9);
        expect(lan.master()).toEqual(['h1']);
      });

      it('(e) link down on h1: FAULT (its priority 0 cannot reach h2), h2 waits a full MDI; link up → h1 preempts after MDI(h1)', () => {
        const lan = pair(version, adv);
        lan.runUntil(10_000);
        const h1 = lan.node('h1');
        const last = h1.sent[h1.sent.length - 1].at;
        h1.link = false;
        lan.ev(h1, { type: 'fault', source: 'intf:eth0', down: true, reason: 'interface_down' });
        expect(h1.sim.s.state).toBe('FAULT');
        lan.runUntil(15_000);
        expect(lan.becameMasterAt('h2')! - last).toBeCloseTo(mdi2, 9);
        h1.link = true;
        lan.ev(h1, { type: 'fault', source: 'intf:eth0', down: false, reason: 'interface_up' });
        expect(h1.sim.s.state).toBe('BACKUP');
        lan.runUntil(25_000);
        expect(lan.becameMasterAt('h1', 15_000)! - 15_000).toBeCloseTo(mdi1, 9);
        expect(lan.master()).toEqual(['h1']);
      });
    });
  }

  it('no dual master in steady state and no transitions while idle (100 intervals)', () => {
    const lan = pair(3, 10);
    lan.runUntil(1000);
    const before = lan.nodes.map((n) => n.transitions.length);
    lan.runUntil(2000);
    expect(lan.nodes.map((n) => n.transitions.length)).toEqual(before);
    expect(lan.node('h1').sent.filter((s) => s.at > 1000 && s.at <= 2000).length).toBe(100);
  });

  it('equal priority in BACKUP counts as a master: the first to time out wins, no flapping', () => {
    const lan = new Lan();
    for (const a of ['192.0.2.5', '192.0.2.9', '192.0.2.7']) lan.add(a, cfg({ primaryAddress: a, priority: 100 }));
    for (const n of lan.nodes) lan.ev(n, { type: 'start' });
    lan.runUntil(30_000);
    expect(lan.master()).toEqual(['192.0.2.5']);
  });

  it('a healed partition with three equal-priority masters elects the highest address (tie-break)', () => {
    const lan = new Lan();
    for (const a of ['192.0.2.5', '192.0.2.9', '192.0.2.7']) lan.add(a, cfg({ primaryAddress: a, priority: 100 }));
    for (const n of lan.nodes) {
      n.link = false;
      lan.ev(n, { type: 'start' });
    }
    lan.runUntil(10_000);
    expect(lan.master().length).toBe(3);
    for (const n of lan.nodes) n.link = true;
    lan.runUntil(30_000);
    expect(lan.master()).toEqual(['192.0.2.9']);
  });
});
