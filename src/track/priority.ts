/**
 * Effective priority from tracked objects, keepalived 2.2.7 semantics
 * (vrrp/vrrp_track.c process_script_update_priority, initialise_track_script_state,
 * vrrp_set_effective_priority), written as a pure function of the trackers' current
 * status instead of keepalived's incremental total_priority bookkeeping:
 *
 * - weight 0: the tracker is a hard dependency: down (not ok, or ok with `reverse`)
 *   puts the instance in FAULT.
 * - weight w ≠ 0 with multiplier m (reverse → -1): while in the "init" state (no
 *   result yet) it contributes nothing; afterwards it contributes w·m when ok if w > 0,
 *   and w·m when not ok if w < 0 (so a transition always moves priority by |w|).
 * - track_file: value × weight (× m); with weight 0 a non-zero value is a fault.
 *   Below -253 total → FAULT for VRRP (track_file.c).
 * - Address owners (base 255) never change priority; the result is clamped to 1..254.
 */

export interface TrackerStatus {
  kind: 'script' | 'interface' | 'file' | 'process' | 'bfd';
  name: string;
  weight: number;
  reverse: boolean;
  /** null while the tracker has no result yet (keepalived SCRIPT_INIT_STATE_INIT) */
  ok: boolean | null;
  /** track_file: the number read from the file */
  value?: number;
}

export interface PriorityResult {
  effective: number;
  fault: boolean;
  /** the first tracker forcing FAULT, for the transition reason / log */
  faultBy?: TrackerStatus;
}

const OWNER = 255;

export function contribution(t: TrackerStatus): number {
  const m = t.reverse ? -1 : 1;
  if (t.kind === 'file') return t.weight === 0 ? 0 : (t.value ?? 0) * t.weight * m;
  if (t.weight === 0 || t.ok === null) return 0;
  if (t.weight > 0) return t.ok ? t.weight * m : 0;
  return t.ok ? 0 : t.weight * m;
}

export function isFaulting(t: TrackerStatus): boolean {
  if (t.kind === 'file') {
    if (t.weight === 0) return (t.value ?? 0) !== 0;
    return contribution(t) < -253;
  }
  if (t.weight !== 0 || t.ok === null) return false;
  return t.ok === t.reverse;
}

export function computePriority(base: number, trackers: TrackerStatus[]): PriorityResult {
  const faultBy = trackers.find(isFaulting);
  if (base === OWNER) return { effective: OWNER, fault: faultBy !== undefined, faultBy };
  let total = base;
  for (const t of trackers) total += contribution(t);
  const effective = total < 1 ? 1 : total >= OWNER ? OWNER - 1 : total;
  return { effective, fault: faultBy !== undefined, faultBy };
}
