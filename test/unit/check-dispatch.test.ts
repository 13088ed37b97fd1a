/**
 * How the checker engine starts due checkers: one timer queue (due-queue.ts) ordered by
 * due time then arm order, and turns of at most TURN_BUDGET_MS of probe starting, the rest
 * continuing after the event loop polled I/O. Fake clock; the probes advance it to stand
 * for the time a real probe start costs.
 */
import { describe, expect, it } from 'vitest';
import { DueQueue, type DueItem } from '../../src/check/due-queue';
import { HealthEngine, TURN_BUDGET_MS, TURN_MAX_STARTS, type Scheduler, type TimerHandle } from '../../src/check/engine';
import type { ProbeFn } from '../../src/check/probes';
import { Journal } from '../../src/journal/journal';
import { realServer, tcpCheck, virtualServer } from '../../src/lvs/spec';
import { probeTarget, settle } from './check-fixtures';

interface Item extends DueItem {
  id: number;
}

/** deterministic pseudo-random numbers (LCG) */
function lcg(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

describe('DueQueue', () => {
  it('pops by due time, ties in the order they were scheduled, across reschedules and removals', () => {
    const rnd = lcg(7);
    const q = new DueQueue<Item>();
    const items: Item[] = Array.from({ length: 200 }, (_, id) => ({ id, due: NaN, seq: 0, slot: -1 }));
    // reference model: id -> [due, order]
    const model = new Map<number, [number, number]>();
    let order = 0;
    for (let round = 0; round < 2000; round++) {
      const it = items[Math.floor(rnd() * items.length)];
      if (rnd() < 0.2) {
        q.remove(it);
        model.delete(it.id);
        expect(it.slot).toBe(-1);
      } else {
        const due = Math.floor(rnd() * 50); // many ties
        q.schedule(it, due);
        model.set(it.id, [due, ++order]);
      }
      expect(q.size).toBe(model.size);
    }
    const want = [...model].sort((a, b) => a[1][0] - b[1][0] || a[1][1] - b[1][1]).map(([id]) => id);
    const got: number[] = [];
    for (let it = q.pop(); it; it = q.pop()) {
      expect(it.slot).toBe(-1);
      got.push(it.id);
    }
    expect(got).toEqual(want);
    expect(q.size).toBe(0);
  });

  it('clear() leaves every item unqueued', () => {
    const q = new DueQueue<Item>();
    const a: Item = { id: 1, due: NaN, seq: 0, slot: -1 };
    const b: Item = { id: 2, due: NaN, seq: 0, slot: -1 };
    q.schedule(a, 5);
    q.schedule(b, 3);
    q.clear();
    expect([q.has(a), q.has(b), q.size, q.peek()]).toEqual([false, false, 0, undefined]);
  });
});

/**
 * Virtual time for turns: timers fire in (due, arm) order; a deferred continuation runs
 * before the next timer (as setImmediate runs before later timers); the clock never goes
 * back, so the time probes "spend" starting stays spent. Without `withDefer` the engine
 * has no Scheduler.defer and must use 0 ms timers.
 */
class TurnScheduler implements Scheduler {
  t = 0;
  private seq = 0;
  private timers = new Map<number, { at: number; seq: number; fn: () => void }>();
  private deferred: Array<() => void> = [];
  defer?: (fn: () => void) => void;
  turns = 0;

  /** `timersFirst`: due timers run before queued continuations, as Node's timers phase comes before its check phase */
  constructor(
    withDefer: boolean,
    private readonly timersFirst = false,
  ) {
    if (withDefer) this.defer = (fn) => void this.deferred.push(fn);
  }
  now(): number {
    return this.t;
  }
  setTimer(ms: number, fn: () => void): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), seq: id, fn });
    return id;
  }
  clearTimer(h: TimerHandle): void {
    this.timers.delete(h as number);
  }
  random(): number {
    return 0.5;
  }
  get pending(): number {
    return this.timers.size + this.deferred.length;
  }
  async runUntil(until: number): Promise<void> {
    for (;;) {
      let next: [number, { at: number; seq: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= until && (!next || e[1].at < next[1].at || (e[1].at === next[1].at && e[1].seq < next[1].seq))) next = e;
      const d = this.timersFirst && next && next[1].at <= this.t ? undefined : this.deferred.shift();
      if (d) {
        this.turns++;
        d();
        await settle();
        continue;
      }
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      this.turns++;
      next[1].fn();
      await settle();
    }
    this.t = Math.max(this.t, until);
  }
}

function burst(n: number) {
  // warmup 0: every checker is due at the same instant (BOOTSTRAP_DELAY), as keepalived does
  const rss = Array.from({ length: n }, (_, i) => {
    const addr = `198.51.100.${10 + i}`;
    return realServer(addr, 80, { checkers: [tcpCheck({ address: addr, port: 80 }, { delayLoopMs: 5_000, warmupMs: 0 })] });
  });
  return [virtualServer({ address: '192.0.2.10', port: 80 }, { realServers: rss })];
}

function costlyProbe(sched: TurnScheduler, costMs: number) {
  const calls: Array<{ t: number; target: string }> = [];
  const probe: ProbeFn = (spec) => {
    calls.push({ t: sched.t, target: probeTarget(spec) });
    sched.t += costMs; // what starting this probe "took"
    return Promise.resolve({ ok: true });
  };
  return { probe, calls };
}

describe('checker engine turns', () => {
  it('a burst of due checkers starts in turns of TURN_BUDGET_MS, in arm order, and every one runs', async () => {
    const sched = new TurnScheduler(true);
    const journal = new Journal({ mono: () => sched.t, wall: () => sched.t });
    const cost = 0.3;
    const { probe, calls } = costlyProbe(sched, cost);
    const engine = new HealthEngine({ journal, scheduler: sched, probe });
    engine.load(burst(20));
    engine.start();
    await sched.runUntil(999);
    expect(calls).toEqual([]);
    sched.turns = 0;
    await sched.runUntil(1_000);
    // a turn starts probes until TURN_BUDGET_MS has gone by, then yields
    const perTurn = Math.ceil(TURN_BUDGET_MS / cost);
    expect(sched.turns).toBe(Math.ceil(20 / perTurn));
    const byTurn = new Map<number, number>();
    for (const c of calls) {
      const turn = Math.floor((c.t - 1_000 + 1e-9) / (perTurn * cost));
      byTurn.set(turn, (byTurn.get(turn) ?? 0) + 1);
    }
    expect(Math.max(...byTurn.values())).toBe(perTurn);
    expect(calls.map((c) => c.target)).toEqual(Array.from({ length: 20 }, (_, i) => `198.51.100.${10 + i}:80`));
    expect(journal.recent().filter((e) => e.type === 'checker.result')).toHaveLength(20);
    engine.stop();
    expect(sched.pending).toBe(0);
  });

  it.each([false, true])('cheap probes start at most TURN_MAX_STARTS per turn (timers before continuations: %s)', async (timersFirst) => {
    const sched = new TurnScheduler(true, timersFirst);
    const journal = new Journal({ mono: () => sched.t, wall: () => sched.t });
    const byTurn = new Map<number, number>();
    const probe: ProbeFn = () => {
      byTurn.set(sched.turns, (byTurn.get(sched.turns) ?? 0) + 1);
      return Promise.resolve({ ok: true });
    };
    const engine = new HealthEngine({ journal, scheduler: sched, probe });
    const n = 2 * TURN_MAX_STARTS + 3;
    engine.load(burst(n));
    engine.start();
    await sched.runUntil(1_000);
    expect([...byTurn.values()]).toEqual([TURN_MAX_STARTS, TURN_MAX_STARTS, 3]);
    expect(journal.recent().filter((e) => e.type === 'checker.result')).toHaveLength(n);
    engine.stop();
  });

  it("delay_loop counts from each check's own completion, also for a checker started in a later turn", async () => {
    const sched = new TurnScheduler(true);
    const cost = 0.6;
    const { probe, calls } = costlyProbe(sched, cost);
    const engine = new HealthEngine({ journal: new Journal({ mono: () => sched.t, wall: () => sched.t }), scheduler: sched, probe });
    engine.load(burst(4));
    engine.start();
    await sched.runUntil(1_000);
    const first = calls.map((c) => c.t);
    expect(first.map((t) => Math.round((t - 1_000) * 10))).toEqual([0, 6, 12, 18]);
    calls.length = 0;
    await sched.runUntil(7_000);
    const second = calls.map((c) => c.t);
    expect(second).toHaveLength(4);
    // completion = start + cost; the next check is delay_loop (5 s) later, to the
    // millisecond the timers resolve: a checker less than 1 ms from due joins the turn
    for (let i = 0; i < 4; i++) {
      const gap = second[i] - (first[i] + cost);
      expect(gap).toBeGreaterThan(5_000 - 1);
      expect(gap).toBeLessThan(5_000 + 1 + 4 * cost);
    }
    engine.stop();
  });

  it('without Scheduler.defer the continuation is a 0 ms timer, cancelled by stop()', async () => {
    const sched = new TurnScheduler(false);
    const { probe, calls } = costlyProbe(sched, 0.5);
    const engine = new HealthEngine({ journal: new Journal({ mono: () => sched.t, wall: () => sched.t }), scheduler: sched, probe });
    engine.load(burst(6));
    engine.start();
    sched.turns = 0;
    await sched.runUntil(1_010);
    expect(calls).toHaveLength(6);
    expect(sched.turns).toBe(3);
    engine.stop();
    expect(sched.pending).toBe(0);
    // a stop while a continuation is pending leaves no timer behind and starts nothing more
    const again = new HealthEngine({ journal: new Journal({ mono: () => sched.t, wall: () => sched.t }), scheduler: sched, probe });
    again.load(burst(6));
    again.start();
    await sched.runUntil(2_010); // the first turn; its continuation is a timer 0 ms after it ended
    expect(calls).toHaveLength(8);
    expect(sched.pending).toBe(1);
    again.stop();
    expect(sched.pending).toBe(0);
    await sched.runUntil(3_000);
    expect(calls).toHaveLength(8);
  });

  it('an injected probe that throws is a failed check and the queue keeps running', async () => {
    const sched = new TurnScheduler(true);
    const journal = new Journal({ mono: () => sched.t, wall: () => sched.t });
    let n = 0;
    const probe: ProbeFn = () => {
      if (n++ === 0) throw new Error('boom');
      return Promise.resolve({ ok: true });
    };
    const engine = new HealthEngine({ journal, scheduler: sched, probe });
    engine.load(burst(3));
    engine.start();
    await sched.runUntil(1_000);
    const results = journal.recent().flatMap((e) => (e.type === 'checker.result' ? [[e.result, e.detail]] : []));
    expect(results).toEqual([['failure', 'probe error: boom'], ['success', undefined], ['success', undefined]]);
    engine.stop();
  });
});
