/**
 * Config model (src/config/model.ts: virtual_server_group / virtual_server / real_server /
 * checker blocks, keepalived defaults already resolved) -> LVS specs the checker engine
 * and the reconciler run, plus the global LVS options (lvs_flush, lvs_flush_on_stop,
 * lvs_timeouts).
 *
 * Port rules from keepalived 2.2.7 check_data.c validate_check_config: a NAT real server
 * without a port takes the virtual server's; DR/TUN real servers always use the virtual
 * server's port (a different one is "reset" with a warning); on fwmark services DR/TUN
 * ports are cleared to 0.
 */
import type { Checker, KeepwatchConfig, RealServer, ScriptCommand, VirtualServer, VirtualServerGroup } from '../config/model';
import type { CheckerSpec, CheckerTiming, UrlSpec } from '../check/types';
import { canonicalIp, expandRange, familyOf, hostPort, v4MaskToPrefix } from './addr';
import { SVC_FLAGS, TUN_FLAGS } from './types';
import type { IpvsTimeouts, NotifyCommand, RealServerSpec, ServiceKey, SorryServerSpec, TunnelSpec, VirtualServerSpec } from './types';

export interface LvsConfig {
  virtualServers: VirtualServerSpec[];
  flushOnStart: boolean;
  flushOnStop: 'none' | 'full' | 'vs';
  timeouts: Partial<IpvsTimeouts>;
  /** things we accept but do not do (unsupported checker types ...) */
  warnings: string[];
}

function notifyCmd(s: ScriptCommand | undefined): NotifyCommand | undefined {
  if (!s || s.disabled) return undefined;
  // keepalived resolved the uid/gid (script_user, per-script user); pass them numerically
  return { command: s.raw, user: String(s.uid), group: String(s.gid) };
}

function tunnelOf(f: VirtualServer['forwarding']): TunnelSpec | undefined {
  if (f.method !== 'TUN') return undefined;
  const t: TunnelSpec = { type: f.tunType ?? 'ipip' };
  if (f.tunPort !== undefined) t.port = f.tunPort;
  if (f.tunCsum) t.flags = f.tunCsum === 'csum' ? TUN_FLAGS.CSUM : f.tunCsum === 'remcsum' ? TUN_FLAGS.REMCSUM : TUN_FLAGS.NOCSUM;
  return t;
}

/** Expanded status list -> inclusive ranges. */
function statusRanges(codes: number[]): Array<[number, number]> {
  const s = [...new Set(codes)].sort((a, b) => a - b);
  const out: Array<[number, number]> = [];
  for (const c of s) {
    const last = out[out.length - 1];
    if (last && c === last[1] + 1) last[1] = c;
    else out.push([c, c]);
  }
  return out;
}

const FLAG_BITS: Record<string, number> = {
  ops: SVC_FLAGS.ONEPACKET,
  'sh-fallback': SVC_FLAGS.SCHED1,
  'mh-fallback': SVC_FLAGS.SCHED1,
  'flag-1': SVC_FLAGS.SCHED1,
  'sh-port': SVC_FLAGS.SCHED2,
  'mh-port': SVC_FLAGS.SCHED2,
  'flag-2': SVC_FLAGS.SCHED2,
  'flag-3': SVC_FLAGS.SCHED3,
};

function groupEndpoints(g: VirtualServerGroup, vs: VirtualServer, warnings: string[]): ServiceKey[] {
  const out: ServiceKey[] = [];
  const protocol = vs.protocol ?? 'TCP';
  for (const e of g.entries) {
    if (e.kind === 'fwmark') {
      out.push({ family: e.family ?? vs.family ?? 'inet', fwmark: e.fwmark ?? 0, protocol: null, address: '', port: 0 });
      continue;
    }
    if (!e.address) continue;
    const addrs = e.kind === 'range' && e.addressEnd ? expandRange(`${e.address}-${e.addressEnd}`, 65536) : [canonicalIp(e.address)];
    if (!addrs) {
      warnings.push(`virtual_server_group ${g.name}: cannot expand ${e.address}-${e.addressEnd}`);
      continue;
    }
    for (const a of addrs) out.push({ family: familyOf(a) ?? 'inet', fwmark: 0, protocol, address: a, port: e.port ?? 0 });
  }
  return out;
}

/** The timing every checker kind carries (already resolved by the config model), in the spec's field order. */
function checkerTiming(c: CheckerTiming): CheckerTiming {
  return {
    delayLoopMs: c.delayLoopMs,
    retry: c.retry,
    delayBeforeRetryMs: c.delayBeforeRetryMs,
    warmupMs: c.warmupMs,
    alpha: c.alpha,
    logAllFailures: c.logAllFailures,
  };
}

function checkerSpec(c: Checker, rs: { address: string; port: number }, ssl: KeepwatchConfig['ssl'], vsDelayLoopMs: number, warnings: string[], where: string): CheckerSpec | null {
  switch (c.type) {
    case 'TCP_CHECK':
    case 'HTTP_GET':
    case 'SSL_GET':
    case 'DNS_CHECK': {
      const co = c.connection;
      const base = {
        ...checkerTiming(c),
        connectIp: co.connectIp ? canonicalIp(co.connectIp) : rs.address,
        // keepalived 2.2.7 copies the real server address into the checker before it fills
        // in a missing port, so its checker would probe port 0; we use the real port
        connectPort: co.connectPort || rs.port,
        ...(co.bindTo ? { bindto: co.bindTo } : {}),
        ...(co.bindPort ? { bindPort: co.bindPort } : {}),
        ...(co.bindIf ? { bindIf: co.bindIf } : {}),
        ...(co.fwmark ? { fwmark: co.fwmark } : {}),
        connectTimeoutMs: co.connectTimeoutMs,
      };
      if (co.bindIf || co.fwmark) warnings.push(`${where}: ${c.type} bind_if/fwmark are not supported by the probes here and are ignored`);
      if (c.type === 'TCP_CHECK') return { kind: 'TCP_CHECK', ...base };
      if (c.type === 'DNS_CHECK') {
        const t = c.queryType.toUpperCase();
        const type = (['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA'] as const).find((x) => x === t) ?? 'SOA';
        return { kind: 'DNS_CHECK', ...base, type, name: c.name };
      }
      const urls: UrlSpec[] = c.urls.map((u) => ({
        path: u.path,
        ...(u.digest ? { digest: u.digest.toLowerCase() } : {}),
        statusCodes: u.statusCodes.length ? statusRanges(u.statusCodes) : [[200, 299]],
        ...(u.virtualhost ? { virtualhost: u.virtualhost } : {}),
        ...(u.regex !== undefined ? { regex: u.regex, regexNoMatch: u.regexNoMatch } : {}),
      }));
      return {
        kind: c.type,
        ...base,
        httpProtocol: c.httpProtocol,
        ...(c.virtualhost ? { virtualhost: c.virtualhost } : {}),
        enableSni: c.enableSni,
        urls,
        fastRecovery: c.fastRecovery,
        ...(c.type === 'SSL_GET' && ssl ? { tls: { ...ssl } } : {}),
      };
    }
    case 'MISC_CHECK': {
      if (c.script.disabled) {
        warnings.push(`${where}: MISC_CHECK ${c.script.raw} is disabled (${c.script.disabled})`);
        return null;
      }
      return {
        kind: 'MISC_CHECK',
        ...checkerTiming(c),
        path: c.script.raw,
        timeoutMs: c.timeoutMs || vsDelayLoopMs,
        dynamic: c.dynamic,
        user: String(c.script.uid),
        group: String(c.script.gid),
      };
    }
    default:
      warnings.push(`${where}: ${c.type} is not supported yet - ignored (the real server does not depend on it)`);
      return null;
  }
}

function rsPort(vs: VirtualServer, method: string, port: number): number {
  if (vs.kind === 'fwmark') return method === 'NAT' ? port : 0;
  if (vs.kind === 'group') return port;
  if (method === 'NAT') return port || (vs.port ?? 0);
  return vs.port ?? 0;
}

function realServerSpec(vs: VirtualServer, r: RealServer, cfg: KeepwatchConfig, warnings: string[], vsName: string): RealServerSpec {
  const address = canonicalIp(r.address);
  const port = rsPort(vs, r.forwarding.method, r.port);
  if (vs.kind === 'address' && r.forwarding.method !== 'NAT' && r.port && r.port !== vs.port) {
    warnings.push(`virtual server ${vsName} and real server ${hostPort(address, r.port)} ports don't match - resetting`);
  }
  const where = `real_server ${hostPort(address, port)} of ${vsName} (${r.file}:${r.line})`;
  const checkers = r.checkers
    .map((c) => checkerSpec(c, { address, port: port || r.port }, cfg.ssl, vs.delayLoopMs, warnings, where))
    .filter((c): c is CheckerSpec => c !== null);
  const spec: RealServerSpec = {
    address,
    port,
    weight: r.weight,
    forwarding: r.forwarding.method,
    upperThreshold: r.uthreshold ?? 0,
    lowerThreshold: r.lthreshold ?? 0,
    inhibitOnFailure: r.inhibitOnFailure,
    checkers,
    alpha: r.alpha,
    smtpAlert: r.smtpAlert,
  };
  const tun = tunnelOf(r.forwarding);
  if (tun) spec.tunnel = tun;
  const up = notifyCmd(r.notifyUp);
  const down = notifyCmd(r.notifyDown);
  if (up) spec.notifyUp = up;
  if (down) spec.notifyDown = down;
  if (r.virtualhost) spec.virtualhost = r.virtualhost;
  if (r.snmpName) spec.snmpName = r.snmpName;
  return spec;
}

function granularity(vs: VirtualServer): number | null {
  const g = vs.persistenceGranularity;
  if (g === undefined) return null;
  if (/^\d+$/.test(g)) return Number(g);
  return v4MaskToPrefix(g);
}

export function lvsFromConfig(cfg: KeepwatchConfig): LvsConfig {
  const warnings: string[] = [];
  const groups = new Map(cfg.virtualServerGroups.map((g) => [g.name, g]));
  const out: VirtualServerSpec[] = [];
  for (const vs of cfg.virtualServers) {
    let name: string;
    let endpoints: ServiceKey[];
    const protocol = vs.protocol ?? 'TCP';
    const extra: Partial<VirtualServerSpec> = {};
    if (vs.kind === 'group') {
      const g = groups.get(vs.group ?? '');
      if (!g) {
        warnings.push(`virtual server group ${vs.group} specified but not configured - ignoring virtual server (${vs.file}:${vs.line})`);
        continue;
      }
      name = `group:${g.name}`;
      endpoints = groupEndpoints(g, vs, warnings);
      extra.group = g.name;
    } else if (vs.kind === 'fwmark') {
      name = `fwmark:${vs.fwmark}`;
      endpoints = [{ family: vs.family, fwmark: vs.fwmark ?? 0, protocol: null, address: '', port: 0 }];
      extra.fwmark = vs.fwmark;
    } else {
      const a = canonicalIp(vs.address ?? '');
      name = hostPort(a, vs.port ?? 0);
      endpoints = [{ family: vs.family, fwmark: 0, protocol, address: a, port: vs.port ?? 0 }];
    }
    let flags = 0;
    for (const f of vs.flags) flags |= FLAG_BITS[f] ?? 0;
    const realServers = vs.realServers.map((r) => realServerSpec(vs, r, cfg, warnings, name));
    let sorryServer: SorryServerSpec | undefined;
    if (vs.sorryServer) {
      const ss = vs.sorryServer;
      // keepalived alloc_ssvr: weight 1, the VS forwarding method unless sorry_server_lvs_method
      sorryServer = { address: canonicalIp(ss.address), port: rsPort(vs, ss.forwarding.method, ss.port), weight: 1, forwarding: ss.forwarding.method };
      const tun = tunnelOf(ss.forwarding);
      if (tun) sorryServer.tunnel = tun;
    }
    const spec: VirtualServerSpec = {
      name,
      family: vs.family,
      endpoints,
      protocol,
      forwarding: vs.forwarding.method,
      scheduler: vs.lbAlgo,
      flags,
      persistenceTimeout: vs.persistenceTimeoutS,
      persistenceGranularity: granularity(vs),
      peName: vs.persistenceEngine ?? '',
      quorum: vs.quorum,
      hysteresis: vs.hysteresis,
      sorryServerInhibit: vs.sorryServer?.inhibit ?? false,
      omega: vs.omega,
      haSuspend: vs.haSuspend,
      realServers,
      info: {
        delayLoopMs: vs.delayLoopMs,
        connectTimeoutMs: vs.connectTimeoutMs,
        ...(vs.retry !== undefined ? { retry: vs.retry } : {}),
        ...(vs.delayBeforeRetryMs !== undefined ? { delayBeforeRetryMs: vs.delayBeforeRetryMs } : {}),
        ...(vs.warmupMs !== undefined ? { warmupMs: vs.warmupMs } : {}),
        alpha: vs.alpha,
        inhibitOnFailure: vs.inhibitOnFailure,
        weight: vs.weight,
        ...(vs.virtualhost ? { virtualhost: vs.virtualhost } : {}),
        smtpAlert: vs.smtpAlert,
        ...(vs.snmpName ? { snmpName: vs.snmpName } : {}),
      },
      ...extra,
    };
    const qu = notifyCmd(vs.quorumUp);
    const qd = notifyCmd(vs.quorumDown);
    if (qu) spec.quorumUp = qu;
    if (qd) spec.quorumDown = qd;
    if (sorryServer) spec.sorryServer = sorryServer;
    out.push(spec);
  }
  const t = cfg.global.lvsTimeouts;
  return {
    virtualServers: out,
    flushOnStart: cfg.global.lvsFlush,
    flushOnStop: cfg.global.lvsFlushOnStop,
    timeouts: { ...(t.tcpS ? { tcp: t.tcpS } : {}), ...(t.tcpfinS ? { tcpFin: t.tcpfinS } : {}), ...(t.udpS ? { udp: t.udpS } : {}) },
    warnings,
  };
}
