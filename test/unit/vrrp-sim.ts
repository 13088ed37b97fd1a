/**
 * Test harness for the pure VRRP FSM: a fake scheduler (time is just a number)
 * that applies armTimer/cancelTimer actions and fires timers in deadline order,
 * and a zero-latency LAN of several FSMs exchanging adverts.
 * (Not a test file itself: vitest only collects *.test.ts.)
 */
import { acceptsAdverts, createFsm, fsmConfig, step, type FsmAction, type FsmConfig, type FsmEvent, type FsmState, type TimerName } from '../../src/vrrp/fsm';

export function cfg(over: Partial<FsmConfig> = {}): FsmConfig {
  return fsmConfig({ vrid: 51, primaryAddress: '192.0.2.12', priority: 100, ...over });
}

export class Sim {
  s: FsmState;
  now = 0;
  timers = new Map<TimerName, number>();
  all: Array<{ at: number; a: FsmAction }> = [];
  /** called for every action (the LAN uses it to deliver adverts) */
  onAction?: (a: FsmAction, sim: Sim) => void;

  constructor(c: FsmConfig | FsmState) {
    this.s = 'cfg' in c ? c : createFsm(c);
  }

  ev(e: FsmEvent): FsmAction[] {
    const r = step(this.s, e, this.now);
    this.s = r.state;
    for (const a of r.actions) {
      if (a.type === 'armTimer') this.timers.set(a.timer, a.at);
      if (a.type === 'cancelTimer') this.timers.delete(a.timer);
      this.all.push({ at: this.now, a });
    }
    for (const a of r.actions) this.onAction?.(a, this);
    return r.actions;
  }

  nextTimer(): [TimerName, number] | null {
    let best: [TimerName, number] | null = null;
    for (const [k, v] of this.timers) if (!best || v < best[1]) best = [k, v];
    return best;
  }

  /** fire timers due up to `t` (in order), then set the clock to `t` */
  runUntil(t: number): void {
    for (;;) {
      const n = this.nextTimer();
      if (!n || n[1] > t) break;
      this.now = Math.max(this.now, n[1]);
      this.timers.delete(n[0]);
      this.ev({ type: 'timer', timer: n[0] });
    }
    this.now = Math.max(this.now, t);
  }

  /** fire exactly the next timer; returns its actions */
  fire(): FsmAction[] {
    const n = this.nextTimer();
    if (!n) throw new Error('no timer armed');
    this.now = Math.max(this.now, n[1]);
    this.timers.delete(n[0]);
    return this.ev({ type: 'timer', timer: n[0] });
  }

  advert(priority: number, src = '192.0.2.11', advertIntMs = this.s.cfg.advertIntMs): FsmAction[] {
    return this.ev({ type: 'advert', advert: { priority, advertIntMs }, src });
  }

  actionsSince(t: number): FsmAction[] {
    return this.all.filter((x) => x.at >= t).map((x) => x.a);
  }
}

export function of<T extends FsmAction['type']>(acts: FsmAction[], type: T): Extract<FsmAction, { type: T }>[] {
  return acts.filter((a): a is Extract<FsmAction, { type: T }> => a.type === type);
}

export interface LanNode {
  name: string;
  sim: Sim;
  /** link up: its adverts reach the others and it hears theirs */
  link: boolean;
  /** process alive (a crashed node neither sends nor receives, and its timers are dead) */
  alive: boolean;
  sent: Array<{ at: number; priority: number }>;
  transitions: Array<{ at: number; from: string; to: string; reason: string }>;
  vipAdds: number[];
}

/** Several instances of one VRID on a zero-latency LAN, one shared clock. */
export class Lan {
  nodes: LanNode[] = [];
  now = 0;
  private queue: Array<{ from: LanNode; priority: number }> = [];

  add(name: string, c: FsmConfig): LanNode {
    const sim = new Sim(c);
    const n: LanNode = { name, sim, link: true, alive: true, sent: [], transitions: [], vipAdds: [] };
    sim.onAction = (a) => {
      if (a.type === 'sendAdvert') {
        n.sent.push({ at: this.now, priority: a.priority });
        if (n.link && n.alive) this.queue.push({ from: n, priority: a.priority });
      }
      if (a.type === 'transition') n.transitions.push({ at: this.now, from: a.from, to: a.to, reason: a.reason });
      if (a.type === 'addVips') n.vipAdds.push(this.now);
    };
    this.nodes.push(n);
    return n;
  }

  node(name: string): LanNode {
    return this.nodes.find((n) => n.name === name)!;
  }

  ev(n: LanNode, e: FsmEvent): void {
    n.sim.now = this.now;
    n.sim.ev(e);
    this.flush();
  }

  private flush(): void {
    while (this.queue.length) {
      const { from, priority } = this.queue.shift()!;
      for (const to of this.nodes) {
        if (to === from || !to.link || !to.alive || !acceptsAdverts(to.sim.s)) continue;
        to.sim.now = this.now;
        to.sim.ev({ type: 'advert', advert: { priority, advertIntMs: from.sim.s.cfg.advertIntMs }, src: from.sim.s.cfg.primaryAddress });
      }
    }
  }

  runUntil(t: number): void {
    for (;;) {
      let best: { n: LanNode; name: TimerName; at: number } | null = null;
      for (const n of this.nodes) {
        if (!n.alive) continue;
        for (const [name, at] of n.sim.timers) if (!best || at < best.at) best = { n, name, at };
      }
      if (!best || best.at > t) break;
      this.now = Math.max(this.now, best.at);
      best.n.sim.timers.delete(best.name);
      best.n.sim.now = this.now;
      best.n.sim.ev({ type: 'timer', timer: best.name });
      this.flush();
    }
    this.now = Math.max(this.now, t);
    for (const n of this.nodes) n.sim.now = this.now;
  }

  master(): string[] {
    return this.nodes.filter((n) => n.alive && n.sim.s.state === 'MASTER').map((n) => n.name);
  }

  becameMasterAt(name: string, after = -Infinity): number | undefined {
    return this.node(name).transitions.find((x) => x.to === 'MASTER' && x.at >= after)?.at;
  }
}
