/**
 * The LVS side of the daemon: checker engine + IPVS reconciler + counters, with
 * keepalived 2.2.7's lifecycle (shared/research/keepalived-features.md §8.2):
 *  - start: open IPVS; apply lvs_timeouts (remembering the kernel's values); FLUSH when
 *    lvs_flush; program every virtual server for the initial health (alpha servers down,
 *    others up, sorry server when the quorum is not met); then start the checkers;
 *  - any health change: recompute the desired table and reconcile (coalesced, one round
 *    at a time);
 *  - reload: the engine migrates state, the reconciler changes only what differs;
 *  - stop: remove what we created (or FLUSH with lvs_flush_on_stop full; nothing with
 *    release disabled, keepalived -I), restore the timeouts.
 * Without IPVS in the kernel the checkers still run (health stays observable) and
 * `ipvsError` says why nothing is programmed; VRRP is unaffected either way.
 */
import type { Journal } from '../journal/journal';
import type { IpvsDestStats, IpvsRates, IpvsStats as SnapStats, VirtualServerSnapshot } from '../state/snapshot';
import { HealthEngine, type EngineReloadSummary, type HealthEngineOptions } from '../check/engine';
import { desiredServices } from './desired';
import { IpvsClient, IpvsUnavailableError } from './ipvs';
import { destKeyString, serviceKeyString } from './keys';
import { Reconciler, type SyncResult } from './reconcile';
import { serviceParams } from './desired';
import type { DesiredService, IpvsStats, IpvsTimeouts, KernelService, VirtualServerSpec } from './types';

export interface LvsManagerOptions {
  journal: Journal;
  /** an open client; null = run without IPVS; undefined = IpvsClient.open() */
  client?: IpvsClient | null;
  /** global_defs lvs_flush: FLUSH the whole IPVS table at start */
  flushOnStart?: boolean;
  /** global_defs lvs_flush_on_stop: 'full' = FLUSH, 'vs' / 'none' = delete our services */
  flushOnStop?: 'none' | 'full' | 'vs';
  /** false = leave the table as it is at stop (keepalived -I / --dont-release-ipvs) */
  releaseOnStop?: boolean;
  /** global_defs lvs_timeouts (seconds; 0/absent = unchanged) */
  timeouts?: Partial<IpvsTimeouts>;
  /** how often counters are read for snapshots; keepalived caches them for 5 s */
  statsIntervalMs?: number;
  /** scheduler / probe / notify / localAddresses for the checker engine */
  engine?: Omit<HealthEngineOptions, 'journal' | 'onChange'>;
}

interface Counters {
  stats: IpvsStats;
  dests: Map<string, { stats: IpvsStats; active: number; inact: number; persist: number }>;
}

function addStats(a: IpvsStats | undefined, b: IpvsStats): IpvsStats {
  if (!a) return { ...b };
  const o = { ...a };
  for (const k of Object.keys(b) as Array<keyof IpvsStats>) o[k] += b[k];
  return o;
}

function snapStats(s: IpvsStats): SnapStats {
  return { conns: s.conns, inPkts: s.inPkts, outPkts: s.outPkts, inBytes: s.inBytes, outBytes: s.outBytes };
}
function snapRates(s: IpvsStats): IpvsRates {
  return { cps: s.cps, inPps: s.inPps, outPps: s.outPps, inBps: s.inBps, outBps: s.outBps };
}

export class LvsManager {
  readonly engine: HealthEngine;
  readonly reconciler: Reconciler | null;
  private kicked = false;
  private last: Promise<SyncResult | null> = Promise.resolve(null);
  private stopped = false;
  private savedTimeouts: IpvsTimeouts | null = null;
  private statsTimer: NodeJS.Timeout | null = null;
  private counters = new Map<string, Counters>();
  /**
   * Each virtual server's part of the desired table, recomputed only when the engine says
   * that virtual server changed: a probe result changes one virtual server, and the whole
   * table of a 1000-real-server director costs milliseconds to rebuild (bench/lvs-checkers.ts).
   */
  private desiredByVs = new Map<VirtualServerSpec, DesiredService[]>();

  private constructor(
    private readonly opts: LvsManagerOptions,
    readonly client: IpvsClient | null,
    readonly ipvsError: IpvsUnavailableError | null,
  ) {
    this.engine = new HealthEngine({ ...(opts.engine ?? {}), journal: opts.journal, onChange: (vs) => this.kick(vs) });
    this.reconciler = client ? new Reconciler(client, opts.journal) : null;
  }

  /** Never rejects because IPVS is missing: check `ipvsError`. */
  static async start(specs: VirtualServerSpec[], opts: LvsManagerOptions): Promise<LvsManager> {
    let client: IpvsClient | null = null;
    let err: IpvsUnavailableError | null = null;
    if (opts.client === undefined) {
      try {
        client = await IpvsClient.open();
      } catch (e) {
        err = e instanceof IpvsUnavailableError ? e : new IpvsUnavailableError(e instanceof Error ? e.message : String(e));
      }
    } else client = opts.client;
    const m = new LvsManager(opts, client, err);
    if (err) opts.journal.emit({ type: 'ipvs.apply', op: 'open', target: 'ipvs', ok: false, error: err.message, durationMs: 0 });
    m.warnings = m.engine.load(specs);
    if (client) {
      const t = opts.timeouts;
      if (t && (t.tcp || t.tcpFin || t.udp)) {
        try {
          m.savedTimeouts = await client.getTimeouts();
          await client.setTimeouts(t);
          opts.journal.emit({ type: 'ipvs.apply', op: 'set-timeouts', target: 'ipvs', ok: true, durationMs: 0 });
        } catch (e) {
          opts.journal.emit({ type: 'ipvs.apply', op: 'set-timeouts', target: 'ipvs', ok: false, error: e instanceof Error ? e.message : String(e), durationMs: 0 });
        }
      }
      if (opts.flushOnStart) {
        try {
          await client.flush();
          opts.journal.emit({ type: 'ipvs.apply', op: 'flush', target: 'ipvs', ok: true, durationMs: 0 });
        } catch (e) {
          opts.journal.emit({ type: 'ipvs.apply', op: 'flush', target: 'ipvs', ok: false, error: e instanceof Error ? e.message : String(e), durationMs: 0 });
        }
      }
      await m.syncNow();
      const every = opts.statsIntervalMs ?? 5000;
      if (every > 0) {
        m.statsTimer = setInterval(() => void m.refreshStats(), every);
        m.statsTimer.unref();
      }
    }
    m.engine.start();
    return m;
  }

  /** Configuration warnings from the last load/reload (quorum clamped, duplicate servers ...). */
  warnings: string[] = [];

  private kick(vs?: VirtualServerSpec): void {
    if (vs) this.desiredByVs.delete(vs);
    else this.desiredByVs.clear();
    if (!this.reconciler || this.kicked || this.stopped) return;
    this.kicked = true;
    setImmediate(() => {
      this.kicked = false;
      // a kick queued just before stop() must not re-program what stop() removes
      if (!this.stopped) void this.syncNow();
    });
  }

  /** Reconcile now with the current health; resolves with this round's result. */
  syncNow(): Promise<SyncResult | null> {
    if (!this.reconciler) return Promise.resolve(null);
    const specs = this.engine.specs();
    const desired: DesiredService[] = [];
    const next = new Map<VirtualServerSpec, DesiredService[]>();
    for (const vs of specs) {
      let d = this.desiredByVs.get(vs);
      if (!d) d = desiredServices(vs, this.engine.health(vs));
      next.set(vs, d);
      for (const x of d) desired.push(x);
    }
    // only the current specs: a reload's replaced ones drop out
    this.desiredByVs = next;
    const p = this.reconciler.sync(desired);
    this.last = p;
    return p;
  }

  /** Resolves once no reconcile round is queued or running. */
  async idle(): Promise<void> {
    for (;;) {
      const p = this.last;
      await p;
      await new Promise<void>((r) => setImmediate(r));
      if (p === this.last && !this.kicked) return;
    }
  }

  /**
   * SNMP SET of realServerWeight (keepalived check_snmp_realserver_weight): the engine takes
   * the new effective weight and says its virtual server changed, so the next reconcile
   * round (kick → syncNow) edits the kernel destination (EDIT_DEST, counters kept). The
   * configured weight comes back on reload (HealthEngine.setRealServerWeight).
   */
  setRealServerWeight(virtualServer: string, realServer: string, weight: number, protocol?: string): { ok: true } | { ok: false; error: string } {
    if (this.stopped) return { ok: false, error: 'LVS is stopping' };
    return this.engine.setRealServerWeight(virtualServer, realServer, weight, protocol);
  }

  async reload(specs: VirtualServerSpec[]): Promise<{ engine: EngineReloadSummary; sync: SyncResult | null }> {
    const summary = this.engine.reload(specs);
    this.warnings = summary.warnings;
    const sync = await this.syncNow();
    return { engine: summary, sync };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.engine.stop({ shutdown: true });
    await this.last.catch(() => null);
    const c = this.client;
    if (c && this.reconciler) {
      if (this.opts.releaseOnStop !== false) {
        if (this.opts.flushOnStop === 'full') {
          await c.flush().catch(() => undefined);
          this.opts.journal.emit({ type: 'ipvs.apply', op: 'flush', target: 'ipvs', ok: true, durationMs: 0 });
        } else await this.reconciler.removeAll();
      }
      if (this.savedTimeouts) await c.setTimeouts(this.savedTimeouts).catch(() => undefined);
      c.close();
    }
  }

  /** Read the kernel counters of our services (SNMP / metrics snapshots). */
  async refreshStats(): Promise<void> {
    const c = this.client;
    if (!c || this.stopped) return;
    const ours = new Set<string>();
    for (const vs of this.engine.specs()) for (const ep of vs.endpoints) ours.add(serviceKeyString(ep));
    let table: KernelService[];
    try {
      table = await c.table((s) => ours.has(serviceKeyString(s)));
    } catch {
      return; // keep the previous counters
    }
    const next = new Map<string, Counters>();
    for (const s of table) {
      const k = serviceKeyString(s);
      if (!ours.has(k)) continue;
      const dests = new Map<string, { stats: IpvsStats; active: number; inact: number; persist: number }>();
      for (const d of s.dests) dests.set(destKeyString(d), { stats: d.stats, active: d.activeConns, inact: d.inactConns, persist: d.persistConns });
      next.set(k, { stats: s.stats, dests });
    }
    this.counters = next;
  }

  /** Engine snapshot plus the IPVS counters last read (summed over a group's services). */
  snapshot(): VirtualServerSnapshot[] {
    const specs = new Map(this.engine.specs().map((s) => [s.name + '\0' + s.protocol, s]));
    return this.engine.snapshot().map((v) => {
      const spec = specs.get(v.name + '\0' + v.protocol);
      if (!spec || this.counters.size === 0) return v;
      let total: IpvsStats | undefined;
      const perRs = new Map<string, { stats: IpvsStats; active: number; inact: number; persist: number }>();
      for (const ep of spec.endpoints) {
        const c = this.counters.get(serviceKeyString(serviceParams(spec, ep)));
        if (!c) continue;
        total = addStats(total, c.stats);
        for (const [dk, d] of c.dests) {
          const p = perRs.get(dk);
          perRs.set(dk, p ? { stats: addStats(p.stats, d.stats), active: p.active + d.active, inact: p.inact + d.inact, persist: p.persist + d.persist } : { ...d });
        }
      }
      if (!total) return v;
      const realServers = v.realServers.map((r) => {
        // the kernel key may differ from the configured one (DR/TUN take the service port)
        const rs = spec.realServers.find((x) => destKeyString(x) === r.address);
        const candidates = rs ? [...perRs.keys()].filter((k) => k.startsWith(rs.address.includes(':') ? `[${rs.address}]:` : `${rs.address}:`)) : [];
        const key = perRs.has(r.address) ? r.address : candidates.length === 1 ? candidates[0] : undefined;
        const d = key ? perRs.get(key) : undefined;
        if (!d) return r;
        const ipvs: IpvsDestStats = { ...snapStats(d.stats), activeConns: d.active, inactiveConns: d.inact, persistentConns: d.persist };
        return { ...r, ipvs, rates: snapRates(d.stats) };
      });
      return { ...v, realServers, ipvs: snapStats(total), rates: snapRates(total) };
    });
  }
}
