/**
 * vrrp_sync_group coordination, keepalived 2.2.7 semantics (vrrp/vrrp_sync.c,
 * the VRRP_TSM table in vrrp/vrrp_scheduler.c, down_instance / try_up_instance).
 *
 * PURE, like fsm.ts: the group's members are FsmStates; `syncStep` feeds one
 * member an event and then runs keepalived's transition handlers on the others:
 *
 *   member BACKUP/FAULT → MASTER   vrrp_sync_master: if every member wants MASTER,
 *                                  all go MASTER; group MASTER; group notify
 *   member MASTER → BACKUP         vrrp_sync_backup: all MASTER/FAULT members go
 *                                  BACKUP; group BACKUP; group notify
 *   member gets its first fault    vrrp_sync_fault: every member goes FAULT
 *   member leaves FAULT            only when no member has a fault left; then the
 *                                  others follow it (sync_master / sync_backup)
 *   VIP deleted under a MASTER     set_vrrp_backup: every MASTER member leaves with
 *                                  priority 0 and retakes after Skew_Time
 *   MASTER hears lower priority    the other members send their lower-prio GARPs
 *
 * Members learn the group's situation through FsmState.sync (SyncGate), set here
 * before each of their steps; a member's own notifies are suppressed once the
 * group is already in that state (send_instance_notifies).
 */
import type { TransitionReason, VrrpState } from '../journal/events';
import { PRIO_OWNER, step, type FaultEntry, type FsmAction, type FsmEvent, type FsmState, type SyncGate } from './fsm';

export interface SyncGroupState {
  readonly name: string;
  readonly state: VrrpState;
  /** member instance names, in configuration order (keepalived iterates in that order) */
  readonly members: readonly string[];
}

export type GroupAction =
  | { type: 'groupTransition'; group: string; from: VrrpState; to: VrrpState; reason: TransitionReason }
  /** run the group's notify scripts / FIFO line / trap for the group entering `state` (after the members' own) */
  | { type: 'groupNotify'; group: string; state: VrrpState };

export interface MemberActions {
  instance: string;
  actions: FsmAction[];
}

export interface SyncStepResult {
  group: SyncGroupState;
  members: Record<string, FsmState>;
  /** member actions in the order they were decided; perform them in this order */
  actions: MemberActions[];
  /** group-level actions, to perform after the member actions */
  groupActions: GroupAction[];
}

export function createSyncGroup(name: string, members: string[]): SyncGroupState {
  return { name, state: 'INIT', members: [...members] };
}

/** The SyncGate a member sees, computed from the other members' current states. */
export function gateFor(g: SyncGroupState, members: Readonly<Record<string, FsmState>>, name: string): SyncGate {
  const others = g.members.filter((m) => m !== name && members[m] !== undefined).map((m) => members[m]);
  return {
    groupState: g.state,
    othersWantMaster: others.every((o) => o.wantState === 'MASTER'),
    othersFaulty: others.some((o) => o.faults.length > 0),
    othersPending: others.some((o) => o.pending.length > 0),
  };
}

interface Ctx {
  g: { name: string; state: VrrpState; members: readonly string[] };
  members: Record<string, FsmState>;
  out: MemberActions[];
  gout: GroupAction[];
  now: number;
}

function run(c: Ctx, name: string, ev: FsmEvent, gate?: SyncGate): FsmAction[] {
  const cur = c.members[name];
  if (!cur) return [];
  const r = step({ ...cur, sync: gate ?? gateFor(c.g, c.members, name) }, ev, c.now);
  c.members[name] = r.state;
  if (r.actions.length) c.out.push({ instance: name, actions: r.actions });
  return r.actions;
}

function setGroupState(c: Ctx, to: VrrpState, reason: TransitionReason, notify: boolean): void {
  const from = c.g.state;
  c.g.state = to;
  if (from !== to) c.gout.push({ type: 'groupTransition', group: c.g.name, from, to, reason });
  if (notify) c.gout.push({ type: 'groupNotify', group: c.g.name, state: to });
}

function lastReason(actions: FsmAction[], fallback: TransitionReason): TransitionReason {
  for (let i = actions.length - 1; i >= 0; i--) {
    const a = actions[i];
    if (a.type === 'transition') return a.reason;
  }
  return fallback;
}

/** vrrp_sync_master */
function syncMaster(c: Ctx, x: string, reason: TransitionReason): void {
  if (c.g.state === 'MASTER') return;
  const gate = gateFor(c.g, c.members, x);
  if (!gate.othersWantMaster) return;
  for (const y of c.g.members) {
    if (y === x || c.members[y]?.state === 'MASTER') continue;
    run(c, y, { type: 'syncMaster' });
  }
  setGroupState(c, 'MASTER', reason, true);
}

/** vrrp_sync_backup */
function syncBackup(c: Ctx, x: string, reason: TransitionReason): void {
  if (c.g.state === 'BACKUP') return;
  for (const y of c.g.members) {
    if (y === x || c.members[y]?.state === 'BACKUP') continue;
    run(c, y, { type: 'syncBackup' });
  }
  setGroupState(c, 'BACKUP', reason, true);
}

/** vrrp_sync_fault */
function syncFault(c: Ctx, x: string, reason: TransitionReason): void {
  if (c.g.state === 'FAULT') return;
  for (const y of c.g.members) {
    if (y === x || c.members[y]?.state === 'FAULT') continue;
    run(c, y, { type: 'syncFault' });
  }
  setGroupState(c, 'FAULT', reason, true);
}

/**
 * Feed `ev` to member `target` and run keepalived's group handlers. Returns the new
 * group and member states (inputs are not modified) and every action in order.
 */
export function syncStep(g: SyncGroupState, members: Readonly<Record<string, FsmState>>, target: string, ev: FsmEvent, now: number): SyncStepResult {
  const c: Ctx = { g: { ...g }, members: { ...members }, out: [], gout: [], now };
  const prev = members[target];
  if (!prev) return { group: g, members: c.members, actions: [], groupActions: [] };
  const acts = run(c, target, ev);
  const cur = c.members[target];
  const reason = lastReason(acts, 'sync_group');

  switch (ev.type) {
    case 'advert':
    case 'timer':
      // VRRP_TSM_HANDLE after the dispatcher's read / timeout processing
      if (cur.state === 'MASTER' && prev.state !== 'INIT') syncMaster(c, target, reason);
      else if (prev.state === 'MASTER' && cur.state === 'BACKUP') syncBackup(c, target, reason);
      if (acts.some((a) => a.type === 'notifyEvent' && a.event === 'MASTER_RX_LOWER_PRI')) {
        // vrrp_state_master_rx: GARPs for the other members too
        for (const y of c.g.members) if (y !== target) run(c, y, { type: 'syncLowerPrioGarp' });
      }
      break;
    case 'fault': {
      const gotFault = prev.faults.length === 0 && cur.faults.length > 0;
      const cameUp = (prev.state === 'FAULT' || prev.state === 'INIT') && (cur.state === 'BACKUP' || cur.state === 'MASTER');
      // down_instance: the group's first faulty member takes everyone to FAULT
      // (vrrp_sync_fault does nothing when the group is already FAULT)
      if (gotFault) syncFault(c, target, ev.reason);
      // try_up_instance: the last member to clear brings the others up with it
      if (cameUp) {
        if (cur.state === 'MASTER') syncMaster(c, target, reason);
        else syncBackup(c, target, reason);
      }
      break;
    }
    case 'vipDeleted':
      if (prev.state === 'MASTER' && cur.state === 'BACKUP') {
        for (const y of c.g.members) if (y !== target && c.members[y]?.state === 'MASTER') run(c, y, { type: 'vipDeleted' });
        // set_vrrp_backup sets the group state without group notifies
        setGroupState(c, 'BACKUP', 'vip_removed', false);
      }
      break;
    default:
      break;
  }
  return { group: c.g, members: c.members, actions: c.out, groupActions: c.gout };
}

export interface MemberStart {
  faults?: FaultEntry[];
  pending?: string[];
}

/**
 * Start a whole group (vrrp_complete_init + vrrp_sync_set_group + vrrp_init_state):
 *  - if some members want MASTER and some are not (owner, MASTER), nobody wants MASTER;
 *  - group state: FAULT if a member has a fault, INIT if one waits for a script's
 *    first result, MASTER if every member is an address owner wanting MASTER, else
 *    BACKUP; BACKUP/FAULT are notified;
 *  - then each member starts, seeing the group's state.
 */
export function startSyncGroup(g: SyncGroupState, members: Readonly<Record<string, FsmState>>, starts: Readonly<Record<string, MemberStart>>, now: number): SyncStepResult {
  const c: Ctx = { g: { ...g }, members: { ...members }, out: [], gout: [], now };
  const names = g.members.filter((m) => c.members[m] !== undefined);
  const wantsMaster = names.some((m) => c.members[m].wantState === 'MASTER');
  const hasBackup = names.some((m) => c.members[m].wantState === 'BACKUP' || c.members[m].basePriority !== PRIO_OWNER);
  if (wantsMaster && hasBackup) {
    for (const m of names) if (c.members[m].wantState === 'MASTER') c.members[m] = { ...c.members[m], wantState: 'BACKUP' };
  }
  const faulty = names.some((m) => (starts[m]?.faults?.length ?? 0) > 0 || c.members[m].faults.length > 0);
  const pending = names.some((m) => (starts[m]?.pending?.length ?? 0) > 0);
  const allOwnerMaster = names.length > 0 && names.every((m) => c.members[m].wantState === 'MASTER' && c.members[m].basePriority === PRIO_OWNER);
  // initialise_tracking_priorities: a member with scripts in their first run puts the group in INIT
  // (unless FAULT); vrrp_init_state notifies only a BACKUP or FAULT group
  const initial: VrrpState = faulty ? 'FAULT' : pending ? 'INIT' : allOwnerMaster ? 'MASTER' : 'BACKUP';
  setGroupState(c, initial, 'startup', initial === 'BACKUP' || initial === 'FAULT');
  for (const m of names) {
    const others = names.filter((o) => o !== m);
    const gate: SyncGate = {
      groupState: c.g.state,
      othersWantMaster: others.every((o) => c.members[o].wantState === 'MASTER'),
      othersFaulty: others.some((o) => (starts[o]?.faults?.length ?? 0) > 0 || c.members[o].faults.length > 0),
      othersPending: others.some((o) => (starts[o]?.pending?.length ?? 0) > 0),
    };
    run(c, m, { type: 'start', faults: starts[m]?.faults, pending: starts[m]?.pending }, gate);
  }
  // keepalived notifies the BACKUP/FAULT group in vrrp_init_state; notify scripts run
  // asynchronously, so we simply report the group action after the members' (RESULTS.md §6.9)
  return { group: c.g, members: c.members, actions: c.out, groupActions: c.gout };
}

/** notify_shutdown: every member gets `shutdown`, then the group goes STOP (notified). */
export function stopSyncGroup(g: SyncGroupState, members: Readonly<Record<string, FsmState>>, now: number): SyncStepResult {
  const c: Ctx = { g: { ...g }, members: { ...members }, out: [], gout: [], now };
  for (const m of g.members) run(c, m, { type: 'shutdown' });
  setGroupState(c, 'STOP', 'shutdown', true);
  return { group: c.g, members: c.members, actions: c.out, groupActions: c.gout };
}
