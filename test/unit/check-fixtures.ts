/** Shared fixtures for the checker/LVS unit tests: a fake scheduler and scripted probes. */
import type { Scheduler, TimerHandle } from '../../src/check/engine';
import type { ProbeFn } from '../../src/check/probes';
import type { CheckerSpec, ProbeOutcome } from '../../src/check/types';
import type { Clock } from '../../src/journal/journal';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

/** Virtual time. `advance` fires due timers in order and lets promise chains settle after each. */
export class FakeScheduler implements Scheduler {
  t = 0;
  private seq = 0;
  private timers = new Map<number, Pending>();
  randomValue = 0.5;

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
    return this.randomValue;
  }
  get pending(): number {
    return this.timers.size;
  }
  /** Milliseconds until the next timer (Infinity when none). */
  nextIn(): number {
    let min = Infinity;
    for (const p of this.timers.values()) min = Math.min(min, p.at - this.t);
    return min;
  }
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      let next: [number, Pending] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at || (e[1].at === next[1].at && e[1].seq < next[1].seq))) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
  clock(): Clock {
    return { mono: () => this.t, wall: () => 1_700_000_000_000 + this.t };
  }
}

/** Let resolved promises and their continuations run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

/** Where a probe goes: "ip:port" for network checkers, the path for MISC_CHECK. */
export function probeTarget(spec: CheckerSpec): string {
  return spec.kind === 'MISC_CHECK' ? spec.path : `${spec.connectIp}:${spec.connectPort}`;
}

/**
 * Probes answered from a table the test flips: `health.set('198.51.100.11:80', false)`.
 * Unknown targets succeed. Every call is recorded with the virtual time.
 */
export function scriptedProbe(sched: FakeScheduler): { probe: ProbeFn; health: Map<string, boolean | ProbeOutcome>; calls: Array<{ t: number; target: string }> } {
  const health = new Map<string, boolean | ProbeOutcome>();
  const calls: Array<{ t: number; target: string }> = [];
  const probe: ProbeFn = (spec) => {
    const target = probeTarget(spec);
    calls.push({ t: sched.now(), target });
    const h = health.get(target) ?? true;
    return Promise.resolve(typeof h === 'boolean' ? (h ? { ok: true } : { ok: false, detail: 'scripted failure' }) : h);
  };
  return { probe, health, calls };
}
