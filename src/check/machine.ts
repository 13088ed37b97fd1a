/**
 * The pure health state machines: one per checker, the real-server rule on top, and the
 * virtual-server quorum with hysteresis. No I/O, no clock: the engine (engine.ts) feeds
 * probe outcomes in and schedules the returned delays.
 *
 * keepalived 2.2.7 semantics reproduced (check/check_tcp.c tcp_epilog is the model; the
 * HTTP, DNS and MISC epilogs differ in the details noted below):
 *  - a checker starts up unless `alpha` (then down until its first success);
 *  - retry_it starts at `retry` (check_data.c validate_check_config: "For non alpha mode,
 *    one failure is enough initially"), so the very first failure takes it down at once;
 *  - after a success retry_it = 0: a later failure is retried `retry` times, every
 *    delay_before_retry, before the checker goes down; then checks resume at delay_loop;
 *  - TCP_CHECK keeps retrying failures even while down (tcp_epilog has no is_up test);
 *    HTTP/SSL, DNS and MISC do not retry a checker that is already down, and HTTP waits
 *    max(delay_before_retry, delay_loop) after a final failure (epilog REGISTER_CHECKER_FAILED);
 *  - MISC_CHECK misc_dynamic: exit 0 = up at the configured weight, exit 2..255 = up with
 *    weight exit-2 (check_misc.c: cur_weight = status - 2 - iweight), failure resets it;
 *  - a real server is up only when ALL its checkers are up (ipwrapper.c
 *    update_svr_checker_state: num_failed_checkers == 0);
 *  - quorum: the sum of effective weights of live real servers; gained when
 *    sum >= quorum + hysteresis, lost when sum == 0 or sum < quorum - hysteresis
 *    (ipwrapper.c update_quorum_state); the initial state is sum >= quorum + hysteresis
 *    (set_quorum_states).
 */
import type { CheckerKind, CheckerTiming, ProbeOutcome } from './types';

export interface CheckerState {
  up: boolean;
  hasRun: boolean;
  /** keepalived retry_it */
  retryIt: number;
  /** weight this checker adds to the real server (keepalived cur_weight; MISC dynamic) */
  weightDelta: number;
  /** MISC_CHECK: last exit status that changed the weight */
  lastExitCode: number | null;
}

export type CheckerVerdict =
  /** went from down to up */
  | 'up'
  /** went from up to down */
  | 'down'
  /** failed, will try again after delay_before_retry */
  | 'retry'
  | 'still-up'
  | 'still-down';

export interface StepInput {
  kind: CheckerKind;
  timing: CheckerTiming;
  /** MISC_CHECK misc_dynamic */
  dynamic?: boolean;
  /** the real server's configured weight (keepalived iweight), for misc_dynamic */
  rsWeight: number;
}

export interface CheckerStep {
  state: CheckerState;
  verdict: CheckerVerdict;
  /** this was the checker's first completed check (keepalived !has_run) */
  firstRun: boolean;
  /** the weight contribution changed */
  weightChanged: boolean;
  nextDelayMs: number;
}

export function initialCheckerState(timing: CheckerTiming): CheckerState {
  return { up: !timing.alpha, hasRun: false, retryIt: timing.retry, weightDelta: 0, lastExitCode: null };
}

/**
 * Carry a checker's state over a reload (ipwrapper.c migrate_checkers): same up/has_run;
 * retries already spent count against the new `retry`, leaving at least one more failure.
 */
export function migrateCheckerState(old: CheckerState, timing: CheckerTiming): CheckerState {
  const s: CheckerState = { ...old };
  if (!old.hasRun) s.retryIt = timing.retry; // never checked: one failure is still enough
  else if (old.retryIt && timing.retry) s.retryIt = old.retryIt >= timing.retry ? timing.retry - 1 : old.retryIt;
  else s.retryIt = 0;
  return s;
}

export function checkerStep(input: StepInput, s: CheckerState, o: ProbeOutcome): CheckerStep {
  const { kind, timing } = input;
  const firstRun = !s.hasRun;
  if (o.ok) {
    let weightDelta = s.weightDelta;
    let lastExitCode = s.lastExitCode;
    if (kind === 'MISC_CHECK' && input.dynamic) {
      const code = o.exitCode ?? 0;
      if (code !== s.lastExitCode) {
        weightDelta = code >= 2 ? code - 2 - input.rsWeight : 0;
        lastExitCode = code;
      }
    }
    return {
      state: { up: true, hasRun: true, retryIt: 0, weightDelta, lastExitCode },
      verdict: s.up ? 'still-up' : 'up',
      firstRun,
      weightChanged: weightDelta !== s.weightDelta,
      nextDelayMs: timing.delayLoopMs,
    };
  }
  const mayRetry = kind === 'TCP_CHECK' || s.up || !s.hasRun;
  if (mayRetry && s.retryIt < timing.retry) {
    return {
      state: { ...s, hasRun: true, retryIt: s.retryIt + 1 },
      verdict: 'retry',
      firstRun,
      weightChanged: false,
      nextDelayMs: timing.delayBeforeRetryMs,
    };
  }
  const http = kind === 'HTTP_GET' || kind === 'SSL_GET';
  const next: CheckerState = {
    up: false,
    hasRun: true,
    retryIt: 0,
    // keepalived check_misc.c: a failure drops the dynamic weight contribution
    weightDelta: kind === 'MISC_CHECK' ? 0 : s.weightDelta,
    lastExitCode: kind === 'MISC_CHECK' ? null : s.lastExitCode,
  };
  return {
    state: next,
    verdict: s.up ? 'down' : 'still-down',
    firstRun,
    weightChanged: next.weightDelta !== s.weightDelta,
    nextDelayMs: http ? Math.max(timing.delayBeforeRetryMs, timing.delayLoopMs) : timing.delayLoopMs,
  };
}

// ------------------------------------------------------------------ real server

export interface RealServerHealth {
  alive: boolean;
  /** effective weight (configured + checker contributions, clamped to 0..INT32_MAX) */
  weight: number;
  /** checkers currently down */
  failedCheckers: number;
}

export function realServerHealth(configuredWeight: number, checkers: readonly CheckerState[]): RealServerHealth {
  let failed = 0;
  let w = configuredWeight;
  for (const c of checkers) {
    if (!c.up) failed++;
    w += c.weightDelta;
  }
  return { alive: failed === 0, weight: Math.min(Math.max(0, Math.trunc(w)), 2147483647), failedCheckers: failed };
}

// ------------------------------------------------------------------ virtual server

export interface QuorumConfig {
  quorum: number;
  hysteresis: number;
}

/** keepalived validate_check_config: quorum <= total weight, hysteresis < quorum. */
export function normalizeQuorum(q: QuorumConfig, totalConfiguredWeight: number): QuorumConfig & { warnings: string[] } {
  const warnings: string[] = [];
  let { quorum, hysteresis } = q;
  if (quorum < 1) quorum = 1;
  if (quorum > totalConfiguredWeight) {
    warnings.push(`quorum ${quorum} exceeds total weight of real servers ${totalConfiguredWeight}, reducing quorum to ${totalConfiguredWeight}`);
    quorum = totalConfiguredWeight;
  }
  if (hysteresis >= quorum) {
    const h = Math.max(0, quorum - 1);
    warnings.push(`hysteresis ${hysteresis} >= quorum ${quorum}; setting hysteresis to ${h}`);
    hysteresis = h;
  }
  return { quorum, hysteresis, warnings };
}

export function liveWeightSum(servers: Iterable<RealServerHealth>): number {
  let sum = 0;
  for (const s of servers) if (s.alive) sum += s.weight;
  return sum;
}

export function initialQuorumUp(q: QuorumConfig, sum: number): boolean {
  return sum >= q.quorum + q.hysteresis;
}

export function quorumStep(q: QuorumConfig, up: boolean, sum: number): boolean {
  if (!up) return sum >= q.quorum + q.hysteresis;
  return !(sum === 0 || sum < q.quorum - q.hysteresis);
}
