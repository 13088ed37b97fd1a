/**
 * The VRRP state machine of one instance, with keepalived 2.2.7 semantics
 * (vrrp/vrrp.c vrrp_state_*, vrrp/vrrp_scheduler.c vrrp_init_state /
 * try_up_instance / dispatcher, vrrp/vrrp_track.c down_instance /
 * vrrp_set_effective_priority), on top of RFC 3768 §6.4 and RFC 5798 §6.4.
 *
 * PURE: `step(state, event, now)` returns the next state and a list of actions
 * ("decide, then do" — shared/design.md). No I/O, no clock: `now` is monotonic
 * milliseconds supplied by the caller; timers are absolute deadlines in the same
 * clock, armed and cancelled through actions.
 *
 * Deliberate deviations from keepalived 2.2.7 (each tested in vrrp-fsm.test.ts):
 *  1. keepalived's dispatcher re-arms a MASTER's advert timer after *every*
 *     received packet for the VRID, even invalid ones or ones it did not answer
 *     (vrrp_dispatcher_read "If we have sent an advert, reset the timer"). A stream
 *     of bogus packets can then starve the master's adverts and make the backups
 *     take over. We re-arm only when an advert was actually sent (and, as
 *     keepalived, not with lower_prio_no_advert).
 *  2. The advert timer is re-armed from its previous deadline, not from the
 *     moment it was handled, so advert pacing does not drift (keepalived drifts
 *     ~0.2 ms per advert — reference RESULTS.md §5). After a stall longer than one
 *     interval we restart from `now` instead of bursting.
 *  3. When a v3 master becomes MASTER we go back to our own advert interval for
 *     Skew/Master_Down computations (RFC 5798 §6.4.3; keepalived only does so
 *     when run with -D, an accident of a log guard in vrrp_state_become_master).
 *  4. The MASTER's record of the sender on a higher-priority advert is reported
 *     in the transition action (keepalived keeps only the priority).
 */
import type { TransitionReason, VrrpState } from '../journal/events';
import { compareIp, canonicalIp, type Family, type VrrpVersion } from './packet';
import { masterDownIntervalMs, minSkewTimeMs, skewTimeMs } from './timing';

export const PRIO_OWNER = 255;
export const PRIO_STOP = 0;

/** The timers an instance uses. 'advert' (MASTER) and 'master_down' (BACKUP) are keepalived's one `sands` slot: at most one of them is armed. */
export type TimerName = 'advert' | 'master_down' | 'garp';

/** RFC 6527 vrrpv3StatisticsNewMasterReason (keepalived stats->master_reason). */
export type MasterReason = 'priority' | 'preempted' | 'masterNoResponse';

export type FsmCounter = 'become_master' | 'release_master' | 'pri_zero_sent' | 'pri_zero_rcvd';

export interface FsmConfig {
  vrid: number;
  version: VrrpVersion;
  family: Family;
  /** configured (base) priority 1..255; 255 = address owner */
  priority: number;
  /** configured advert_int, ms (v2 whole seconds; v3 10 ms steps) */
  advertIntMs: number;
  /** keepalived `state`: the wanted initial state */
  initialState: 'MASTER' | 'BACKUP';
  nopreempt: boolean;
  /** `preempt_delay`, ms (0 = none) */
  preemptDelayMs: number;
  /** `down_timer_adverts` (default 3) */
  downTimerAdverts: number;
  lowerPrioNoAdvert: boolean;
  higherPrioSendAdvert: boolean;
  /** `garp_master_delay`, ms: second GARP burst after becoming MASTER (0 = none); default 5000 */
  garpMasterDelayMs: number;
  /** `garp_master_repeat`: GARP rounds per burst; default 5 */
  garpMasterRepeat: number;
  /** `garp_master_refresh`, ms (0 = off) */
  garpMasterRefreshMs: number;
  /** `garp_master_refresh_repeat`; default 1 */
  garpMasterRefreshRepeat: number;
  /** `garp_lower_prio_delay`, ms (default = garp_master_delay; strict mode 0) */
  garpLowerPrioDelayMs: number;
  /** `garp_lower_prio_repeat` (default = garp_master_repeat; strict mode 0) */
  garpLowerPrioRepeat: number;
  /** unicast_peer configured */
  unicast: boolean;
  /** `skip_check_adv_addr` */
  skipCheckAdvAddr: boolean;
  /** `vrrp_startup_delay` as an absolute deadline (ms, same clock as `now`): BACKUP timers never expire before it + their interval */
  startupDelayUntil?: number;
  /** our source address (unicast_src_ip / mcast_src_ip / interface primary), the RFC "primary IP address" used for the tie-break */
  primaryAddress: string;
}

/** Defaults as keepalived 2.2.7 applies them (vrrp_data.c:alloc_vrrp, global_data.c). */
export function fsmConfig(c: Partial<FsmConfig> & Pick<FsmConfig, 'vrid' | 'primaryAddress'>): FsmConfig {
  const garpMasterDelayMs = c.garpMasterDelayMs ?? 5000;
  const garpMasterRepeat = c.garpMasterRepeat ?? 5;
  // keepalived vrrp_complete_instance: no priority + `state MASTER` → 255; no state → MASTER iff 255
  const initialState = c.initialState ?? (c.priority === PRIO_OWNER ? 'MASTER' : 'BACKUP');
  const priority = c.priority ?? (initialState === 'MASTER' ? PRIO_OWNER : 100);
  const d: FsmConfig = {
    vrid: c.vrid,
    primaryAddress: c.primaryAddress,
    version: c.version ?? 2,
    family: c.family ?? 'ipv4',
    priority,
    advertIntMs: c.advertIntMs ?? 1000,
    initialState,
    nopreempt: c.nopreempt ?? false,
    preemptDelayMs: c.preemptDelayMs ?? 0,
    downTimerAdverts: c.downTimerAdverts ?? 3,
    lowerPrioNoAdvert: c.lowerPrioNoAdvert ?? false,
    higherPrioSendAdvert: c.higherPrioSendAdvert ?? false,
    garpMasterDelayMs,
    garpMasterRepeat,
    garpMasterRefreshMs: c.garpMasterRefreshMs ?? 0,
    garpMasterRefreshRepeat: c.garpMasterRefreshRepeat ?? 1,
    garpLowerPrioDelayMs: c.garpLowerPrioDelayMs ?? garpMasterDelayMs,
    garpLowerPrioRepeat: c.garpLowerPrioRepeat ?? garpMasterRepeat,
    unicast: c.unicast ?? false,
    skipCheckAdvAddr: c.skipCheckAdvAddr ?? false,
  };
  if (c.startupDelayUntil !== undefined) d.startupDelayUntil = c.startupDelayUntil;
  return d;
}

/** A condition that holds the instance in FAULT (a down interface, a weight-0 tracked script/process/file/BFD …). */
export interface FaultEntry {
  source: string;
  reason: TransitionReason;
}

export interface GarpJob {
  at: number;
  repeat: number;
  why: 'master_delay' | 'lower_prio_delay';
}

/**
 * What a sync-group coordinator (sync-group.ts) tells a member before each step.
 * Absent for instances outside a sync group.
 */
export interface SyncGate {
  /** the group's current state (keepalived sgroup->state) */
  groupState: VrrpState;
  /** every other member's wantState is MASTER (vrrp_sync_can_goto_master) */
  othersWantMaster: boolean;
  /** another member has its own fault (sgroup->num_member_fault) */
  othersFaulty: boolean;
  /** another member still waits for a tracked script's first result (sgroup->num_member_init) */
  othersPending: boolean;
}

export interface FsmState {
  readonly cfg: FsmConfig;
  readonly state: VrrpState;
  /** keepalived wantstate: where the instance would be, disregarding its sync group */
  readonly wantState: 'BACKUP' | 'MASTER' | 'FAULT';
  /** base priority (configured; lowered 255 → 254 on an owner conflict) */
  readonly basePriority: number;
  /** sum of tracking weights (tracked objects that changed the priority) */
  readonly weightSum: number;
  readonly effectivePriority: number;
  /** v3: the interval learnt from the master (RFC 5798 Master_Adver_Interval); else = advertIntMs */
  readonly masterAdverIntMs: number;
  /** keepalived ms_down_timer: the interval the BACKUP timer was last armed with */
  readonly msDownTimerMs: number;
  /** the one keepalived `sands` timer */
  readonly timer: { readonly kind: 'advert' | 'master_down'; readonly at: number } | null;
  /** keepalived preempt_time: end of the running preempt_delay, null when none runs */
  readonly preemptAt: number | null;
  /** keepalived master_saddr (last advert source recorded in BACKUP) */
  readonly masterAddress: string | null;
  readonly masterPriority: number;
  readonly masterAdvertIntMs: number | null;
  /** keepalived vipset */
  readonly vipSet: boolean;
  readonly faults: readonly FaultEntry[];
  /** weight-0 tracked scripts that have not reported their first result (num_script_init) */
  readonly pending: readonly string[];
  readonly garpJobs: readonly GarpJob[];
  readonly garpRefreshAt: number | null;
  /** why the next BACKUP→MASTER would happen (stats->next_master_reason) */
  readonly nextMasterReason: MasterReason;
  readonly takeoverReason: TransitionReason;
  /** why we are (were last) MASTER (stats->master_reason) */
  readonly masterReason: MasterReason | null;
  readonly notifiesSent: boolean;
  readonly sync: SyncGate | null;
  readonly lastTransition: number | null;
  readonly reloadMaster: boolean;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type M = Mutable<FsmState>;

/** A validated advertisement, as the FSM needs it (packet.ts Advert fits). */
export interface RxAdvert {
  priority: number;
  /** v3: the Max Adver Int in ms (cs × 10); ignored for v2 */
  advertIntMs: number;
}

export type FsmEvent =
  /** vrrp_init_state: faults present at start (interface down, script init_fail…) and weight-0 scripts still in their first run */
  | { type: 'start'; faults?: FaultEntry[]; pending?: string[] }
  /** an advert that passed packet.ts decodeAdvert for this instance (only deliver in BACKUP/MASTER; see acceptsAdverts) */
  | { type: 'advert'; advert: RxAdvert; src: string }
  | { type: 'timer'; timer: TimerName }
  /** the sum of the tracking weights changed (keepalived total_priority − base) */
  | { type: 'trackWeight'; sum: number; cause?: string }
  /** a fault source went down (true) or up (false); `reason` names the cause, e.g. interface_down / interface_up / track_script */
  | { type: 'fault'; source: string; down: boolean; reason: TransitionReason }
  | { type: 'shutdown' }
  /** SIGHUP reload of a matched instance: new configuration, state and stats kept; vipsAdded = the new config added VIPs (GARP them) */
  | { type: 'reload'; cfg: FsmConfig; vipsAdded?: boolean }
  /** one of our VIPs was deleted from the interface by someone else (keepalived_netlink.c:set_vrrp_backup) */
  | { type: 'vipDeleted' }
  /** the interface's primary address (our tie-break address) changed */
  | { type: 'primaryAddress'; address: string }
  // ---- sent only by the sync-group coordinator (vrrp_sync.c) ----
  | { type: 'syncMaster' }
  | { type: 'syncBackup' }
  | { type: 'syncFault' }
  /** another MASTER member of the group heard a lower-priority advert: send our lower-prio GARPs too */
  | { type: 'syncLowerPrioGarp' };

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

export type FsmAction =
  | { type: 'sendAdvert'; priority: number }
  | { type: 'armTimer'; timer: TimerName; at: number }
  | { type: 'cancelTimer'; timer: TimerName }
  | { type: 'addVips' }
  | { type: 'removeVips' }
  /** `repeat` rounds of one GARP/NA per VIP and eVIP */
  | { type: 'sendGarp'; repeat: number; why: 'become_master' | 'master_delay' | 'refresh' | 'lower_prio' | 'lower_prio_delay' | 'reload' }
  /** unicast instance leaving FAULT: one GARP/NA for our own source address so the master re-learns us (try_up_instance) */
  | { type: 'sendSourceGarp' }
  /** run notify scripts / FIFO / traps for the instance entering `state` */
  | { type: 'notify'; state: VrrpState }
  /** keepalived event notifies (notify_master_rx_lower_pri, FIFO MASTER_RX_LOWER_PRI) */
  | { type: 'notifyEvent'; event: 'MASTER_RX_LOWER_PRI' }
  | { type: 'transition'; from: VrrpState; to: VrrpState; reason: TransitionReason; priority: number; masterPriority: number; masterAddress?: string; masterReason?: MasterReason }
  | { type: 'masterLearned'; address: string; priority: number; advertIntMs: number }
  /** effective priority changed (FIFO MASTER_PRIORITY/BACKUP_PRIORITY with notify_priority_changes) */
  | { type: 'priority'; from: number; to: number; cause: string }
  | { type: 'count'; counter: FsmCounter }
  /** keepalived's log line for this happening, without the "(INSTANCE) " prefix */
  | { type: 'log'; level: LogLevel; message: string };

export interface StepResult {
  state: FsmState;
  actions: FsmAction[];
}

// ---------------------------------------------------------------------------

function clampPriority(total: number): number {
  return total < 1 ? 1 : total >= PRIO_OWNER ? PRIO_OWNER - 1 : total;
}

/** Effective priority from base + weights (vrrp_set_effective_priority): [1,254], owner never changed. */
export function effectivePriorityOf(base: number, weightSum: number): number {
  return base === PRIO_OWNER ? PRIO_OWNER : clampPriority(base + weightSum);
}

/** The instance in INIT, before `start`. */
export function createFsm(cfg: FsmConfig): FsmState {
  const base = cfg.priority;
  return {
    cfg,
    state: 'INIT',
    wantState: cfg.initialState,
    basePriority: base,
    weightSum: 0,
    effectivePriority: effectivePriorityOf(base, 0),
    masterAdverIntMs: cfg.advertIntMs,
    msDownTimerMs: 0,
    timer: null,
    preemptAt: null,
    masterAddress: null,
    masterPriority: 0,
    masterAdvertIntMs: null,
    vipSet: false,
    faults: [],
    pending: [],
    garpJobs: [],
    garpRefreshAt: null,
    nextMasterReason: 'masterNoResponse',
    takeoverReason: 'master_timeout',
    masterReason: null,
    notifiesSent: false,
    sync: null,
    lastTransition: null,
    reloadMaster: false,
  };
}

/** Skew_Time of the instance now (effective priority, Master_Adver_Interval). */
export function skewMs(s: FsmState): number {
  return skewTimeMs(s.cfg.version, s.effectivePriority, s.masterAdverIntMs);
}

/** Master_Down_Interval of the instance now. */
export function masterDownMs(s: FsmState): number {
  return masterDownIntervalMs(s.cfg.version, s.effectivePriority, s.masterAdverIntMs, s.cfg.downTimerAdverts);
}

/** Adverts are processed only in BACKUP and MASTER; FAULT/INIT/STOP drop them before any check (vrrp_dispatcher_read). */
export function acceptsAdverts(s: FsmState): boolean {
  return s.state === 'BACKUP' || s.state === 'MASTER';
}

/**
 * keepalived check_vip_addr for a packet from `src`: MASTER always checks; a BACKUP
 * with `skip_check_adv_addr` skips the address checks for the master it already knows.
 */
export function shouldCheckAddresses(s: FsmState, src: string): boolean {
  if (s.state !== 'BACKUP' || !s.cfg.skipCheckAdvAddr || s.masterAddress === null) return true;
  return (canonicalIp(src) ?? src) !== s.masterAddress;
}

// ---------------------------------------------------------------------------

interface Ctx {
  s: M;
  a: FsmAction[];
  now: number;
}

function log(c: Ctx, level: LogLevel, message: string): void {
  c.a.push({ type: 'log', level, message });
}

function setTimer(c: Ctx, kind: 'advert' | 'master_down', at: number): void {
  const cur = c.s.timer;
  if (cur && cur.kind !== kind) c.a.push({ type: 'cancelTimer', timer: cur.kind });
  c.s.timer = { kind, at };
  c.a.push({ type: 'armTimer', timer: kind, at });
}

function cancelSands(c: Ctx): void {
  if (c.s.timer) {
    c.a.push({ type: 'cancelTimer', timer: c.s.timer.kind });
    c.s.timer = null;
  }
}

/** vrrp_init_instance_sands: (re)arm the instance timer for the current state. */
function initSands(c: Ctx): void {
  const s = c.s;
  if (s.state === 'MASTER') {
    setTimer(c, 'advert', s.reloadMaster ? c.now : c.now + s.cfg.advertIntMs);
  } else if (s.state === 'BACKUP') {
    // vrrp_startup_delay: a BACKUP timer runs from the end of the startup delay at the earliest
    const from = s.cfg.startupDelayUntil !== undefined && c.now < s.cfg.startupDelayUntil ? s.cfg.startupDelayUntil : c.now;
    setTimer(c, 'master_down', from + s.msDownTimerMs);
  } else {
    cancelSands(c);
  }
}

function transition(c: Ctx, to: VrrpState, reason: TransitionReason, masterAddress?: string): void {
  const s = c.s;
  const from = s.state;
  s.state = to;
  if (from === to) return;
  s.lastTransition = c.now;
  const isMaster = to === 'MASTER';
  const addr = isMaster ? s.cfg.primaryAddress : masterAddress ?? s.masterAddress ?? undefined;
  c.a.push({
    type: 'transition',
    from,
    to,
    reason,
    priority: s.effectivePriority,
    masterPriority: isMaster ? s.effectivePriority : s.masterPriority,
    ...(addr !== undefined ? { masterAddress: addr } : {}),
    ...(isMaster && s.masterReason ? { masterReason: s.masterReason } : {}),
  });
}

/** send_instance_notifies, with its sync-group suppression. */
function notify(c: Ctx): void {
  const s = c.s;
  // keepalived: a member already in its group's state sends no further notifies
  if (s.notifiesSent && s.sync && s.state === s.sync.groupState) return;
  s.notifiesSent = true;
  c.a.push({ type: 'notify', state: s.state });
}

function sendAdvert(c: Ctx, priority: number): void {
  c.a.push({ type: 'sendAdvert', priority });
}

/** vrrp_send_link_update: only while the VIPs are set. */
function sendGarps(c: Ctx, repeat: number, why: Extract<FsmAction, { type: 'sendGarp' }>['why']): void {
  if (!c.s.vipSet || repeat <= 0) return;
  c.a.push({ type: 'sendGarp', repeat, why });
}

function armGarpTimer(c: Ctx, prevMin: number | null): void {
  const jobs = c.s.garpJobs;
  if (jobs.length === 0) {
    if (prevMin !== null) c.a.push({ type: 'cancelTimer', timer: 'garp' });
    return;
  }
  const min = Math.min(...jobs.map((j) => j.at));
  if (min !== prevMin) c.a.push({ type: 'armTimer', timer: 'garp', at: min });
}

function garpMin(s: FsmState): number | null {
  return s.garpJobs.length ? Math.min(...s.garpJobs.map((j) => j.at)) : null;
}

function scheduleGarp(c: Ctx, job: GarpJob): void {
  const prev = garpMin(c.s);
  c.s.garpJobs = [...c.s.garpJobs, job];
  armGarpTimer(c, prev);
}

function canGotoMaster(s: FsmState): boolean {
  if (!s.sync) return true;
  return s.sync.groupState === 'MASTER' || s.sync.othersWantMaster;
}

/** vrrp_state_become_master */
function becomeMaster(c: Ctx): void {
  const s = c.s;
  c.a.push({ type: 'count', counter: 'become_master' });
  // RFC 5798 §6.4.3 / deviation 3: a master uses its own interval
  s.masterAdverIntMs = s.cfg.advertIntMs;
  c.a.push({ type: 'addVips' });
  s.vipSet = true;
  sendGarps(c, s.cfg.garpMasterRepeat, 'become_master');
  if (s.cfg.garpMasterRefreshMs > 0) s.garpRefreshAt = c.now + s.cfg.garpMasterRefreshMs;
  notify(c);
}

/** vrrp_state_master_tx: one advert; the first time, become MASTER (VIPs, GARPs, notify). */
function masterTx(c: Ctx): void {
  const s = c.s;
  // keepalived 2.2.0+: advert first, so the old master drops the VIPs before our GARPs
  sendAdvert(c, s.effectivePriority);
  if (!s.vipSet) {
    log(c, 'info', 'Entering MASTER STATE');
    becomeMaster(c);
    // the second GARP burst; not cancelled on leaving MASTER, sent only if MASTER again then (RESULTS.md §6.7)
    if (s.cfg.garpMasterDelayMs > 0) scheduleGarp(c, { at: c.now + s.cfg.garpMasterDelayMs, repeat: s.cfg.garpMasterRepeat, why: 'master_delay' });
  } else if (s.cfg.garpMasterRefreshMs > 0 && s.garpRefreshAt !== null && c.now > s.garpRefreshAt) {
    sendGarps(c, s.cfg.garpMasterRefreshRepeat, 'refresh');
    s.garpRefreshAt = c.now + s.cfg.garpMasterRefreshMs;
  }
}

/** vrrp_state_goto_master; false when the sync group holds us back (we stay BACKUP). */
function gotoMaster(c: Ctx, reason: TransitionReason): boolean {
  const s = c.s;
  if (!canGotoMaster(s)) {
    // vrrp_sync_can_goto_master: wait in BACKUP with a full down timer for the others
    s.wantState = 'MASTER';
    s.msDownTimerMs = masterDownMs(s);
    if (s.state === 'BACKUP') initSands(c);
    log(c, 'debug', 'sync group not ready for MASTER - waiting');
    return false;
  }
  s.masterReason = s.nextMasterReason;
  transition(c, 'MASTER', reason);
  s.state = 'MASTER';
  initSands(c);
  masterTx(c);
  return true;
}

/** vrrp_restore_interface: optional priority-0 advert (counted), VIPs removed. */
function restoreInterface(c: Ctx, advF: boolean): void {
  if (advF) {
    sendAdvert(c, PRIO_STOP);
    c.a.push({ type: 'count', counter: 'pri_zero_sent' });
    log(c, 'debug', 'sent 0 priority');
  }
  if (c.s.vipSet) {
    c.a.push({ type: 'removeVips' });
    c.s.vipSet = false;
  }
}

/** vrrp_state_leave_master: to wantState (BACKUP or FAULT). */
function leaveMaster(c: Ctx, advF: boolean, reason: TransitionReason, masterAddress?: string): void {
  const s = c.s;
  const to = s.wantState === 'FAULT' ? 'FAULT' : 'BACKUP';
  if (to === 'BACKUP') {
    log(c, 'info', 'Entering BACKUP STATE');
    s.preemptAt = null;
  } else {
    log(c, 'info', 'Entering FAULT STATE');
    // keepalived sends this one uncounted, then restore_interface(advF) may send a counted one
    sendAdvert(c, PRIO_STOP);
  }
  transition(c, to, reason, masterAddress);
  restoreInterface(c, advF);
  notify(c);
  s.msDownTimerMs = masterDownMs(s);
  initSands(c);
  c.a.push({ type: 'count', counter: 'release_master' });
}

/** vrrp_state_leave_fault: to wantState (from FAULT/INIT, or from BACKUP into FAULT). */
function leaveFault(c: Ctx, reason: TransitionReason): void {
  const s = c.s;
  let done = false;
  if (s.wantState === 'MASTER') done = gotoMaster(c, reason);
  if (!done) {
    const to = s.wantState === 'FAULT' ? 'FAULT' : 'BACKUP';
    if (s.state !== to) log(c, 'info', `Entering ${to} STATE`);
    if (to === 'FAULT' && s.state === 'MASTER') {
      sendAdvert(c, PRIO_STOP);
      restoreInterface(c, false);
    }
    transition(c, to, reason);
    notify(c);
    if (to === 'BACKUP') s.preemptAt = null;
  }
  s.masterAdverIntMs = s.cfg.advertIntMs;
  s.msDownTimerMs = masterDownMs(s);
  initSands(c);
}

/** down_instance: the first fault source (or any while INIT) takes the instance to FAULT. */
function downInstance(c: Ctx, reason: TransitionReason): void {
  const s = c.s;
  s.wantState = 'FAULT';
  if (s.state === 'MASTER') leaveMaster(c, true, reason);
  else leaveFault(c, reason);
}

/** try_up_instance: every fault source cleared (leavingInit: the last pending script reported). */
function tryUp(c: Ctx, reason: TransitionReason): void {
  const s = c.s;
  if (s.faults.length > 0) return;
  if (s.pending.length > 0) {
    s.wantState = 'BACKUP';
    return;
  }
  if (s.wantState === 'MASTER' && s.basePriority === PRIO_OWNER) {
    s.nextMasterReason = 'preempted';
    s.takeoverReason = 'address_owner';
  } else {
    s.wantState = 'BACKUP';
    s.nextMasterReason = 'masterNoResponse';
    s.takeoverReason = 'master_timeout';
  }
  s.masterAdverIntMs = s.cfg.advertIntMs;
  s.msDownTimerMs = masterDownMs(s);
  // the sync group holds every member in FAULT until all of them are clear
  if (s.sync && (s.sync.othersFaulty || s.sync.othersPending)) return;
  const want = s.wantState;
  if (want === 'MASTER' && !canGotoMaster(s)) s.wantState = 'BACKUP';
  leaveFault(c, reason);
  // unicast: let the master re-learn our MAC before its adverts must reach us
  if (s.cfg.unicast) c.a.push({ type: 'sendSourceGarp' });
  s.wantState = want;
}

/** vrrp_set_effective_priority */
function setEffectivePriority(c: Ctx, cause: string): void {
  const s = c.s;
  if (s.basePriority === PRIO_OWNER) return;
  const next = clampPriority(s.cfg.priority + s.weightSum);
  if (next === s.effectivePriority) return;
  const from = s.effectivePriority;
  log(c, 'info', `Changing effective priority from ${from} to ${next}`);
  s.effectivePriority = next;
  const old = s.msDownTimerMs;
  s.msDownTimerMs = masterDownMs(s);
  // a running BACKUP timer moves by the change of the down interval
  if (s.state === 'BACKUP' && s.timer && s.timer.kind === 'master_down') setTimer(c, 'master_down', s.timer.at + (s.msDownTimerMs - old));
  c.a.push({ type: 'priority', from, to: next, cause });
}

// ---------------------------------------------------------------------------

/** vrrp_init_state for one instance. */
function onStart(c: Ctx, ev: Extract<FsmEvent, { type: 'start' }>): void {
  const s = c.s;
  if (s.state !== 'INIT') return;
  const pre = s.faults.filter((f) => !(ev.faults ?? []).some((g) => g.source === f.source));
  s.faults = [...pre, ...(ev.faults ?? [])];
  s.pending = [...new Set(ev.pending ?? [])].filter((p) => !s.faults.some((f) => f.source === p));
  if (s.faults.length > 0) s.wantState = 'FAULT';
  const newState = s.sync ? s.sync.groupState : s.wantState;
  const isUp = s.faults.length === 0;
  const groupPending = !!s.sync && s.sync.othersPending;
  s.masterAdverIntMs = s.cfg.advertIntMs;
  if (isUp && newState === 'MASTER' && s.pending.length === 0 && !groupPending && s.basePriority === PRIO_OWNER && s.wantState === 'MASTER') {
    // keepalived: "the simplest way to become master is to timeout from the backup state very quickly (1usec)"
    s.nextMasterReason = 'preempted';
    s.takeoverReason = 'address_owner';
    transition(c, 'BACKUP', 'address_owner');
    s.msDownTimerMs = 0.001;
  } else {
    if (newState === 'BACKUP' && s.wantState === 'MASTER') {
      // a sync-group member wanting MASTER: allow one advert interval for another master to show up
      s.msDownTimerMs = s.masterAdverIntMs + minSkewTimeMs(s.cfg.version, s.masterAdverIntMs);
    } else {
      s.msDownTimerMs = masterDownMs(s);
    }
    s.nextMasterReason = 'masterNoResponse';
    s.takeoverReason = 'master_timeout';
    const begin = s.state;
    if (isUp && newState !== 'FAULT' && s.pending.length === 0 && !groupPending) {
      log(c, 'info', 'Entering BACKUP STATE (init)');
      transition(c, 'BACKUP', 'startup');
    } else {
      log(c, 'info', 'Entering FAULT STATE (init)');
      transition(c, 'FAULT', s.faults[0]?.reason ?? (newState === 'FAULT' ? 'sync_group' : 'startup'));
    }
    // FAULT at init notifies only when caused by a fault (own or the sync group's:
    // vrrp_complete_init), not by scripts still in their first run
    if (begin !== s.state && (s.state !== 'FAULT' || s.faults.length > 0 || newState === 'FAULT')) notify(c);
  }
  initSands(c);
  s.reloadMaster = false;
}

function onAdvertBackup(c: Ctx, adv: RxAdvert, src: string): void {
  const s = c.s;
  const prio = adv.priority;
  if (prio === PRIO_STOP) {
    // RFC 3768/5798 §6.4.2: "If the Priority in the ADVERTISEMENT is Zero, then: Set the Master_Down_Timer to Skew_Time"
    log(c, 'debug', 'Backup received priority 0 advertisement');
    s.msDownTimerMs = skewMs(s);
    s.nextMasterReason = 'priority';
    s.takeoverReason = 'priority_zero_received';
    initSands(c);
    return;
  }
  const inPreemptDelay = s.cfg.preemptDelayMs > 0 && (s.preemptAt === null || s.preemptAt > c.now);
  if (s.cfg.nopreempt || prio >= s.effectivePriority || inPreemptDelay) {
    // §6.4.2 "If Preempt_Mode is False, or if the Priority in the ADVERTISEMENT is greater than or equal
    // to the local Priority": accept. keepalived: equal priority in BACKUP counts as a valid master.
    const learnt = s.cfg.version === 3 && s.masterAdverIntMs !== adv.advertIntMs;
    if (learnt) {
      // RFC 5798 §6.4.2: "Set Master_Adver_Interval to Adver Interval contained in the ADVERTISEMENT"
      log(c, 'debug', `advertisement interval updated from ${s.masterAdverIntMs}ms to ${adv.advertIntMs}ms by master`);
      s.masterAdverIntMs = adv.advertIntMs;
    }
    s.msDownTimerMs = masterDownMs(s);
    const changed = s.masterAddress !== src || s.masterPriority !== prio || learnt || s.masterAdvertIntMs !== adv.advertIntMs;
    s.masterAddress = src;
    s.masterPriority = prio;
    s.masterAdvertIntMs = adv.advertIntMs;
    s.nextMasterReason = 'masterNoResponse';
    s.takeoverReason = 'master_timeout';
    if (s.cfg.preemptDelayMs > 0) {
      if (prio >= s.effectivePriority) {
        if (s.preemptAt !== null) {
          log(c, 'debug', 'stop preempt delay');
          s.preemptAt = null;
        }
      } else if (s.preemptAt === null) {
        log(c, 'debug', `start preempt delay (${(s.cfg.preemptDelayMs / 1000).toFixed(6)})`);
        s.preemptAt = c.now + s.cfg.preemptDelayMs;
      }
    }
    // held in BACKUP by a sync group with an expired timer: an advert means we want BACKUP again
    s.wantState = 'BACKUP';
    if (changed) c.a.push({ type: 'masterLearned', address: src, priority: prio, advertIntMs: adv.advertIntMs });
    initSands(c);
    return;
  }
  // preemption: a lower-priority master is ignored, the timer keeps running and we take over when it expires
  log(c, 'info', `received lower priority (${prio}) advert from ${src} - discarding`);
  s.nextMasterReason = 'preempted';
  s.takeoverReason = 'preempt';
  s.masterAddress = src;
}

function onAdvertMaster(c: Ctx, adv: RxAdvert, src: string): void {
  const s = c.s;
  const prio = adv.priority;
  const cmp = compareIp(src, s.cfg.primaryAddress);
  let sent = false;
  const finish = (): void => {
    // deviation 1: re-arm the advert timer only when an advert actually went out
    if (sent && !s.cfg.lowerPrioNoAdvert) setTimer(c, 'advert', c.now + s.cfg.advertIntMs);
  };
  if (prio === PRIO_STOP || (s.cfg.higherPrioSendAdvert && (prio > s.effectivePriority || (prio === s.effectivePriority && cmp > 0)))) {
    // §6.4.3 "If the Priority in the ADVERTISEMENT is Zero, then: Send an ADVERTISEMENT; Reset the Adver_Timer"
    sendAdvert(c, s.effectivePriority);
    sent = true;
    if (prio === PRIO_STOP) {
      log(c, 'debug', 'Master received priority 0 message');
      finish();
      return;
    }
  }
  if (prio === s.effectivePriority) {
    if (cmp === 0) {
      log(c, 'warning', 'WARNING - equal priority advert received from remote host with our IP address.');
    } else if (s.effectivePriority === PRIO_OWNER) {
      log(c, 'error', 'CONFIGURATION ERROR: local instance and a remote instance are both configured as address owner, please fix - reducing local priority');
      s.effectivePriority = PRIO_OWNER - 1;
      s.basePriority = PRIO_OWNER - 1;
      c.a.push({ type: 'priority', from: PRIO_OWNER, to: PRIO_OWNER - 1, cause: 'address owner conflict' });
    }
  }
  if (prio < s.effectivePriority || (prio === s.effectivePriority && cmp < 0)) {
    // §6.4.3 "else: Discard the ADVERTISEMENT"; keepalived also re-asserts itself
    log(c, 'info', `Received advert from ${src} with lower priority ${prio}, ours ${s.effectivePriority}${!s.cfg.lowerPrioNoAdvert ? ', forcing new election' : ''}`);
    if (!s.cfg.lowerPrioNoAdvert) {
      sendAdvert(c, s.effectivePriority);
      sent = true;
    }
    lowerPrioGarp(c);
    c.a.push({ type: 'notifyEvent', event: 'MASTER_RX_LOWER_PRI' });
    finish();
    return;
  }
  if (prio > s.effectivePriority || (prio === s.effectivePriority && cmp > 0)) {
    // §6.4.3 "If the Priority in the ADVERTISEMENT is greater than the local Priority, or the Priority
    // ... is equal to the local Priority and the primary IP Address of the sender is greater than the
    // local primary IP Address": become BACKUP. No priority-0 advert in this case.
    if (prio > s.effectivePriority) log(c, 'info', `Master received advert from ${src} with higher priority ${prio}, ours ${s.effectivePriority}`);
    else log(c, 'info', `Master received advert from ${src} with same priority ${prio} but higher IP address than ours`);
    if (s.cfg.version === 3 && s.masterAdverIntMs !== adv.advertIntMs) s.masterAdverIntMs = adv.advertIntMs;
    s.masterPriority = prio;
    s.masterAdvertIntMs = adv.advertIntMs;
    s.wantState = 'BACKUP';
    c.a.push({ type: 'masterLearned', address: src, priority: prio, advertIntMs: adv.advertIntMs });
    leaveMaster(c, false, 'higher_priority_master', src);
    return;
  }
  finish();
}

function lowerPrioGarp(c: Ctx): void {
  const s = c.s;
  if (s.cfg.garpLowerPrioRepeat > 0) {
    sendGarps(c, s.cfg.garpLowerPrioRepeat, 'lower_prio');
    if (s.cfg.garpLowerPrioDelayMs > 0 && s.vipSet) scheduleGarp(c, { at: c.now + s.cfg.garpLowerPrioDelayMs, repeat: s.cfg.garpLowerPrioRepeat, why: 'lower_prio_delay' });
  }
}

function onTimer(c: Ctx, timer: TimerName): void {
  const s = c.s;
  if (timer === 'garp') {
    const prev = garpMin(s);
    const due = s.garpJobs.filter((j) => j.at <= c.now);
    if (due.length === 0) return;
    s.garpJobs = s.garpJobs.filter((j) => j.at > c.now);
    for (const j of due) sendGarps(c, j.repeat, j.why);
    const next = garpMin(s);
    if (next === null) {
      if (prev !== null) c.a.push({ type: 'cancelTimer', timer: 'garp' });
    } else c.a.push({ type: 'armTimer', timer: 'garp', at: next });
    return;
  }
  // ignore a stale or early timer (already superseded or cancelled)
  if (!s.timer || s.timer.kind !== timer || c.now < s.timer.at) return;
  if (timer === 'master_down' && s.state === 'BACKUP') {
    // §6.4.2 "If the Master_Down_Timer fires": send an advert, GARP, become MASTER
    log(c, 'debug', 'Receive advertisement timeout');
    s.wantState = 'MASTER';
    gotoMaster(c, s.takeoverReason);
    return;
  }
  if (timer === 'advert' && s.state === 'MASTER') {
    // §6.4.3 "If the Adver_Timer fires": send an advert, reset the timer (deviation 2: from the deadline)
    const deadline = s.timer.at;
    s.reloadMaster = false;
    masterTx(c);
    let next = deadline + s.cfg.advertIntMs;
    if (next <= c.now) next = c.now + s.cfg.advertIntMs;
    setTimer(c, 'advert', next);
  }
}

function onFault(c: Ctx, ev: Extract<FsmEvent, { type: 'fault' }>): void {
  const s = c.s;
  if (s.state === 'INIT') {
    // before start: just record; onStart takes the initial state from these
    s.pending = s.pending.filter((p) => p !== ev.source);
    const rest = s.faults.filter((f) => f.source !== ev.source);
    s.faults = ev.down ? [...rest, { source: ev.source, reason: ev.reason }] : rest;
    return;
  }
  const wasPending = s.pending.includes(ev.source);
  if (wasPending) s.pending = s.pending.filter((p) => p !== ev.source);
  const had = s.faults.some((f) => f.source === ev.source);
  if (ev.down) {
    if (had) return;
    s.faults = [...s.faults, { source: ev.source, reason: ev.reason }];
    if (s.faults.length === 1) downInstance(c, ev.reason);
    return;
  }
  if (had) {
    s.faults = s.faults.filter((f) => f.source !== ev.source);
    tryUp(c, ev.reason);
  } else if (wasPending && s.pending.length === 0 && s.faults.length === 0 && s.state === 'FAULT') {
    tryUp(c, ev.reason);
  }
}

function onShutdown(c: Ctx): void {
  const s = c.s;
  // restore_vrrp_interfaces: a MASTER tells the others (priority 0) and releases its VIPs
  if (s.state === 'MASTER') restoreInterface(c, true);
  cancelSands(c);
  if (s.garpJobs.length) {
    s.garpJobs = [];
    c.a.push({ type: 'cancelTimer', timer: 'garp' });
  }
  transition(c, 'STOP', 'shutdown');
  notify(c);
}

function onReload(c: Ctx, ev: Extract<FsmEvent, { type: 'reload' }>): void {
  const s = c.s;
  const old = s.effectivePriority;
  s.cfg = ev.cfg;
  s.basePriority = ev.cfg.priority;
  s.effectivePriority = effectivePriorityOf(ev.cfg.priority, s.weightSum);
  // keepalived builds a new vrrp_t: Master_Adver_Interval starts again from our own interval
  s.masterAdverIntMs = ev.cfg.advertIntMs;
  if (s.effectivePriority !== old) c.a.push({ type: 'priority', from: old, to: s.effectivePriority, cause: 'reload' });
  if (s.state === 'MASTER') {
    // restore_vrrp_state: reload_master — advert at once, no GARP burst unless VIPs were added
    s.wantState = 'MASTER';
    s.reloadMaster = true;
    if (ev.vipsAdded) {
      sendGarps(c, s.cfg.garpMasterRepeat, 'reload');
      if (s.cfg.garpMasterRefreshMs > 0) s.garpRefreshAt = c.now + s.cfg.garpMasterRefreshMs;
    }
    initSands(c);
  } else if (s.state === 'BACKUP') {
    s.wantState = 'BACKUP';
    s.msDownTimerMs = masterDownMs(s);
    initSands(c);
  }
}

function onVipDeleted(c: Ctx): void {
  const s = c.s;
  if (s.state !== 'MASTER') return;
  // keepalived_netlink.c:set_vrrp_backup: leave MASTER with priority 0, then retake quickly
  s.wantState = 'BACKUP';
  leaveMaster(c, true, 'vip_removed');
  s.msDownTimerMs = skewMs(s);
  initSands(c);
}

/**
 * Advance the instance by one event. Returns the new state (the input is not
 * modified) and the actions to perform, in order.
 */
export function step(state: FsmState, ev: FsmEvent, now: number): StepResult {
  const c: Ctx = { s: { ...state }, a: [], now };
  const s = c.s;
  if (s.state === 'STOP') return { state, actions: [] };
  switch (ev.type) {
    case 'start':
      onStart(c, ev);
      break;
    case 'advert': {
      if (!acceptsAdverts(s)) return { state, actions: [] };
      const src = canonicalIp(ev.src) ?? ev.src;
      if (ev.advert.priority === PRIO_STOP) c.a.push({ type: 'count', counter: 'pri_zero_rcvd' });
      if (s.state === 'BACKUP') onAdvertBackup(c, ev.advert, src);
      else onAdvertMaster(c, ev.advert, src);
      break;
    }
    case 'timer':
      onTimer(c, ev.timer);
      break;
    case 'trackWeight':
      s.weightSum = ev.sum;
      setEffectivePriority(c, ev.cause ?? 'tracking');
      break;
    case 'fault':
      onFault(c, ev);
      break;
    case 'shutdown':
      onShutdown(c);
      break;
    case 'reload':
      onReload(c, ev);
      break;
    case 'vipDeleted':
      onVipDeleted(c);
      break;
    case 'primaryAddress':
      s.cfg = { ...s.cfg, primaryAddress: ev.address };
      break;
    case 'syncMaster':
      if (s.state === 'MASTER' || s.state === 'INIT') break;
      s.wantState = 'MASTER';
      gotoMaster(c, 'sync_group');
      break;
    case 'syncBackup':
      if (s.state === 'BACKUP' || s.faults.length > 0) break;
      s.wantState = 'BACKUP';
      if (s.state === 'FAULT' || s.state === 'INIT') leaveFault(c, 'sync_group');
      else leaveMaster(c, false, 'sync_group');
      break;
    case 'syncFault':
      if (s.state === 'FAULT') break;
      s.wantState = 'FAULT';
      if (s.state === 'MASTER') leaveMaster(c, false, 'sync_group');
      else {
        // vrrp_sync_fault: "isync->state = VRRP_STATE_FAULT; /* This is a bit of a bodge */"
        transition(c, 'FAULT', 'sync_group');
        leaveFault(c, 'sync_group');
      }
      break;
    case 'syncLowerPrioGarp':
      if (s.state === 'MASTER') lowerPrioGarp(c);
      break;
  }
  return { state: s, actions: c.a };
}

/** Does the instance own a fault (as opposed to being held in FAULT by its sync group)? */
export function hasOwnFault(s: FsmState): boolean {
  return s.faults.length > 0;
}
