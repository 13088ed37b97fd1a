/**
 * The checker engine: runs every checker of every real server on an injected scheduler,
 * feeds the outcomes through the pure machines (machine.ts) and turns the results into
 * journal events, notify scripts and "the desired IPVS table changed" callbacks.
 *
 * Scheduling follows keepalived 2.2.7 check/check_api.c: a checker first runs after
 * BOOTSTRAP_DELAY (1 s) + random(0..warmup) (register_checkers_thread), then delay_loop
 * after its previous check completed, or delay_before_retry while retrying (the
 * check_*.c epilogs re-arm from the completion); checkers of a virtual server with
 * ha_suspend are skipped while its address is not on this host. Probes are real I/O
 * (probes.ts) unless a probe function is injected (unit tests with a fake clock).
 *
 * Timers and event-loop time (bench/lvs-checkers.ts measures this at 1000 checkers, 1 s):
 *  - all checkers share ONE scheduler timer, for the earliest due checker (due-queue.ts),
 *    instead of a timer object and closure per check;
 *  - due checkers start in turns of at most TURN_MAX_STARTS / TURN_BUDGET_MS; the rest
 *    continue after the event loop has polled I/O (Scheduler.defer). keepalived runs due
 *    timers back to back in its one thread; we yield because a batch only grows: checks
 *    started together complete in the same poll and are re-armed for the same instant, and
 *    any stall merges the batches due during it, so without a bound the largest batch
 *    (and the loop stall it causes) grows with uptime. The deferral is a fraction of a
 *    millisecond per turn; delay_loop keeps counting from each check's own completion.
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
import { IPVS_WEIGHT_LIMIT, realServerKey, sorryActive } from '../lvs/desired';
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
  type StepInput,
} from './machine';
import { DueQueue, type DueItem } from './due-queue';
import { checkerLabel, realProbe, type ProbeFn } from './probes';
import { BOOTSTRAP_DELAY_MS, type CheckerSpec, type CheckerTiming, type ProbeOutcome } from './types';

export type TimerHandle = unknown;

/** Injected time: the engine never reads the clock or arms timers on its own. */
export interface Scheduler {
  /** monotonic milliseconds */
  now(): number;
  setTimer(ms: number, fn: () => void): TimerHandle;
  clearTimer(h: TimerHandle): void;
  /** [0, 1), for the warmup spread */
  random(): number;
  /**
   * Run `fn` after the event loop has polled I/O (setImmediate). Used only when a turn
   * of due checkers exceeds its time budget; without it the engine uses setTimer(0).
   */
  defer?(fn: () => void): void;
}

export const realScheduler: Scheduler = {
  now: () => performance.now(),
  setTimer: (ms, fn) => setTimeout(fn, Math.max(0, ms)),
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
  random: () => Math.random(),
  defer: (fn) => {
    setImmediate(fn);
  },
};

/**
 * How many due checkers start in one event-loop turn before the loop polls I/O again:
 * at most TURN_MAX_STARTS, and no more once TURN_BUDGET_MS (scheduler clock) has gone by
 * (a MISC_CHECK spawn or a TLS handshake start costs far more than a TCP connect). The
 * count bounds the completions too: loopback connects of one turn complete together in
 * the next poll. A TCP_CHECK start is ~25-60 us and its completion ~40 us here, so a turn
 * plus its completions stays near 1 ms. At 1000 checks/s the queue rarely holds more than
 * a few due checkers at once; this bounds bursts (start-up with warmup 0, the checkers
 * that fell due during a stall, batches that merged over time).
 */
export const TURN_MAX_STARTS = 16;
export const TURN_BUDGET_MS = 1;

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
  /**
   * The desired IPVS table may have changed (a real server, weight or quorum changed).
   * With a virtual server, only that one's part did (a probe result); without, anything
   * may have (start, reload).
   */
  onChange?: (virtualServer?: VirtualServerSpec) => void;
  /** addresses configured on this host at start, for ha_suspend */
  localAddresses?: Iterable<string>;
}

interface CheckerRun extends DueItem {
  spec: CheckerSpec;
  label: string;
  state: CheckerState;
  /** the machine's input for this checker (kind, timing, the real server's weight); rebuilt on reload */
  step: StepInput;
  /** the virtual / real server this checker belongs to (moved along when a reload migrates it) */
  v: VsRun;
  r: RsRun;
  /** one per checker lifetime (a controller per probe costs more than the probe's own JS at 1000 checks/s) */
  abort: AbortController;
  busy: boolean;
  /** start of the running probe (scheduler clock) */
  t0: number;
  /** probe outcome handlers, bound once per checker rather than per check */
  onResult: (o: ProbeOutcome) => void;
  onError: (e: unknown) => void;
  /** cleared when the checker is dropped, so a late probe result is ignored */
  alive: boolean;
}

interface RsRun {
  spec: RealServerSpec;
  key: string;
  kaName: string;
  checkers: CheckerRun[];
  /** reused for realServerHealth() on every result */
  states: CheckerState[];
  up: boolean;
  weight: number;
  failed: number;
  /**
   * An SNMP SET of realServerWeight (setRealServerWeight): the base the checkers' weight
   * deltas add to, in place of the configured weight, until a reload builds a new run.
   */
  weightBase?: number;
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

function timingOf(c: CheckerSpec): CheckerTiming {
  return { delayLoopMs: c.delayLoopMs, retry: c.retry, delayBeforeRetryMs: c.delayBeforeRetryMs, warmupMs: c.warmupMs, alpha: c.alpha, logAllFailures: c.logAllFailures };
}

function stepInputOf(c: CheckerSpec, rsWeight: number): StepInput {
  return { kind: c.kind, timing: timingOf(c), dynamic: c.kind === 'MISC_CHECK' && c.dynamic, rsWeight };
}

export class HealthEngine {
  private vss = new Map<string, VsRun>();
  private started = false;
  private stopped = false;
  private readonly sched: Scheduler;
  private readonly probe: ProbeFn;
  private readonly local = new Set<string>();
  /** armed checkers by due time; `wake` is the one scheduler timer, for the earliest */
  private readonly queue = new DueQueue<CheckerRun>();
  private wake: TimerHandle | null = null;
  private wakeAt = Infinity;
  /** inside drain(), or a drain continuation is queued: it re-arms `wake` itself */
  private draining = false;
  private deferred = false;

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
      for (const r of v.rs.values()) for (const c of r.checkers) this.arm(c, this.bootstrapDelay(c));
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
    this.queue.clear();
    this.cancelWake();
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
          for (const r of v.rs.values()) for (const c of r.checkers) this.arm(c, this.bootstrapDelay(c));
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

  /**
   * SNMP SET of realServerWeight (keepalived 2.2.7 check_snmp_realserver_weight →
   * ipwrapper.c update_svr_wgt(weight, vs, rs, true)): the real server's effective weight
   * becomes `weight` at once. IPVS follows through the desired table, so, as in keepalived,
   * the kernel sees it only while the server is alive and in the pool (not while the sorry
   * server stands in); the quorum is re-evaluated with it. MISC_CHECK misc_dynamic results
   * that come later apply relative to it (check_misc.c adds the change of cur_weight to
   * effective_weight). A reload forgets it: keepalived's set_effective_weights() restores
   * iweight + the checkers' weights and init_service_rs pushes that to IPVS — here the
   * reload builds a fresh run from the configured weight.
   *
   * `virtualServer` / `realServer` are the snapshot names ("192.0.2.10:80", "fwmark:5",
   * "group:NAME" / "198.51.100.11:8080", "[2001:db8::11]:80"); `protocol` tells apart two
   * virtual servers of the same address and port (TCP and UDP).
   */
  setRealServerWeight(virtualServer: string, realServer: string, weight: number, protocol?: string): { ok: true } | { ok: false; error: string } {
    if (!Number.isInteger(weight) || weight < 0 || weight > IPVS_WEIGHT_LIMIT) return { ok: false, error: `weight ${weight} is outside range 0-${IPVS_WEIGHT_LIMIT}` };
    const proto = protocol?.toUpperCase();
    const vss = [...this.vss.values()].filter((x) => x.spec.name === virtualServer && (proto === undefined || x.spec.protocol === proto));
    if (vss.length === 0) return { ok: false, error: `no virtual server ${virtualServer}${proto ? ` (${proto})` : ''}` };
    if (vss.length > 1) return { ok: false, error: `virtual server ${virtualServer} exists for ${vss.map((x) => x.spec.protocol).join(' and ')}: give the protocol` };
    const v = vss[0];
    const m = /^\[([^\]]+)\]:(\d+)$|^([^:]+):(\d+)$/.exec(realServer);
    const key = m ? realServerKey({ address: m[1] ?? m[3], port: Number(m[2] ?? m[4]) }) : realServer;
    const r = v.rs.get(key);
    if (!r) return { ok: false, error: `no real server ${realServer} in virtual server ${virtualServer}` };
    let delta = 0;
    for (const c of r.checkers) delta += c.state.weightDelta;
    r.weightBase = weight - delta;
    const before = r.weight;
    this.refreshRs(r);
    if (r.weight !== before) {
      this.opts.journal.emit({ type: 'realserver.weight', virtualServer: v.spec.name, realServer: r.key, from: before, to: r.weight, reason: 'snmp' });
      this.updateQuorum(v, 'snmp');
      this.opts.onChange?.(v.spec);
    }
    return { ok: true };
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
    const v: VsRun = { spec, id, kaName, q: { quorum: 0, hysteresis: 0 }, quorumUp: false, rs };
    for (const r of spec.realServers) {
      const key = realServerKey(r);
      if (rs.has(key)) {
        // keepalived: "real server %s is duplicated - removing second rs"
        warnings.push(`virtual server ${spec.name}: real server ${key} is duplicated - removing second rs`);
        continue;
      }
      rs.set(key, this.newRs(r, key, v));
    }
    const total = [...rs.values()].reduce((s, r) => s + r.spec.weight, 0);
    const nq = normalizeQuorum({ quorum: spec.quorum, hysteresis: spec.hysteresis }, total);
    for (const w of nq.warnings) warnings.push(`virtual server ${spec.name}: ${w}`);
    v.q = { quorum: nq.quorum, hysteresis: nq.hysteresis };
    return v;
  }

  private newRs(spec: RealServerSpec, key: string, v: VsRun): RsRun {
    const r: RsRun = { spec, key, kaName: kaTrio(spec.address, v.spec.protocol, spec.port), checkers: [], states: [], up: false, weight: 0, failed: 0 };
    r.checkers = spec.checkers.map((cs) => this.newChecker(cs, v, r));
    return r;
  }

  private newChecker(spec: CheckerSpec, v: VsRun, r: RsRun): CheckerRun {
    const c: CheckerRun = {
      spec,
      label: checkerLabel(spec),
      state: initialCheckerState(timingOf(spec)),
      step: stepInputOf(spec, r.spec.weight),
      v,
      r,
      abort: new AbortController(),
      busy: false,
      t0: 0,
      onResult: (o) => this.complete(c, o),
      onError: (e) => this.complete(c, { ok: false, detail: `probe error: ${e instanceof Error ? e.message : String(e)}` }),
      alive: true,
      due: NaN,
      seq: 0,
      slot: -1,
    };
    return c;
  }

  private migrateVs(prev: VsRun, spec: VirtualServerSpec, groupIndex: number, warnings: string[]): VsRun {
    const v = this.buildVs(spec, prev.id, groupIndex, warnings);
    v.quorumUp = prev.quorumUp;
    for (const [key, r] of v.rs) {
      const o = prev.rs.get(key);
      if (!o) {
        this.refreshRs(r);
        if (this.started) for (const c of r.checkers) this.arm(c, this.bootstrapDelay(c));
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
        oc.step = nc.step;
        oc.v = v;
        oc.r = r;
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
        for (const c of r.checkers) if (!this.queue.has(c) && !c.busy) this.arm(c, this.bootstrapDelay(c));
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
    const states = r.states;
    states.length = r.checkers.length;
    for (let i = 0; i < r.checkers.length; i++) states[i] = r.checkers[i].state;
    const h = realServerHealth(r.weightBase ?? r.spec.weight, states);
    r.up = h.alive;
    r.weight = h.weight;
    r.failed = h.failedCheckers;
  }

  private bootstrapDelay(c: CheckerRun): number {
    return BOOTSTRAP_DELAY_MS + Math.floor(this.sched.random() * c.spec.warmupMs);
  }

  private disarm(c: CheckerRun): void {
    c.alive = false;
    this.queue.remove(c);
    c.abort.abort();
  }

  /** `now`: the caller's reading of the clock, when it has one (each reading is a syscall under UML) */
  private arm(c: CheckerRun, delayMs: number, now = this.sched.now()): void {
    if (this.stopped || !c.alive) return;
    this.queue.schedule(c, now + Math.max(0, delayMs));
    this.armWake();
  }

  /** Keep the one scheduler timer at the earliest due checker. */
  private armWake(): void {
    if (this.draining || this.deferred || this.stopped) return;
    const top = this.queue.peek();
    if (!top) {
      this.cancelWake();
      return;
    }
    if (this.wake !== null && this.wakeAt <= top.due) return;
    this.cancelWake();
    this.wakeAt = top.due;
    // whole milliseconds: Node keeps one timer list per distinct duration
    this.wake = this.sched.setTimer(Math.max(0, Math.ceil(top.due - this.sched.now())), this.onWake);
  }

  private cancelWake(): void {
    if (this.wake !== null) this.sched.clearTimer(this.wake);
    this.wake = null;
    this.wakeAt = Infinity;
  }

  private readonly onWake = (): void => {
    this.wake = null;
    this.wakeAt = Infinity;
    // a continuation is queued: it starts what is due and re-arms the timer itself
    if (this.deferred) return;
    this.drain();
  };

  private readonly onDeferred = (): void => {
    this.deferred = false;
    this.drain();
  };

  /**
   * Start the due checkers, earliest first, for at most one turn's worth; then continue
   * after the loop has polled I/O. "Due" has the millisecond resolution of the timers
   * (Node's and libuv's): a checker less than 1 ms from its time starts in this turn.
   */
  private drain(): void {
    if (this.stopped) return;
    this.draining = true;
    let now = this.sched.now();
    const start = now;
    // checkers re-armed during this turn (a suspended one at delay_loop 0) wait for the next
    const lastSeq = this.queue.lastSeq;
    let started = 0;
    try {
      for (let c = this.queue.peek(); c; c = this.queue.peek()) {
        if (c.due - now >= 1 || c.seq > lastSeq) break;
        if (started >= TURN_MAX_STARTS || (started > 0 && now - start >= TURN_BUDGET_MS)) {
          this.cancelWake();
          if (this.sched.defer) {
            this.deferred = true;
            this.sched.defer(this.onDeferred);
          } else {
            this.wakeAt = now;
            this.wake = this.sched.setTimer(0, this.onWake);
          }
          return;
        }
        this.queue.pop();
        started++;
        this.fire(c, now);
        // one reading per start: the budget after this probe, the next probe's start time
        now = this.sched.now();
      }
    } finally {
      this.draining = false;
      this.armWake();
    }
  }

  private suspended(v: VsRun): boolean {
    if (!v.spec.haSuspend || v.spec.fwmark !== undefined) return false;
    return !v.spec.endpoints.some((ep) => ep.address && this.local.has(canonicalIp(ep.address)));
  }

  private fire(c: CheckerRun, now: number): void {
    if (this.stopped || !c.alive) return;
    if (this.suspended(c.v)) {
      // keepalived: a disabled checker just re-arms at delay_loop
      this.arm(c, c.spec.delayLoopMs, now);
      return;
    }
    c.busy = true;
    c.t0 = now;
    let p: Promise<ProbeOutcome>;
    try {
      p = this.probe(c.spec, c.abort.signal);
    } catch (e) {
      // an injected probe that throws is a failed check, never a stopped queue
      p = Promise.reject(e);
    }
    p.then(c.onResult, c.onError);
  }

  private complete(c: CheckerRun, o: ProbeOutcome): void {
    c.busy = false;
    if (this.stopped || !c.alive) return;
    // a reload moves a kept checker to the new run objects (migrateVs); anything else is gone
    const v = c.v;
    const r = c.r;
    if (this.vss.get(v.id) !== v || r.checkers.indexOf(c) < 0) return;
    const step = checkerStep(c.step, c.state, o);
    c.state = step.state;
    const result = o.ok ? 'success' : o.timeout ? 'timeout' : 'failure';
    const now = this.sched.now();
    const durationMs = now - c.t0;
    this.opts.journal.emit(
      o.detail
        ? { type: 'checker.result', virtualServer: v.spec.name, realServer: r.key, checker: c.label, result, durationMs, detail: o.detail, checkerUp: step.state.up }
        : { type: 'checker.result', virtualServer: v.spec.name, realServer: r.key, checker: c.label, result, durationMs, checkerUp: step.state.up },
    );
    const upBefore = r.up;
    const weightBefore = r.weight;
    this.refreshRs(r);
    let changed = false;
    if (upBefore !== r.up) {
      this.announceRs(v, r, reasonOf(c, o));
      changed = true;
    } else if (step.firstRun && c.spec.alpha && step.verdict === 'still-down') {
      // keepalived update_svr_checker_state: an alpha checker failing its first check
      // notifies although nothing changed
      this.announceRs(v, r, reasonOf(c, o));
    }
    if (weightBefore !== r.weight) {
      this.opts.journal.emit({ type: 'realserver.weight', virtualServer: v.spec.name, realServer: r.key, from: weightBefore, to: r.weight, reason: reasonOf(c, o) });
      changed = true;
    }
    if (changed) {
      this.updateQuorum(v, reasonOf(c, o));
      this.opts.onChange?.(v.spec);
    }
    this.arm(c, step.nextDelayMs, now);
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

/** Why a real server changed (realserver.state / realserver.weight `reason`); built only when something changed. */
function reasonOf(c: CheckerRun, o: ProbeOutcome): string {
  return `${c.label}: ${o.ok ? 'success' : (o.detail ?? 'failure')}`;
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
