/**
 * The observability contract: every happening in keepwatch is one of these typed
 * events. Every output channel (Prometheus, JSON, dumps, logs, traces, SNMP traps,
 * notify scripts/FIFOs) is an observer of the journal; no channel keeps its own idea
 * of the state (shared/design.md "The idea in one paragraph").
 *
 * Extend by adding members to the unions below; never change the meaning of an
 * existing field.
 */

/** Monotonic (performance.now(), ms) and wall-clock (Date.now(), ms) time of an event. */
export interface EventTime {
  mono: number;
  wall: number;
}

/** keepalived's state numbering (include/vrrp.h): INIT 0, BACKUP 1, MASTER 2, FAULT 3; STOP 98. */
export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP';

/**
 * Why a transition happened, in the ietf-vrrp (RFC 8347) vocabulary plus the
 * keepalived-specific causes operators need to tell apart.
 */
export type TransitionReason =
  | 'startup'
  | 'master_timeout'
  | 'higher_priority_backup'
  | 'higher_priority_master'
  | 'priority_zero_received'
  | 'preempt'
  | 'interface_down'
  | 'interface_up'
  | 'track_script'
  | 'track_file'
  | 'track_process'
  | 'sync_group'
  | 'shutdown'
  | 'reload'
  | 'priority_change'
  | 'address_owner'
  | 'admin'
  /** one of our VIPs was deleted from the interface by someone else (keepalived set_vrrp_backup) */
  | 'vip_removed';

/** keepalived's per-instance receive-error counter names (include/vrrp.h vrrp_stats). */
export type VrrpErrorCounter =
  | 'packet_len_err'
  | 'advert_interval_err'
  | 'ip_ttl_err'
  | 'invalid_type_rcvd'
  | 'addr_list_err'
  | 'invalid_authtype'
  | 'authtype_mismatch'
  | 'auth_failure'
  // global (not attributable to an instance): RFC 2787/6527 router statistics
  | 'checksum_err'
  | 'version_err'
  | 'vrid_err';

export interface Diagnostic {
  severity: 'error' | 'warning';
  file: string;
  line: number;
  message: string;
}

interface Base extends EventTime {}

/** Identifies a VRRP instance in every per-instance event. */
export interface InstanceRef {
  instance: string;
  vrid: number;
  intf: string;
}

export type JournalEvent =
  // ---- configuration / lifecycle ----
  | (Base & { type: 'config.loaded'; file: string; instances: number; virtualServers: number; warnings: number })
  | (Base & { type: 'config.error'; file: string; diagnostics: Diagnostic[] })
  | (Base & { type: 'config.reload'; result: 'success' | 'failure'; file: string; durationMs: number; added: string[]; removed: string[]; changed: string[]; error?: string })
  | (Base & { type: 'daemon.start'; pid: number; version: string })
  | (Base & { type: 'daemon.stop'; signal?: string })
  | (Base & { type: 'daemon.signal'; signal: string; action: string })
  | (Base & { type: 'dump.written'; kind: 'data' | 'stats' | 'json'; path: string })
  // ---- VRRP ----
  | (Base & InstanceRef & { type: 'vrrp.transition'; from: VrrpState; to: VrrpState; reason: TransitionReason; priority: number; masterPriority: number; masterAddress?: string })
  | (Base & InstanceRef & { type: 'vrrp.advert.sent'; priority: number; scheduledMono: number; lagMs: number })
  | (Base & InstanceRef & {
      type: 'vrrp.advert.received';
      src: string;
      priority: number;
      advertIntCs: number;
      inMaster: boolean;
      /** set when a BACKUP dropped a lower-priority advert (keepalived 2.2.7: "received lower priority (N) advert from X - discarding") */
      discarded?: 'lower_priority';
    })
  | (Base & InstanceRef & { type: 'vrrp.master_down'; intervalMs: number })
  | (Base & InstanceRef & { type: 'vrrp.priority'; from: number; to: number; cause: string })
  | (Base & InstanceRef & { type: 'vrrp.error'; counter: VrrpErrorCounter; src?: string; detail?: string })
  | (Base & { type: 'vrrp.global_error'; counter: 'checksum_err' | 'version_err' | 'vrid_err'; intf: string; src?: string; detail?: string })
  | (Base & InstanceRef & { type: 'vrrp.vip'; op: 'add' | 'remove'; address: string; dev: string; ok: boolean; error?: string })
  /** a virtual route (or, with kind 'rule', a virtual rule) added/removed; `route` is keepalived's format_iproute/format_iprule text */
  | (Base & InstanceRef & { type: 'vrrp.route'; op: 'add' | 'remove'; route: string; ok: boolean; error?: string; kind?: 'route' | 'rule' })
  /** static_ipaddress / static_routes / static_rules: installed at start, restored when deleted (op 'restore'), removed on stop */
  | (Base & { type: 'vrrp.static'; kind: 'address' | 'route' | 'rule'; op: 'add' | 'remove' | 'restore'; text: string; ok: boolean; error?: string })
  | (Base & InstanceRef & {
      type: 'vrrp.garp';
      family: 'ipv4' | 'ipv6';
      count: number;
      dev: string;
      /** the VIP announced (keepalived logs "Sending/queueing gratuitous ARPs on DEV for ADDRESS") */
      address?: string;
    })
  | (Base & { type: 'vrrp.sync_group'; group: string; from: VrrpState; to: VrrpState; reason: TransitionReason })
  | (Base & InstanceRef & { type: 'vrrp.stats_cleared' })
  /** keepalived's notify occasions (the FSM's notify action): scripts and FIFO lines follow these */
  | (Base & InstanceRef & { type: 'vrrp.notify'; state: VrrpState | 'DELETED' | 'MASTER_RX_LOWER_PRI' | 'MASTER_PRIORITY' | 'BACKUP_PRIORITY'; priority: number })
  | (Base & { type: 'vrrp.group_notify'; group: string; state: VrrpState })
  /** a keepalived-format log line from the engine ("(VI_1) Entering MASTER STATE") */
  | (Base & { type: 'vrrp.log'; level: 'debug' | 'info' | 'warning' | 'error'; message: string })
  // ---- tracking ----
  | (Base & { type: 'track.script'; name: string; result: 'success' | 'failure' | 'timeout'; exitCode: number | null; durationMs: number; status: 'init' | 'good' | 'bad' | 'init_failed'; changed?: 'good' | 'bad' })
  | (Base & { type: 'track.interface'; intf: string; up: boolean })
  | (Base & { type: 'track.file'; name: string; value: number })
  | (Base & { type: 'track.process'; name: string; running: number; quorumMet: boolean })
  // ---- notify ----
  | (Base & { type: 'notify.run'; event: string; target: string; command: string; exitCode: number | null; durationMs: number; error?: string })
  | (Base & { type: 'notify.fifo'; path: string; line: string; ok: boolean; error?: string })
  // ---- LVS / checkers ----
  | (Base & {
      type: 'checker.result';
      virtualServer: string;
      realServer: string;
      checker: string;
      result: 'success' | 'failure' | 'timeout';
      durationMs: number;
      detail?: string;
      /** the checker's state after this result (a failure being retried leaves it up) */
      checkerUp?: boolean;
    })
  | (Base & {
      type: 'realserver.state';
      virtualServer: string;
      realServer: string;
      up: boolean;
      weight: number;
      reason: string;
      /** keepalived's FMT_VS / FMT_RS text ("[192.0.2.10]:tcp:80", "FWM 5", "[grp]:0"), as in its logs and notify FIFO "RS <rs> <vs> UP|DOWN" lines */
      kaVirtualServer?: string;
      kaRealServer?: string;
      /** checkers of this real server currently down */
      failedCheckers?: number;
    })
  | (Base & { type: 'realserver.weight'; virtualServer: string; realServer: string; from: number; to: number; reason: string })
  /** a checker-side log line that is not a state change (configuration warnings: quorum clamped, unsupported checker ...) */
  | (Base & { type: 'lvs.log'; level: 'info' | 'warning' | 'error'; message: string })
  | (Base & {
      type: 'virtualserver.quorum';
      virtualServer: string;
      met: boolean;
      up: number;
      configured: number;
      sorry: boolean;
      /** keepalived FMT_VS text (FIFO "VS <vs> UP|DOWN") */
      kaVirtualServer?: string;
      /** sum of the effective weights of live real servers, and the thresholds it was held against */
      weightSum?: number;
      quorum?: number;
      hysteresis?: number;
    })
  | (Base & {
      type: 'ipvs.apply';
      op: string;
      target: string;
      ok: boolean;
      error?: string;
      durationMs: number;
      /** the virtual server the operation is for (VirtualServerSnapshot.name) */
      virtualServer?: string;
      /** destination weight written (add-dest / edit-dest) */
      weight?: number;
    })
  // ---- SNMP ----
  | (Base & {
      type: 'snmp.agentx';
      connected: boolean;
      reconnects: number;
      error?: string;
      /** the AgentX master address ("unix:/var/agentx/master", "tcp:127.0.0.1:705") */
      socket?: string;
      /** on reconnection: ms from losing the master to being registered again */
      recoveryMs?: number;
    })
  | (Base & { type: 'snmp.notification'; notification: string; ok: boolean; /** why it was not delivered */ error?: string });

export type JournalEventType = JournalEvent['type'];
export type EventOf<T extends JournalEventType> = Extract<JournalEvent, { type: T }>;
/** What a producer supplies; the journal stamps the time. */
export type EventInput<T extends JournalEventType = JournalEventType> =
  T extends JournalEventType ? Omit<EventOf<T>, 'mono' | 'wall'> & Partial<EventTime> : never;
