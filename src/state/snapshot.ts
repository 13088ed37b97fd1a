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
}

export interface SyncGroupSnapshot {
  name: string;
  state: VrrpState;
  members: string[];
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
}

export interface RealServerSnapshot {
  address: string; // "ip:port"
  up: boolean;
  weight: number;
  configuredWeight: number;
  failedChecks: number;
  checkers: string[];
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
  snmp: { connected: boolean; reconnects: number };
}

export type SnapshotProvider = () => AgentSnapshot;
