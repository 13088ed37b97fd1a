/**
 * VRRP timer arithmetic exactly as keepalived 2.2.7 computes it (include/vrrp.h
 * VRRP_TIMER_SKEW_CALC / VRRP_MS_DOWN_TIMER). keepalived works in integer
 * microseconds (TIMER_HZ = 1 000 000); we do the same integer arithmetic and
 * return milliseconds (fractional, µs resolution) so timings match to the µs.
 *
 *   v2 (RFC 3768 §6.1): Skew_Time = (256 − Priority) / 256 seconds — independent of
 *       the advert interval.            keepalived: (256−p) × TIMER_HZ / 256 µs
 *   v3 (RFC 5798 §6.1): Skew_Time = ((256 − Priority) × Master_Adver_Interval) / 256
 *       with the interval in centiseconds.  keepalived: (256−p) × cs × 625 / 16 µs
 *   Master_Down_Interval = down_timer_adverts (3) × Master_Adver_Interval + Skew_Time
 *
 * Note the priority used is the *effective* priority (tracking applied).
 */
import type { VrrpVersion } from './packet';

/** Skew time in integer microseconds for a given "priority value" (keepalived's pri_val = 256 − priority). */
function skewCalcUs(version: VrrpVersion, priVal: number, masterAdverIntMs: number): number {
  if (version === 3) {
    // keepalived: master_adver_int (µs) / TIMER_CENTI_HZ (10 000) truncates to whole centiseconds
    const cs = Math.floor(Math.round(masterAdverIntMs * 1000) / 10_000);
    return Math.floor((priVal * cs * 625) / 16);
  }
  return Math.floor((priVal * 1_000_000) / 256);
}

/** Skew_Time in ms (µs resolution). */
export function skewTimeMs(version: VrrpVersion, priority: number, masterAdverIntMs: number): number {
  return skewCalcUs(version, 256 - priority, masterAdverIntMs) / 1000;
}

/** keepalived VRRP_TIMER_SKEW_MIN: the skew of a priority-255 router ((256−255)/256 of the unit). */
export function minSkewTimeMs(version: VrrpVersion, masterAdverIntMs: number): number {
  return skewCalcUs(version, 1, masterAdverIntMs) / 1000;
}

/** Master_Down_Interval in ms: down_timer_adverts × Master_Adver_Interval + Skew_Time. */
export function masterDownIntervalMs(version: VrrpVersion, priority: number, masterAdverIntMs: number, downTimerAdverts = 3): number {
  const advUs = Math.round(masterAdverIntMs * 1000);
  return (downTimerAdverts * advUs + skewCalcUs(version, 256 - priority, masterAdverIntMs)) / 1000;
}

export interface AdvertIntResult {
  /** the interval keepalived will use, in ms */
  ms: number;
  /** set when keepalived would log a config error and adjust or ignore the value */
  warning?: string;
  /** the value was outside keepalived's parse range and ignored (default 1 s kept) */
  ignored?: boolean;
}

/**
 * Normalise a configured `advert_int` (seconds, decimal) like keepalived 2.2.7
 * (vrrp_parser.c:vrrp_adv_handler + vrrp_complete_instance): parsed in 0.01..255 s;
 * v2 rounds to whole seconds (minimum 1); v3 rounds to centiseconds, maximum 40.95 s.
 */
export function normaliseAdvertInt(version: VrrpVersion, seconds: number): AdvertIntResult {
  if (!Number.isFinite(seconds) || seconds < 0.01 || seconds > 255) {
    return { ms: 1000, ignored: true, warning: `advert_int ${seconds} outside range [0.010000, 255] - ignoring` };
  }
  if (version === 2) {
    let s = Math.round(seconds);
    if (s < 1) s = 1;
    if (s * 1000 !== Math.round(seconds * 1000)) return { ms: s * 1000, warning: `VRRPv2 advert interval ${seconds} rounded to ${s} second${s === 1 ? '' : 's'}` };
    return { ms: s * 1000 };
  }
  let cs = Math.round(seconds * 100);
  if (cs > 4095) return { ms: 40_950, warning: `VRRPv3 advert interval ${seconds} too large, reduced to 40.95 seconds` };
  if (cs < 1) cs = 1;
  const ms = cs * 10;
  if (Math.abs(ms - seconds * 1000) > 1e-6) return { ms, warning: `VRRPv3 advert interval ${seconds} rounded to ${ms / 1000} seconds` };
  return { ms };
}

/** The interval as carried in an advert: v2 whole seconds, v3 centiseconds. */
export function advertIntField(version: VrrpVersion, advertIntMs: number): number {
  return version === 2 ? Math.round(advertIntMs / 1000) : Math.round(advertIntMs / 10);
}
