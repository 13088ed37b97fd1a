/**
 * Pure mapping from the configuration model (src/config/model.ts) to what the
 * engine's pieces take: instance runner options, tracker specs, notifier targets.
 * No I/O here except what the caller passes in (interface addresses).
 */
import type { KeepwatchConfig, ScriptCommand, VirtualIpAddress, VrrpInstance, NotifyScripts, TrackRef, RouteEntry, RuleEntry } from '../config/model';
import type { AddressSpec, AddressInfo, Family, RouteSpec, RouteTypeName, RuleSpec } from '../net/types';
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
    routes: inst.virtualRoutes.map(routeSpec),
    rules: inst.virtualRules.map(ruleSpec),
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

// ------------------------------------------------------------------ routes and rules

const ROUTE_TYPES = new Set<string>(['unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'nat', 'xresolve']);
/** RTAX_* numbers, for the RTAX_LOCK bit mask (include/uapi/linux/rtnetlink.h) */
const RTAX = { mtu: 2, window: 3, rtt: 4, rttvar: 5, ssthresh: 6, cwnd: 7, advmss: 8, reordering: 9, rto_min: 13, congctl: 16 } as const;

/** "ADDR/LEN" (or "default") of the config model → address + prefix length. */
export function splitPrefix(text: string, family: 'inet' | 'inet6'): { address: string; prefix: number } {
  if (text === 'default') return { address: family === 'inet6' ? '::' : '0.0.0.0', prefix: 0 };
  const i = text.lastIndexOf('/');
  if (i < 0) return { address: text, prefix: family === 'inet6' ? 128 : 32 };
  return { address: text.slice(0, i), prefix: Number(text.slice(i + 1)) };
}

/** keepalived ipaddresstos(): "/len" only when it is not a host prefix */
function addrText(text: string, family: 'inet' | 'inet6'): string {
  const { address, prefix } = splitPrefix(text, family);
  return prefix === (family === 'inet6' ? 128 : 32) ? address : `${address}/${prefix}`;
}

/** C's %g for the small positive values rtt/rttvar/rto_min take */
function g(n: number): string {
  return String(Number(n.toPrecision(6)));
}

/**
 * A virtual_routes / static_routes entry as the netlink adapter takes it. Options the
 * adapter cannot express are listed in `unsupported`, so every attempt is refused with
 * a clear error instead of installing a different route than the one configured.
 */
export function routeSpec(r: RouteEntry): RouteSpec {
  const family = fam(r.family);
  const dst = splitPrefix(r.dst, r.family);
  const spec: RouteSpec = { family, dst: dst.address, prefix: dst.prefix, table: r.table, mode: r.mode, text: routeText(r), noTrack: r.noTrack };
  if (r.type !== undefined) spec.type = ROUTE_TYPES.has(r.type) ? (r.type as RouteTypeName) : Number(r.type);
  if (r.from !== undefined) {
    const f = splitPrefix(r.from, r.family);
    spec.from = f.address;
    spec.fromPrefix = f.prefix;
  }
  if (r.src !== undefined) spec.src = r.src;
  if (r.via !== undefined) spec.via = r.via;
  if (r.dev !== undefined) spec.dev = r.dev;
  if (r.metric !== undefined) spec.metric = r.metric;
  if (r.scope !== undefined) spec.scope = r.scope;
  if (r.protocol !== undefined) spec.protocol = r.protocol;
  if (r.tos !== undefined) spec.tos = r.tos;
  if (r.onlink) spec.onlink = true;
  if (r.realms !== undefined) spec.realms = r.realms;
  if (r.expires !== undefined) spec.expires = r.expires;
  if (r.pref !== undefined) spec.pref = r.pref;
  const x = r.extra;
  if (x['ttl-propagate'] !== undefined) spec.ttlPropagate = x['ttl-propagate'] === 1;
  const m: NonNullable<RouteSpec['metrics']> = {};
  if (r.mtu !== undefined) m.mtu = r.mtu;
  if (r.advmss !== undefined) m.advmss = r.advmss;
  if (r.hoplimit !== undefined) m.hoplimit = r.hoplimit;
  if (r.initcwnd !== undefined) m.initcwnd = r.initcwnd;
  if (r.initrwnd !== undefined) m.initrwnd = r.initrwnd;
  if (r.congctl !== undefined) m.congctl = r.congctl;
  const num = (k: string): number | undefined => (typeof x[k] === 'number' ? (x[k] as number) : undefined);
  if (num('window') !== undefined) m.window = num('window');
  if (num('rtt') !== undefined) m.rtt = num('rtt');
  if (num('rttvar') !== undefined) m.rttvar = num('rttvar');
  if (num('rto_min') !== undefined) m.rtoMin = num('rto_min');
  if (num('reordering') !== undefined) m.reordering = num('reordering');
  if (num('cwnd') !== undefined) m.cwnd = num('cwnd');
  if (num('ssthresh') !== undefined) m.ssthresh = num('ssthresh');
  if (num('quickack') !== undefined) m.quickack = num('quickack');
  if (num('fastopen_no_cookie') !== undefined) m.fastopenNoCookie = num('fastopen_no_cookie');
  // RTAX_FEATURE_ECN
  if (x.features === 'ecn') m.features = 1;
  let lock = 0;
  for (const [k, bit] of Object.entries(RTAX)) if (x[`${k}_lock`]) lock |= 1 << bit;
  if (lock) m.lock = lock;
  if (Object.keys(m).length) spec.metrics = m;
  if (r.nexthops.length) {
    spec.nexthops = r.nexthops.map((n) => {
      const h: NonNullable<RouteSpec['nexthops']>[number] = {};
      if (n.via !== undefined) h.via = n.via;
      if (n.dev !== undefined) h.dev = n.dev;
      if (n.weight !== undefined) h.weight = n.weight;
      if (n.onlink) h.onlink = true;
      if (n.realms !== undefined) h.realms = n.realms;
      return h;
    });
  }
  const unsupported: string[] = [];
  if (x.encap !== undefined) unsupported.push(`encap ${String(x.encap)}`);
  // keepalived turns "vrf NAME" into the VRF's table id, which needs IFLA_VRF_TABLE: not read here
  if (r.vrf !== undefined) unsupported.push(`vrf ${r.vrf}`);
  if (unsupported.length) spec.unsupported = unsupported;
  return spec;
}

/** A virtual_rules / static_rules entry as the netlink adapter takes it. */
export function ruleSpec(r: RuleEntry): RuleSpec {
  const spec: RuleSpec = { family: fam(r.family), action: r.action, priority: r.priority, text: ruleText(r), noTrack: r.noTrack };
  if (r.from !== undefined) {
    const f = splitPrefix(r.from, r.family);
    spec.from = f.address;
    spec.fromPrefix = f.prefix;
  }
  if (r.to !== undefined) {
    const t = splitPrefix(r.to, r.family);
    spec.to = t.address;
    spec.toPrefix = t.prefix;
  }
  if (r.not) spec.not = true;
  if (r.table !== undefined) spec.table = r.table;
  if (r.gotoTarget !== undefined) spec.goto = r.gotoTarget;
  if (r.tos !== undefined) spec.tos = r.tos;
  if (r.fwmark !== undefined) spec.fwmark = r.fwmark;
  if (r.fwmask !== undefined) spec.fwmask = r.fwmask;
  if (r.realms !== undefined) spec.realms = r.realms;
  if (r.suppressPrefixLength !== undefined) spec.suppressPrefixLength = r.suppressPrefixLength;
  if (r.suppressIfgroup !== undefined) spec.suppressIfgroup = r.suppressIfgroup;
  if (r.iif !== undefined) spec.iif = r.iif;
  if (r.oif !== undefined) spec.oif = r.oif;
  if (r.tunnelId !== undefined) spec.tunnelId = r.tunnelId;
  if (r.uidRange) spec.uidRange = r.uidRange;
  if (r.l3mdev) spec.l3mdev = true;
  if (r.protocol !== undefined) spec.protocol = r.protocol;
  if (r.ipProto !== undefined) spec.ipProto = r.ipProto;
  if (r.sport) spec.sport = r.sport;
  if (r.dport) spec.dport = r.dport;
  return spec;
}

/** keepalived 2.2.7 vrrp_iproute.c format_iproute(): the route text of /json vroutes, dumps and logs. */
export function routeText(r: RouteEntry): string {
  const f = r.family;
  let t = `${r.mode} `;
  if (r.type !== undefined && r.type !== 'unicast') t += `${r.type} `;
  t += addrText(r.dst, f);
  if (r.from !== undefined) t += ` from ${addrText(r.from, f)}`;
  if (r.src !== undefined) t += ` src ${r.src}`;
  if (r.tos !== undefined) t += ` tos ${r.tos}`;
  if (r.extra.encap !== undefined) t += ` encap ${String(r.extra.encap)}`;
  if (r.via !== undefined) t += ` via ${r.via.includes(':') ? 'inet6' : 'inet'} ${r.via}`;
  if (r.dev !== undefined) t += ` dev ${r.dev}`;
  if (r.table !== 254) t += ` table ${r.table}`;
  if (r.protocol !== undefined) t += ` proto ${r.protocol}`;
  if (r.scope !== undefined) t += ` scope ${r.scope}`;
  if (r.metric !== undefined) t += ` metric ${r.metric}`;
  if (f === 'inet' && r.onlink) t += ' onlink';
  if (r.realms) t += r.realms & 0xffff0000 ? ` realms ${r.realms >>> 16}/${r.realms & 0xffff}` : ` realm ${r.realms & 0xffff}`;
  if (r.expires !== undefined) t += ` expires ${r.expires}sec`;
  const x = r.extra;
  const lock = (k: string): boolean => !!x[`${k}_lock`];
  if (r.congctl !== undefined) t += ` congctl ${r.congctl}${lock('congctl') ? 'lock ' : ''}`;
  const time = (k: 'rtt' | 'rttvar' | 'rto_min', perSec: number, perMs: number): void => {
    const v = x[k];
    if (typeof v !== 'number') return;
    t += ` ${k}${lock(k) ? ' lock' : ''} `;
    if (k === 'rto_min') t += v >= 1000 ? `${g(v / 1000)}s` : `${v}ms`;
    else t += v >= perSec ? `${g(v / perSec)}s` : `${g(v / perMs)}ms`;
  };
  time('rtt', 8000, 8);
  time('rttvar', 4000, 4);
  time('rto_min', 1000, 1);
  if (x.features === 'ecn') t += ' features ecn';
  if (r.mtu !== undefined) t += ` mtu ${lock('mtu') ? 'lock ' : ''}${r.mtu}`;
  if (typeof x.window === 'number') t += ` window ${x.window}`;
  if (typeof x.ssthresh === 'number') t += ` ssthresh ${lock('ssthresh') ? 'lock ' : ''}${x.ssthresh}`;
  if (typeof x.cwnd === 'number') t += ` cwnd ${lock('cwnd') ? 'lock ' : ''}${x.cwnd}`;
  if (r.advmss !== undefined) t += ` advmss ${lock('advmss') ? 'lock ' : ''}${r.advmss}`;
  if (typeof x.reordering === 'number') t += ` reordering ${lock('reordering') ? 'lock ' : ''}${x.reordering}`;
  if (r.hoplimit !== undefined) t += ` hoplimit ${r.hoplimit}`;
  if (r.initcwnd !== undefined) t += ` initcwnd ${r.initcwnd}`;
  if (r.initrwnd !== undefined) t += ` initrwnd ${r.initrwnd}`;
  if (typeof x.quickack === 'number') t += ` quickack ${x.quickack}`;
  if (r.pref !== undefined) t += ` pref ${r.pref === 3 ? 'low' : r.pref === 0 ? 'medium' : r.pref === 1 ? 'high' : 'unknown'}`;
  if (typeof x.fastopen_no_cookie === 'number') t += ` fastopen_no_cookie ${x.fastopen_no_cookie}`;
  if (x['ttl-propagate'] !== undefined) t += ` ttl-propagate ${x['ttl-propagate'] ? 'en' : 'dis'}abled`;
  for (const n of r.nexthops) {
    t += ' nexthop';
    if (n.via !== undefined) t += ` via inet${n.via.includes(':') ? '6' : ''} ${n.via}`;
    if (n.dev !== undefined) t += ` dev ${n.dev}`;
    if (n.weight !== undefined) t += ` weight ${n.weight}`;
    if (n.onlink) t += ' onlink';
    // keepalived tests the ROUTE's realms here (format_iproute), kept as it prints
    if (n.realms) t += (r.realms ?? 0) & 0xffff0000 ? ` realms ${n.realms >>> 16}/${n.realms & 0xffff}` : ` realm ${n.realms & 0xffff}`;
  }
  if (r.noTrack) t += ' no_track';
  if (r.trackGroup !== undefined) t += ` track_group ${r.trackGroup}`;
  return t;
}

const RULE_TYPE_NAMES: Record<string, string> = { blackhole: 'blackhole', unreachable: 'unreachable', prohibit: 'prohibit' };

/** keepalived 2.2.7 vrrp_iprule.c format_iprule(). */
export function ruleText(r: RuleEntry): string {
  const f = r.family;
  let t = '';
  if (r.to === undefined && r.from === undefined && f === 'inet6') t += 'inet6 ';
  if (r.not) t += 'not ';
  t += r.from !== undefined ? `from ${r.from === 'default' ? (f === 'inet6' ? '::/0' : '0.0.0.0/0') : addrText(r.from, f)}` : 'from all';
  if (r.to !== undefined) t += ` to ${r.to === 'default' ? (f === 'inet6' ? '::/0' : '0.0.0.0/0') : addrText(r.to, f)}`;
  // keepalived always has a preference (it picks one when none is configured)
  t += ` priority ${r.priority}`;
  t += ` tos 0x${(r.tos ?? 0).toString(16)}`;
  if (r.fwmark !== undefined || r.fwmask !== undefined) {
    t += ` fwmark 0x${(r.fwmark ?? 0).toString(16)}`;
    if (r.fwmask !== undefined && r.fwmask !== 0xffffffff) t += `/0x${r.fwmask.toString(16)}`;
  }
  if (r.iif !== undefined) t += ` iif ${r.iif}`;
  if (r.oif !== undefined) t += ` oif ${r.oif}`;
  if (r.suppressPrefixLength !== undefined) t += ` suppress_prefixlen ${r.suppressPrefixLength}`;
  if (r.suppressIfgroup !== undefined) t += ` suppress_ifgroup ${r.suppressIfgroup}`;
  if (r.tunnelId !== undefined && r.tunnelId !== '0') t += ` tunnel-id ${r.tunnelId}`;
  if (r.uidRange) t += ` uidrange ${r.uidRange[0]}-${r.uidRange[1]}`;
  if (r.l3mdev) t += ' l3mdev';
  if (r.protocol !== undefined) t += ` protocol ${r.protocol}`;
  if (r.ipProto !== undefined) t += ` ipproto ${r.ipProto}`;
  if (r.sport) t += ` sport ${r.sport[0]}-${r.sport[1]}`;
  if (r.dport) t += ` dport ${r.dport[0]}-${r.dport[1]}`;
  if (r.realms) t += ` realms ${r.realms >>> 16}/${r.realms & 0xffff}`;
  if (r.action === 'table') t += ` lookup ${r.table ?? 0}`;
  else if (r.action === 'goto') t += ` goto ${r.gotoTarget ?? 0}`;
  else if (r.action === 'nop') t += ' nop';
  else t += ` type ${RULE_TYPE_NAMES[r.action] ?? r.action}`;
  if (r.noTrack) t += ' no_track';
  if (r.trackGroup !== undefined) t += ` track_group ${r.trackGroup}`;
  return t;
}
