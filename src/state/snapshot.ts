/**
 * A point-in-time, consistent view of the whole agent, taken synchronously on the
 * event loop (so it is atomic with respect to the FSM). Pull-style observers
 * (/metrics gauges, /json, signal dumps, SNMP tables) read this; push-style
 * observers (counters, traps, spans, logs) read the journal. Field names follow
 * keepalived's JSON dump (vrrp/vrrp_json.c, "format v1") where one exists.
 */
import type { VrrpState } from '../journal/events';

export interface VipSnapshot {
  /** keepalived's textual form, e.g. "192.0.2.50/24 dev eth0 scope global set" */
  text: string;
  address: string; // "192.0.2.50"
  prefix: number;
  dev: string;
  installed: boolean;
  excluded: boolean;
  // ---- optional (SNMP vrrpAddressTable) ----
  /** IPv4 broadcast address, when one is set */
  broadcast?: string;
  /** Linux address scope number (0 global, 253 link, 254 host, 200 site, 255 nowhere); default 0 */
  scope?: number;
  /** ifIndex of `dev` */
  ifindex?: number;
  /** address label (keepalived `label`) */
  label?: string;
  /** peer address (keepalived `peer`) */
  peer?: string;
}

/** keepalived's per-instance counters (include/vrrp.h vrrp_stats), JSON key names. */
export interface InstanceStats {
  advert_rcvd: number;
  advert_sent: number;
  become_master: number;
  release_master: number;
  packet_len_err: number;
  advert_interval_err: number;
  ip_ttl_err: number;
  invalid_type_rcvd: number;
  addr_list_err: number;
  invalid_authtype: number;
  authtype_mismatch: number;
  auth_failure: number;
  pri_zero_rcvd: number;
  pri_zero_sent: number;
}

export interface InstanceSnapshot {
  iname: string;
  vrid: number;
  version: 2 | 3;
  family: 'ipv4' | 'ipv6';
  ifp_ifname: string;
  vmac_ifname: string;
  state: VrrpState;
  wantstate: VrrpState;
  base_priority: number;
  effective_priority: number;
  master_priority: number;
  master_address: string;
  /** seconds */
  adver_int: number;
  master_adver_int: number;
  skew_time: number;
  master_down_interval: number;
  /** seconds left before a BACKUP declares the master down; null when not BACKUP */
  master_down_remaining: number | null;
  /** wall seconds (float) of the last transition, keepalived `last_transition` */
  last_transition: number;
  /** wall seconds of the last received advert from the master, 0 if none */
  last_advert_received: number;
  /** seconds spent in each state since start (cumulative) */
  time_in_state: Record<VrrpState, number>;
  nopreempt: boolean;
  preempt_delay: number;
  accept: boolean;
  unicast: boolean;
  unicast_peers: string[];
  dont_track_primary: boolean;
  skip_check_adv_addr: boolean;
  strict_mode: boolean;
  garp_delay: number;
  garp_refresh: number;
  garp_rep: number;
  garp_refresh_rep: number;
  garp_lower_prio_delay: number;
  garp_lower_prio_rep: number;
  lower_prio_no_advert: boolean;
  higher_prio_send_advert: boolean;
  promote_secondaries: boolean;
  smtp_alert: boolean;
  notify_deleted: boolean;
  /** notify script command line as keepalived prints it ("'/path' 'arg'") or "" */
  script: string;
  vipset: boolean;
  vips: VipSnapshot[];
  evips: VipSnapshot[];
  track_script: string[];
  track_interface: string[];
  auth_type: number;
  /** operator cluster key (global_defs or per instance), default derived from the VIP network */
  vrrp_domain: string;
  sync_group: string;
  stats: InstanceStats;
  /** counters beyond keepalived's, native metrics */
  adverts_received_in_master: number;
  garp_sent: number;
  na_sent: number;

  // ---- optional (observe/ dumps; keepalived vrrp_json.c / vrrp_data.c dump_vrrp) ----
  /** per-state notify scripts as keepalived prints them ("'/path' 'arg'"); JSON keys script_backup … */
  script_backup?: string;
  script_master?: string;
  script_fault?: string;
  script_stop?: string;
  script_deleted?: string;
  script_master_rx_lower_pri?: string;
  /** virtual_routes / virtual_rules in keepalived's iproute2-like text */
  vroutes?: string[];
  vrules?: string[];
  /** names of tracked vrrp_track_process entries */
  track_process?: string[];
  /** keepalived total_priority (base + all tracking weights, before clamping); default effective_priority */
  total_priority?: number;
  /** source address used in adverts ("Using src_ip") */
  src_ip?: string;
  /** wall seconds of the next timer expiry (keepalived "Read timeout" = vrrp->sands) */
  read_timeout?: number;
  /** keepalived down_timer_adverts (default 3) */
  down_timer_adverts?: number;
  num_config_faults?: number;
  num_script_if_fault?: number;
  num_script_init?: number;
  notify_priority_changes?: boolean;

  // ---- SNMP (src/snmp: KEEPALIVED-MIB vrrpInstanceTable, RFC 2787 VRRP-MIB, RFC 6527 VRRPV3-MIB) ----
  /**
   * ifIndex of the interface the instance runs on (for a vmac/ipvlan the base interface,
   * keepalived IF_BASE_INDEX). The first index of the RFC 2787 vrrpOperTable and RFC 6527
   * vrrpv3OperationsTable rows; 0 when unknown.
   */
  ifindex: number;
  /** configured `state` (keepalived configured_state; vrrpInstanceInitialState); default wantstate */
  initial_state?: VrrpState;
  /** MAC of the interface adverts leave from (RFC 2787 vrrpOperVirtualMacAddr as keepalived reports it) */
  hw_addr?: string;
  /** multicast destination (vrrpInstanceMulticastAddress); default 224.0.0.18 / ff02::12 */
  mcast_daddr?: string;
  /** keepalived notify_exec: any notify script configured; default derived from script/script_* */
  notify_exec?: boolean;
  /** keepalived VRRP_FLAG_LINKBEAT_USE_POLLING (vrrpInstanceUseLinkbeat) */
  linkbeat_use_polling?: boolean;
  /** tracked interfaces with weights (vrrpTrackedInterfaceTable, indexed by ifIndex) */
  track_ifp?: TrackedInterfaceSnapshot[];
  /** tracked scripts with weights, in configuration order (vrrpTrackedScriptTable) */
  track_script_weights?: TrackedWeightSnapshot[];
  /** tracked files with weights (vrrpTrackedFileTable) */
  track_file_weights?: TrackedWeightSnapshot[];
  /** tracked processes with weights (vrrpTrackedProcessTable) */
  track_process_weights?: TrackedWeightSnapshot[];
  /** wall seconds when the instance last left INIT (RFC 2787/6527 VirtualRouterUpTime); default last_transition */
  up_since?: number;
  /** RFC 6527 vrrpv3StatisticsNewMasterReason: notMaster 0, priority 1, preempted 2, masterNoResponse 3 */
  master_reason?: 0 | 1 | 2 | 3;
  /** RFC 6527 vrrpv3StatisticsProtoErrReason: noError 0, ipTtlError 1, versionError 2, checksumError 3, vrIdError 4 */
  proto_err_reason?: 0 | 1 | 2 | 3 | 4;
  /** this instance is the lvs_sync_daemon's instance (vrrpInstanceLvsSyncDaemon) */
  lvs_sync_daemon?: boolean;
}

/** A tracked interface of an instance or sync group (keepalived tracked_if_t). */
export interface TrackedInterfaceSnapshot {
  name: string;
  ifindex: number;
  weight: number;
  weight_reverse: boolean;
}

/** A tracked script / file / process reference with its weight (keepalived tracked_sc_t …). */
export interface TrackedWeightSnapshot {
  name: string;
  weight: number;
  weight_reverse: boolean;
}

export interface SyncGroupSnapshot {
  name: string;
  state: VrrpState;
  members: string[];
  // ---- optional (SNMP vrrpSyncGroupTable and its tracking tables) ----
  smtp_alert?: boolean;
  /** any notify script configured; default derived from script* */
  notify_exec?: boolean;
  script_master?: string;
  script_backup?: string;
  script_fault?: string;
  script_stop?: string;
  /** generic `notify` script */
  script?: string;
  /** keepalived sgroup_tracking_weight (`track_*` weights applied to members) */
  tracking_weight?: boolean;
  track_ifp?: TrackedInterfaceSnapshot[];
  track_script_weights?: TrackedWeightSnapshot[];
  track_file_weights?: TrackedWeightSnapshot[];
  track_process_weights?: TrackedWeightSnapshot[];
}

export interface ScriptSnapshot {
  name: string;
  command: string;
  status: 'init' | 'good' | 'bad' | 'init_failed';
  /** keepalived script_state: 0 idle, 1 running, 2 requested termination, 3 forcing termination */
  state: 0 | 1 | 2 | 3;
  interval: number;
  weight: number;
  rise: number;
  fall: number;
  /** optional (keepalived .data dump): seconds, 0 = none */
  timeout?: number;
  /** keepalived vscript->result (0 .. rise+fall-1); default derived from status */
  result?: number;
  uid?: number;
  gid?: number;
  insecure?: boolean;
  /** keepalived `weight N reverse` */
  weight_reverse?: boolean;
}

export interface RealServerSnapshot {
  address: string; // "ip:port"
  up: boolean;
  weight: number;
  configuredWeight: number;
  failedChecks: number;
  checkers: string[];
  /** IPVS kernel counters for this destination when the LVS layer has read them */
  ipvs?: IpvsDestStats;
  // ---- optional (SNMP realServerTable; keepalived real_server_t) ----
  /** IPVS rate estimates (IPVS_STATS_ATTR_CPS …) */
  rates?: IpvsRates;
  /** "nat" | "dr" | "tun" (lb_kind of this real server); default the virtual server's */
  forwarding?: string;
  upper_limit?: number;
  lower_limit?: number;
  /** inhibit_on_failure (weight 0 instead of removal) */
  inhibit?: boolean;
  notify_up?: string;
  notify_down?: string;
  virtualhost?: string;
  alpha?: boolean;
  retry?: number;
  /** seconds */
  delay_before_retry?: number;
  warmup?: number;
  delay_loop?: number;
  connect_timeout?: number;
  smtp_alert?: boolean;
  snmp_name?: string;
  tunnel_type?: 'ipip' | 'gue' | 'gre';
  tunnel_port?: number;
}

/** IPVS rate estimator values (per second). */
export interface IpvsRates {
  cps: number;
  inPps: number;
  outPps: number;
  inBps: number;
  outBps: number;
}

/** IPVS_STATS / IPVS_STATS64 counters (kernel), plus destination connection gauges. */
export interface IpvsStats {
  conns: number;
  inPkts: number;
  outPkts: number;
  inBytes: number;
  outBytes: number;
}
export interface IpvsDestStats extends IpvsStats {
  activeConns: number;
  inactiveConns: number;
  persistentConns?: number;
}

export interface VirtualServerSnapshot {
  /** "ip:port", "fwmark:N" or "group:NAME" */
  name: string;
  protocol: string;
  scheduler: string;
  forwarding: string;
  quorum: number;
  quorumMet: boolean;
  sorryActive: boolean;
  realServers: RealServerSnapshot[];
  /** IPVS kernel counters for this service when the LVS layer has read them */
  ipvs?: IpvsStats;
  // ---- optional (SNMP virtualServerTable; keepalived virtual_server_t) ----
  rates?: IpvsRates;
  /** keepalived v->alive (service installed in IPVS); default quorumMet || sorryActive */
  alive?: boolean;
  virtualhost?: string;
  /** seconds, 0 = no persistence */
  persistence_timeout?: number;
  persistence_granularity?: string;
  /** seconds */
  delay_loop?: number;
  ha_suspend?: boolean;
  alpha?: boolean;
  omega?: boolean;
  hysteresis?: number;
  quorum_up?: string;
  quorum_down?: string;
  /** inhibit_on_failure default for its real servers */
  inhibit?: boolean;
  retry?: number;
  delay_before_retry?: number;
  warmup?: number;
  weight?: number;
  connect_timeout?: number;
  smtp_alert?: boolean;
  /** IPVS one-packet scheduling (ops) */
  ops?: boolean;
  snmp_name?: string;
  sorry_server?: RealServerSnapshot;
}

/** vrrp_track_process state (keepalived JSON v2 current_processes / have_quorum). */
export interface TrackProcessSnapshot {
  name: string;
  running: number;
  quorumMet: boolean;
}

/**
 * global_defs values shown in keepalived's .data dump ("------< Global definitions >------").
 * All optional: missing ones print keepalived 2.2.7's defaults.
 */
export interface GlobalDefsSnapshot {
  // ---- SNMP KEEPALIVED-MIB global scalars (src/snmp) ----
  smtpServer?: string;
  smtpServerPort?: number;
  /** seconds */
  smtpConnectTimeout?: number;
  emailFrom?: string;
  email?: string[];
  /** keepalived !no_email_faults */
  emailFaults?: boolean;
  /** true / false, undefined = unset */
  smtpAlert?: boolean;
  smtpAlertVrrp?: boolean;
  smtpAlertChecker?: boolean;
  linkbeatUsePolling?: boolean;
  lvsFlush?: boolean;
  lvsFlushOnStop?: 'disabled' | 'full' | 'vs';
  dbus?: boolean;
  lvsSyncDaemon?: { interface: string; instance?: string; syncId: number; maxLen?: number; port?: number; ttl?: number; group?: string };
  /** seconds, 0/undefined = kernel default */
  lvsTimeouts?: { tcp?: number; tcpFin?: number; udp?: number };
  netNamespace?: string;
  defaultInterface?: string;
  dynamicInterfaces?: boolean;
  vrrpMcastGroup4?: string;
  vrrpMcastGroup6?: string;
  garpDelay?: number;
  garpRepeat?: number;
  garpRefresh?: number;
  garpRefreshRepeat?: number;
  garpLowerPrioDelay?: number;
  garpLowerPrioRepeat?: number;
  downTimerAdverts?: number;
  lowerPrioNoAdvert?: boolean;
  higherPrioSendAdvert?: boolean;
  vrrpVersion?: 2 | 3;
  vrrpStrict?: boolean;
  checkUnicastSrc?: boolean;
  skipCheckAdvAddr?: boolean;
  fifoWriteVrrpStatesOnReload?: boolean;
  vrrpNotifyPriorityChanges?: boolean;
  snmpVrrp?: boolean;
  snmpChecker?: boolean;
  snmpRfcv2?: boolean;
  snmpRfcv3?: boolean;
  snmpTraps?: boolean;
  /** e.g. "unix:/var/agentx/master"; undefined = keepalived's default */
  snmpSocket?: string;
  scriptSecurity?: boolean;
  /** "uid:gid" */
  scriptUidGid?: string;
}

export interface AgentSnapshot {
  /** wall ms when sampled */
  takenAt: number;
  running: boolean;
  version: string;
  routerId: string;
  instances: InstanceSnapshot[];
  syncGroups: SyncGroupSnapshot[];
  scripts: ScriptSnapshot[];
  trackedInterfaces: { name: string; up: boolean }[];
  virtualServers: VirtualServerSnapshot[];
  reload: { lastSuccessful: boolean; lastSuccessWall: number; successes: number; failures: number };
  snmp: { connected: boolean; reconnects: number; /** AgentX configured at all (enable_snmp_*) */ enabled?: boolean };
  // ---- optional ----
  trackProcesses?: TrackProcessSnapshot[];
  globals?: GlobalDefsSnapshot;
  /** vrrp_track_file state (SNMP vrrpFileTable) */
  trackFiles?: { name: string; path: string; value: number; weight: number; weight_reverse: boolean }[];
  /** receive errors not attributable to an instance (RFC 2787/6527 router statistics) */
  vrrpRouterStats?: { checksum_err: number; version_err: number; vrid_err: number };
}

export type SnapshotProvider = () => AgentSnapshot;
