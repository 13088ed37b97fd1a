/**
 * Runs VRRP instances: feeds the pure FSM (fsm.ts) with packets, timers and
 * tracking events, and performs the actions it decides on the southbound adapters
 * (src/net/types.ts: VrrpSocket, Netlink, Announcer), journalling every outcome
 * (src/journal/events.ts). "Decide, then do" — shared/design.md.
 *
 *  - Timers are absolute deadlines on the monotonic clock, each a setTimeout
 *    re-armed against performance.now() until the deadline has really passed;
 *    never setInterval (which drifts 0.2–0.4 ms per tick, design.md).
 *  - Netlink work (VIPs) and the GARPs that must follow it run on one promise
 *    chain per instance, so "add VIPs, then GARP" and "remove, then add" keep
 *    their order; adverts are sent synchronously (keepalived sends the advert
 *    before touching the VIPs).
 *  - Nothing throws out of a callback: adapter errors become journal events and
 *    log lines (design.md "errors are values at the edges").
 *
 * Independent of config parsing: the constructor takes plain options.
 */
import { performance } from 'node:perf_hooks';
import type { InstanceSnapshot, InstanceStats } from '../state/snapshot';
import type { Journal } from '../journal/journal';
import type { VrrpErrorCounter, VrrpState } from '../journal/events';
import type { AddressSpec, Announcer, Netlink, ReceivedPacket, RouteSpec, RuleSpec, VrrpSocket } from '../net/types';
import { benignRouteError, routeAttrsKey, routeKey, ruleKey } from '../net/route-match';
import { acceptsAdverts, createFsm, masterDownMs, shouldCheckAddresses, skewMs, step, type FaultEntry, type FsmAction, type FsmConfig, type FsmEvent, type FsmState, type LogLevel, type TimerName } from './fsm';
import { canonicalIp, decodeAdvert, encodeAdvert, patchPriority, peekHeader, VRRP_MCAST_GROUP4, VRRP_MCAST_GROUP6, type ChecksumMode, type UnicastPeer } from './packet';
import { advertIntField } from './timing';
import { createSyncGroup, startSyncGroup, stopSyncGroup, syncStep, type MemberStart, type SyncGroupState, type SyncStepResult } from './sync-group';

// ---------------------------------------------------------------------------
// Scheduler
// ---------------------------------------------------------------------------

export interface TimerHandle {
  cancel(): void;
}

/** Monotonic clock + absolute-deadline timers. Inject a fake one in tests. */
export interface Scheduler {
  now(): number;
  /**
   * call `cb` once, not before `at` (ms, same clock as now()); `precise`: the deadline is
   * a protocol instant that is measured (Master_Down_Timer), worth sub-millisecond accuracy
   */
  at(at: number, cb: () => void, opts?: { precise?: boolean }): TimerHandle;
}

/**
 * A precise timer's setTimeout aims this much before the deadline; the rest is slept with
 * Atomics.wait (µs resolution, no CPU) instead of one more setTimeout, which libuv rounds
 * to whole milliseconds of its cached loop clock (measured: median 0.75 ms, up to 2 ms late).
 */
const PRECISE_LEAD_MS = 1;
/** never sleep longer than this in one go (the event loop is blocked meanwhile) */
const PRECISE_SLEEP_MAX_MS = 2.5;
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * setTimeout re-armed against performance.now() deadlines (never early, never setInterval).
 *
 * A due timer runs its callback from setImmediate, i.e. in the event loop's check phase,
 * AFTER the poll phase has read whatever arrived on the sockets meanwhile. libuv runs
 * expired timers before polling for I/O, so after the loop had been blocked (GC, a slow
 * synchronous task, CPU starvation) for longer than Master_Down_Interval, the down timer
 * fired although the master's adverts were already queued in the socket: a spurious
 * takeover and a second MASTER until the next advert (seen in test/interop against
 * keepalived). keepalived 2.2.7 cannot do that: its VRRP socket read thread carries the
 * down timer as its timeout, and a readable socket reported by the same epoll_wait() moves
 * the thread to THREAD_READY_READ_FD instead of THREAD_READ_TIMEOUT (lib/scheduler.c
 * thread_fetch_next_queue). An advert that re-arms the timer cancels this handle, so the
 * deferred callback then does nothing.
 */
export const realScheduler: Scheduler = {
  now: () => performance.now(),
  at(at, cb, opts) {
    let t: NodeJS.Timeout | undefined;
    let imm: NodeJS.Immediate | undefined;
    let cancelled = false;
    const precise = !!opts?.precise;
    const fire = (): void => {
      imm = undefined;
      if (!cancelled) cb();
    };
    const arm = (): void => {
      const d = at - performance.now();
      const lead = precise ? PRECISE_LEAD_MS : 0;
      t = setTimeout(() => {
        t = undefined;
        if (cancelled) return;
        let rest = at - performance.now();
        // libuv's millisecond clock fires up to ~2 ms either side of our µs deadline
        if (precise && rest > 0 && rest <= PRECISE_SLEEP_MAX_MS) {
          // bounded: a timed wait returns at its timeout, give or take a spurious wake-up
          for (let i = 0; i < 4 && rest > 0; i++) {
            Atomics.wait(sleepCell, 0, 0, rest);
            rest = at - performance.now();
          }
        }
        if (rest > 0) arm();
        else imm = setImmediate(fire);
      }, d - lead > 0 ? d - lead : 0);
    };
    arm();
    return {
      cancel() {
        cancelled = true;
        if (t) clearTimeout(t);
        if (imm) clearImmediate(imm);
      },
    };
  },
};

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

export interface InstanceOptions {
  /** vrrp_instance name */
  name: string;
  /** the interface adverts are sent on (journal `intf`, GARP interface) */
  ifname: string;
  /** FSM configuration (fsm.ts fsmConfig() fills keepalived's defaults); fsm.primaryAddress is our source address */
  fsm: FsmConfig;
  /** virtual_ipaddress: installed on MASTER and carried in adverts (those of the instance's family) */
  vips: AddressSpec[];
  /** virtual_ipaddress_excluded: installed on MASTER, never advertised */
  evips?: AddressSpec[];
  /**
   * virtual_routes: added after the VIPs on becoming MASTER, removed before them on leaving
   * it (keepalived 2.2.7 vrrp_state_become_master / vrrp_restore_interface)
   */
  routes?: RouteSpec[];
  /** virtual_rules: added after the routes, removed before them */
  rules?: RuleSpec[];
  /** v2 authentication: 0 none, 1 PASS */
  authType?: number;
  authPass?: string;
  /** unicast_peer list (empty/absent = multicast) */
  unicastPeers?: UnicastPeer[];
  /** check_unicast_src (or a peer with min/max_ttl) */
  checkUnicastSrc?: boolean;
  /** multicast destination (mcast_dst_ip / vrrp_mcast_group4|6) */
  mcastGroup?: string;
  /** the IPv4 group used by the old unicast checksum (global vrrp_mcast_group4) */
  mcastGroup4?: string;
  /** `old_unicast_checksum` → 'old'; `old_unicast_checksum never` → checksumNeverOld */
  checksumMode?: ChecksumMode;
  checksumNeverOld?: boolean;
  /** GARP/NA source MAC (use_vmac) */
  garpSrcMac?: string;
  /** remove configured VIPs left on the interface (e.g. after a crash) at start, as keepalived does; default true */
  removeResidualVips?: boolean;
}

export interface InstanceHooks {
  /** run notify scripts / FIFO for the instance entering `state` (src/notify) */
  onNotify?(instance: string, state: VrrpState, priority: number): void;
  /** keepalived event notifies (notify_master_rx_lower_pri / FIFO MASTER_RX_LOWER_PRI) */
  onNotifyEvent?(instance: string, event: 'MASTER_RX_LOWER_PRI'): void;
  /** keepalived-style log line, "(VI_1) Entering MASTER STATE" */
  onLog?(level: LogLevel, message: string): void;
  /** effective priority changed (FIFO MASTER_PRIORITY/BACKUP_PRIORITY with notify_priority_changes) */
  onPriority?(instance: string, state: VrrpState, priority: number): void;
}

export interface InstanceDeps {
  socket: VrrpSocket;
  netlink: Netlink;
  announcer: Announcer;
  journal: Journal;
  scheduler?: Scheduler;
  hooks?: InstanceHooks;
}

export function emptyStats(): InstanceStats {
  return {
    advert_rcvd: 0,
    advert_sent: 0,
    become_master: 0,
    release_master: 0,
    packet_len_err: 0,
    advert_interval_err: 0,
    ip_ttl_err: 0,
    invalid_type_rcvd: 0,
    addr_list_err: 0,
    invalid_authtype: 0,
    authtype_mismatch: 0,
    auth_failure: 0,
    pri_zero_rcvd: 0,
    pri_zero_sent: 0,
  };
}

/** Router-wide error counters (RFC 2787 vrrpRouterChecksumErrors / VersionErrors / VrIdErrors). */
export interface GlobalVrrpErrors {
  checksum_err: number;
  version_err: number;
  vrid_err: number;
}

const INSTANCE_COUNTERS = new Set<string>(['packet_len_err', 'advert_interval_err', 'ip_ttl_err', 'invalid_type_rcvd', 'addr_list_err', 'invalid_authtype', 'authtype_mismatch', 'auth_failure']);

/** Events a runner's FSM can be fed (the sync-group runner routes them through syncStep). */
interface Dispatcher {
  dispatch(runner: InstanceRunner, ev: FsmEvent): void;
}

/**
 * Will a BACKUP in state `s` drop an advert of priority `prio` at `now`? (fsm.ts
 * onAdvertBackup, keepalived 2.2.7 vrrp_state_backup: preemption allowed, the priority
 * lower than ours, no nopreempt and no preempt_delay still running.) The journal marks
 * such adverts `discarded` so observers can print keepalived's "received lower priority
 * (N) advert from X - discarding" line, which a log-only FSM message never reached.
 */
export function backupDiscards(s: FsmState, prio: number, now: number): boolean {
  if (s.state !== 'BACKUP' || prio === 0 || s.cfg.nopreempt || prio >= s.effectivePriority) return false;
  const inPreemptDelay = s.cfg.preemptDelayMs > 0 && (s.preemptAt === null || s.preemptAt > now);
  return !inPreemptDelay;
}

// ---------------------------------------------------------------------------
// InstanceRunner
// ---------------------------------------------------------------------------

export class InstanceRunner {
  readonly name: string;
  private opts: InstanceOptions;
  private readonly deps: InstanceDeps;
  private readonly sched: Scheduler;
  private fsm: FsmState;
  private timers = new Map<TimerName, { at: number; h: TimerHandle }>();
  private netChain: Promise<void> = Promise.resolve();
  private queue: Array<{ ev: FsmEvent; at?: number }> = [];
  private busy = false;
  private checksumMode: ChecksumMode;
  /** encoded advert per destination, patched in place for priority changes */
  private advertCache = new Map<string, Buffer>();
  /** deadline of the advert timer being handled, for vrrp.advert.sent lagMs */
  private txScheduled: number | null = null;
  /** journal work of the current step held back until its adverts are sent (see execute) */
  private afterWire: (() => void) | null = null;
  /** set by a SyncGroupRunner */
  group: Dispatcher | null = null;
  readonly stats: InstanceStats = emptyStats();
  readonly globalErrors: GlobalVrrpErrors = { checksum_err: 0, version_err: 0, vrid_err: 0 };
  /** beyond keepalived: adverts received while MASTER, GARPs and NAs sent */
  readonly extra = { adverts_received_in_master: 0, garp_sent: 0, na_sent: 0 };
  lastAdvertReceivedMono = 0;
  /** journal wall clock (ms) of the last advert received / last transition; 0 = never */
  lastAdvertReceivedWall = 0;
  lastTransitionWall = 0;
  private enteredStateMono: number | null = null;
  /** routes / rules this instance put in the kernel, by identity (keepalived ip_route_t.set / ip_rule_t.set) */
  private readonly routesSet = new Map<string, RouteSpec>();
  private readonly rulesSet = new Map<string, RuleSpec>();
  private readonly timeInStateMs: Record<VrrpState, number> = { INIT: 0, BACKUP: 0, MASTER: 0, FAULT: 0, STOP: 0 };

  constructor(opts: InstanceOptions, deps: InstanceDeps) {
    this.name = opts.name;
    this.opts = opts;
    this.deps = deps;
    this.sched = deps.scheduler ?? realScheduler;
    this.fsm = createFsm(opts.fsm);
    this.checksumMode = opts.checksumMode ?? 'standard';
  }

  /** The current FSM state (read-only). */
  get state(): FsmState {
    return this.fsm;
  }

  get options(): InstanceOptions {
    return this.opts;
  }

  /** Skew_Time and Master_Down_Interval now, ms. */
  timing(): { skewMs: number; masterDownMs: number; masterDownRemainingMs: number | null } {
    const t = this.fsm.timer;
    return { skewMs: skewMs(this.fsm), masterDownMs: masterDownMs(this.fsm), masterDownRemainingMs: this.fsm.state === 'BACKUP' && t && t.kind === 'master_down' ? Math.max(0, t.at - this.sched.now()) : null };
  }

  /** The interface's primary address (our source / tie-break address) changed. */
  setPrimaryAddress(address: string): void {
    this.opts = { ...this.opts, fsm: { ...this.opts.fsm, primaryAddress: address } };
    this.advertCache.clear();
    this.dispatch({ type: 'primaryAddress', address });
  }

  /**
   * The VRRP part of src/state/snapshot.ts InstanceSnapshot (times in seconds as
   * keepalived's JSON has them); the integrator adds the config-derived fields.
   */
  snapshotPart(): Pick<
    InstanceSnapshot,
    'iname' | 'vrid' | 'version' | 'family' | 'state' | 'wantstate' | 'base_priority' | 'effective_priority' | 'master_priority' | 'master_address' | 'adver_int' | 'master_adver_int' | 'skew_time' | 'master_down_interval' | 'master_down_remaining' | 'last_transition' | 'last_advert_received' | 'time_in_state' | 'vipset' | 'stats' | 'adverts_received_in_master' | 'garp_sent' | 'na_sent' | 'unicast'
  > {
    const s = this.fsm;
    const t = this.timing();
    const tis = { ...this.timeInStateMs };
    if (this.enteredStateMono !== null) tis[s.state] += this.sched.now() - this.enteredStateMono;
    const sec = (ms: number): number => ms / 1000;
    return {
      iname: this.name,
      vrid: this.opts.fsm.vrid,
      version: this.opts.fsm.version,
      family: this.opts.fsm.family,
      state: s.state,
      wantstate: s.wantState,
      base_priority: s.basePriority,
      effective_priority: s.effectivePriority,
      master_priority: s.state === 'MASTER' ? s.effectivePriority : s.masterPriority,
      master_address: s.state === 'MASTER' ? this.opts.fsm.primaryAddress : s.masterAddress ?? '',
      adver_int: sec(this.opts.fsm.advertIntMs),
      master_adver_int: sec(s.masterAdverIntMs),
      skew_time: sec(t.skewMs),
      master_down_interval: sec(t.masterDownMs),
      master_down_remaining: t.masterDownRemainingMs === null ? null : sec(t.masterDownRemainingMs),
      last_transition: sec(this.lastTransitionWall),
      last_advert_received: sec(this.lastAdvertReceivedWall),
      time_in_state: { INIT: sec(tis.INIT), BACKUP: sec(tis.BACKUP), MASTER: sec(tis.MASTER), FAULT: sec(tis.FAULT), STOP: sec(tis.STOP) },
      vipset: s.vipSet,
      stats: { ...this.stats },
      adverts_received_in_master: this.extra.adverts_received_in_master,
      garp_sent: this.extra.garp_sent,
      na_sent: this.extra.na_sent,
      unicast: (this.opts.unicastPeers?.length ?? 0) > 0,
    };
  }

  /** Start (vrrp_init_state). Faults known now (interface down…) and weight-0 scripts not yet reported. */
  start(init: MemberStart = {}): void {
    if (this.opts.removeResidualVips !== false && this.fsm.basePriority !== 255) this.removeResidualVips();
    this.dispatch({ type: 'start', faults: init.faults, pending: init.pending });
  }

  /** Shutdown: a MASTER sends priority 0 and releases its VIPs; resolves when the netlink work is done. */
  async stop(): Promise<void> {
    this.dispatch({ type: 'shutdown' });
    for (const t of this.timers.values()) t.h.cancel();
    this.timers.clear();
    await this.netChain;
  }

  /** A received packet for this instance's VRID (see VridDemux). Never throws. */
  handlePacket(p: ReceivedPacket): void {
    try {
      // the moment of receipt: RFC 5798 §6.4.2 resets Master_Down_Timer when the advert is
      // received, not after it has been decoded and journalled (~0.2 ms later here)
      this.rx(p, this.sched.now());
    } catch (e) {
      this.log('error', `packet handling failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Tracking: the sum of the weights of tracked objects changed. */
  setTrackWeight(sum: number, cause?: string): void {
    this.dispatch({ type: 'trackWeight', sum, cause });
  }

  /** Tracking: a fault source (interface, weight-0 script…) went down or up. */
  fault(f: FaultEntry & { down: boolean }): void {
    this.dispatch({ type: 'fault', source: f.source, down: f.down, reason: f.reason });
  }

  /** One of our VIPs was deleted from the interface behind our back (netlink RTM_DELADDR). */
  vipDeleted(): void {
    this.dispatch({ type: 'vipDeleted' });
  }

  /** The virtual routes / rules the kernel has from this instance now (text), for /json and dumps. */
  installedRoutes(): { routes: string[]; rules: string[] } {
    return { routes: [...this.routesSet.values()].map((r) => r.text ?? routeKey(r)), rules: [...this.rulesSet.values()].map((r) => r.text ?? ruleKey(r)) };
  }

  /**
   * A kernel RTM_DELROUTE matched one of our virtual routes (the engine matches, keepalived
   * netlink_route_filter): it is no longer set; unless `no_track`, a MASTER falls back and
   * retakes at once, re-adding it (set_vrrp_backup, as for a deleted VIP).
   */
  routeDeleted(r: RouteSpec): void {
    const had = this.routesSet.delete(routeKey(r));
    if (r.noTrack || !had || this.fsm.state !== 'MASTER' || !this.fsm.vipSet) return;
    this.log('info', `virtual route ${r.text ?? routeKey(r)} deleted externally - leaving MASTER`);
    this.dispatch({ type: 'vipDeleted' });
  }

  /** Same for a virtual rule (keepalived netlink_rule_filter). */
  ruleDeleted(r: RuleSpec): void {
    const had = this.rulesSet.delete(ruleKey(r));
    if (r.noTrack || !had || this.fsm.state !== 'MASTER' || !this.fsm.vipSet) return;
    this.log('info', `virtual rule ${r.text ?? ruleKey(r)} deleted externally - leaving MASTER`);
    this.dispatch({ type: 'vipDeleted' });
  }

  /** SIGHUP: new options for the matched instance; state and counters are kept. */
  reload(opts: InstanceOptions): void {
    const old = this.opts;
    this.opts = opts;
    this.advertCache.clear();
    if (opts.checksumMode) this.checksumMode = opts.checksumMode;
    const key = (a: AddressSpec): string => `${canonicalIp(a.address) ?? a.address}/${a.prefix}/${a.ifname}`;
    const oldAll = [...old.vips, ...(old.evips ?? [])];
    const newAll = [...opts.vips, ...(opts.evips ?? [])];
    const removed = oldAll.filter((a) => !newAll.some((b) => key(a) === key(b)));
    const added = newAll.filter((a) => !oldAll.some((b) => key(a) === key(b)));
    if (this.fsm.vipSet) {
      // keepalived clear_diff_vrrp: rules and routes that went away first, then the VIPs;
      // restore_vrrp_state: new VIPs, then routes (all re-added: the kernel may have dropped
      // some silently with a VIP) and new rules
      this.kernelOps('rule', 'prune');
      this.kernelOps('route', 'prune');
      if (removed.length) this.netOps('remove', removed);
      if (added.length) this.netOps('add', added);
      this.kernelOps('route', 'fill');
      this.kernelOps('rule', 'fill');
    }
    this.dispatch({ type: 'reload', cfg: opts.fsm, vipsAdded: added.length > 0 });
  }

  // ---- internals ----

  /** Feed the FSM (directly, or through the sync group). Re-entrant calls are queued. */
  dispatch(ev: FsmEvent, at?: number): void {
    if (this.group) {
      this.group.dispatch(this, ev);
      return;
    }
    this.queue.push({ ev, at });
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length) {
        const { ev: e, at: evAt } = this.queue.shift()!;
        // `at`: when the event really happened (a packet's receipt), never in the future
        const now = evAt !== undefined ? Math.min(evAt, this.sched.now()) : this.sched.now();
        const r = step(this.fsm, e, now);
        this.fsm = r.state;
        this.execute(r.actions, now);
      }
    } catch (e) {
      this.log('error', `FSM step failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.busy = false;
    }
  }

  /** Used by SyncGroupRunner: adopt a state decided elsewhere and perform its actions. */
  applyExternal(state: FsmState, actions: FsmAction[], now: number): void {
    this.fsm = state;
    try {
      this.execute(actions, now);
    } catch (e) {
      this.log('error', `action failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private ref(): { instance: string; vrid: number; intf: string } {
    return { instance: this.name, vrid: this.opts.fsm.vrid, intf: this.opts.ifname };
  }

  private log(level: LogLevel, message: string): void {
    try {
      this.deps.hooks?.onLog?.(level, `(${this.name}) ${message}`);
    } catch {
      /* a logger must not break the FSM */
    }
  }

  private rx(p: ReceivedPacket, rxAt: number): void {
    const s = this.fsm;
    // vrrp_dispatcher_read: nothing is checked or counted while FAULT/INIT
    if (!acceptsAdverts(s)) return;
    const cfg = this.opts.fsm;
    const unicast = (this.opts.unicastPeers?.length ?? 0) > 0;
    const fam = cfg.family;
    const r = decodeAdvert(
      { vrrp: p.vrrp, ipHeader: p.ipHeader, src: p.src, dst: p.dst, ttl: p.ttl },
      {
        family: fam,
        version: cfg.version,
        vrid: cfg.vrid,
        authType: this.opts.authType ?? 0,
        authPass: this.opts.authPass,
        vips: this.advertAddresses(),
        advertIntMs: cfg.advertIntMs,
        unicast,
        checkVipAddr: shouldCheckAddresses(s, p.src),
        checkUnicastSrc: this.opts.checkUnicastSrc,
        unicastPeers: this.opts.unicastPeers,
        checksumMode: this.checksumMode,
        checksumNeverOld: this.opts.checksumNeverOld,
        mcastGroup4: this.opts.mcastGroup4,
      },
    );
    if (!r.ok) {
      const e = r.error;
      if (e.countedAsReceived) this.stats.advert_rcvd++;
      if (e.counter !== null) {
        if (e.scope === 'global') {
          if (e.counter === 'checksum_err' || e.counter === 'version_err' || e.counter === 'vrid_err') {
            if (e.counted) this.globalErrors[e.counter]++;
            this.deps.journal.emit({ type: 'vrrp.global_error', counter: e.counter, intf: this.opts.ifname, src: p.src, detail: e.detail });
          }
        } else {
          if (e.counted && INSTANCE_COUNTERS.has(e.counter)) this.stats[e.counter as keyof InstanceStats]++;
          this.deps.journal.emit({ type: 'vrrp.error', ...this.ref(), counter: e.counter as VrrpErrorCounter, src: p.src, detail: e.detail });
        }
      }
      this.log('info', e.detail);
      return;
    }
    this.stats.advert_rcvd++;
    const a = r.advert;
    if (r.switchToOldChecksum) {
      this.checksumMode = 'old';
      this.advertCache.clear();
      this.log('info', 'Setting unicast VRRPv3 checksum to old version');
    }
    if (s.state === 'MASTER') this.extra.adverts_received_in_master++;
    this.lastAdvertReceivedMono = rxAt;
    this.lastAdvertReceivedWall = this.deps.journal.clock.wall();
    const discarded = backupDiscards(s, a.priority, this.sched.now());
    this.deps.journal.emit({ type: 'vrrp.advert.received', ...this.ref(), src: a.src, priority: a.priority, advertIntCs: a.advertIntCs, inMaster: s.state === 'MASTER', ...(discarded ? { discarded: 'lower_priority' as const } : {}) });
    this.dispatch({ type: 'advert', advert: { priority: a.priority, advertIntMs: a.advertIntMs }, src: a.src }, rxAt);
  }

  /** The VIPs carried in adverts: virtual_ipaddress of the instance's family. */
  private advertAddresses(): string[] {
    const fam = this.opts.fsm.family;
    return this.opts.vips.filter((v) => v.family === fam).map((v) => v.address);
  }

  private destinations(): string[] {
    const peers = this.opts.unicastPeers ?? [];
    if (peers.length) return peers.map((p) => p.address);
    return [this.opts.mcastGroup ?? (this.opts.fsm.family === 'ipv4' ? VRRP_MCAST_GROUP4 : VRRP_MCAST_GROUP6)];
  }

  private encodeFor(dst: string, priority: number): Buffer {
    let b = this.advertCache.get(dst);
    const cfg = this.opts.fsm;
    if (!b) {
      b = encodeAdvert(
        {
          version: cfg.version,
          vrid: cfg.vrid,
          priority,
          advertIntSec: cfg.version === 2 ? advertIntField(2, cfg.advertIntMs) : undefined,
          advertIntCs: cfg.version === 3 ? advertIntField(3, cfg.advertIntMs) : undefined,
          addresses: this.advertAddresses(),
          authType: this.opts.authType,
          authPass: this.opts.authPass,
        },
        { family: cfg.family, src: cfg.primaryAddress, dst, checksumMode: this.checksumMode, mcastGroup4: this.opts.mcastGroup4 },
      );
      this.advertCache.set(dst, b);
    } else if (b[2] !== priority) {
      patchPriority(b, priority);
    }
    return b;
  }

  /** Put one advert on the wire (to every unicast peer, or the group). */
  private transmit(priority: number): void {
    for (const dst of this.destinations()) {
      try {
        this.deps.socket.send(Buffer.from(this.encodeFor(dst, priority)), dst);
      } catch (e) {
        // keepalived: "send advert error" (not logged for a priority-0 advert on a down link)
        if (priority !== 0) this.log('warning', `send advert error to ${dst}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  /** Account for an advert transmit() sent: counter and journal event, in FSM action order. */
  private advertSent(priority: number, now: number): void {
    const scheduled = this.txScheduled ?? now;
    // keepalived counts one advert per send, not per unicast peer
    this.stats.advert_sent++;
    this.deps.journal.emit({ type: 'vrrp.advert.sent', ...this.ref(), priority, scheduledMono: scheduled, lagMs: now - scheduled });
  }

  private armTimer(name: TimerName, at: number): void {
    this.timers.get(name)?.h.cancel();
    // The down timer is the takeover instant RFC 5798 §6.4.2 defines, and the advert timer
    // the instant the backups measure it from: both worth µs accuracy. (A plain timer sent
    // adverts 0.7 ms late on median and 2-4 ms at p99 under load: bench/send-lag.mjs.)
    const h = this.sched.at(at, () => this.onTimer(name, at), { precise: name === 'master_down' || name === 'advert' });
    this.timers.set(name, { at, h });
  }

  private cancelTimer(name: TimerName): void {
    this.timers.get(name)?.h.cancel();
    this.timers.delete(name);
  }

  private onTimer(name: TimerName, at: number): void {
    const cur = this.timers.get(name);
    if (!cur || cur.at !== at) return; // superseded
    this.timers.delete(name);
    try {
      if (name === 'master_down' && this.fsm.state === 'BACKUP') {
        // journalled by execute() right after this step's advert is on the wire (still
        // ahead of every other event of the step, as tracing and the log expect)
        const ev = { type: 'vrrp.master_down' as const, ...this.ref(), intervalMs: this.fsm.msDownTimerMs };
        this.afterWire = () => this.deps.journal.emit(ev);
      }
      this.txScheduled = name === 'advert' ? at : null;
      this.dispatch({ type: 'timer', timer: name });
    } finally {
      this.txScheduled = null;
      this.flushAfterWire();
    }
  }

  private flushAfterWire(): void {
    const f = this.afterWire;
    this.afterWire = null;
    if (!f) return;
    try {
      f();
    } catch {
      /* an observer must not break the FSM */
    }
  }

  private netOps(op: 'add' | 'remove', addrs: AddressSpec[]): void {
    const nl = this.deps.netlink;
    this.netChain = this.netChain.then(async () => {
      for (const a of addrs) {
        try {
          if (op === 'add') await nl.addAddress(a);
          else await nl.delAddress(a);
          this.deps.journal.emit({ type: 'vrrp.vip', ...this.ref(), op, address: a.address, dev: a.ifname, ok: true });
        } catch (e) {
          const msg = e instanceof Error ? e.message : String(e);
          // already there / already gone is what we wanted (keepalived ignores these too)
          const benign = op === 'add' ? /EEXIST/.test(msg) : /EADDRNOTAVAIL|ENOENT|ESRCH|ENODEV/.test(msg);
          this.deps.journal.emit({ type: 'vrrp.vip', ...this.ref(), op, address: a.address, dev: a.ifname, ok: benign, error: msg });
          if (!benign) this.log('error', `cannot ${op} VIP ${a.address} on ${a.ifname}: ${msg}`);
        }
      }
    });
  }

  /**
   * Virtual routes (kind 'route') or rules on the netlink chain, after/before the VIPs:
   *  - add: every configured one not set yet (netlink_rtlist / netlink_rulelist ADD);
   *  - remove: every one we set, whatever the configuration says now (DEL of `set` ones);
   *  - prune (reload): remove the set ones the new configuration no longer has;
   *  - fill (reload): add the new ones; routes kept with changed attributes are replaced
   *    (NLM_F_REPLACE) and unchanged ones re-added quietly (restore_vrrp_state's forced add).
   * Errors are journalled (vrrp.route ok:false) and logged, never thrown.
   */
  private kernelOps(kind: 'route' | 'rule', op: 'add' | 'remove' | 'prune' | 'fill'): void {
    const nl = this.deps.netlink;
    this.netChain = this.netChain.then(async () => {
      const set: Map<string, RouteSpec | RuleSpec> = kind === 'route' ? this.routesSet : this.rulesSet;
      const list: Array<RouteSpec | RuleSpec> = (kind === 'route' ? this.opts.routes : this.opts.rules) ?? [];
      const keyOf = (x: RouteSpec | RuleSpec): string => (kind === 'route' ? routeKey(x as RouteSpec) : ruleKey(x as RuleSpec));
      const text = (x: RouteSpec | RuleSpec): string => x.text ?? keyOf(x);
      const journal = (o: 'add' | 'remove', x: RouteSpec | RuleSpec, ok: boolean, error?: string): void => {
        this.deps.journal.emit({ type: 'vrrp.route', ...this.ref(), op: o, route: text(x), ok, ...(kind === 'rule' ? { kind: 'rule' as const } : {}), ...(error !== undefined ? { error } : {}) });
      };
      const call = async (o: 'add' | 'remove', x: RouteSpec | RuleSpec, replace = false): Promise<void> => {
        if (kind === 'route') {
          const f = o === 'add' ? nl.addRoute : nl.delRoute;
          if (!f) throw Object.assign(new Error('the netlink adapter cannot manage routes'), { code: 'EOPNOTSUPP' });
          await (o === 'add' ? nl.addRoute!(x as RouteSpec, replace ? { replace } : undefined) : nl.delRoute!(x as RouteSpec));
        } else {
          if (!(o === 'add' ? nl.addRule : nl.delRule)) throw Object.assign(new Error('the netlink adapter cannot manage rules'), { code: 'EOPNOTSUPP' });
          await (o === 'add' ? nl.addRule!(x as RuleSpec) : nl.delRule!(x as RuleSpec));
        }
      };
      const add = async (x: RouteSpec | RuleSpec, opts: { replace?: boolean; quiet?: boolean } = {}): Promise<void> => {
        try {
          await call('add', x, opts.replace);
          set.set(keyOf(x), x);
          if (!opts.quiet) journal('add', x, true);
        } catch (e) {
          const msg = e instanceof Error ? e.message : String(e);
          if (benignRouteError('add', e)) {
            // already there: ours from before (a crash, a reload) - removed when we leave MASTER
            set.set(keyOf(x), x);
            if (!opts.quiet) journal('add', x, true, msg);
            return;
          }
          journal('add', x, false, msg);
          this.log('error', `cannot add ${kind} ${text(x)}: ${msg}`);
        }
      };
      const remove = async (k: string, x: RouteSpec | RuleSpec): Promise<void> => {
        set.delete(k);
        try {
          await call('remove', x);
          journal('remove', x, true);
        } catch (e) {
          const msg = e instanceof Error ? e.message : String(e);
          const benign = benignRouteError('remove', e);
          journal('remove', x, benign, msg);
          if (!benign) this.log('error', `cannot remove ${kind} ${text(x)}: ${msg}`);
        }
      };
      if (op === 'add') {
        for (const x of list) if (!set.has(keyOf(x))) await add(x);
      } else if (op === 'remove') {
        for (const [k, x] of [...set]) await remove(k, x);
      } else if (op === 'prune') {
        const keep = new Set(list.map(keyOf));
        for (const [k, x] of [...set]) if (!keep.has(k)) await remove(k, x);
      } else {
        for (const x of list) {
          const k = keyOf(x);
          const old = set.get(k);
          if (!old) await add(x);
          else if (kind === 'route' && routeAttrsKey(old as RouteSpec) !== routeAttrsKey(x as RouteSpec)) await add(x, { replace: true });
          else {
            set.set(k, x);
            if (kind === 'route') await add(x, { quiet: true });
          }
        }
      }
    });
  }

  private removeResidualVips(): void {
    const all = [...this.opts.vips, ...(this.opts.evips ?? [])];
    const nl = this.deps.netlink;
    this.netChain = this.netChain.then(async () => {
      let present: Set<string>;
      try {
        present = new Set((await nl.getAddresses()).map((a) => `${canonicalIp(a.address) ?? a.address}%${a.ifname}`));
      } catch (e) {
        this.log('warning', `cannot list addresses for residual VIP removal: ${e instanceof Error ? e.message : String(e)}`);
        return;
      }
      for (const a of all) {
        if (!present.has(`${canonicalIp(a.address) ?? a.address}%${a.ifname}`)) continue;
        try {
          await nl.delAddress(a);
          this.deps.journal.emit({ type: 'vrrp.vip', ...this.ref(), op: 'remove', address: a.address, dev: a.ifname, ok: true });
        } catch (e) {
          this.deps.journal.emit({ type: 'vrrp.vip', ...this.ref(), op: 'remove', address: a.address, dev: a.ifname, ok: false, error: e instanceof Error ? e.message : String(e) });
        }
      }
    });
  }

  private garps(repeat: number, addrs: AddressSpec[], onlyWhileVipSet: boolean): void {
    const an = this.deps.announcer;
    const mac = this.opts.garpSrcMac;
    this.netChain = this.netChain.then(async () => {
      // VIP GARPs only while the VIPs are (still) set: vrrp_send_link_update
      if (onlyWhileVipSet && !this.fsm.vipSet) return;
      const byIf = new Map<string, { v4: string[]; v6: string[] }>();
      for (const a of addrs) {
        const e = byIf.get(a.ifname) ?? { v4: [], v6: [] };
        (a.family === 'ipv4' ? e.v4 : e.v6).push(a.address);
        byIf.set(a.ifname, e);
      }
      // keepalived vrrp_send_link_update: `repeat` rounds over the addresses, back to back;
      // it logs "(VI) Sending/queueing gratuitous ARPs on DEV for VIP" once per address and
      // burst, then one "Sending gratuitous ARP on DEV for VIP" per frame: so one journal
      // event per address and burst, with the number of frames that went out
      const sent = new Map<string, { family: 'ipv4' | 'ipv6'; dev: string; address: string; count: number }>();
      const tally = (family: 'ipv4' | 'ipv6', dev: string, list: string[], n: number): void => {
        for (const address of list.slice(0, n)) {
          const k = `${dev}%${address}`;
          const t = sent.get(k) ?? { family, dev, address, count: 0 };
          t.count++;
          sent.set(k, t);
        }
      };
      for (let r = 0; r < repeat; r++) {
        for (const [ifname, e] of byIf) {
          try {
            if (e.v4.length) {
              const n = await an.garp(ifname, e.v4, mac);
              this.extra.garp_sent += n;
              tally('ipv4', ifname, e.v4, n);
            }
            if (e.v6.length) {
              const n = await an.unsolicitedNa(ifname, e.v6, mac);
              this.extra.na_sent += n;
              tally('ipv6', ifname, e.v6, n);
            }
          } catch (err) {
            this.log('warning', `gratuitous ARP/NA on ${ifname} failed: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
      }
      for (const t of sent.values()) this.deps.journal.emit({ type: 'vrrp.garp', ...this.ref(), family: t.family, count: t.count, dev: t.dev, address: t.address });
    });
  }

  private execute(actions: FsmAction[], now: number): void {
    const j = this.deps.journal;
    // The wire first: this step's adverts leave before the journal observers (log lines,
    // metrics, notify scripts), netlink and GARP work of the same step run, as keepalived
    // sends from its timer thread before logging or touching VIPs. Measured
    // (bench/takeover.mjs): the new master's first advert came ~1 ms after its own
    // "Entering MASTER STATE" bookkeeping; RFC 5798 §6.4.2 takeover is the advert.
    // Counters and journal events keep the FSM's order.
    for (const a of actions) if (a.type === 'sendAdvert') this.transmit(a.priority);
    this.flushAfterWire();
    for (const a of actions) {
      switch (a.type) {
        case 'sendAdvert':
          this.advertSent(a.priority, now);
          break;
        case 'armTimer':
          this.armTimer(a.timer, a.at);
          break;
        case 'cancelTimer':
          this.cancelTimer(a.timer);
          break;
        case 'addVips':
          // keepalived vrrp_state_become_master: VIPs, eVIPs, then virtual routes, then rules
          this.netOps('add', [...this.opts.vips, ...(this.opts.evips ?? [])]);
          this.kernelOps('route', 'add');
          this.kernelOps('rule', 'add');
          break;
        case 'removeVips':
          // vrrp_restore_interface: rules, routes, then the VIPs
          this.kernelOps('rule', 'remove');
          this.kernelOps('route', 'remove');
          this.netOps('remove', [...this.opts.vips, ...(this.opts.evips ?? [])]);
          break;
        case 'sendGarp':
          this.garps(a.repeat, [...this.opts.vips, ...(this.opts.evips ?? [])], true);
          break;
        case 'sendSourceGarp': {
          const cfg = this.opts.fsm;
          this.garps(1, [{ family: cfg.family, address: cfg.primaryAddress, prefix: cfg.family === 'ipv4' ? 32 : 128, ifname: this.opts.ifname }], false);
          break;
        }
        case 'notify':
          try {
            this.deps.hooks?.onNotify?.(this.name, a.state, this.fsm.effectivePriority);
          } catch (e) {
            this.log('error', `notify failed: ${e instanceof Error ? e.message : String(e)}`);
          }
          break;
        case 'notifyEvent':
          try {
            this.deps.hooks?.onNotifyEvent?.(this.name, a.event);
          } catch (e) {
            this.log('error', `notify failed: ${e instanceof Error ? e.message : String(e)}`);
          }
          break;
        case 'transition':
          if (this.enteredStateMono !== null) this.timeInStateMs[a.from] += now - this.enteredStateMono;
          this.enteredStateMono = now;
          this.lastTransitionWall = j.clock.wall();
          j.emit({ type: 'vrrp.transition', ...this.ref(), from: a.from, to: a.to, reason: a.reason, priority: a.priority, masterPriority: a.masterPriority, masterAddress: a.masterAddress });
          break;
        case 'masterLearned':
          break;
        case 'priority':
          j.emit({ type: 'vrrp.priority', ...this.ref(), from: a.from, to: a.to, cause: a.cause });
          try {
            this.deps.hooks?.onPriority?.(this.name, this.fsm.state, a.to);
          } catch {
            /* ignore */
          }
          break;
        case 'count':
          this.stats[a.counter]++;
          break;
        case 'log':
          this.log(a.level, a.message);
          break;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Sync groups
// ---------------------------------------------------------------------------

export interface SyncGroupHooks {
  /** run the group's notify scripts / FIFO line for the group entering `state` */
  onGroupNotify?(group: string, state: VrrpState): void;
}

/** Runs a vrrp_sync_group over InstanceRunners: their events go through sync-group.ts syncStep. */
export class SyncGroupRunner implements Dispatcher {
  private g: SyncGroupState;
  private readonly runners = new Map<string, InstanceRunner>();
  private queue: Array<{ runner: InstanceRunner; ev: FsmEvent }> = [];
  private busy = false;

  constructor(
    readonly name: string,
    members: InstanceRunner[],
    private readonly deps: { journal: Journal; scheduler?: Scheduler; hooks?: SyncGroupHooks },
  ) {
    this.g = createSyncGroup(name, members.map((m) => m.name));
    for (const m of members) {
      this.runners.set(m.name, m);
      m.group = this;
    }
  }

  get state(): VrrpState {
    return this.g.state;
  }

  private now(): number {
    return (this.deps.scheduler ?? realScheduler).now();
  }

  private states(): Record<string, FsmState> {
    const o: Record<string, FsmState> = {};
    for (const [n, r] of this.runners) o[n] = r.state;
    return o;
  }

  private apply(r: SyncStepResult, now: number): void {
    this.g = r.group;
    for (const [n, st] of Object.entries(r.members)) {
      const runner = this.runners.get(n);
      if (!runner) continue;
      const acts = r.actions.filter((x) => x.instance === n).flatMap((x) => x.actions);
      runner.applyExternal(st, acts, now);
    }
    for (const a of r.groupActions) {
      if (a.type === 'groupTransition') this.deps.journal.emit({ type: 'vrrp.sync_group', group: a.group, from: a.from, to: a.to, reason: a.reason });
      else {
        try {
          this.deps.hooks?.onGroupNotify?.(a.group, a.state);
        } catch {
          /* notify errors are the notifier's to report */
        }
      }
    }
  }

  start(starts: Record<string, MemberStart> = {}): void {
    const now = this.now();
    this.apply(startSyncGroup(this.g, this.states(), starts, now), now);
  }

  async stop(): Promise<void> {
    const now = this.now();
    this.apply(stopSyncGroup(this.g, this.states(), now), now);
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
  }

  dispatch(runner: InstanceRunner, ev: FsmEvent): void {
    this.queue.push({ runner, ev });
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length) {
        const { runner: r, ev: e } = this.queue.shift()!;
        const now = this.now();
        this.apply(syncStep(this.g, this.states(), r.name, e, now), now);
      }
    } finally {
      this.busy = false;
    }
  }
}

// ---------------------------------------------------------------------------
// Demultiplexing one socket's packets by VRID
// ---------------------------------------------------------------------------

/**
 * Routes packets from one VrrpSocket to the instances on it by VRID
 * (vrrp_dispatcher_read). Unknown VRIDs are dropped; with logUnknownVrids they
 * are journalled as vrrp.global_error vrid_err (keepalived never counts them).
 */
export interface VridDemux {
  /** replace the instances served by this socket (SIGHUP reload) */
  setRunners(runners: InstanceRunner[]): void;
}

export function attachVridDemux(socket: VrrpSocket, runners: InstanceRunner[], opts: { journal: Journal; ifname: string; logUnknownVrids?: boolean; onLog?: (level: LogLevel, message: string) => void }): VridDemux {
  let byVrid = new Map<number, InstanceRunner[]>();
  const setRunners = (rs: InstanceRunner[]): void => {
    const m = new Map<number, InstanceRunner[]>();
    for (const r of rs) {
      const list = m.get(r.options.fsm.vrid) ?? [];
      list.push(r);
      m.set(r.options.fsm.vrid, list);
    }
    byVrid = m;
  };
  setRunners(runners);
  socket.onPacket((p) => {
    try {
      const h = peekHeader(p.vrrp);
      if (!h) return;
      const list = byVrid.get(h.vrid);
      if (!list) {
        if (opts.logUnknownVrids) {
          opts.journal.emit({ type: 'vrrp.global_error', counter: 'vrid_err', intf: opts.ifname, src: p.src, detail: `Unknown VRID(${h.vrid}) received on interface(${opts.ifname}). ignoring...` });
          opts.onLog?.('info', `Unknown VRID(${h.vrid}) received on interface(${opts.ifname}). ignoring...`);
        }
        return;
      }
      // duplicate VRIDs on one socket (unicast with disjoint peer sets): pick by peer
      const target = list.length === 1 ? list[0] : list.find((r) => (r.options.unicastPeers ?? []).some((u) => (canonicalIp(u.address) ?? u.address) === (canonicalIp(p.src) ?? p.src)));
      target?.handlePacket(p);
    } catch {
      /* never throw out of a socket callback */
    }
  });
  return { setRunners };
}
