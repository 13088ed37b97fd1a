/**
 * Pure mapping from the configuration model (src/config/model.ts) to what the
 * engine's pieces take: instance runner options, tracker specs, notifier targets.
 * No I/O here except what the caller passes in (interface addresses).
 */
import type { KeepwatchConfig, ScriptCommand, VirtualIpAddress, VrrpInstance, NotifyScripts, TrackRef } from '../config/model';
import type { AddressSpec, AddressInfo, Family } from '../net/types';
import type { InstanceOptions } from '../vrrp/instance';
import { fsmConfig } from '../vrrp/fsm';
import { VRRP_MCAST_GROUP4, VRRP_MCAST_GROUP6 } from '../vrrp/packet';
import type { NotifyScript, NotifyTargets } from '../notify/notifier';

export const fam = (f: 'inet' | 'inet6'): Family => (f === 'inet6' ? 'ipv6' : 'ipv4');

/** keepalived prints a command as space-separated single-quoted words ("'/bin/x' 'arg'") */
export function commandText(c: ScriptCommand): string {
  return c.argv.map((a) => `'${a}'`).join(' ');
}

/** A command line for /bin/sh-free exec: argv re-quoted so notify/command.ts splits it back identically. */
export function commandLine(c: ScriptCommand): string {
  return c.argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'"'"'`)}'`)).join(' ');
}

export function notifyScript(c: ScriptCommand | undefined): NotifyScript | undefined {
  if (!c || c.disabled) return undefined;
  return { command: commandLine(c), user: { uid: c.uid, gid: c.gid } };
}

export function notifyTargets(n: NotifyScripts & { deleted?: ScriptCommand | true; masterRxLowerPri?: ScriptCommand }): NotifyTargets {
  return {
    master: notifyScript(n.master),
    backup: notifyScript(n.backup),
    fault: notifyScript(n.fault),
    stop: notifyScript(n.stop),
    deleted: n.deleted === true ? undefined : notifyScript(n.deleted),
    masterRxLowerPri: notifyScript(n.masterRxLowerPri),
    generic: notifyScript(n.generic),
  };
}

export function addressSpec(v: VirtualIpAddress, defaultDev: string): AddressSpec {
  const spec: AddressSpec = { family: fam(v.family), address: v.address, prefix: v.prefixLen, ifname: v.dev ?? defaultDev };
  if (v.broadcast) spec.broadcast = v.broadcast;
  if (v.scope !== undefined) spec.scope = v.scope;
  if (v.label) spec.label = v.label;
  if (v.noDad) spec.nodad = true;
  return spec;
}

/** keepalived's VIP text as in its JSON/data dumps: "192.0.2.50/24 dev eth0 scope global" */
export function vipText(v: VirtualIpAddress, defaultDev: string): string {
  const scope = v.scope === undefined || v.scope === 0 ? 'global' : v.scope === 253 ? 'link' : v.scope === 254 ? 'host' : v.scope === 200 ? 'site' : v.scope === 255 ? 'nowhere' : String(v.scope);
  let t = `${v.address}/${v.prefixLen}`;
  if (v.broadcast) t += ` brd ${v.broadcast}`;
  t += ` dev ${v.dev ?? defaultDev} scope ${scope}`;
  if (v.label) t += ` label ${v.label}`;
  return t;
}

/** The instance's own address: unicast_src_ip / mcast_src_ip, else the interface's primary (IPv6: link-local). */
export function primaryAddressOf(inst: VrrpInstance, addrs: AddressInfo[], vipAddrs: Set<string>): string | undefined {
  if (inst.srcIp) return inst.srcIp;
  const f = fam(inst.family);
  const mine = addrs.filter((a) => a.ifname === inst.interface && a.family === f && !vipAddrs.has(a.address));
  if (f === 'ipv6') return mine.find((a) => a.address.toLowerCase().startsWith('fe80:'))?.address ?? mine[0]?.address;
  return mine[0]?.address;
}

export function instanceOptions(inst: VrrpInstance, cfg: KeepwatchConfig, primaryAddress: string): InstanceOptions {
  const g = cfg.global;
  const dev = inst.interface ?? g.defaultInterface;
  const family = fam(inst.family);
  const opts: InstanceOptions = {
    name: inst.name,
    ifname: dev,
    fsm: fsmConfig({
      vrid: inst.vrid,
      primaryAddress,
      version: inst.version,
      family,
      priority: inst.priority,
      advertIntMs: inst.advertIntMs,
      initialState: inst.state,
      nopreempt: inst.nopreempt,
      preemptDelayMs: inst.preemptDelayMs,
      downTimerAdverts: inst.downTimerAdverts,
      lowerPrioNoAdvert: inst.lowerPrioNoAdvert,
      higherPrioSendAdvert: inst.higherPrioSendAdvert,
      garpMasterDelayMs: inst.garpMasterDelayS * 1000,
      garpMasterRepeat: inst.garpMasterRepeat,
      garpMasterRefreshMs: inst.garpMasterRefreshS * 1000,
      garpMasterRefreshRepeat: inst.garpMasterRefreshRepeat,
      garpLowerPrioDelayMs: inst.garpLowerPrioDelayS * 1000,
      garpLowerPrioRepeat: inst.garpLowerPrioRepeat,
      unicast: inst.unicast,
      skipCheckAdvAddr: inst.skipCheckAdvAddr,
    }),
    vips: inst.virtualIpaddresses.map((v) => addressSpec(v, dev)),
    evips: inst.virtualIpaddressesExcluded.map((v) => addressSpec(v, dev)),
    mcastGroup: inst.mcastDstIp ?? (family === 'ipv6' ? g.vrrpMcastGroup6 || VRRP_MCAST_GROUP6 : g.vrrpMcastGroup4 || VRRP_MCAST_GROUP4),
    mcastGroup4: g.vrrpMcastGroup4 || VRRP_MCAST_GROUP4,
  };
  if (inst.authentication?.type === 'PASS') {
    opts.authType = 1;
    opts.authPass = inst.authentication.pass;
  } else if (inst.authentication?.type === 'AH') {
    opts.authType = 2;
  }
  if (inst.unicast) {
    opts.unicastPeers = inst.unicastPeers.map((p) => ({ address: p.address, minTtl: p.minTtl, maxTtl: p.maxTtl }));
    opts.checkUnicastSrc = inst.checkUnicastSrc || inst.unicastPeers.some((p) => p.minTtl > 0 || p.maxTtl < 255);
  }
  if (inst.oldUnicastChecksum === 'auto') opts.checksumMode = 'old';
  if (inst.oldUnicastChecksum === 'never') opts.checksumNeverOld = true;
  if (inst.useVmac) opts.garpSrcMac = inst.useVmac.mac ?? vmacMac(family, inst.vrid);
  return opts;
}

/** RFC 5798 §7.3: 00-00-5E-00-01-{VRID} (IPv4), 00-00-5E-00-02-{VRID} (IPv6) */
export function vmacMac(family: Family, vrid: number): string {
  return `00:00:5e:00:0${family === 'ipv6' ? 2 : 1}:${vrid.toString(16).padStart(2, '0')}`;
}

/** keepalived: `vrrp.<VRID>` (vmac_prefix), unless the config names it. */
export function vmacName(inst: VrrpInstance, cfg: KeepwatchConfig): string {
  return inst.useVmac?.ifname ?? `${cfg.global.vmacPrefix ?? 'vrrp'}.${inst.vrid}`;
}

/** Tracked objects of an instance including those its sync group tracks (keepalived merges them). */
export function trackRefs(inst: VrrpInstance, cfg: KeepwatchConfig): { interfaces: TrackRef[]; scripts: TrackRef[]; files: TrackRef[]; processes: TrackRef[] } {
  const sg = inst.syncGroup ? cfg.syncGroups.find((g) => g.name === inst.syncGroup) : undefined;
  return {
    interfaces: [...inst.trackInterfaces, ...(sg?.trackInterfaces ?? [])],
    scripts: [...inst.trackScripts, ...(sg?.trackScripts ?? [])],
    files: [...inst.trackFiles, ...(sg?.trackFiles ?? [])],
    processes: [...inst.trackProcesses, ...(sg?.trackProcesses ?? [])],
  };
}

/**
 * The notify an instance removed by a reload sends instead of STOP (keepalived 2.2.7
 * vrrp.c clear_diff_vrrp + vrrp_notify.c send_instance_notifies): DELETED with
 * `notify_deleted`, else FAULT for backward compatibility — and nothing at all when it was
 * already in FAULT and notify_deleted is off (FAULT was announced then).
 */
export function deletedNotifyState(prevState: string, notifyDeleted: boolean): 'DELETED' | 'FAULT' | null {
  if (notifyDeleted) return 'DELETED';
  return prevState === 'FAULT' ? null : 'FAULT';
}

/** Stable identity of an instance across reloads (keepalived vrrp_exist: name + interface + vrid + family). */
export function instanceKey(inst: VrrpInstance): string {
  return `${inst.name}|${inst.interface ?? ''}|${inst.vrid}|${inst.family}`;
}
