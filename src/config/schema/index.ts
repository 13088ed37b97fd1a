/**
 * Runs keepalived 2.2.7's four configuration passes over the lexer's tree
 * (core/main.c: parent reads global_defs; then validate_config() runs the
 * checker, VRRP and BFD readers and their post-parse checks, in that order)
 * and turns the result into the typed model with every default resolved.
 */
import type { ConfLine, ConfNode } from '../ast';
import type {
  BfdInstance,
  Checker,
  ConnectionOpts,
  GlobalDefs,
  KeepwatchConfig,
  ProcessTuning,
  RealServer,
  ScriptCommand,
  SyncGroup,
  TrackRef,
  VirtualServer,
  VrrpInstance,
  VrrpScript,
} from '../model';
import { ConfErr, MissingParameterExit, Reporter, type ConfigDiagnostic, type ExitCode } from './diag';
import { Dispatcher, flatten, type Kw } from './engine';
import { globalKeywords } from './global';
import { vrrpKeywords } from './vrrp';
import { checkKeywords, validateCheckConfig } from './check';
import { bfdKeywords } from './bfd';
import { trackFileKeywords } from './trackfile';
import { vrrpCompleteInit } from './vrrp-complete';
import { checkScriptSecure, ScriptUsers, SC_EXECUTABLE, SC_INHIBIT, SC_INSECURE, SC_ISSCRIPT, SC_NOTFOUND, SC_SYSTEM } from './scripts';
import { realHost, type HostEnv } from './host';
import type { CheckerDraft, ConnDraft, Ctx, GlobalDraft, Prog, RsDraft, VsDraft, VrrpDraft } from './ctx';

export interface BuildOptions {
  host?: HostEnv;
  /** diagnostics of the lexical layer, merged in (they count for `-t`) */
  lexical?: { severity: 'error' | 'warning'; file: string; line: number; message: string; code?: string }[];
  files?: string[];
  /**
   * the lexer's line stream (ParseResult.lines): dispatched instead of a
   * flattened `nodes`, so stray braces act as in keepalived
   */
  lines?: ConfLine[];
}

export interface BuildResult {
  config: KeepwatchConfig | null;
  diagnostics: ConfigDiagnostic[];
  exitCode: ExitCode;
}

function newGlobal(host: HostEnv): GlobalDraft {
  return {
    notificationEmail: [],
    notifyFifo: {},
    vrrpNotifyFifo: {},
    lvsNotifyFifo: {},
    netlinkRcvBufs: {},
    lvsTimeouts: {},
    vrrpGarpLowerPrioDelayUnset: true,
    vrrpGarpLowerPrioRepeatUnset: true,
    processTune: { vrrp: {}, checker: {}, bfd: {} },
    hostname: host.hostname(),
  };
}

function newCtx(rep: Reporter, host: HostEnv): Ctx {
  return {
    rep,
    host,
    users: new ScriptUsers(host, rep),
    d: undefined as unknown as Dispatcher,
    prog: 'parent',
    g: newGlobal(host),
    vrrp: {
      scripts: [],
      trackProcesses: [],
      trackFiles: [],
      syncGroups: [],
      instances: [],
      byName: new Map(),
      staticAddresses: [],
      staticRoutes: [],
      staticRules: [],
      staticTrackGroups: [],
      garpGroups: [],
      linkbeat: [],
      ifDelays: [],
      trackBfds: [],
      nextRulePrio4: 16384,
      nextRulePrio6: 16384,
    },
    check: { vsgs: [], vss: [], trackFiles: [], trackBfds: [] },
    bfd: { instances: [] },
    nonExistentInterface: false,
    haveVrrpConfig: false,
    haveCheckerConfig: false,
    haveBfdConfig: false,
  };
}

function tables(ctx: Ctx, prog: Prog): Kw[] {
  switch (prog) {
    case 'parent':
      return [...globalKeywords(ctx, true), ...vrrpKeywords(ctx, false), ...checkKeywords(ctx, false), ...bfdKeywords(ctx, 'parent', false), ...trackFileKeywords(ctx, false, () => [])];
    case 'checker':
      return [...globalKeywords(ctx, false), ...checkKeywords(ctx, true), ...vrrpKeywords(ctx, false), ...bfdKeywords(ctx, 'checker', true), ...trackFileKeywords(ctx, true, () => ctx.check.trackFiles)];
    case 'vrrp':
      return [...globalKeywords(ctx, false), ...vrrpKeywords(ctx, true), ...checkKeywords(ctx, false), ...bfdKeywords(ctx, 'vrrp', true), ...trackFileKeywords(ctx, true, () => ctx.vrrp.trackFiles)];
    case 'bfd':
      return [...globalKeywords(ctx, false), ...bfdKeywords(ctx, 'bfd', true), ...checkKeywords(ctx, false), ...vrrpKeywords(ctx, false), ...trackFileKeywords(ctx, false, () => [])];
  }
}

/** Build the model from the lexer's nodes, as `keepalived -t` would judge them. */
export function buildConfig(nodes: ConfNode[], opts: BuildOptions = {}): BuildResult {
  const host = opts.host ?? realHost();
  const rep = new Reporter();
  let fileError = false;
  for (const d of opts.lexical ?? []) {
    if (d.code === 'FILE_ERROR') {
      fileError = true;
      rep.error(ConfErr.FILE_NOT_FOUND, d.message, d);
      continue;
    }
    // The lexer's messages are keepalived report_config_error()s (unmatched
    // quotes, extra '}', missing include files ...); class GENERAL unless the
    // lexer says otherwise.
    if (d.code === 'LOG') {
      rep.log(d.message, d);
      continue;
    }
    const cls = d.code && d.code.startsWith('CONFIG_') ? (ConfErr[d.code.slice(7) as keyof typeof ConfErr] ?? ConfErr.GENERAL_ERROR) : d.severity === 'error' ? ConfErr.GENERAL_ERROR : ConfErr.OK;
    if (cls === ConfErr.OK) rep.log(d.message, d);
    else rep.error(cls, d.message, d);
  }
  const lines = opts.lines ?? flatten(nodes);
  const ctx = newCtx(rep, host);
  let ok = true;
  try {
    for (const prog of ['parent', 'checker', 'vrrp', 'bfd'] as Prog[]) {
      ctx.prog = prog;
      ctx.d = new Dispatcher(lines, rep);
      ctx.d.run(tables(ctx, prog));
      if (prog === 'parent' && fileError) {
        // core/main.c: had_config_file_error() → exit(KEEPALIVED_EXIT_NO_CONFIG)
        return { config: null, diagnostics: rep.diagnostics, exitCode: 6 };
      }
      if (prog === 'parent') startStopScriptSecurity(ctx);
      else if (prog === 'checker') validateCheckConfig(ctx);
      else if (prog === 'vrrp') {
        if (ctx.nonExistentInterface) {
          rep.error(ConfErr.BAD_IF, 'Non-existent interface specified in configuration', { file: lines[0]?.file ?? '', line: 0 });
          ok = false;
        } else if (!vrrpCompleteInit(ctx)) ok = false;
      }
    }
  } catch (e) {
    if (e instanceof MissingParameterExit) return { config: null, diagnostics: rep.diagnostics, exitCode: 2 };
    // A bug of ours must not take the daemon down: report it and refuse.
    rep.refuse(ConfErr.FATAL, `internal error while checking the configuration: ${e instanceof Error ? e.message : String(e)}`, rep.pos);
    return { config: null, diagnostics: rep.diagnostics, exitCode: 1 };
  }
  if (ctx.orphan) {
    const o = ctx.orphan;
    rep.refuse(
      ConfErr.FATAL,
      `'${o.word}' is read as part of a ${o.what} but no ${o.what} was created (keepalived 2.2.7 works on an invalid pointer here and may crash)`,
      o,
    );
    ok = false;
  }
  const exitCode = rep.exitCode();
  if (!ok || rep.hasFatal()) return { config: null, diagnostics: rep.diagnostics, exitCode };
  return { config: finalize(ctx, opts.files ?? [...new Set(lines.map((l) => l.file))]), diagnostics: rep.diagnostics, exitCode };
}

/** core/main.c: startup/shutdown scripts are checked by the parent */
function startStopScriptSecurity(ctx: Ctx): void {
  const { g, host, rep } = ctx;
  if (!g.startupScript && !g.shutdownScript) return;
  let flags = 0;
  for (const s of [g.startupScript, g.shutdownScript]) {
    if (!s) continue;
    const f = checkScriptSecure(host, rep, s, ctx.users.scriptSecurity);
    flags |= f;
    if (f & (SC_INHIBIT | SC_NOTFOUND) || !(f & (SC_EXECUTABLE | SC_SYSTEM))) s.disabled = f & SC_INHIBIT ? 'insecure' : f & SC_NOTFOUND ? 'not_found' : 'not_executable';
  }
  if (!ctx.users.scriptSecurity && flags & SC_ISSCRIPT)
    rep.error(ConfErr.SECURITY_ERROR, `SECURITY VIOLATION - start/shutdown scripts are being executed but script_security not enabled.${flags & SC_INSECURE ? ' There are insecure scripts.' : ''}`);
}

// ------------------------------------------------------------------ finalize

const us2ms = (us: number): number => us / 1000;

function tune(t: GlobalDraft['processTune']['vrrp']): ProcessTuning {
  return { priority: t.priority, noSwap: t.noSwap ?? false, rtPriority: t.rtPriority, cpuAffinity: t.cpuAffinity, rlimitRttimeUs: t.rlimitRttimeUs ?? 10000 };
}

function finalGlobal(g: GlobalDraft): GlobalDefs {
  return {
    routerId: g.routerId ?? g.hostname,
    notificationEmail: g.notificationEmail,
    notificationEmailFrom: g.notificationEmailFrom,
    smtpServer: g.smtpServer,
    smtpHeloName: g.smtpHeloName ?? (g.smtpServer ? g.hostname : undefined),
    smtpConnectTimeoutS: g.smtpConnectTimeoutS ?? 30,
    smtpAlert: g.smtpAlert,
    smtpAlertVrrp: g.smtpAlertVrrp,
    smtpAlertChecker: g.smtpAlertChecker,
    noEmailFaults: g.noEmailFaults ?? false,
    checkerLogAllFailures: g.checkerLogAllFailures ?? false,
    noCheckerEmails: g.noCheckerEmails ?? false,
    rsInitNotifies: g.rsInitNotifies ?? false,
    vrrpMcastGroup4: g.vrrpMcastGroup4 ?? '224.0.0.18',
    vrrpMcastGroup6: g.vrrpMcastGroup6 ?? 'ff02::12',
    vrrpVersion: g.vrrpVersion ?? 2,
    vrrpGarpMasterDelayS: g.vrrpGarpMasterDelayS ?? 5,
    vrrpGarpMasterRepeat: g.vrrpGarpMasterRepeat ?? 5,
    vrrpGarpMasterRefreshS: g.vrrpGarpMasterRefreshS ?? 0,
    vrrpGarpMasterRefreshRepeat: g.vrrpGarpMasterRefreshRepeat ?? 1,
    vrrpGarpLowerPrioDelayS: g.vrrpGarpLowerPrioDelayUnset ? (g.vrrpGarpMasterDelayS ?? 5) : (g.vrrpGarpLowerPrioDelayS ?? 5),
    vrrpGarpLowerPrioRepeat: g.vrrpGarpLowerPrioRepeatUnset ? (g.vrrpGarpMasterRepeat ?? 5) : (g.vrrpGarpLowerPrioRepeat ?? 5),
    vrrpGarpIntervalMs: us2ms(g.vrrpGarpIntervalUs ?? 0),
    vrrpGnaIntervalMs: us2ms(g.vrrpGnaIntervalUs ?? 0),
    vrrpMinGarp: g.vrrpMinGarp ?? false,
    vrrpGarpExtraIfS: g.vrrpGarpExtraIfS ?? 0,
    vrrpGarpExtraIfAll: g.vrrpGarpExtraIfAll ?? false,
    vrrpDownTimerAdverts: g.vrrpDownTimerAdverts ?? 3,
    vrrpLowerPrioNoAdvert: g.vrrpLowerPrioNoAdvert ?? false,
    vrrpHigherPrioSendAdvert: g.vrrpHigherPrioSendAdvert ?? false,
    vrrpCheckUnicastSrc: g.vrrpCheckUnicastSrc ?? false,
    vrrpSkipCheckAdvAddr: g.vrrpSkipCheckAdvAddr ?? false,
    vrrpStrict: g.vrrpStrict ?? false,
    vrrpNotifyPriorityChanges: g.vrrpNotifyPriorityChanges ?? false,
    vrrpStartupDelayMs: us2ms(g.vrrpStartupDelayUs ?? 0),
    nftables: g.nfTable ? { table: g.nfTable, priority: g.nfPriority ?? -1, ifindex: g.nfIfindex ?? false } : undefined,
    nftablesCounters: g.nftablesCounters ?? false,
    nftablesIpvs: g.nfIpvsTable ? { table: g.nfIpvsTable, priority: g.nfIpvsPriority ?? -1, startFwmark: g.nfIpvsStartFwmark ?? 1000 } : undefined,
    vrrpIptablesRequested: g.vrrpIptablesRequested ?? false,
    disableLocalIgmp: g.disableLocalIgmp ?? false,
    vrrpRxBufsPolicy: g.vrrpRxBufsPolicy,
    vrrpRxBufsMultiplier: g.vrrpRxBufsMultiplier ?? 3,
    netlinkRcvBufs: g.netlinkRcvBufs,
    logUnknownVrids: g.logUnknownVrids ?? false,
    vmacPrefix: g.vmacPrefix,
    vmacAddrPrefix: g.vmacAddrPrefix,
    dynamicInterfaces: g.dynamicInterfaces ?? false,
    allowIfChanges: g.allowIfChanges ?? false,
    defaultInterface: g.defaultInterface ?? 'eth0',
    linkbeatUsePolling: g.linkbeatUsePolling ?? false,
    vrrpProcess: tune(g.processTune.vrrp),
    checkerProcess: tune(g.processTune.checker),
    bfdProcess: tune(g.processTune.bfd),
    maxAutoPriority: g.maxAutoPriority ?? 0,
    minAutoPriorityDelayUs: g.minAutoPriorityDelayUs ?? 1000000,
    scriptUser: g.scriptUser,
    enableScriptSecurity: g.enableScriptSecurity ?? false,
    notifyFifo: g.notifyFifo,
    vrrpNotifyFifo: g.vrrpNotifyFifo,
    lvsNotifyFifo: g.lvsNotifyFifo,
    fifoWriteVrrpStatesOnReload: g.fifoWriteVrrpStatesOnReload ?? false,
    startupScript: g.startupScript,
    startupScriptTimeoutS: g.startupScriptTimeoutS ?? 10,
    shutdownScript: g.shutdownScript,
    shutdownScriptTimeoutS: g.shutdownScriptTimeoutS ?? 10,
    snmpSocket: g.snmpSocket,
    enableSnmpVrrp: g.enableSnmpVrrp ?? false,
    enableSnmpChecker: g.enableSnmpChecker ?? false,
    enableSnmpRfcv2: g.enableSnmpRfcv2 ?? false,
    enableSnmpRfcv3: g.enableSnmpRfcv3 ?? false,
    enableTraps: g.enableTraps ?? false,
    enableDbus: g.enableDbus ?? false,
    dbusServiceName: g.dbusServiceName,
    lvsSyncDaemon: g.lvsSyncDaemon,
    lvsTimeouts: g.lvsTimeouts,
    lvsFlush: g.lvsFlush ?? false,
    lvsFlushOnStop: g.lvsFlushOnStop ?? 'none',
    netNamespace: g.netNamespace,
    netNamespaceIpvs: g.netNamespaceIpvs,
    namespaceWithIpsets: g.namespaceWithIpsets ?? false,
    usePidDir: g.usePidDir ?? false,
    instance: g.instance,
    childWaitTimeS: g.childWaitTimeS ?? 5,
    processName: g.processName,
    vrrpProcessName: g.vrrpProcessName,
    checkerProcessName: g.checkerProcessName,
    bfdProcessName: g.bfdProcessName,
    umask: g.umask,
    randomSeed: g.randomSeed,
    reloadCheckConfig: g.reloadCheckConfig,
    reloadTimeFile: g.reloadTimeFile,
    reloadRepeat: g.reloadRepeat ?? false,
    reloadFile: g.reloadFile,
    includeCheck: g.includeCheck,
    configSaveDir: g.configSaveDir,
    tmpConfigDirectory: g.tmpConfigDirectory,
    dataUseInstance: g.dataUseInstance ?? false,
  };
}

const tref = (t: { name: string; weight: number; reverse: boolean }): TrackRef => ({ name: t.name, weight: t.weight, reverse: t.reverse });
const live = (s: ScriptCommand | undefined): ScriptCommand | undefined => s;

function finalInstance(v: VrrpDraft): VrrpInstance {
  return {
    name: v.name,
    file: v.file,
    line: v.line,
    state: v.wantstate === 'MASTER' ? 'MASTER' : 'BACKUP',
    interface: v.ifname,
    vrf: v.vrfIfp?.name,
    vrid: v.vrid,
    priority: v.basePriority,
    advertIntMs: v.adverIntUs / 1000,
    version: (v.version || 2) as 2 | 3,
    family: v.family ?? 'inet',
    nopreempt: v.nopreempt,
    preemptDelayMs: v.preemptDelayUs / 1000,
    dontTrackPrimary: v.dontTrackPrimary,
    trackInterfaces: v.trackIfs.map((t) => ({ name: t.ifp, weight: t.weight, reverse: t.reverse })),
    trackScripts: v.trackScripts.map((t) => ({ name: t.scr.name, weight: t.weight, reverse: t.reverse })),
    trackFiles: v.trackFiles.map(tref),
    trackProcesses: v.trackProcesses.map(tref),
    trackBfds: v.trackBfds.map(tref),
    srcIp: v.saddrFromConfig ? v.saddr?.text : undefined,
    trackSrcIp: v.trackSaddr,
    mcastDstIp: v.mcastDaddr?.text,
    unicast: v.unicast,
    unicastPeers: v.unicastPeers.map((p) => ({ address: p.ip.text, minTtl: p.minTtl, maxTtl: p.maxTtl })),
    unicastFaultNoPeer: v.unicastFaultNoPeers,
    unicastTtl: v.ttl >= 0 ? v.ttl : undefined,
    checkUnicastSrc: v.checkUnicastSrc,
    oldUnicastChecksum: v.unicastChksumCompat,
    useVmac: v.vmac ? { ifname: v.vmacIfname, mac: v.vmacMac } : undefined,
    useVmacAddr: v.vmacAddr,
    vmacXmitBase: v.vmacXmitBase,
    useIpvlan: v.ipvlan ? { ifname: v.vmacIfname, address: v.ipvlanAddr?.text, mode: v.ipvlanType } : undefined,
    virtualIpaddresses: v.vips,
    virtualIpaddressesExcluded: v.evips,
    promoteSecondaries: v.promoteSecondaries,
    virtualRoutes: v.vroutes,
    virtualRules: v.vrules,
    accept: v.accept ?? true,
    skipCheckAdvAddr: v.skipCheckAdvAddr,
    strictMode: v.strictMode ?? false,
    authentication: v.authType && v.authPass ? { type: v.authType, pass: v.authPass } : undefined,
    notify: {
      master: live(v.notify.master),
      backup: live(v.notify.backup),
      fault: live(v.notify.fault),
      stop: live(v.notify.stop),
      generic: live(v.notify.generic),
      masterRxLowerPri: live(v.notify.masterRxLowerPri),
      deleted: v.notifyDeleted ? (v.notify.deleted ?? true) : undefined,
    },
    notifyPriorityChanges: v.notifyPriorityChanges === 1,
    smtpAlert: v.smtpAlert === 1,
    garpMasterDelayS: v.garpDelayS,
    garpMasterRepeat: v.garpRep,
    garpMasterRefreshS: v.garpRefreshS,
    garpMasterRefreshRepeat: v.garpRefreshRep,
    garpLowerPrioDelayS: v.garpLowerPrioDelayS ?? 0,
    garpLowerPrioRepeat: v.garpLowerPrioRep ?? 0,
    garpExtraIfS: v.vmacGarpIntvlS ?? 0,
    garpExtraIfAll: v.vmacGarpAllIf,
    downTimerAdverts: v.downTimerAdverts,
    lowerPrioNoAdvert: v.lowerPrioNoAdvert ?? false,
    higherPrioSendAdvert: v.higherPrioSendAdvert ?? false,
    kernelRxBufSize: v.kernelRxBufSize,
    linkbeatUsePolling: v.linkbeatUsePolling,
    debug: v.debug,
    syncGroup: v.sync?.name,
    configFault: v.configFaults.length ? v.configFaults.join('; ') : undefined,
  };
}

function conn(c: ConnDraft | undefined, rs: RsDraft): ConnectionOpts {
  return {
    connectIp: c?.dst && c.dst.text !== rs.addr.text ? c.dst.text : undefined,
    connectPort: c?.dstPort,
    bindTo: c?.bindto?.text,
    bindPort: c?.bindPort,
    bindIf: c?.bindIf,
    fwmark: c?.fwmark,
    connectTimeoutMs: us2ms(c?.connectTimeoutUs ?? rs.connectTimeoutUs ?? 5000000),
  };
}

function finalChecker(c: CheckerDraft, rs: RsDraft): Checker {
  const src = { file: c.file, line: c.line };
  if (c.type === 'FILE_CHECK') return { ...src, type: 'FILE_CHECK', trackFile: c.fileCheck!.trackFile!, weight: c.fileCheck!.weight ?? 0, weightReverse: c.fileCheck!.weightReverse };
  const delayLoopUs = c.delayLoopUs ?? rs.delayLoopUs ?? 60000000;
  const timing = {
    retry: c.retry ?? rs.retry ?? c.defaultRetry,
    delayLoopMs: us2ms(delayLoopUs),
    warmupMs: us2ms(c.warmupUs ?? rs.warmupUs ?? delayLoopUs),
    delayBeforeRetryMs: us2ms(c.delayBeforeRetryUs ?? rs.delayBeforeRetryUs ?? (c.defaultDelayBeforeRetryUs || delayLoopUs)),
    alpha: c.alpha ?? rs.alpha ?? false,
    logAllFailures: c.logAllFailures,
  };
  if (c.type === 'BFD_CHECK') return { ...src, type: 'BFD_CHECK', name: c.bfd!.name!, alpha: timing.alpha };
  switch (c.type) {
    case 'TCP_CHECK':
    case 'PING_CHECK':
      return { ...src, ...timing, type: c.type, connection: conn(c.co, rs) };
    case 'HTTP_GET':
    case 'SSL_GET':
      return {
        ...src,
        ...timing,
        type: c.type,
        connection: conn(c.co, rs),
        urls: c.http!.urls.map((u) => ({
          path: u.path!,
          digest: u.digest,
          statusCodes: [...u.statusCodes].sort((a, b) => a - b),
          virtualhost: u.virtualhost,
          regex: u.regex,
          regexNoMatch: u.regexNoMatch,
          regexOptions: u.regexOptions,
          regexMinOffset: u.regexMinOffset,
          regexMaxOffset: u.regexMaxOffset,
          regexStack: u.regexStack,
        })),
        virtualhost: c.http!.virtualhost ?? rs.virtualhost,
        httpProtocol: c.http!.httpProtocol,
        enableSni: c.http!.enableSni,
        fastRecovery: c.http!.fastRecovery,
      };
    case 'SMTP_CHECK':
      return { ...src, ...timing, type: 'SMTP_CHECK', connection: conn(c.co, rs), heloName: c.smtp!.heloName ?? 'smtpchecker.keepalived.org', hosts: c.smtp!.hosts.map((h) => conn(h, rs)) };
    case 'DNS_CHECK':
      return { ...src, ...timing, type: 'DNS_CHECK', connection: conn(c.co, rs), queryType: c.dns!.type, name: c.dns!.name ?? '' };
    case 'MISC_CHECK':
      return { ...src, ...timing, type: 'MISC_CHECK', script: c.misc!.script!, timeoutMs: c.misc!.timeoutS !== undefined ? c.misc!.timeoutS * 1000 : us2ms(delayLoopUs), dynamic: c.misc!.dynamic };
    case 'UDP_CHECK':
      return {
        ...src,
        ...timing,
        type: 'UDP_CHECK',
        connection: conn(c.co, rs),
        payload: c.udp!.payload,
        requireReply: c.udp!.requireReply,
        replyData: c.udp!.reply,
        minReplyLength: c.udp!.minLen,
        maxReplyLength: c.udp!.maxLen,
      };
  }
}

function finalRs(rs: RsDraft): RealServer {
  return {
    file: rs.file,
    line: rs.line,
    address: rs.addr.text,
    family: rs.addr.family,
    port: rs.port,
    weight: rs.weight ?? 1,
    forwarding: rs.fwd ?? { method: 'NAT' },
    uthreshold: rs.uthreshold,
    lthreshold: rs.lthreshold,
    inhibitOnFailure: rs.inhibit ?? false,
    alpha: rs.alpha ?? false,
    retry: rs.retry,
    delayBeforeRetryMs: rs.delayBeforeRetryUs !== undefined ? us2ms(rs.delayBeforeRetryUs) : undefined,
    warmupMs: rs.warmupUs !== undefined ? us2ms(rs.warmupUs) : undefined,
    connectTimeoutMs: us2ms(rs.connectTimeoutUs ?? 5000000),
    delayLoopMs: us2ms(rs.delayLoopUs ?? 60000000),
    smtpAlert: rs.smtpAlert ?? true,
    virtualhost: rs.virtualhost,
    snmpName: rs.snmpName,
    notifyUp: rs.notifyUp,
    notifyDown: rs.notifyDown,
    checkers: rs.checkers.filter((c) => !c.removed).map((c) => finalChecker(c, rs)),
  };
}

function finalVs(vs: VsDraft): VirtualServer {
  return {
    file: vs.file,
    line: vs.line,
    kind: vs.vsgname !== undefined ? 'group' : vs.fwmark !== undefined ? 'fwmark' : 'address',
    address: vs.addr?.text,
    port: vs.addr ? vs.port : undefined,
    fwmark: vs.fwmark,
    group: vs.vsgname,
    family: vs.af ?? 'inet',
    protocol: vs.protocol,
    lbAlgo: vs.sched ?? 'wlc',
    forwarding: vs.fwd ?? { method: 'NAT' },
    persistenceTimeoutS: vs.persistenceTimeoutS,
    persistenceGranularity: vs.persistenceGranularity,
    persistenceEngine: vs.persistenceEngine,
    flags: vs.flags,
    delayLoopMs: us2ms(vs.delayLoopUs),
    connectTimeoutMs: us2ms(vs.connectTimeoutUs),
    retry: vs.retry,
    delayBeforeRetryMs: vs.delayBeforeRetryUs !== undefined ? us2ms(vs.delayBeforeRetryUs) : undefined,
    warmupMs: vs.warmupUs !== undefined ? us2ms(vs.warmupUs) : undefined,
    inhibitOnFailure: vs.inhibit,
    alpha: vs.alpha,
    omega: vs.omega,
    quorum: vs.quorum,
    hysteresis: vs.hysteresis,
    quorumUp: vs.quorumUp,
    quorumDown: vs.quorumDown,
    sorryServer: vs.ssvr ? { address: vs.ssvr.addr.text, family: vs.ssvr.addr.family, port: vs.ssvr.port, inhibit: vs.ssvr.inhibit, forwarding: vs.ssvr.fwd ?? vs.fwd ?? { method: 'NAT' } } : undefined,
    haSuspend: vs.haSuspend,
    virtualhost: vs.virtualhost,
    smtpAlert: vs.smtpAlert ?? false,
    snmpName: vs.snmpName,
    weight: vs.weight,
    realServers: vs.rs.map(finalRs),
  };
}

function finalize(ctx: Ctx, files: string[]): KeepwatchConfig {
  const V = ctx.vrrp;
  const scripts: VrrpScript[] = V.scripts
    .filter((s) => s.script)
    .map((s) => ({
      name: s.name,
      file: s.file,
      line: s.line,
      script: s.script!,
      intervalS: s.intervalS,
      timeoutS: s.timeoutS,
      weight: s.weight,
      weightReverse: s.weightReverse,
      rise: s.rise,
      fall: s.fall,
      initFail: s.initFail,
    }));
  const syncGroups: SyncGroup[] = V.syncGroups.map((sg) => ({
    name: sg.name,
    file: sg.file,
    line: sg.line,
    members: sg.members.map((m) => m.name),
    trackInterfaces: sg.trackIfs.map((t) => ({ name: t.ifp, weight: t.weight, reverse: t.reverse })),
    trackScripts: sg.trackScripts.map((t) => ({ name: t.scr.name, weight: t.weight, reverse: t.reverse })),
    trackFiles: sg.trackFiles.map(tref),
    trackProcesses: sg.trackProcesses.map(tref),
    trackBfds: sg.trackBfds.map(tref),
    notify: { ...sg.notify },
    smtpAlert: sg.smtpAlert === 1,
    syncGroupTrackingWeight: sg.trackingWeight,
    notifyPriorityChanges: sg.notifyPriorityChanges === -1 ? undefined : sg.notifyPriorityChanges === 1,
  }));
  const bfdInstances: BfdInstance[] = ctx.bfd.instances
    .filter((b) => !b.removed)
    .map((b) => {
      const w = V.trackBfds.find((t) => t.name === b.name);
      const { removed: _r, nbr: _n, src: _s, ttlSet: _t, ...rest } = b;
      void _r;
      void _n;
      void _s;
      void _t;
      return { ...rest, weight: w?.weight ?? 0, weightReverse: w?.reverse ?? false };
    });
  return {
    files,
    global: finalGlobal(ctx.g),
    scripts,
    trackFiles: V.trackFiles.length ? V.trackFiles : ctx.check.trackFiles,
    trackProcesses: V.trackProcesses.map((p) => ({
      name: p.name,
      file: p.file,
      line: p.line,
      process: p.process ?? '',
      params: p.params,
      paramMatch: p.paramMatch,
      weight: p.weight,
      weightReverse: p.weightReverse,
      quorum: p.quorum,
      quorumMax: p.quorumMax >= 4294967295 ? undefined : p.quorumMax,
      terminateDelayMs: p.terminateDelayUs / 1000,
      forkDelayMs: p.forkDelayUs / 1000,
      fullCommand: p.fullCommand,
    })),
    syncGroups,
    instances: V.instances.map(finalInstance),
    staticAddresses: V.staticAddresses,
    staticRoutes: V.staticRoutes,
    staticRules: V.staticRules,
    staticTrackGroups: V.staticTrackGroups.map((t) => ({ name: t.name, file: t.file, line: t.line, instances: t.instances.length ? t.instances : (t.iname ?? []) })),
    garpGroups: V.garpGroups,
    linkbeatInterfaces: V.linkbeat,
    interfaceUpDownDelays: V.ifDelays,
    ssl: ctx.check.ssl,
    virtualServerGroups: ctx.check.vsgs.map((g) => ({ name: g.name, file: g.file, line: g.line, entries: g.entries })),
    virtualServers: ctx.check.vss.map(finalVs),
    bfdInstances,
  };
}
