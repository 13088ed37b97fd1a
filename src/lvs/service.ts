/**
 * The daemon's entry point to LVS (src/daemon/daemon.ts loads this lazily when the
 * configuration has virtual servers): config model -> specs -> LvsManager.
 *
 * No IPVS in the kernel: startLvs rejects with IpvsUnavailableError ("IPVS unavailable:
 * ..."), the daemon logs it and VRRP carries on.
 *
 * ha_suspend needs to know which addresses are local: the interfaces' addresses at start,
 * then the VIPs our own VRRP instances add and remove (journal `vrrp.vip` events) —
 * the usual reason a virtual server's address comes and goes.
 */
import { networkInterfaces } from 'node:os';
import type { KeepwatchConfig } from '../config/model';
import type { Journal } from '../journal/journal';
import type { VirtualServerSnapshot } from '../state/snapshot';
import { lvsFromConfig } from './from-config';
import { IpvsClient } from './ipvs';
import { LvsManager } from './manager';

export interface LvsService {
  snapshot(): VirtualServerSnapshot[];
  reload(cfg: KeepwatchConfig): Promise<void>;
  stop(): Promise<void>;
  /**
   * SNMP SET realServerWeight (only wired with --snmp.writable): names as in snapshot()
   * (virtual server "192.0.2.10:80" / "fwmark:5" / "group:NAME", real server "198.51.100.11:8080");
   * the kernel destination follows, the configured weight returns on reload.
   */
  setRealServerWeight(virtualServer: string, realServer: string, weight: number, protocol?: string): { ok: true } | { ok: false; error: string };
  readonly manager: LvsManager;
}

export interface StartLvsOptions {
  config: KeepwatchConfig;
  journal: Journal;
  /** keepalived -I / --dont-release-ipvs: leave the table in place at stop */
  dontReleaseIpvs: boolean;
}

function localAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.push(a.address.replace(/%.*$/, ''));
  return out;
}

export async function startLvs(o: StartLvsOptions): Promise<LvsService> {
  const client = await IpvsClient.open(); // rejects with IpvsUnavailableError
  const lvs = lvsFromConfig(o.config);
  for (const w of lvs.warnings) o.journal.emit({ type: 'lvs.log', level: 'warning', message: w });
  const manager = await LvsManager.start(lvs.virtualServers, {
    journal: o.journal,
    client,
    flushOnStart: lvs.flushOnStart,
    flushOnStop: lvs.flushOnStop,
    releaseOnStop: !o.dontReleaseIpvs,
    timeouts: lvs.timeouts,
    engine: { localAddresses: localAddresses() },
  });
  for (const w of manager.warnings) o.journal.emit({ type: 'lvs.log', level: 'warning', message: w });
  const unsubscribe = o.journal.subscribe((e) => {
    if (e.type === 'vrrp.vip' && e.ok) manager.engine.setAddressPresent(e.address.replace(/\/.*$/, ''), e.op === 'add');
  });
  return {
    manager,
    snapshot: () => manager.snapshot(),
    setRealServerWeight: (vs, rs, weight, protocol) => manager.setRealServerWeight(vs, rs, weight, protocol),
    async reload(cfg) {
      const next = lvsFromConfig(cfg);
      for (const w of next.warnings) o.journal.emit({ type: 'lvs.log', level: 'warning', message: w });
      await manager.reload(next.virtualServers);
      for (const w of manager.warnings) o.journal.emit({ type: 'lvs.log', level: 'warning', message: w });
    },
    async stop() {
      unsubscribe();
      await manager.stop();
    },
  };
}
