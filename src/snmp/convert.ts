/**
 * Conversions from keepwatch's snapshot/journal vocabulary to the encodings the three MIBs
 * use, each citing the keepalived 2.2.7 code (vrrp/vrrp_snmp.c, check/check_snmp.c,
 * core/snmp.c) or RFC it reproduces.
 */
import type { TransitionReason, VrrpErrorCounter, VrrpState } from '../journal/events';
import type { InstanceSnapshot, VipSnapshot } from '../state/snapshot';
import { addressOctets, macOctets } from './oid';

/** KEEPALIVED-MIB VrrpState (init 0, backup 1, master 2, fault 3, unknown 4); keepalived vrrp_snmp_state(). */
export function kaState(s: VrrpState): number {
  switch (s) {
    case 'INIT':
      return 0;
    case 'BACKUP':
      return 1;
    case 'MASTER':
      return 2;
    case 'FAULT':
      return 3;
    default:
      return 4;
  }
}

/** The state in vrrpInstanceStateChange/vrrpSyncGroupStateChange: as above, but stop → shutdown(5) (keepalived vrrp_snmp_instance_trap). */
export function kaTrapState(s: VrrpState): number {
  return s === 'STOP' ? 5 : kaState(s);
}

/** RFC 2787 vrrpOperState / RFC 6527 vrrpv3OperationsStatus: initialize(1) backup(2) master(3); FAULT reads as initialize (keepalived vrrp_snmp_rfc_state). */
export function rfcState(s: VrrpState): number {
  return s === 'BACKUP' ? 2 : s === 'MASTER' ? 3 : 1;
}

/** InetAddressType (RFC 4001): ipv4(1), ipv6(2) — keepalived SNMP_InetAddressType. */
export function inetType(addr: string): 1 | 2 {
  return addr.includes(':') ? 2 : 1;
}

/** Linux ifa_scope → InetScopeType (RFC 4001), keepalived core/snmp.c snmp_scope(). */
export function inetScope(linuxScope: number | undefined): number {
  switch (linuxScope ?? 0) {
    case 0:
      return 14; // global
    case 255:
      return 0;
    case 254:
      return 1; // host → interfaceLocal
    case 253:
      return 2; // link
    case 200:
      return 5; // site
    default:
      return 0;
  }
}

export function octetsOf(addr: string | undefined): number[] | undefined {
  return addr ? addressOctets(addr) : undefined;
}

/**
 * The instance's own ("primary") address: src_ip (keepalived vrrp->saddr, "Using src_ip");
 * while MASTER the engine's master_address is that same address, so fall back to it.
 */
export function primaryAddress(i: InstanceSnapshot): string | undefined {
  return i.src_ip || (i.state === 'MASTER' ? i.master_address : '') || undefined;
}

/** keepalived vrrpInstanceNotifyExec: any notify script configured. */
export function notifyExec(i: InstanceSnapshot): boolean {
  if (i.notify_exec !== undefined) return i.notify_exec;
  return Boolean(i.script || i.script_master || i.script_backup || i.script_fault || i.script_stop || i.script_deleted || i.script_master_rx_lower_pri);
}

export function vipIfindex(v: VipSnapshot, i: InstanceSnapshot): number {
  if (v.ifindex !== undefined) return v.ifindex;
  if (v.dev === i.ifp_ifname || v.dev === i.vmac_ifname || !v.dev) return i.ifindex;
  return i.track_ifp?.find((t) => t.name === v.dev)?.ifindex ?? 0;
}

/**
 * RFC 2787 §3 suitability as keepalived applies it (suitable_for_rfc2787): version 2 only
 * (with RFC 6527 support compiled in, as Debian's keepalived is), IPv4 only, and at least
 * one virtual address.
 */
export function suitableRfc2787(i: InstanceSnapshot): boolean {
  return i.version === 2 && i.family === 'ipv4' && i.vips.length > 0;
}

/**
 * RFC 6527 suitability (keepalived suitable_for_rfc6527 built with SNMP_V3_FOR_V2, as
 * Debian's is: v2 instances are reported too): at least one virtual address.
 */
export function suitableRfc6527(i: InstanceSnapshot): boolean {
  return i.vips.length > 0;
}

/**
 * RFC 6527 vrrpv3StatisticsNewMasterReason for a transition to MASTER, following where
 * keepalived 2.2.7 sets next_master_reason (vrrp.c, vrrp_scheduler.c):
 * priority(1) after a priority-0 advert or as address owner, preempted(2) when we took
 * over from a lower-priority master, masterNoResponse(3) otherwise (keepalived's default).
 */
export function newMasterReason(reason: TransitionReason): 1 | 2 | 3 {
  switch (reason) {
    case 'priority_zero_received':
    case 'address_owner':
      return 1;
    case 'preempt':
    case 'higher_priority_backup':
      return 2;
    default:
      return 3;
  }
}

/** The NewMasterReason column: the snapshot's value, notMaster(0) when not master (RFC 6527). */
export function masterReasonOf(i: InstanceSnapshot): number {
  if (i.state !== 'MASTER') return 0;
  return i.master_reason ?? 3;
}

/** RFC 6527 vrrpv3StatisticsProtoErrReason for a receive error, or undefined if it is not one. */
export function protoErrReason(counter: VrrpErrorCounter): 1 | 2 | 3 | 4 | undefined {
  switch (counter) {
    case 'ip_ttl_err':
      return 1;
    case 'version_err':
      return 2;
    case 'checksum_err':
      return 3;
    case 'vrid_err':
      return 4;
    default:
      return undefined;
  }
}

/** RFC 2787 vrrpTrapAuthErrorType: invalidAuthType(1), authTypeMismatch(2), authFailure(3). */
export function authErrorType(counter: VrrpErrorCounter): 1 | 2 | 3 | undefined {
  switch (counter) {
    case 'invalid_authtype':
      return 1;
    case 'authtype_mismatch':
      return 2;
    case 'auth_failure':
      return 3;
    default:
      return undefined;
  }
}

/** The MAC RFC 2787 vrrpOperVirtualMacAddr reports: the VRRP virtual MAC (RFC 3768 §7.3 /
 * RFC 5798 §7.3) when the instance uses a vmac interface, else the interface's own MAC — which
 * is what keepalived answers with (it reports ifp->hw_addr) and what ARP replies carry. */
export function virtualMac(i: InstanceSnapshot): number[] {
  if (i.vmac_ifname) return [0x00, 0x00, 0x5e, 0x00, i.family === 'ipv6' ? 0x02 : 0x01, i.vrid & 0xff];
  const mac = i.hw_addr ? macOctets(i.hw_addr) : undefined;
  if (mac) return mac;
  return [0x00, 0x00, 0x5e, 0x00, i.family === 'ipv6' ? 0x02 : 0x01, i.vrid & 0xff];
}

/** Parse "ip:port", "[v6]:port", "fwmark:N", "group:NAME" (snapshot virtual/real server names). */
export type ServerId =
  | { kind: 'ip'; address: string; port: number }
  | { kind: 'fwmark'; fwmark: number }
  | { kind: 'group'; group: string };

export function parseServerId(name: string): ServerId | undefined {
  const fw = /^fwmark:(\d+)$/.exec(name);
  if (fw) return { kind: 'fwmark', fwmark: Number(fw[1]) };
  const g = /^group:(.+)$/.exec(name);
  if (g) return { kind: 'group', group: g[1] };
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(name);
  if (v6) return { kind: 'ip', address: v6[1], port: Number(v6[2]) };
  const i = name.lastIndexOf(':');
  if (i > 0 && /^\d+$/.test(name.slice(i + 1))) {
    const address = name.slice(0, i);
    if (addressOctets(address)) return { kind: 'ip', address, port: Number(name.slice(i + 1)) };
  }
  if (addressOctets(name)) return { kind: 'ip', address: name, port: 0 };
  return undefined;
}

/** virtualServerLoadBalancingAlgo (check_snmp.c): rr 1 … twos 14, unknown 99. */
export function lbAlgo(sched: string): number {
  const i = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos'].indexOf(sched);
  return i < 0 ? 99 : i + 1;
}

/** LoadBalancingKind: nat 1, dr 2, tun 3 (undefined = not reported, like keepalived). */
export function lbKind(fwd: string | undefined): number | undefined {
  switch ((fwd ?? '').toLowerCase()) {
    case 'nat':
    case 'masq':
      return 1;
    case 'dr':
    case 'droute':
      return 2;
    case 'tun':
    case 'tunnel':
      return 3;
    default:
      return undefined;
  }
}

/** virtualServerProtocol: tcp 1, udp 2, sctp 3, none 4. */
export function vsProtocol(p: string): number {
  switch (p.toLowerCase()) {
    case 'tcp':
      return 1;
    case 'udp':
      return 2;
    case 'sctp':
      return 3;
    default:
      return 4;
  }
}
