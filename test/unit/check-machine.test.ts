/** The pure checker / real-server / quorum machines (src/check/machine.ts). */
import { describe, expect, it } from 'vitest';
import {
  checkerStep,
  initialCheckerState,
  initialQuorumUp,
  liveWeightSum,
  migrateCheckerState,
  normalizeQuorum,
  quorumStep,
  realServerHealth,
  type CheckerState,
  type StepInput,
} from '../../src/check/machine';
import type { CheckerTiming, ProbeOutcome } from '../../src/check/types';
import { resolveTiming } from '../../src/lvs/spec';

const OK: ProbeOutcome = { ok: true };
const FAIL: ProbeOutcome = { ok: false, detail: 'ECONNREFUSED' };

function run(input: StepInput, results: ProbeOutcome[], s0?: CheckerState) {
  let s = s0 ?? initialCheckerState(input.timing);
  return results.map((o) => {
    const st = checkerStep(input, s, o);
    s = st.state;
    return st;
  });
}

const tcp = (t: Partial<CheckerTiming> = {}): StepInput => ({ kind: 'TCP_CHECK', timing: { ...resolveTiming('TCP_CHECK', { delayLoopMs: 6000, delayBeforeRetryMs: 1000 }), ...t }, rsWeight: 1 });

describe('checker state machine (keepalived tcp_epilog semantics)', () => {
  it('keepalived defaults per checker type', () => {
    expect(resolveTiming('TCP_CHECK', {})).toEqual({ delayLoopMs: 60000, retry: 1, delayBeforeRetryMs: 1000, warmupMs: 60000, alpha: false, logAllFailures: false });
    expect(resolveTiming('HTTP_GET', { delayLoopMs: 10000 })).toMatchObject({ retry: 1, delayBeforeRetryMs: 3000, warmupMs: 10000 });
    expect(resolveTiming('DNS_CHECK', { delayLoopMs: 10000 })).toMatchObject({ retry: 3, delayBeforeRetryMs: 10000 });
    expect(resolveTiming('MISC_CHECK', {})).toMatchObject({ retry: 0, delayBeforeRetryMs: 1000 });
  });

  it('starts up, and the very first failure takes it down without retrying', () => {
    const [a] = run(tcp({ retry: 3 }), [FAIL]);
    expect(a.verdict).toBe('down');
    expect(a.firstRun).toBe(true);
    expect(a.nextDelayMs).toBe(6000);
  });

  it('after a success, a failure is retried `retry` times every delay_before_retry before going down', () => {
    const steps = run(tcp({ retry: 2 }), [OK, FAIL, FAIL, FAIL, OK]);
    expect(steps.map((s) => s.verdict)).toEqual(['still-up', 'retry', 'retry', 'down', 'up']);
    expect(steps.map((s) => s.nextDelayMs)).toEqual([6000, 1000, 1000, 6000, 6000]);
    expect(steps[3].state.retryIt).toBe(0);
  });

  it('a success in the middle of retries resets the count', () => {
    const steps = run(tcp({ retry: 1 }), [OK, FAIL, OK, FAIL, FAIL]);
    expect(steps.map((s) => s.verdict)).toEqual(['still-up', 'retry', 'still-up', 'retry', 'down']);
  });

  it('retry 0 means one failure is enough', () => {
    expect(run(tcp({ retry: 0 }), [OK, FAIL]).map((s) => s.verdict)).toEqual(['still-up', 'down']);
  });

  it('alpha: starts down, first failure stays down (first run), first success brings it up', () => {
    const input = tcp({ alpha: true });
    expect(initialCheckerState(input.timing).up).toBe(false);
    const a = run(input, [FAIL, OK]);
    expect(a[0]).toMatchObject({ verdict: 'still-down', firstRun: true });
    expect(a[1]).toMatchObject({ verdict: 'up', firstRun: false });
    expect(run(input, [OK])[0]).toMatchObject({ verdict: 'up', firstRun: true });
  });

  it('TCP_CHECK keeps retrying while down; HTTP_GET does not, and backs off to max(delay_before_retry, delay_loop)', () => {
    const down = run(tcp({ retry: 1 }), [FAIL, FAIL, FAIL]);
    expect(down.map((s) => s.verdict)).toEqual(['down', 'retry', 'still-down']);
    const http: StepInput = { kind: 'HTTP_GET', timing: resolveTiming('HTTP_GET', { delayLoopMs: 2000, retry: 1 }), rsWeight: 1 };
    const h = run(http, [OK, FAIL, FAIL, FAIL]);
    expect(h.map((s) => s.verdict)).toEqual(['still-up', 'retry', 'down', 'still-down']);
    // delay_before_retry (3 s) > delay_loop (2 s): after a final failure keepalived waits 3 s
    expect(h.map((s) => s.nextDelayMs)).toEqual([2000, 3000, 3000, 3000]);
  });

  it('MISC_CHECK misc_dynamic: exit 2..255 sets the weight to exit-2, exit 0 restores it, failure drops it', () => {
    const input: StepInput = { kind: 'MISC_CHECK', timing: resolveTiming('MISC_CHECK', { delayLoopMs: 1000 }), dynamic: true, rsWeight: 5 };
    const steps = run(input, [
      { ok: true, exitCode: 12 },
      { ok: true, exitCode: 12 },
      { ok: true, exitCode: 0 },
      { ok: true, exitCode: 3 },
      { ok: false, exitCode: 1 },
    ]);
    const weights = steps.map((s) => realServerHealth(5, [s.state]).weight);
    expect(weights).toEqual([10, 10, 5, 1, 5]);
    expect(steps.map((s) => s.weightChanged)).toEqual([true, false, true, true, true]);
    expect(steps[4].verdict).toBe('down'); // MISC retry default is 0
  });

  it('migrates state over a reload, keeping at least one failure before going down', () => {
    const t = tcp({ retry: 3 }).timing;
    const mid: CheckerState = { up: true, hasRun: true, retryIt: 2, weightDelta: 0, lastExitCode: null };
    expect(migrateCheckerState(mid, { ...t, retry: 2 }).retryIt).toBe(1);
    expect(migrateCheckerState(mid, { ...t, retry: 5 }).retryIt).toBe(2);
    expect(migrateCheckerState({ ...mid, retryIt: 0 }, t).retryIt).toBe(0);
    expect(migrateCheckerState(initialCheckerState(t), t).retryIt).toBe(3);
    expect(migrateCheckerState({ ...mid, up: false }, t).up).toBe(false);
  });
});

describe('real server and quorum', () => {
  it('a real server is up only when all its checkers are up', () => {
    const up: CheckerState = { up: true, hasRun: true, retryIt: 0, weightDelta: 0, lastExitCode: null };
    expect(realServerHealth(3, [up, up])).toEqual({ alive: true, weight: 3, failedCheckers: 0 });
    expect(realServerHealth(3, [up, { ...up, up: false }])).toEqual({ alive: false, weight: 3, failedCheckers: 1 });
    expect(realServerHealth(3, [])).toMatchObject({ alive: true });
    expect(realServerHealth(3, [{ ...up, weightDelta: -10 }]).weight).toBe(0);
  });

  it('quorum with hysteresis: gained at >= quorum+h, lost below quorum-h or at zero', () => {
    const q = { quorum: 4, hysteresis: 1 };
    expect(initialQuorumUp(q, 4)).toBe(false);
    expect(initialQuorumUp(q, 5)).toBe(true);
    // up: stays up down to 3 (= quorum - hysteresis), lost at 2
    expect(quorumStep(q, true, 3)).toBe(true);
    expect(quorumStep(q, true, 2)).toBe(false);
    // down: stays down until 5
    expect(quorumStep(q, false, 4)).toBe(false);
    expect(quorumStep(q, false, 5)).toBe(true);
    // a zero sum always loses the quorum, whatever the thresholds
    expect(quorumStep({ quorum: 1, hysteresis: 0 }, true, 0)).toBe(false);
    expect(liveWeightSum([{ alive: true, weight: 2, failedCheckers: 0 }, { alive: false, weight: 7, failedCheckers: 1 }])).toBe(2);
  });

  it('normalises quorum and hysteresis like keepalived validate_check_config', () => {
    expect(normalizeQuorum({ quorum: 10, hysteresis: 0 }, 3)).toMatchObject({ quorum: 3, hysteresis: 0 });
    expect(normalizeQuorum({ quorum: 3, hysteresis: 5 }, 10)).toMatchObject({ quorum: 3, hysteresis: 2 });
    expect(normalizeQuorum({ quorum: 2, hysteresis: 1 }, 10).warnings).toEqual([]);
  });
});
