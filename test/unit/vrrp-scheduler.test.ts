/**
 * Timer/I/O ordering of the VRRP runner (src/vrrp/instance.ts), found by the keepalived
 * interop suite and bench/takeover.mjs:
 *  - a due timer must not beat packets that arrived while the event loop was blocked
 *    (keepalived 2.2.7 lib/scheduler.c: a readable VRRP socket wins over the read
 *    thread's timeout in the same epoll_wait round) — else a spurious takeover;
 *  - the advert of a step leaves before that step's journal observers run, while the
 *    journal keeps the FSM's order.
 */
import { execFileSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/journal';
import type { AddressSpec, Announcer, Netlink, ReceivedPacket, VrrpSocket } from '../../src/net/types';
import { fsmConfig } from '../../src/vrrp/fsm';
import { InstanceRunner, realScheduler, type Scheduler, type TimerHandle } from '../../src/vrrp/instance';
import { buildIpv4Header, encodeAdvert } from '../../src/vrrp/packet';

/** loopback UDP port from this suite's range (19600–19699) */
const PORT = 19690;

describe('realScheduler: a due timer runs after the I/O that is already pending', () => {
  it('a datagram that arrived while the loop was blocked past the deadline is handled first (and can cancel the timer)', async () => {
    const rx = dgram.createSocket('udp4');
    await new Promise<void>((r) => rx.bind(PORT, '127.0.0.1', () => r()));
    try {
      const order: string[] = [];
      let cancelled = 0;
      const h = realScheduler.at(performance.now() + 5, () => order.push('timer (cancelled one)'));
      const control = realScheduler.at(performance.now() + 5, () => order.push('control timer'));
      rx.on('message', () => {
        order.push('datagram');
        h.cancel();
        cancelled++;
      });
      await new Promise<void>((resolve) => {
        setImmediate(() => {
          // block the loop in the check phase well past both deadlines while a datagram arrives:
          // the next loop turn starts with both timers expired AND the socket readable
          execFileSync('bash', ['-c', `echo advert > /dev/udp/127.0.0.1/${PORT}; sleep 0.05`]);
          setTimeout(resolve, 30);
        });
      });
      expect(cancelled).toBe(1);
      expect(order).toEqual(['datagram', 'control timer']);
    } finally {
      rx.close();
    }
  });

  it('plain and precise timers never fire before their deadline, and cancel() holds', async () => {
    const fired: Array<{ at: number; now: number; precise: boolean }> = [];
    const start = performance.now();
    const plan = [
      { at: start + 1.7, precise: true },
      { at: start + 4.2, precise: false },
      { at: start + 6.9, precise: true },
      { at: start + 9.35, precise: true },
    ];
    let late = false;
    realScheduler.at(start + 3, () => (late = true), { precise: true }).cancel();
    await new Promise<void>((resolve) => {
      let n = 0;
      for (const p of plan)
        realScheduler.at(
          p.at,
          () => {
            fired.push({ ...p, now: performance.now() });
            if (++n === plan.length) resolve();
          },
          { precise: p.precise },
        );
    });
    for (const f of fired) expect(f.now).toBeGreaterThanOrEqual(f.at);
    expect(fired.length).toBe(plan.length);
    // deadline order within one kind (a plain timer may trail a precise one due 2–3 ms later)
    for (const kind of [true, false]) expect(fired.filter((f) => f.precise === kind).map((f) => f.at)).toEqual(plan.filter((p) => p.precise === kind).map((p) => p.at));
    expect(late).toBe(false);
  });
});

// ---- InstanceRunner: the advert leaves before the step's observers run ----

class StepScheduler implements Scheduler {
  t = 0;
  q: Array<{ at: number; cb: () => void; dead: boolean; precise: boolean }> = [];
  now(): number {
    return this.t;
  }
  at(at: number, cb: () => void, opts?: { precise?: boolean }): TimerHandle {
    const e = { at, cb, dead: false, precise: !!opts?.precise };
    this.q.push(e);
    return { cancel: () => (e.dead = true) };
  }
  advance(t: number): void {
    for (;;) {
      const e = this.q.filter((x) => !x.dead && x.at <= t).sort((a, b) => a.at - b.at)[0];
      if (!e) break;
      e.dead = true;
      this.t = Math.max(this.t, e.at);
      e.cb();
    }
    this.t = t;
  }
}

describe('InstanceRunner: wire first, journal in FSM order', () => {
  const VIP: AddressSpec = { family: 'ipv4', address: '192.0.2.50', prefix: 24, ifname: 'eth0' };

  function runner(trace: string[], sched: StepScheduler, onPacket?: (cb: (p: ReceivedPacket) => void) => void): InstanceRunner {
    const journal = new Journal({ mono: () => sched.now(), wall: () => 1_700_000_000_000 + sched.now() });
    journal.subscribe((e) => trace.push(e.type === 'vrrp.transition' ? `journal transition ${e.from}>${e.to}` : `journal ${e.type}`));
    const socket: VrrpSocket = {
      send: (b: Buffer) => trace.push(`wire priority ${b[2]}`),
      onPacket: (cb: (p: ReceivedPacket) => void) => onPacket?.(cb),
      onError: () => {},
      close: () => {},
    };
    const netlink = { addAddress: async () => {}, delAddress: async () => {}, getAddresses: async () => [], getLinks: async () => [], onEvent: () => {}, close: () => {} } as unknown as Netlink;
    const announcer: Announcer = { garp: async (_i, a) => a.length, unsolicitedNa: async (_i, a) => a.length, close: () => {} };
    const r = new InstanceRunner(
      { name: 'VI_1', ifname: 'eth0', fsm: fsmConfig({ vrid: 51, primaryAddress: '192.0.2.12', priority: 100, version: 3, advertIntMs: 100 }), vips: [VIP], removeResidualVips: false },
      { socket, netlink, announcer, journal, scheduler: sched, hooks: { onLog: (_l, m) => trace.push(`log ${m}`) } },
    );
    socket.onPacket((p) => r.handlePacket(p));
    return r;
  }

  it('down timer fires: the advert is on the wire before the transition is journalled or logged; the down and advert timers ask for precision', () => {
    const trace: string[] = [];
    const sched = new StepScheduler();
    const r = runner(trace, sched);
    r.start();
    const down = sched.q.find((e) => !e.dead)!;
    expect(down.precise).toBe(true);
    trace.length = 0;
    sched.advance(400); // MDI(100) at 100 ms = 360.9 ms
    expect(r.state.state).toBe('MASTER');
    const wire = trace.indexOf('wire priority 100');
    expect(wire).toBeGreaterThanOrEqual(0);
    expect(wire).toBeLessThan(trace.indexOf('journal transition BACKUP>MASTER'));
    expect(wire).toBeLessThan(trace.indexOf('log (VI_1) Entering MASTER STATE'));
    // the journal still tells the FSM's story: timer fired, transition, then the advert it sent
    expect(trace.filter((l) => l.startsWith('journal'))[0]).toBe('journal vrrp.master_down');
    expect(wire).toBeLessThan(trace.indexOf('journal vrrp.master_down'));
    expect(trace.indexOf('journal transition BACKUP>MASTER')).toBeLessThan(trace.indexOf('journal vrrp.advert.sent'));
    expect(r.stats.advert_sent).toBe(1);
    // the advert timer of a MASTER asks for precision too: its send lag is what a backup's
    // Master_Down_Interval has to absorb (bench/send-lag.mjs); the GARP repeat does not
    const live = sched.q.filter((e) => !e.dead);
    expect(live.length).toBe(2);
    expect(live.filter((e) => e.precise).length).toBe(1);
  });

  it('shutdown of a MASTER: priority 0 on the wire before any STOP bookkeeping', async () => {
    const trace: string[] = [];
    const sched = new StepScheduler();
    const r = runner(trace, sched);
    r.start();
    sched.advance(400);
    trace.length = 0;
    await r.stop();
    expect(trace[0]).toBe('wire priority 0');
    expect(trace).toContain('journal transition MASTER>STOP');
    expect(r.stats.pri_zero_sent).toBe(1);
  });

  it('an accepted advert restarts the down timer from its receipt, not from the end of its processing', () => {
    const trace: string[] = [];
    // every clock read costs 0.05 ms, like decoding and journalling a packet does
    class SlowClock extends StepScheduler {
      override now(): number {
        this.t += 0.05;
        return this.t;
      }
    }
    const sched = new SlowClock();
    let deliver: (p: ReceivedPacket) => void = () => {};
    const r = runner(trace, sched, (cb) => (deliver = cb));
    r.start();
    sched.t = 100;
    const vrrp = encodeAdvert({ version: 3, vrid: 51, priority: 150, advertIntCs: 10, addresses: ['192.0.2.50'] }, { family: 'ipv4', src: '192.0.2.11', dst: '224.0.0.18' });
    const ipHeader = buildIpv4Header({ src: '192.0.2.11', dst: '224.0.0.18', ttl: 255, id: 1, payloadLength: vrrp.length });
    const before = sched.t;
    deliver({ vrrp, ipHeader, src: '192.0.2.11', dst: '224.0.0.18', ttl: 255, ifname: 'eth0' });
    expect(r.stats.advert_rcvd).toBe(1);
    expect(sched.t - before).toBeGreaterThan(0.1); // processing read the clock several times
    const down = sched.q.filter((e) => !e.dead && e.precise);
    expect(down.length).toBe(1);
    // Master_Down_Interval(100) at 100 ms = 3 × 100 ms + 156 × 100 ms / 256 (keepalived: whole µs) after the first clock read
    expect(down[0]!.at).toBeCloseTo(before + 0.05 + 360.937, 3);
  });
});
