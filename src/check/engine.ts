/**
 * The checker engine: runs every checker of every real server on an injected scheduler,
 * feeds the outcomes through the pure machines (machine.ts) and turns the results into
 * journal events, notify scripts and "the desired IPVS table changed" callbacks.
 *
 * Scheduling follows keepalived 2.2.7 check/check_api.c: a checker first runs after
 * BOOTSTRAP_DELAY (1 s) + random(0..warmup), then after delay_loop, or
 * delay_before_retry while retrying; checkers of a virtual server with ha_suspend are
 * skipped while its address is not on this host. Probes are real I/O (probes.ts) unless
 * a probe function is injected (unit tests with a fake clock).
 *
 * Events (src/journal/events.ts):
 *  - checker.result        every completed probe
 *  - realserver.state      a real server went up or down (the notify FIFO writes its
 *                          "RS ... UP|DOWN" line from this event), or a checker of an
 *                          alpha real server failed its first check (keepalived notifies then)
 *  - realserver.weight     effective weight changed (MISC_CHECK misc_dynamic)
 *  - virtualserver.quorum  the quorum was gained or lost (and once per virtual server at start)
 *  - notify.run            a notify_up/notify_down/quorum_up/quorum_down script finished
 */
import type { Journal } from '../journal/journal';
import type { RealServerSnapshot, VirtualServerSnapshot } from '../state/snapshot';
import { resolveUser, runCommand } from '../notify/command';
import { canonicalIp, prefixToV4Mask } from '../lvs/addr';
import { realServerKey, sorryActive } from '../lvs/desired';
import type { NotifyCommand, RealServerSpec, VirtualServerSpec, VsHealth } from '../lvs/types';
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
  type QuorumConfig,
} from './machine';
import { checkerLabel, realProbe, type ProbeFn } from './probes';
import { BOOTSTRAP_DELAY_MS, type CheckerSpec } from './types';

export type TimerHandle = unknown;

/** Injected time: the engine never reads the clock or arms timers on its own. */
export interface Scheduler {
  /** monotonic milliseconds */
  now(): number;
  setTimer(ms: number, fn: () => void): TimerHandle;
  clearTimer(h: TimerHandle): void;
  /** [0, 1), for the warmup spread */
  random(): number;
}

export const realScheduler: Scheduler = {
  now: () => performance.now(),
  setTimer: (ms, fn) => setTimeout(fn, Math.max(0, ms)),
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
  random: () => Math.random(),
};

export interface LvsNotification {
  kind: 'notify_up' | 'notify_down' | 'quorum_up' | 'quorum_down';
  virtualServer: string;
  realServer?: string;
  command: NotifyCommand;
}
export type LvsNotifier = (n: LvsNotification) => void;

export interface HealthEngineOptions {
  journal: Journal;
  scheduler?: Scheduler;
  probe?: ProbeFn;
  /** default: run the script (src/notify/command.ts) and journal `notify.run` */
  notify?: LvsNotifier;
  /** the desired IPVS table may have changed (a real server, weight or quorum changed) */
  onChange?: () => void;
  /** addresses configured on this host at start, for ha_suspend */
  localAddresses?: Iterable<string>;
}

interface CheckerRun {
  spec: CheckerSpec;
  label: string;
  state: CheckerState;
  timer: TimerHandle | null;
  /** one per checker lifetime (a controller per probe costs more than the probe's own JS at 1000 checks/s) */
  abort: AbortController;
  busy: boolean;
  /** bumped when the checker is dropped, so a late probe result is ignored */
  alive: boolean;
}

interface RsRun {
  spec: RealServerSpec;
  key: string;
  kaName: string;
  checkers: CheckerRun[];
  up: boolean;
  weight: number;
  failed: number;
}

interface VsRun {
  spec: VirtualServerSpec;
  id: string;
  kaName: string;
  q: QuorumConfig;
  quorumUp: boolean;
  rs: Map<string, RsRun>;
}

export interface EngineReloadSummary {
  added: string[];
  removed: string[];
  changed: string[];
  warnings: string[];
}

const TIMING_KEYS = new Set(['delayLoopMs', 'retry', 'delayBeforeRetryMs', 'warmupMs', 'alpha', 'logAllFailures']);

/** keepalived migrate_checkers matches by type + checker-specific compare (not timing). */
export function checkerIdentity(c: CheckerSpec): string {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c)) if (!TIMING_KEYS.has(k)) o[k] = v;
  return JSON.stringify(o, Object.keys(o).sort());
}

/** keepalived ipwrapper.c vs_iseq: same group, or same fwmark+family, or same protocol+address+port. */
export function vsIdentity(vs: VirtualServerSpec): string {
  if (vs.group !== undefined) return `group ${vs.group} ${vs.protocol}`;
  if (vs.fwmark !== undefined) return `fwmark ${vs.fwmark} ${vs.family}`;
  return `${vs.protocol} ${vs.name}`;
}

function kaTrio(address: string, proto: string, port: number): string {
  return `[${canonicalIp(address)}]:${proto.toLowerCase()}:${port}`;
}

/** keepalived check_data.c format_vs */
export function kaVirtualServerName(vs: VirtualServerSpec, groupIndex = 0): string {
  if (vs.group !== undefined) return `[${vs.group}]:${groupIndex}`;
  if (vs.fwmark !== undefined) return `FWM ${vs.fwmark}`;
  const ep = vs.endpoints[0];
  return ep ? kaTrio(ep.address, vs.protocol, ep.port) : vs.name;
}

function timingOf(c: CheckerSpec) {
  return { delayLoopMs: c.delayLoopMs, retry: c.retry, delayBeforeRetryMs: c.delayBeforeRetryMs, warmupMs: c.warmupMs, alpha: c.alpha, logAllFailures: c.logAllFailures };
}

export class HealthEngine {
  private vss = new Map<string, VsRun>();
  private started = false;
  private stopped = false;
  private readonly sched: Scheduler;
  private readonly probe: ProbeFn;
  private readonly local = new Set<string>();

  constructor(private readonly opts: HealthEngineOptions) {
    this.sched = opts.scheduler ?? { ...realScheduler };
    this.probe = opts.probe ?? realProbe;
    for (const a of opts.localAddresses ?? []) this.local.add(canonicalIp(a));
  }

  // ---------------------------------------------------------------- lifecycle

  /** Initial configuration (not a reload): alpha servers start down, others up. */
  load(specs: VirtualServerSpec[]): string[] {
    const warnings: string[] = [];
    const groupIdx = new Map<string, number>();
    for (const spec of specs) {
      const id = vsIdentity(spec);
      if (this.vss.has(id)) {
        warnings.push(`virtual server ${spec.name} (${spec.protocol}) is defined twice - ignoring the second`);
        continue;
      }
      const gi = spec.group !== undefined ? (groupIdx.get(spec.group) ?? 0) : 0;
      if (spec.group !== undefined) groupIdx.set(spec.group, gi + 1);
      const v = this.buildVs(spec, id, gi, warnings);
      for (const r of v.rs.values()) this.refreshRs(r);
      v.quorumUp = initialQuorumUp(v.q, liveWeightSum(this.rsHealth(v)));
      this.vss.set(id, v);
    }
    return warnings;
  }

  /** Arm every checker's first run and announce the initial quorum states. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const v of this.vss.values()) {
      this.emitQuorum(v, 'startup');
      // keepalived update_quorum_state(init): starting with quorum down and a sorry
      // server runs the quorum_down notifiers
      if (!v.quorumUp && v.spec.sorryServer && v.spec.quorumDown) this.notify('quorum_down', v, undefined, v.spec.quorumDown);
      for (const r of v.rs.values()) for (const c of r.checkers) this.arm(v, r, c, this.bootstrapDelay(c));
    }
    this.opts.onChange?.();
  }

  /**
   * Stop all checkers. With `shutdown` (daemon exit) and a virtual server's `omega`, run
   * its notify_down / quorum_down scripts as keepalived does (ipwrapper.c clear_services).
   */
  stop(opts: { shutdown?: boolean } = {}): void {
    this.stopped = true;
    for (const v of this.vss.values()) {
      for (const r of v.rs.values()) for (const c of r.checkers) this.disarm(c);
      if (opts.shutdown && v.spec.omega) {
        for (const r of v.rs.values()) if (r.up && r.spec.notifyDown) this.notify('notify_down', v, r, r.spec.notifyDown);
        if (v.quorumUp && v.spec.quorumDown) this.notify('quorum_down', v, undefined, v.spec.quorumDown);
      }
    }
  }

  /**
   * New configuration. Virtual servers and real servers that remain keep their state
   * and their checkers' state and timers (keepalived clear_diff_services /
   * migrate_checkers); new real servers follow the alpha rule; removed ones are
   * announced down.
   */
  reload(specs: VirtualServerSpec[]): EngineReloadSummary {
    const summary: EngineReloadSummary = { added: [], removed: [], changed: [], warnings: [] };
    const old = this.vss;
    const next = new Map<string, VsRun>();
    const groupIdx = new Map<string, number>();
    for (const spec of specs) {
      const id = vsIdentity(spec);
      if (next.has(id)) {
        summary.warnings.push(`virtual server ${spec.name} (${spec.protocol}) is defined twice - ignoring the second`);
        continue;
      }
      const gi = spec.group !== undefined ? (groupIdx.get(spec.group) ?? 0) : 0;
      if (spec.group !== undefined) groupIdx.set(spec.group, gi + 1);
      const prev = old.get(id);
      if (!prev) {
        const v = this.buildVs(spec, id, gi, summary.warnings);
        for (const r of v.rs.values()) this.refreshRs(r);
        v.quorumUp = initialQuorumUp(v.q, liveWeightSum(this.rsHealth(v)));
        next.set(id, v);
        summary.added.push(spec.name);
        if (this.started) {
          this.emitQuorum(v, 'reload');
          for (const r of v.rs.values()) for (const c of r.checkers) this.arm(v, r, c, this.bootstrapDelay(c));
        }
        continue;
      }
      const v = this.migrateVs(prev, spec, gi, summary.warnings);
      next.set(id, v);
      if (JSON.stringify(prev.spec) !== JSON.stringify(spec)) summary.changed.push(spec.name);
    }
    for (const [id, v] of old) {
      if (next.has(id)) continue;
      summary.removed.push(v.spec.name);
      for (const r of v.rs.values()) this.dropRs(v, r, 'virtual server removed');
      if (v.quorumUp) {
        v.quorumUp = false;
        this.emitQuorum(v, 'removed');
        if (v.spec.quorumDown) this.notify('quorum_down', v, undefined, v.spec.quorumDown);
      }
    }
    this.vss = next;
    this.opts.onChange?.();
    return summary;
  }

  /** ha_suspend: the local address set changed (netlink address events). */
  setAddressPresent(address: string, present: boolean): void {
    const a = canonicalIp(address);
    if (present) this.local.add(a);
    else this.local.delete(a);
  }

  // ---------------------------------------------------------------- views

  specs(): VirtualServerSpec[] {
    return [...this.vss.values()].map((v) => v.spec);
  }

  health(vs: VirtualServerSpec): VsHealth {
    const v = this.vss.get(vsIdentity(vs));
    const realServers = new Map<string, { alive: boolean; weight: number }>();
    if (v) for (const [k, r] of v.rs) realServers.set(k, { alive: r.up, weight: r.weight });
    return { quorumUp: v?.quorumUp ?? false, realServers };
  }

  /** Checker states of one real server (tests, dumps). */
  checkerStates(vs: VirtualServerSpec, rs: { address: string; port: number }): Array<{ label: string } & CheckerState> {
    const r = this.vss.get(vsIdentity(vs))?.rs.get(realServerKey(rs));
    return r ? r.checkers.map((c) => ({ label: c.label, ...c.state })) : [];
  }

  snapshot(): VirtualServerSnapshot[] {
    return [...this.vss.values()].map((v) => {
      const realServers: RealServerSnapshot[] = [...v.rs.values()].map((r) => {
        const first = r.spec.checkers[0];
        const s: RealServerSnapshot = {
          address: r.key,
          up: r.up,
          weight: r.weight,
          configuredWeight: r.spec.weight,
          failedChecks: r.failed,
          checkers: r.checkers.map((c) => c.label),
          forwarding: r.spec.forwarding.toLowerCase(),
          upper_limit: r.spec.upperThreshold,
          lower_limit: r.spec.lowerThreshold,
          inhibit: r.spec.inhibitOnFailure,
          alpha: r.spec.alpha ?? first?.alpha ?? false,
        };
        if (r.spec.notifyUp) s.notify_up = r.spec.notifyUp.command;
        if (r.spec.notifyDown) s.notify_down = r.spec.notifyDown.command;
        if (r.spec.virtualhost) s.virtualhost = r.spec.virtualhost;
        if (r.spec.smtpAlert !== undefined) s.smtp_alert = r.spec.smtpAlert;
        if (r.spec.snmpName) s.snmp_name = r.spec.snmpName;
        if (r.spec.tunnel) {
          s.tunnel_type = r.spec.tunnel.type;
          if (r.spec.tunnel.port !== undefined) s.tunnel_port = r.spec.tunnel.port;
        }
        if (first) {
          s.retry = first.retry;
          s.delay_before_retry = first.delayBeforeRetryMs / 1000;
          s.warmup = first.warmupMs / 1000;
          s.delay_loop = first.delayLoopMs / 1000;
          if (first.kind !== 'MISC_CHECK') s.connect_timeout = first.connectTimeoutMs / 1000;
        }
        return s;
      });
      const spec = v.spec;
      const sorry = sorryActive(spec, { quorumUp: v.quorumUp, realServers: new Map() });
      const vsnap: VirtualServerSnapshot = {
        name: spec.name,
        protocol: spec.protocol,
        scheduler: spec.scheduler,
        forwarding: spec.forwarding,
        quorum: v.q.quorum,
        quorumMet: v.quorumUp,
        sorryActive: sorry,
        realServers,
        alive: true,
        persistence_timeout: spec.persistenceTimeout,
        ha_suspend: spec.haSuspend,
        omega: spec.omega,
        hysteresis: v.q.hysteresis,
        ops: (spec.flags & 0x4) !== 0,
      };
      if (spec.persistenceGranularity !== null) {
        vsnap.persistence_granularity = spec.family === 'inet' ? prefixToV4Mask(spec.persistenceGranularity) : String(spec.persistenceGranularity);
      }
      if (spec.quorumUp) vsnap.quorum_up = spec.quorumUp.command;
      if (spec.quorumDown) vsnap.quorum_down = spec.quorumDown.command;
      const i = spec.info ?? {};
      if (i.delayLoopMs !== undefined) vsnap.delay_loop = i.delayLoopMs / 1000;
      if (i.connectTimeoutMs !== undefined) vsnap.connect_timeout = i.connectTimeoutMs / 1000;
      if (i.retry !== undefined) vsnap.retry = i.retry;
      if (i.delayBeforeRetryMs !== undefined) vsnap.delay_before_retry = i.delayBeforeRetryMs / 1000;
      if (i.warmupMs !== undefined) vsnap.warmup = i.warmupMs / 1000;
      if (i.alpha !== undefined) vsnap.alpha = i.alpha;
      if (i.inhibitOnFailure !== undefined) vsnap.inhibit = i.inhibitOnFailure;
      if (i.weight !== undefined) vsnap.weight = i.weight;
      if (i.virtualhost !== undefined) vsnap.virtualhost = i.virtualhost;
      if (i.smtpAlert !== undefined) vsnap.smtp_alert = i.smtpAlert;
      if (i.snmpName !== undefined) vsnap.snmp_name = i.snmpName;
      if (spec.sorryServer) {
        const ss = spec.sorryServer;
        vsnap.sorry_server = {
          address: realServerKey(ss),
          up: sorry,
          weight: sorry ? ss.weight : 0,
          configuredWeight: ss.weight,
          failedChecks: 0,
          checkers: [],
          forwarding: ss.forwarding.toLowerCase(),
          inhibit: spec.sorryServerInhibit,
        };
      }
      return vsnap;
    });
  }

  // ---------------------------------------------------------------- internals

  private buildVs(spec: VirtualServerSpec, id: string, groupIndex: number, warnings: string[]): VsRun {
    const kaName = kaVirtualServerName(spec, groupIndex);
    const rs = new Map<string, RsRun>();
    for (const r of spec.realServers) {
      const key = realServerKey(r);
      if (rs.has(key)) {
        // keepalived: "real server %s is duplicated - removing second rs"
        warnings.push(`virtual server ${spec.name}: real server ${key} is duplicated - removing second rs`);
        continue;
      }
      rs.set(key, this.newRs(r, key, spec));
    }
    const total = [...rs.values()].reduce((s, r) => s + r.spec.weight, 0);
    const nq = normalizeQuorum({ quorum: spec.quorum, hysteresis: spec.hysteresis }, total);
    for (const w of nq.warnings) warnings.push(`virtual server ${spec.name}: ${w}`);
    return { spec, id, kaName, q: { quorum: nq.quorum, hysteresis: nq.hysteresis }, quorumUp: false, rs };
  }

  private newRs(spec: RealServerSpec, key: string, vs: VirtualServerSpec): RsRun {
    const checkers = spec.checkers.map((c) => ({ spec: c, label: checkerLabel(c), state: initialCheckerState(timingOf(c)), timer: null, abort: new AbortController(), busy: false, alive: true }));
    return { spec, key, kaName: kaTrio(spec.address, vs.protocol, spec.port), checkers, up: false, weight: 0, failed: 0 };
  }

  private migrateVs(prev: VsRun, spec: VirtualServerSpec, groupIndex: number, warnings: string[]): VsRun {
    const v = this.buildVs(spec, prev.id, groupIndex, warnings);
    v.quorumUp = prev.quorumUp;
    for (const [key, r] of v.rs) {
      const o = prev.rs.get(key);
      if (!o) {
        this.refreshRs(r);
        if (this.started) for (const c of r.checkers) this.arm(v, r, c, this.bootstrapDelay(c));
        continue;
      }
      // carry the old checkers over by identity; unmatched old ones stop
      const pool = [...o.checkers];
      r.checkers = r.checkers.map((nc) => {
        const i = pool.findIndex((oc) => oc.spec.kind === nc.spec.kind && checkerIdentity(oc.spec) === checkerIdentity(nc.spec));
        if (i < 0) return nc;
        const oc = pool.splice(i, 1)[0];
        oc.spec = nc.spec;
        oc.label = nc.label;
        oc.state = migrateCheckerState(oc.state, timingOf(nc.spec));
        return oc;
      });
      for (const oc of pool) this.disarm(oc);
      // keepalived migrate_checkers: if one has failed, new alpha checkers start down and
      // any new checker needs only one failure
      const anyFailed = r.checkers.some((c) => c.state.hasRun && !c.state.up);
      for (const c of r.checkers) {
        if (c.state.hasRun) continue;
        if (anyFailed || !o.up) c.state = { ...c.state, up: c.spec.alpha ? false : c.state.up, retryIt: c.spec.retry };
      }
      r.up = o.up;
      r.weight = o.weight;
      const before = { up: r.up, weight: r.weight };
      this.refreshRs(r);
      if (this.started) {
        for (const c of r.checkers) if (c.timer === null && !c.busy) this.arm(v, r, c, this.bootstrapDelay(c));
        if (before.up !== r.up) this.announceRs(v, r, 'reload');
        else if (before.weight !== r.weight) this.opts.journal.emit({ type: 'realserver.weight', virtualServer: v.spec.name, realServer: r.key, from: before.weight, to: r.weight, reason: 'reload' });
      }
    }
    for (const [key, o] of prev.rs) if (!v.rs.has(key)) this.dropRs(prev, o, 'real server removed');
    // the quorum or weights may have changed with the configuration (init_service_vs)
    this.updateQuorum(v, 'reload');
    return v;
  }

  private dropRs(v: VsRun, r: RsRun, reason: string): void {
    for (const c of r.checkers) this.disarm(c);
    if (!r.up) return;
    r.up = false;
    this.announceRs(v, r, reason);
  }

  private rsHealth(v: VsRun) {
    return [...v.rs.values()].map((r) => ({ alive: r.up, weight: r.weight, failedCheckers: r.failed }));
  }

  private refreshRs(r: RsRun): void {
    const h = realServerHealth(r.spec.weight, r.checkers.map((c) => c.state));
    r.up = h.alive;
    r.weight = h.weight;
    r.failed = h.failedCheckers;
  }

  private bootstrapDelay(c: CheckerRun): number {
    return BOOTSTRAP_DELAY_MS + Math.floor(this.sched.random() * c.spec.warmupMs);
  }

  private disarm(c: CheckerRun): void {
    c.alive = false;
    if (c.timer !== null) this.sched.clearTimer(c.timer);
    c.timer = null;
    c.abort.abort();
  }

  private arm(v: VsRun, r: RsRun, c: CheckerRun, delayMs: number): void {
    if (this.stopped || !c.alive) return;
    if (c.timer !== null) this.sched.clearTimer(c.timer);
    c.timer = this.sched.setTimer(delayMs, () => {
      c.timer = null;
      this.fire(v, r, c);
    });
  }

  private suspended(v: VsRun): boolean {
    if (!v.spec.haSuspend || v.spec.fwmark !== undefined) return false;
    return !v.spec.endpoints.some((ep) => ep.address && this.local.has(canonicalIp(ep.address)));
  }

  private fire(v: VsRun, r: RsRun, c: CheckerRun): void {
    if (this.stopped || !c.alive) return;
    if (this.suspended(v)) {
      // keepalived: a disabled checker just re-arms at delay_loop
      this.arm(v, r, c, c.spec.delayLoopMs);
      return;
    }
    c.busy = true;
    const t0 = this.sched.now();
    this.probe(c.spec, c.abort.signal).then(
      (o) => this.complete(v, r, c, o, t0),
      (e: unknown) => this.complete(v, r, c, { ok: false, detail: `probe error: ${e instanceof Error ? e.message : String(e)}` }, t0),
    );
  }

  private complete(v: VsRun, r: RsRun, c: CheckerRun, o: { ok: boolean; timeout?: boolean; detail?: string; exitCode?: number | null }, t0: number): void {
    c.busy = false;
    if (this.stopped || !c.alive) return;
    // The run objects may have been replaced by a reload: act on the current ones.
    const cur = this.vss.get(v.id);
    const curRs = cur?.rs.get(r.key);
    if (!cur || !curRs || !curRs.checkers.includes(c)) return;
    v = cur;
    r = curRs;
    const step = checkerStep({ kind: c.spec.kind, timing: timingOf(c.spec), dynamic: c.spec.kind === 'MISC_CHECK' && c.spec.dynamic, rsWeight: r.spec.weight }, c.state, o);
    c.state = step.state;
    this.opts.journal.emit({
      type: 'checker.result',
      virtualServer: v.spec.name,
      realServer: r.key,
      checker: c.label,
      result: o.ok ? 'success' : o.timeout ? 'timeout' : 'failure',
      durationMs: this.sched.now() - t0,
      ...(o.detail ? { detail: o.detail } : {}),
      checkerUp: step.state.up,
    });
    const before = { up: r.up, weight: r.weight };
    this.refreshRs(r);
    const reason = `${c.label}: ${o.ok ? 'success' : (o.detail ?? 'failure')}`;
    let changed = false;
    if (before.up !== r.up) {
      this.announceRs(v, r, reason);
      changed = true;
    } else if (step.firstRun && c.spec.alpha && step.verdict === 'still-down') {
      // keepalived update_svr_checker_state: an alpha checker failing its first check
      // notifies although nothing changed
      this.announceRs(v, r, reason);
    }
    if (before.weight !== r.weight) {
      this.opts.journal.emit({ type: 'realserver.weight', virtualServer: v.spec.name, realServer: r.key, from: before.weight, to: r.weight, reason });
      changed = true;
    }
    if (changed) {
      this.updateQuorum(v, reason);
      this.opts.onChange?.();
    }
    this.arm(v, r, c, step.nextDelayMs);
  }

  private announceRs(v: VsRun, r: RsRun, reason: string): void {
    this.opts.journal.emit({
      type: 'realserver.state',
      virtualServer: v.spec.name,
      realServer: r.key,
      up: r.up,
      weight: r.weight,
      reason,
      kaVirtualServer: v.kaName,
      kaRealServer: r.kaName,
      failedCheckers: r.failed,
    });
    const cmd = r.up ? r.spec.notifyUp : r.spec.notifyDown;
    if (cmd) this.notify(r.up ? 'notify_up' : 'notify_down', v, r, cmd);
  }

  private updateQuorum(v: VsRun, reason: string): void {
    const sum = liveWeightSum(this.rsHealth(v));
    const up = quorumStep(v.q, v.quorumUp, sum);
    if (up === v.quorumUp) return;
    v.quorumUp = up;
    this.emitQuorum(v, reason);
    const cmd = up ? v.spec.quorumUp : v.spec.quorumDown;
    if (cmd) this.notify(up ? 'quorum_up' : 'quorum_down', v, undefined, cmd);
  }

  private emitQuorum(v: VsRun, _reason: string): void {
    const live = [...v.rs.values()];
    this.opts.journal.emit({
      type: 'virtualserver.quorum',
      virtualServer: v.spec.name,
      met: v.quorumUp,
      up: live.filter((r) => r.up).length,
      configured: live.length,
      sorry: !v.quorumUp && v.spec.sorryServer !== undefined,
      kaVirtualServer: v.kaName,
      weightSum: liveWeightSum(this.rsHealth(v)),
      quorum: v.q.quorum,
      hysteresis: v.q.hysteresis,
    });
  }

  private notify(kind: LvsNotification['kind'], v: VsRun, r: RsRun | undefined, command: NotifyCommand): void {
    const n: LvsNotification = { kind, virtualServer: v.spec.name, ...(r ? { realServer: r.key } : {}), command };
    if (this.opts.notify) {
      try {
        this.opts.notify(n);
      } catch {
        /* a notifier must not break the engine */
      }
      return;
    }
    void defaultNotify(this.opts.journal, n);
  }
}

/** Run an LVS notify script and journal the outcome (keepalived notify_exec: no timeout). */
export async function defaultNotify(journal: Journal, n: LvsNotification): Promise<void> {
  const user = resolveUser(n.command.user, n.command.group);
  if (user instanceof Error) {
    journal.emit({ type: 'notify.run', event: n.kind, target: n.realServer ?? n.virtualServer, command: n.command.command, exitCode: null, durationMs: 0, error: user.message });
    return;
  }
  const r = await runCommand(n.command.command, user ? { user } : {});
  journal.emit({
    type: 'notify.run',
    event: n.kind,
    target: n.realServer ?? n.virtualServer,
    command: n.command.command,
    exitCode: r.exitCode,
    durationMs: r.durationMs,
    ...(r.error ? { error: r.error } : {}),
  });
}
