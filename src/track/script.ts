/**
 * vrrp_script tracker (keepalived 2.2.7 vrrp/vrrp_scheduler.c vrrp_script_thread /
 * vrrp_script_child_thread / vrrp_init_script).
 *
 * keepalived keeps one counter `result` in 0 .. rise+fall-1: the script is "good"
 * while result >= rise. Start: rise-1 ("one success is enough"), or 0 with init_fail.
 * Success: below rise-1 → +1; otherwise jump to rise+fall-1, and if it was exactly
 * rise-1 the script has just become good. Failure: above rise → -1; otherwise drop
 * to 0, and if it was exactly rise (or the script had no result yet) it has just
 * become bad. A run that overlaps the previous one is skipped; a run longer than
 * `timeout` (default: interval) is killed and counts as a failure ("timed_out").
 */
import type { Journal } from '../journal/journal';
import { runCommand, type UserIds } from '../notify/command';

export type ScriptStatus = 'init' | 'good' | 'bad' | 'init_failed';

export interface ScriptCounter {
  result: number;
  /** no run has completed yet (keepalived SCRIPT_INIT_STATE_INIT / _FAILED) */
  initial: boolean;
  status: ScriptStatus;
}

export function initialCounter(rise: number, initFail: boolean): ScriptCounter {
  return initFail ? { result: 0, initial: true, status: 'init_failed' } : { result: rise - 1, initial: true, status: 'init' };
}

/** Pure: apply one run's outcome; `changed` tells whether good/bad flipped (or was first decided). */
export function stepCounter(c: ScriptCounter, success: boolean, rise: number, fall: number): { next: ScriptCounter; changed: 'good' | 'bad' | null } {
  const top = rise + fall - 1;
  let { result } = c;
  let changed: 'good' | 'bad' | null = null;
  if (success) {
    if (result < rise - 1) result++;
    else if (result !== top) {
      if (result < rise) changed = 'good';
      result = top;
    }
  } else if (result > rise) {
    result--;
  } else {
    if (result === rise || (c.initial && c.status === 'init')) changed = 'bad';
    result = 0;
  }
  let status: ScriptStatus = c.status;
  if (changed) status = changed;
  else if (status === 'init' && result >= rise) status = 'good';
  return { next: { result, initial: false, status }, changed };
}

export interface ScriptTrackerOptions {
  name: string;
  command: string;
  intervalMs: number;
  /** 0 = use interval */
  timeoutMs: number;
  rise: number;
  fall: number;
  initFail: boolean;
  user?: UserIds;
}

/** Runs a vrrp_script on a deadline schedule and reports good/bad flips. */
export class ScriptTracker {
  counter: ScriptCounter;
  /** keepalived script_state: 0 idle, 1 running, 2 requested termination, 3 forcing termination */
  state: 0 | 1 | 2 | 3 = 0;
  lastExit: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private next = 0;
  private stopped = false;

  constructor(
    readonly opts: ScriptTrackerOptions,
    private readonly journal: Journal,
    private readonly onChange: (name: string, ok: boolean) => void,
  ) {
    this.counter = initialCounter(opts.rise, opts.initFail);
  }

  /** ok for priority purposes: null until decided (init), like keepalived's init state */
  get ok(): boolean | null {
    if (this.counter.status === 'init') return null;
    if (this.counter.status === 'init_failed') return false;
    return this.counter.status === 'good';
  }

  start(): void {
    this.stopped = false;
    this.next = this.journal.clock.mono();
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.tick(), Math.max(0, delay));
    this.timer.unref?.();
  }

  private tick(): void {
    // Re-arm against the absolute deadline first (design.md: timers by deadline).
    this.next += this.opts.intervalMs;
    const now = this.journal.clock.mono();
    if (this.next < now) this.next = now + this.opts.intervalMs;
    this.schedule(this.next - now);
    if (this.state !== 0) return; // keepalived: "already running - skipping run"
    this.state = 1;
    const timeoutMs = this.opts.timeoutMs || this.opts.intervalMs;
    void runCommand(this.opts.command, { user: this.opts.user, timeoutMs }).then((r) => {
      this.state = 0;
      if (this.stopped) return;
      const success = r.exitCode === 0 && !r.timedOut;
      const result: 'success' | 'failure' | 'timeout' = r.timedOut ? 'timeout' : success ? 'success' : 'failure';
      this.lastExit = r.exitCode;
      const { next, changed } = stepCounter(this.counter, success, this.opts.rise, this.opts.fall);
      this.counter = next;
      this.journal.emit({
        type: 'track.script',
        name: this.opts.name,
        result,
        exitCode: r.exitCode,
        durationMs: r.durationMs,
        status: this.counter.status,
        ...(changed ? { changed } : {}),
      });
      if (changed) this.onChange(this.opts.name, changed === 'good');
    });
  }
}
