/**
 * LVS types in three layers:
 *  1. kernel: what an IPVS service / destination is (include/uapi/linux/ip_vs.h), as the
 *     IPVS client writes and dumps it;
 *  2. configuration: virtual servers and real servers with every keepalived default
 *     applied (what src/lvs/from-config.ts produces and what the checker engine runs);
 *  3. desired state: the IPVS table we want right now = configuration x health, which
 *     src/lvs/reconcile.ts diffs against the kernel.
 */
import type { CheckerSpec } from '../check/types';
import type { IpvsRates, IpvsStats as IpvsCounters } from '../state/snapshot';

// ------------------------------------------------------------------ kernel layer

export type IpFamily = 'inet' | 'inet6';
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/**
 * lb_algo / lvs_sched values keepalived 2.2.7 accepts. Which of them a kernel actually has
 * is the kernel's business (twos needs Linux >= 6.2): an unknown one fails at NEW_SERVICE.
 */
export const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos'] as const;
export type Scheduler = (typeof SCHEDULERS)[number];

export type ForwardingMethod = 'NAT' | 'DR' | 'TUN';
/** Kernel forwarding methods a dump may show (IP_VS_CONN_F_*); we only program the first three. */
export type KernelForwarding = ForwardingMethod | 'LOCAL' | 'BYPASS';
export type TunnelType = 'ipip' | 'gue' | 'gre';

/** IP_VS_SVC_F_* */
export const SVC_FLAGS = {
  PERSISTENT: 0x0001,
  HASHED: 0x0002, // kernel-internal; never compared or programmed
  ONEPACKET: 0x0004,
  SCHED1: 0x0008, // sh-fallback / mh-fallback
  SCHED2: 0x0010, // sh-port / mh-port
  SCHED3: 0x0020,
} as const;

/** IP_VS_TUNNEL_ENCAP_FLAG_* */
export const TUN_FLAGS = { NOCSUM: 0, CSUM: 1, REMCSUM: 2 } as const;

/**
 * Identity of an IPVS service. fwmark services have fwmark > 0, protocol null,
 * address '' and port 0; address services have fwmark 0.
 */
export interface ServiceKey {
  family: IpFamily;
  fwmark: number;
  protocol: Protocol | null;
  address: string;
  port: number;
}

export interface IpvsService extends ServiceKey {
  scheduler: string;
  /** IP_VS_SVC_F_* without HASHED */
  flags: number;
  /** persistence timeout in seconds (0 = not persistent) */
  timeout: number;
  /** persistence granularity as a prefix length (IPv4 netmask 255.255.255.255 = 32) */
  netmask: number;
  /** persistence engine ('' = none; keepalived knows "sip") */
  peName: string;
}

export interface DestKey {
  address: string;
  port: number;
}

export interface IpvsDest extends DestKey {
  family: IpFamily;
  forwarding: KernelForwarding;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  tunnelType?: TunnelType;
  tunnelPort?: number;
  tunnelFlags?: number;
}

/**
 * IPVS_STATS_ATTR_* (64-bit variant when the kernel has it): the counters the snapshot
 * publishes (src/state/snapshot.ts) plus the kernel's rate estimator.
 */
export interface IpvsStats extends IpvsCounters, IpvsRates {}

export interface KernelDest extends IpvsDest {
  activeConns: number;
  inactConns: number;
  persistConns: number;
  stats: IpvsStats;
}

export interface KernelService extends IpvsService {
  stats: IpvsStats;
  dests: KernelDest[];
}

export interface IpvsInfo {
  /** 0x010201 */
  versionCode: number;
  /** "1.2.1" */
  version: string;
  connTableSize: number;
}

/** IPVS connection timeouts in seconds (ipvsadm --set); 0 = leave unchanged when setting. */
export interface IpvsTimeouts {
  tcp: number;
  tcpFin: number;
  udp: number;
}

// ------------------------------------------------------------------ configuration layer

/** `notify_up /path arg [user [group]]` etc. */
export interface NotifyCommand {
  command: string;
  user?: string;
  group?: string;
}

export interface TunnelSpec {
  type: TunnelType;
  port?: number;
  /** TUN_FLAGS value */
  flags?: number;
}

export interface RealServerSpec {
  address: string;
  /** keepalived sets DR/TUN ports to the VS port and fwmark DR/TUN ports to 0 */
  port: number;
  /** configured weight (keepalived iweight); default the VS `weight` (1) */
  weight: number;
  forwarding: ForwardingMethod;
  tunnel?: TunnelSpec;
  upperThreshold: number;
  lowerThreshold: number;
  /** inhibit_on_failure: keep a failed server in the table with weight 0 instead of removing it */
  inhibitOnFailure: boolean;
  notifyUp?: NotifyCommand;
  notifyDown?: NotifyCommand;
  /** all must be up for the real server to be up; none = always up */
  checkers: CheckerSpec[];
  // ---- informational (snapshots / SNMP), no effect on behaviour ----
  alpha?: boolean;
  virtualhost?: string;
  smtpAlert?: boolean;
  snmpName?: string;
}

export interface SorryServerSpec {
  address: string;
  port: number;
  weight: number;
  forwarding: ForwardingMethod;
  tunnel?: TunnelSpec;
}

export interface VirtualServerSpec {
  /** "192.0.2.10:80", "[2001:db8::10]:80", "fwmark:5" or "group:NAME" (snapshot naming) */
  name: string;
  family: IpFamily;
  /** the IPVS services this virtual server programs (a group expands to many) */
  endpoints: ServiceKey[];
  /** virtual_server_group name for `virtual_server group NAME` */
  group?: string;
  /** fwmark for `virtual_server fwmark N` */
  fwmark?: number;
  protocol: Protocol;
  /** lb_kind: the default forwarding method of its real servers */
  forwarding: ForwardingMethod;
  scheduler: string;
  /** extra IP_VS_SVC_F_* flags (ops, sh-port, sh-fallback, mh-port, mh-fallback, flag-N) */
  flags: number;
  /** seconds, 0 = no persistence */
  persistenceTimeout: number;
  /** prefix length; null = host (/32, /128) */
  persistenceGranularity: number | null;
  peName: string;
  quorum: number;
  hysteresis: number;
  quorumUp?: NotifyCommand;
  quorumDown?: NotifyCommand;
  sorryServer?: SorryServerSpec;
  sorryServerInhibit: boolean;
  /** run quorum_down / notify_down at shutdown too */
  omega: boolean;
  /** suspend the checkers while the virtual address is not configured on this host */
  haSuspend: boolean;
  realServers: RealServerSpec[];
  /** configured values shown in snapshots / SNMP / dumps (behaviour comes from the fields above and the checkers) */
  info?: {
    delayLoopMs?: number;
    connectTimeoutMs?: number;
    retry?: number;
    delayBeforeRetryMs?: number;
    warmupMs?: number;
    alpha?: boolean;
    inhibitOnFailure?: boolean;
    weight?: number;
    virtualhost?: string;
    smtpAlert?: boolean;
    snmpName?: string;
  };
}

// ------------------------------------------------------------------ desired-state layer

export interface DesiredService extends IpvsService {
  /** the virtual server this service belongs to (VirtualServerSpec.name) */
  owner: string;
  /** destinations that must be present, with these parameters */
  dests: IpvsDest[];
  /**
   * every destination this configuration speaks for (real servers + sorry server), present
   * or not: one of these found in the kernel but absent from `dests` is removed. Any other
   * destination in the service belongs to someone else and is left alone.
   */
  managed: DestKey[];
}

/** What the checkers know about one virtual server (computed by src/check). */
export interface VsHealth {
  /** quorum currently met (keepalived quorum_state_up) */
  quorumUp: boolean;
  /** per real server, by `destKeyString` of its address/port */
  realServers: Map<string, { alive: boolean; weight: number }>;
}
