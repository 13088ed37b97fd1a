/**
 * Shared state of one configuration check. keepalived 2.2.7 reads the file
 * once per process — parent (global_defs), checker, VRRP, BFD — each time with
 * only its own sections active (core/main.c global_init_keywords,
 * check_parser.c check_init_keywords, vrrp_parser.c vrrp_init_keywords,
 * bfd_parser.c bfd_init_keywords). In `-t` mode all four run in one process and
 * share process-wide state (script users, script_security, interfaces).
 */
import type {
  BfdInstance,
  GarpGroup,
  GlobalDefs,
  InterfaceDelay,
  RouteEntry,
  RuleEntry,
  ScriptCommand,
  SslContext,
  StaticTrackGroup,
  TrackFile,
  VirtualIpAddress,
  VirtualServerGroup,
} from '../model';
import type { Dispatcher, StrVec } from './engine';
import type { Reporter } from './diag';
import type { HostEnv, HostInterface } from './host';
import { splitQuotedEscaped, type ScriptUsers } from './scripts';
import type { IpAddr } from './inet';

export type Prog = 'parent' | 'checker' | 'vrrp' | 'bfd';

/** Global settings being filled in (model defaults applied in finalize). */
export type GlobalDraft = Partial<GlobalDefs> & {
  notificationEmail: string[];
  notifyFifo: NonNullable<GlobalDefs['notifyFifo']>;
  vrrpNotifyFifo: NonNullable<GlobalDefs['vrrpNotifyFifo']>;
  lvsNotifyFifo: NonNullable<GlobalDefs['lvsNotifyFifo']>;
  netlinkRcvBufs: GlobalDefs['netlinkRcvBufs'];
  lvsTimeouts: GlobalDefs['lvsTimeouts'];
  /** raw micro-second values (keepalived units) */
  vrrpGarpIntervalUs?: number;
  vrrpGnaIntervalUs?: number;
  vrrpStartupDelayUs?: number;
  vrrpGarpLowerPrioDelayUnset: boolean;
  nfTable?: string;
  nfPriority?: number;
  nfIfindex?: boolean;
  nfIpvsTable?: string;
  nfIpvsPriority?: number;
  nfIpvsStartFwmark?: number;
  vrrpGarpLowerPrioRepeatUnset: boolean;
  processTune: Record<'vrrp' | 'checker' | 'bfd', { priority?: number; noSwap?: boolean; rtPriority?: number; cpuAffinity?: number[]; rlimitRttimeUs?: number }>;
  hostname: string;
};

export interface TrackRefDraft {
  name: string;
  weight: number;
  reverse: boolean;
}

export interface VrrpScriptDraft {
  name: string;
  file: string;
  line: number;
  script?: ScriptCommand;
  intervalS: number;
  timeoutS: number;
  weight: number;
  weightReverse: boolean;
  rise: number;
  fall: number;
  initFail: boolean;
  userSet: boolean;
  remove: boolean;
  insecure?: boolean;
}

export interface TrackProcessDraft {
  name: string;
  file: string;
  line: number;
  process?: string;
  params?: string[];
  paramMatch: 'none' | 'exact' | 'initial' | 'partial';
  weight: number;
  weightReverse: boolean;
  quorum: number;
  quorumMax: number;
  terminateDelayUs: number;
  forkDelayUs: number;
  fullCommand: boolean;
}

export interface SyncGroupDraft {
  name: string;
  file: string;
  line: number;
  iname: string[] | null;
  members: VrrpDraft[];
  trackIfs: { ifp: string; weight: number; reverse: boolean }[];
  trackScripts: { scr: VrrpScriptDraft; weight: number; reverse: boolean }[];
  trackFiles: TrackRefDraft[];
  trackProcesses: TrackRefDraft[];
  trackBfds: TrackRefDraft[];
  notify: { master?: ScriptCommand; backup?: ScriptCommand; fault?: ScriptCommand; stop?: ScriptCommand; generic?: ScriptCommand };
  smtpAlert: number;
  trackingWeight: boolean;
  notifyPriorityChanges: number;
  state: 'INIT' | 'MASTER' | 'BACKUP' | 'FAULT';
}

export type Unset = undefined;

export interface VrrpDraft {
  name: string;
  file: string;
  line: number;
  family?: 'inet' | 'inet6';
  wantstate: 'INIT' | 'MASTER' | 'BACKUP';
  ifp?: HostInterface;
  /** name as written (interface keyword), also when the interface is unknown */
  ifname?: string;
  vrfIfp?: HostInterface;
  vrid: number;
  basePriority: number;
  adverIntUs: number;
  version: 0 | 2 | 3;
  nopreempt: boolean;
  preemptDelayUs: number;
  dontTrackPrimary: boolean;
  trackIfs: { ifp: string; weight: number; reverse: boolean }[];
  trackScripts: { scr: VrrpScriptDraft; weight: number; reverse: boolean }[];
  trackFiles: TrackRefDraft[];
  trackProcesses: TrackRefDraft[];
  trackBfds: TrackRefDraft[];
  saddr?: IpAddr;
  saddrFromConfig: boolean;
  trackSaddr: boolean;
  mcastDaddr?: IpAddr;
  unicastConfigured: boolean;
  unicast: boolean;
  unicastFaultNoPeers: boolean;
  unicastPeers: { ip: IpAddr; minTtl: number; maxTtl: number }[];
  ttl: number;
  checkUnicastSrc: boolean;
  unicastChksumCompat?: 'auto' | 'never';
  vmac: boolean;
  vmacIfname?: string;
  vmacMac?: string;
  vmacMacSpecified: boolean;
  vmacMacUseVrid: boolean;
  vmacAddr: boolean;
  vmacXmitBase: boolean;
  ipvlan: boolean;
  ipvlanAddr?: IpAddr;
  ipvlanType: 'bridge' | 'private' | 'vepa';
  vips: VirtualIpAddress[];
  evips: VirtualIpAddress[];
  promoteSecondaries: boolean;
  vroutes: RouteEntry[];
  vrules: RuleEntry[];
  accept?: boolean;
  skipCheckAdvAddr: boolean;
  strictMode?: boolean;
  authType?: 'PASS' | 'AH';
  authPass?: string;
  notify: {
    master?: ScriptCommand;
    backup?: ScriptCommand;
    fault?: ScriptCommand;
    stop?: ScriptCommand;
    deleted?: ScriptCommand;
    generic?: ScriptCommand;
    masterRxLowerPri?: ScriptCommand;
  };
  notifyDeleted: boolean;
  notifyPriorityChanges: number;
  smtpAlert: number;
  garpDelayS: number;
  garpRep: number;
  garpRefreshS: number;
  garpRefreshRep: number;
  garpLowerPrioDelayS?: number;
  garpLowerPrioRep?: number;
  vmacGarpIntvlS?: number;
  vmacGarpAllIf: boolean;
  downTimerAdverts: number;
  lowerPrioNoAdvert?: boolean;
  higherPrioSendAdvert?: boolean;
  kernelRxBufSize?: number;
  linkbeatUsePolling: boolean;
  debug?: number;
  sync?: SyncGroupDraft;
  configFaults: string[];
}

export interface VrrpData {
  scripts: VrrpScriptDraft[];
  trackProcesses: TrackProcessDraft[];
  trackFiles: TrackFile[];
  syncGroups: SyncGroupDraft[];
  instances: VrrpDraft[];
  /** name → instance, for keepalived's by-name lookups in O(1) */
  byName: Map<string, VrrpDraft>;
  staticAddresses: VirtualIpAddress[];
  staticRoutes: RouteEntry[];
  staticRules: RuleEntry[];
  staticTrackGroups: (StaticTrackGroup & { iname: string[] | null })[];
  garpGroups: GarpGroup[];
  linkbeat: { interface: string; type?: 'MII' | 'ETHTOOL' | 'IOCTL' }[];
  ifDelays: InterfaceDelay[];
  /** bfd_instance names the VRRP process knows (bfd_vrrp_handler) */
  trackBfds: { name: string; weight: number; reverse: boolean }[];
  nextRulePrio4: number;
  nextRulePrio6: number;
}

export interface ConnDraft {
  dst?: IpAddr;
  dstPort?: number;
  bindto?: IpAddr;
  bindPort?: number;
  bindIf?: string;
  fwmark?: number;
  connectTimeoutUs?: number;
}

export interface CheckerDraft {
  type: 'TCP_CHECK' | 'HTTP_GET' | 'SSL_GET' | 'SMTP_CHECK' | 'DNS_CHECK' | 'MISC_CHECK' | 'UDP_CHECK' | 'PING_CHECK' | 'FILE_CHECK' | 'BFD_CHECK';
  file: string;
  line: number;
  co?: ConnDraft;
  alpha?: boolean;
  logAllFailures: boolean;
  retry?: number;
  delayBeforeRetryUs?: number;
  warmupUs?: number;
  delayLoopUs?: number;
  defaultRetry: number;
  defaultDelayBeforeRetryUs: number;
  // per type
  http?: {
    urls: { path?: string; digest?: string; statusCodes: Set<number>; virtualhost?: string; regex?: string; regexNoMatch: boolean; regexOptions: string[]; regexMinOffset?: number; regexMaxOffset?: number; regexStack?: [number, number] }[];
    virtualhost?: string;
    httpProtocol: '1.0' | '1.0C' | '1.1';
    enableSni: boolean;
    fastRecovery: boolean;
  };
  smtp?: { heloName?: string; hosts: ConnDraft[] };
  dns?: { type: string; name?: string };
  misc?: { script?: ScriptCommand; timeoutS?: number; dynamic: boolean; userSet: boolean; ids?: { uid: number; gid: number; user: string; group?: string } };
  udp?: { payload?: string; requireReply: boolean; reply?: string; minLen: number; maxLen: number };
  fileCheck?: { trackFile?: string; weight?: number; weightReverse: boolean };
  bfd?: { name?: string };
  removed?: boolean;
}

export interface RsDraft {
  file: string;
  line: number;
  addr: IpAddr;
  port: number;
  weight?: number;
  fwd?: import('../model').Forwarding;
  uthreshold?: number;
  lthreshold?: number;
  inhibit?: boolean;
  alpha?: boolean;
  retry?: number;
  delayBeforeRetryUs?: number;
  warmupUs?: number;
  connectTimeoutUs?: number;
  delayLoopUs?: number;
  smtpAlert?: boolean;
  virtualhost?: string;
  snmpName?: string;
  notifyUp?: ScriptCommand;
  notifyDown?: ScriptCommand;
  checkers: CheckerDraft[];
  trackedBfds: string[];
}

export interface VsDraft {
  file: string;
  line: number;
  vsgname?: string;
  fwmark?: number;
  addr?: IpAddr;
  port: number;
  af?: 'inet' | 'inet6';
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  sched?: import('../model').LvsScheduler;
  fwd?: import('../model').Forwarding;
  persistenceTimeoutS: number;
  persistenceGranularity?: string;
  persistenceEngine?: string;
  flags: string[];
  connectTimeoutUs: number;
  delayLoopUs: number;
  retry?: number;
  delayBeforeRetryUs?: number;
  warmupUs?: number;
  inhibit: boolean;
  alpha: boolean;
  omega: boolean;
  quorum: number;
  hysteresis: number;
  quorumUp?: ScriptCommand;
  quorumDown?: ScriptCommand;
  ssvr?: { addr: IpAddr; port: number; inhibit: boolean; fwd?: import('../model').Forwarding };
  haSuspend: boolean;
  virtualhost?: string;
  smtpAlert?: boolean;
  snmpName?: string;
  weight: number;
  rs: RsDraft[];
  vsg?: VsgDraft;
  removed?: boolean;
}

export type VsgDraft = VirtualServerGroup & { haveIpv4: boolean; haveIpv6: boolean; fwmarkNoFamily: boolean };

export interface CheckData {
  ssl?: SslContext;
  vsgs: VsgDraft[];
  vss: VsDraft[];
  trackFiles: TrackFile[];
  /** bfd_instance names the checker process knows (bfd_checker_handler) */
  trackBfds: string[];
}

export type BfdDraft = BfdInstance & { removed?: boolean; nbr?: IpAddr; src?: IpAddr; ttlSet?: boolean };

export interface BfdData {
  instances: BfdDraft[];
}

export interface Ctx {
  rep: Reporter;
  host: HostEnv;
  users: ScriptUsers;
  d: Dispatcher;
  prog: Prog;
  g: GlobalDraft;
  vrrp: VrrpData;
  check: CheckData;
  bfd: BfdData;
  /** vrrp_daemon.c non_existent_interface_specified */
  nonExistentInterface: boolean;
  haveVrrpConfig: boolean;
  haveCheckerConfig: boolean;
  haveBfdConfig: boolean;
  /**
   * The first keyword line that was read as part of a block whose object was
   * never created — a block keyword refused (`vrrp_instance` without a name,
   * a virtual_server with a bad address, ...) and no '{' after it, so its
   * lines are dispatched anyway. keepalived 2.2.7 then works on
   * list_last_entry() of an empty list, an invalid pointer: `-t` may crash or
   * carry on. We carry on with a throw-away object (so later errors, such as
   * a missing parameter, are found as keepalived finds them) and refuse.
   */
  orphan?: { what: string; word: string; file: string; line: number };
}

/** The throw-away object for a block with no object (see Ctx.orphan); records the first use. */
export function orphanOf<T>(ctx: Ctx, what: string, draft: T): T {
  ctx.orphan ??= { what, word: ctx.d.current?.tokens[0] ?? '', file: ctx.rep.pos.file, line: ctx.rep.pos.line };
  return draft;
}

/** The line currently dispatched, as keepalived's raw-line reparse sees it. */
export function rawLine(ctx: Ctx, sv: StrVec): readonly string[] | null {
  const cur = ctx.d.current;
  if (cur?.raw !== undefined) {
    // keepalived re-reads buf_extern with alloc_strvec_quoted_escaped();
    // null when that fails (e.g. an unterminated quote)
    return splitQuotedEscaped(ctx.rep, cur.raw);
  }
  return cur?.tokens ?? sv.t;
}

/**
 * if_get_by_ifname(name, IF_CREATE_IF_DYNAMIC): the host interface, or — with
 * dynamic_interfaces — a placeholder with ifindex 0; otherwise undefined and
 * the VRRP process refuses to run (vrrp_daemon.c: CONFIG_BAD_IF).
 */
export function ifGetDynamic(ctx: Ctx, name: string): HostInterface | undefined {
  const i = ctx.host.interfaces().get(name);
  if (i) return i;
  if (ctx.g.dynamicInterfaces) {
    ctx.rep.log(`Configuration specifies interface ${name} which doesn't currently exist - will use if created`);
    return { name, ifindex: 0, flags: 0, hwType: 0, mtu: 1500 };
  }
  ctx.nonExistentInterface = true;
  return undefined;
}

/** if_get_by_ifname(name, IF_NO_CREATE) */
export function ifGet(ctx: Ctx, name: string): HostInterface | undefined {
  return ctx.host.interfaces().get(name);
}
