/**
 * The typed configuration model: keepalived.conf as keepalived 2.2.7 reads it,
 * with every default resolved (vrrp/vrrp_data.c alloc_vrrp, vrrp/vrrp.c
 * vrrp_complete_instance, check/check_data.c alloc_vs/alloc_rs +
 * validate_check_config, core/global_data.c alloc_global_data).
 *
 * Units are in the field names: ...Ms milliseconds (fractional when keepalived
 * keeps microseconds), ...S whole seconds, ...Us microseconds.
 * `file`/`line` on objects point at the keyword that created them.
 */
import type { ConfigDiagnostic, ExitCode } from './schema/diag';

export type { ConfigDiagnostic, ExitCode };
export type AddressFamily = 'inet' | 'inet6';

export interface SourceRef {
  file: string;
  line: number;
}

/** A command line to run (notify_*, quorum_up, misc_path, startup_script ...). */
export interface ScriptCommand {
  /** argv after keepalived's quote/escape processing */
  argv: string[];
  /** the command as written (first argument of the keyword) */
  raw: string;
  /** user/group given on the keyword line (notify scripts) or `user` keyword */
  user?: string;
  group?: string;
  /** resolved uid/gid it runs as (script_user, keepalived_script, or us) */
  uid: number;
  gid: number;
  /** keepalived disables scripts it cannot find or that are insecure */
  disabled?: 'not_found' | 'insecure' | 'not_executable';
}

export interface NotifyFifo {
  path?: string;
  user?: string;
  group?: string;
  /** the FIFO path is appended as the last argument (keepalived behaviour) */
  script?: ScriptCommand;
}

export interface ProcessTuning {
  /** setpriority() nice value -20..19 */
  priority?: number;
  noSwap: boolean;
  /** SCHED_RR priority 1..99 */
  rtPriority?: number;
  cpuAffinity?: number[];
  /** RLIMIT_RTTIME; keepalived default 10000 µs */
  rlimitRttimeUs: number;
}

export interface LvsSyncDaemon {
  interface: string;
  vrrpInstance?: string;
  /** 0..255; default = VRID of the instance (resolved at run time), else 0 */
  syncId?: number;
  maxLen?: number;
  /** default 8848 (kernel) */
  port?: number;
  ttl?: number;
  /** default 224.0.0.81 (kernel) */
  group?: string;
}

export interface GlobalDefs {
  routerId: string;
  notificationEmail: string[];
  notificationEmailFrom?: string;
  smtpServer?: { host: string; port: number; family: AddressFamily };
  smtpHeloName?: string;
  /** keepalived default 30 s */
  smtpConnectTimeoutS: number;
  /** undefined = not set (objects then use their own defaults, §7.3) */
  smtpAlert?: boolean;
  smtpAlertVrrp?: boolean;
  smtpAlertChecker?: boolean;
  noEmailFaults: boolean;
  checkerLogAllFailures: boolean;
  noCheckerEmails: boolean;
  rsInitNotifies: boolean;

  vrrpMcastGroup4: string;
  vrrpMcastGroup6: string;
  vrrpVersion: 2 | 3;
  vrrpGarpMasterDelayS: number;
  vrrpGarpMasterRepeat: number;
  vrrpGarpMasterRefreshS: number;
  vrrpGarpMasterRefreshRepeat: number;
  /** default = vrrpGarpMasterDelayS */
  vrrpGarpLowerPrioDelayS: number;
  /** default = vrrpGarpMasterRepeat */
  vrrpGarpLowerPrioRepeat: number;
  vrrpGarpIntervalMs: number;
  vrrpGnaIntervalMs: number;
  vrrpMinGarp: boolean;
  vrrpGarpExtraIfS: number;
  vrrpGarpExtraIfAll: boolean;
  vrrpDownTimerAdverts: number;
  vrrpLowerPrioNoAdvert: boolean;
  vrrpHigherPrioSendAdvert: boolean;
  vrrpCheckUnicastSrc: boolean;
  vrrpSkipCheckAdvAddr: boolean;
  vrrpStrict: boolean;
  vrrpNotifyPriorityChanges: boolean;
  vrrpStartupDelayMs: number;
  /** nftables table used for no_accept/strict/VMAC (auto "keepalived" when needed) */
  nftables?: { table: string; priority: number; ifindex: boolean };
  nftablesCounters: boolean;
  nftablesIpvs?: { table: string; priority: number; startFwmark: number };
  /** `vrrp_iptables` was given: this build has no iptables, keepalived maps it to nftables */
  vrrpIptablesRequested: boolean;
  disableLocalIgmp: boolean;
  vrrpRxBufsPolicy?: 'MTU' | 'ADVERT' | { size: number };
  vrrpRxBufsMultiplier: number;
  netlinkRcvBufs: Partial<Record<'vrrpCmd' | 'vrrpMonitor' | 'processMonitor' | 'lvsCmd' | 'lvsMonitor', { size?: number; force?: boolean }>>;
  logUnknownVrids: boolean;
  vmacPrefix?: string;
  vmacAddrPrefix?: string;
  dynamicInterfaces: boolean;
  allowIfChanges: boolean;
  /** used by static addresses without dev; keepalived default eth0 */
  defaultInterface: string;
  linkbeatUsePolling: boolean;
  vrrpProcess: ProcessTuning;
  checkerProcess: ProcessTuning;
  bfdProcess: ProcessTuning;
  /** 0 = off, -1 = disabled explicitly, else max SCHED_RR priority */
  maxAutoPriority: number;
  minAutoPriorityDelayUs: number;

  scriptUser?: { user: string; group?: string };
  enableScriptSecurity: boolean;
  notifyFifo: NotifyFifo;
  vrrpNotifyFifo: NotifyFifo;
  lvsNotifyFifo: NotifyFifo;
  fifoWriteVrrpStatesOnReload: boolean;
  startupScript?: ScriptCommand;
  startupScriptTimeoutS: number;
  shutdownScript?: ScriptCommand;
  shutdownScriptTimeoutS: number;

  snmpSocket?: string;
  enableSnmpVrrp: boolean;
  enableSnmpChecker: boolean;
  enableSnmpRfcv2: boolean;
  enableSnmpRfcv3: boolean;
  enableTraps: boolean;
  enableDbus: boolean;
  dbusServiceName?: string;

  lvsSyncDaemon?: LvsSyncDaemon;
  lvsTimeouts: { tcpS?: number; tcpfinS?: number; udpS?: number };
  lvsFlush: boolean;
  lvsFlushOnStop: 'none' | 'full' | 'vs';

  netNamespace?: string;
  /** "" = the default namespace */
  netNamespaceIpvs?: string;
  namespaceWithIpsets: boolean;
  usePidDir: boolean;
  instance?: string;
  /** keepalived default 5 s */
  childWaitTimeS: number;
  processName?: string;
  vrrpProcessName?: string;
  checkerProcessName?: string;
  bfdProcessName?: string;
  umask?: number;
  randomSeed?: number;
  reloadCheckConfig?: string;
  reloadTimeFile?: string;
  reloadRepeat: boolean;
  reloadFile?: string;
  includeCheck?: string[];
  configSaveDir?: string;
  tmpConfigDirectory?: string;
  dataUseInstance: boolean;
}

export interface TrackRef {
  name: string;
  weight: number;
  reverse: boolean;
}

export interface VrrpScript extends SourceRef {
  name: string;
  script: ScriptCommand;
  /** 2.2.7: whole seconds; 0 is changed to 1 */
  intervalS: number;
  /** 0 = use interval */
  timeoutS: number;
  /** -253..253; 0 = a failure puts trackers in FAULT */
  weight: number;
  weightReverse: boolean;
  rise: number;
  fall: number;
  initFail: boolean;
}

export interface TrackFile extends SourceRef {
  name: string;
  /** the watched file (`file` keyword) */
  path: string;
  /** default 1 */
  weight: number;
  weightReverse: boolean;
  initFile?: { value: number; overwrite: boolean };
}

export interface TrackProcess extends SourceRef {
  name: string;
  process: string;
  params?: string[];
  paramMatch: 'none' | 'exact' | 'initial' | 'partial';
  /** default 0 */
  weight: number;
  weightReverse: boolean;
  quorum: number;
  /** undefined = unlimited */
  quorumMax?: number;
  terminateDelayMs: number;
  forkDelayMs: number;
  fullCommand: boolean;
}

export interface NotifyScripts {
  master?: ScriptCommand;
  backup?: ScriptCommand;
  fault?: ScriptCommand;
  stop?: ScriptCommand;
  /** the generic `notify` script (4 arguments appended) */
  generic?: ScriptCommand;
}

export interface SyncGroup extends SourceRef {
  name: string;
  members: string[];
  trackInterfaces: TrackRef[];
  trackScripts: TrackRef[];
  trackFiles: TrackRef[];
  trackProcesses: TrackRef[];
  trackBfds: TrackRef[];
  notify: NotifyScripts;
  smtpAlert: boolean;
  syncGroupTrackingWeight: boolean;
  notifyPriorityChanges?: boolean;
}

/** One virtual_ipaddress / static_ipaddress entry. */
export interface VirtualIpAddress {
  address: string;
  family: AddressFamily;
  /** defaults to 32 / 128 */
  prefixLen: number;
  broadcast?: string;
  /** interface; unset means the instance interface (or default_interface for static) */
  dev?: string;
  scope?: number;
  label?: string;
  peer?: string;
  home: boolean;
  noDad: boolean;
  mngTmpAddr: boolean;
  noPrefixRoute: boolean;
  autoJoin: boolean;
  noTrack: boolean;
  useVmac: boolean;
  trackGroup?: string;
  /** seconds; 0xffffffff = forever. IPv6 /128 defaults to 0 (deprecated) */
  preferredLft?: number;
  line: number;
  file: string;
}

export interface NextHop {
  via?: string;
  dev?: string;
  weight?: number;
  onlink: boolean;
  realms?: number;
}

export interface RouteEntry {
  family: AddressFamily;
  type?: string;
  dst: string;
  src?: string;
  from?: string;
  via?: string;
  dev?: string;
  table: number;
  protocol?: number;
  scope?: number;
  metric?: number;
  tos?: number;
  onlink: boolean;
  mtu?: number;
  advmss?: number;
  hoplimit?: number;
  realms?: number;
  expires?: number;
  pref?: number;
  initcwnd?: number;
  initrwnd?: number;
  congctl?: string;
  /** other metrics given (rtt, rttvar, reordering, window, cwnd, ssthresh, rto_min, quickack, fastopen_no_cookie, ttl-propagate, features) */
  extra: Record<string, number | string>;
  nexthops: NextHop[];
  mode: 'prepend' | 'add' | 'append';
  noTrack: boolean;
  trackGroup?: string;
  vrf?: string;
  file: string;
  line: number;
}

export interface RuleEntry {
  family: AddressFamily;
  from?: string;
  to?: string;
  not: boolean;
  priority: number;
  /** keepalived chose the preference (none was given) */
  priorityDefaulted: boolean;
  action: 'table' | 'goto' | 'nop' | 'blackhole' | 'unreachable' | 'prohibit';
  table?: number;
  gotoTarget?: number;
  l3mdev: boolean;
  tos?: number;
  fwmark?: number;
  fwmask?: number;
  realms?: number;
  suppressPrefixLength?: number;
  suppressIfgroup?: number;
  iif?: string;
  oif?: string;
  tunnelId?: string;
  uidRange?: [number, number];
  protocol?: number;
  ipProto?: number;
  sport?: [number, number];
  dport?: [number, number];
  noTrack: boolean;
  trackGroup?: string;
  file: string;
  line: number;
}

export interface UnicastPeer {
  address: string;
  minTtl: number;
  maxTtl: number;
}

export interface VrrpInstance extends SourceRef {
  name: string;
  /** initial state after keepalived's derivation */
  state: 'MASTER' | 'BACKUP';
  interface?: string;
  vrf?: string;
  vrid: number;
  /** configured (base) priority 1..255 */
  priority: number;
  advertIntMs: number;
  version: 2 | 3;
  family: AddressFamily;
  nopreempt: boolean;
  preemptDelayMs: number;
  dontTrackPrimary: boolean;
  trackInterfaces: TrackRef[];
  trackScripts: TrackRef[];
  trackFiles: TrackRef[];
  trackProcesses: TrackRef[];
  trackBfds: TrackRef[];
  /** mcast_src_ip / unicast_src_ip */
  srcIp?: string;
  trackSrcIp: boolean;
  mcastDstIp?: string;
  /** true when unicast peers are configured (keepalived VRRP_FLAG_UNICAST) */
  unicast: boolean;
  unicastPeers: UnicastPeer[];
  unicastFaultNoPeer: boolean;
  /** IPv4 default 255; IPv6 undefined = kernel default */
  unicastTtl?: number;
  checkUnicastSrc: boolean;
  oldUnicastChecksum?: 'auto' | 'never';
  useVmac?: { ifname?: string; mac?: string };
  useVmacAddr: boolean;
  vmacXmitBase: boolean;
  useIpvlan?: { ifname?: string; address?: string; mode: 'bridge' | 'private' | 'vepa' };
  virtualIpaddresses: VirtualIpAddress[];
  virtualIpaddressesExcluded: VirtualIpAddress[];
  promoteSecondaries: boolean;
  virtualRoutes: RouteEntry[];
  virtualRules: RuleEntry[];
  accept: boolean;
  skipCheckAdvAddr: boolean;
  strictMode: boolean;
  authentication?: { type: 'PASS' | 'AH'; pass: string };
  notify: NotifyScripts & { deleted?: ScriptCommand | true; masterRxLowerPri?: ScriptCommand };
  notifyPriorityChanges: boolean;
  smtpAlert: boolean;
  garpMasterDelayS: number;
  garpMasterRepeat: number;
  garpMasterRefreshS: number;
  garpMasterRefreshRepeat: number;
  garpLowerPrioDelayS: number;
  garpLowerPrioRepeat: number;
  garpExtraIfS: number;
  garpExtraIfAll: boolean;
  downTimerAdverts: number;
  lowerPrioNoAdvert: boolean;
  higherPrioSendAdvert: boolean;
  kernelRxBufSize?: number;
  linkbeatUsePolling: boolean;
  debug?: number;
  syncGroup?: string;
  /** keepalived will hold the instance in FAULT from the start (config fault) */
  configFault?: string;
}

export interface StaticTrackGroup extends SourceRef {
  name: string;
  instances: string[];
}

export interface GarpGroup extends SourceRef {
  garpIntervalMs?: number;
  gnaIntervalMs?: number;
  interfaces: string[];
}

export interface InterfaceDelay {
  interface: string;
  downDelayMs: number;
  upDelayMs: number;
}

// ---------------------------------------------------------------- LVS ----

export type LvsScheduler = 'rr' | 'wrr' | 'lc' | 'wlc' | 'lblc' | 'sh' | 'mh' | 'dh' | 'fo' | 'ovf' | 'lblcr' | 'sed' | 'nq' | 'twos';

export interface Forwarding {
  method: 'NAT' | 'DR' | 'TUN';
  tunType?: 'ipip' | 'gue' | 'gre';
  tunPort?: number;
  tunCsum?: 'nocsum' | 'csum' | 'remcsum';
}

export interface VirtualServerGroupEntry {
  kind: 'address' | 'range' | 'fwmark';
  /** start address (address/range) */
  address?: string;
  /** end of an address range (inclusive) */
  addressEnd?: string;
  port?: number;
  fwmark?: number;
  family?: AddressFamily;
}

export interface VirtualServerGroup extends SourceRef {
  name: string;
  entries: VirtualServerGroupEntry[];
}

export interface ConnectionOpts {
  connectIp?: string;
  connectPort?: number;
  bindTo?: string;
  bindPort?: number;
  bindIf?: string;
  fwmark?: number;
  connectTimeoutMs: number;
}

export interface CheckerTiming {
  /** resolved: checker value, else real server, else checker default */
  retry: number;
  delayBeforeRetryMs: number;
  warmupMs: number;
  delayLoopMs: number;
  alpha: boolean;
  logAllFailures: boolean;
}

export interface HttpUrl {
  path: string;
  digest?: string;
  /** accepted status codes (expanded); default 200-299 */
  statusCodes: number[];
  virtualhost?: string;
  regex?: string;
  regexNoMatch: boolean;
  regexOptions: string[];
  regexMinOffset?: number;
  regexMaxOffset?: number;
  regexStack?: [number, number];
}

export type Checker =
  | (CheckerTiming & SourceRef & { type: 'TCP_CHECK'; connection: ConnectionOpts })
  | (CheckerTiming & SourceRef & {
      type: 'HTTP_GET' | 'SSL_GET';
      connection: ConnectionOpts;
      urls: HttpUrl[];
      virtualhost?: string;
      httpProtocol: '1.0' | '1.0C' | '1.1';
      enableSni: boolean;
      fastRecovery: boolean;
    })
  | (CheckerTiming & SourceRef & { type: 'SMTP_CHECK'; connection: ConnectionOpts; heloName: string; hosts: ConnectionOpts[] })
  | (CheckerTiming & SourceRef & { type: 'DNS_CHECK'; connection: ConnectionOpts; queryType: string; name: string })
  | (CheckerTiming & SourceRef & {
      type: 'MISC_CHECK';
      script: ScriptCommand;
      /** default = delay_loop */
      timeoutMs: number;
      dynamic: boolean;
    })
  | (CheckerTiming & SourceRef & {
      type: 'UDP_CHECK';
      connection: ConnectionOpts;
      payload?: string;
      requireReply: boolean;
      replyData?: string;
      minReplyLength: number;
      maxReplyLength: number;
    })
  | (CheckerTiming & SourceRef & { type: 'PING_CHECK'; connection: ConnectionOpts })
  | (SourceRef & { type: 'FILE_CHECK'; trackFile: string; weight: number; weightReverse: boolean })
  | (SourceRef & { type: 'BFD_CHECK'; name: string; alpha: boolean });

export interface RealServer extends SourceRef {
  address: string;
  family: AddressFamily;
  port: number;
  weight: number;
  forwarding: Forwarding;
  uthreshold?: number;
  lthreshold?: number;
  inhibitOnFailure: boolean;
  alpha: boolean;
  retry?: number;
  delayBeforeRetryMs?: number;
  warmupMs?: number;
  connectTimeoutMs: number;
  delayLoopMs: number;
  /** true unless set otherwise (keepalived's backward-compatible default) */
  smtpAlert: boolean;
  virtualhost?: string;
  snmpName?: string;
  notifyUp?: ScriptCommand;
  notifyDown?: ScriptCommand;
  checkers: Checker[];
}

export interface SorryServer {
  address: string;
  family: AddressFamily;
  port: number;
  inhibit: boolean;
  forwarding: Forwarding;
}

export interface VirtualServer extends SourceRef {
  kind: 'address' | 'fwmark' | 'group';
  address?: string;
  port?: number;
  fwmark?: number;
  group?: string;
  family: AddressFamily;
  /** TCP/UDP/SCTP; undefined for fwmark services */
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  lbAlgo: LvsScheduler;
  forwarding: Forwarding;
  /** 0 = no persistence */
  persistenceTimeoutS: number;
  persistenceGranularity?: string;
  persistenceEngine?: string;
  flags: string[];
  delayLoopMs: number;
  connectTimeoutMs: number;
  retry?: number;
  delayBeforeRetryMs?: number;
  warmupMs?: number;
  inhibitOnFailure: boolean;
  alpha: boolean;
  omega: boolean;
  quorum: number;
  hysteresis: number;
  quorumUp?: ScriptCommand;
  quorumDown?: ScriptCommand;
  sorryServer?: SorryServer;
  haSuspend: boolean;
  virtualhost?: string;
  smtpAlert: boolean;
  snmpName?: string;
  weight: number;
  realServers: RealServer[];
}

export interface SslContext {
  password?: string;
  ca?: string;
  certificate?: string;
  key?: string;
}

export interface BfdInstance extends SourceRef {
  name: string;
  neighborIp: string;
  sourceIp?: string;
  family: AddressFamily;
  minRxMs: number;
  minTxMs: number;
  idleTxMs: number;
  multiplier: number;
  passive: boolean;
  /** IPv4 ttl default 255, IPv6 hoplimit default 64 */
  ttl: number;
  maxHops: number;
  /** weight for VRRP track_bfd */
  weight: number;
  weightReverse: boolean;
  sendToVrrp: boolean;
  sendToChecker: boolean;
}

export interface KeepwatchConfig {
  /** every file read (top file first) */
  files: string[];
  global: GlobalDefs;
  scripts: VrrpScript[];
  trackFiles: TrackFile[];
  trackProcesses: TrackProcess[];
  syncGroups: SyncGroup[];
  instances: VrrpInstance[];
  staticAddresses: VirtualIpAddress[];
  staticRoutes: RouteEntry[];
  staticRules: RuleEntry[];
  staticTrackGroups: StaticTrackGroup[];
  garpGroups: GarpGroup[];
  linkbeatInterfaces: { interface: string; type?: 'MII' | 'ETHTOOL' | 'IOCTL' }[];
  interfaceUpDownDelays: InterfaceDelay[];
  ssl?: SslContext;
  virtualServerGroups: VirtualServerGroup[];
  virtualServers: VirtualServer[];
  bfdInstances: BfdInstance[];
}
