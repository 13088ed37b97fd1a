/**
 * Builders for LVS specs with keepalived 2.2.7's defaults where the caller is silent
 * (shared/research/keepalived-features.md §2.9/§2.10; check/check_data.c). from-config.ts
 * uses the resolution helpers; tests and embedders use the builders directly.
 */
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_DELAY_LOOP_MS,
  defaultDelayBeforeRetryMs,
  defaultRetry,
  type CheckerKind,
  type CheckerTiming,
  type DnsCheckSpec,
  type HttpCheckSpec,
  type MiscCheckSpec,
  type TcpCheckSpec,
  type UrlSpec,
} from '../check/types';
import { canonicalIp, familyOf, hostPort } from './addr';
import type { ForwardingMethod, Protocol, RealServerSpec, ServiceKey, VirtualServerSpec } from './types';

/** Values a checker inherits when it does not set them (checker -> real server -> virtual server). */
export interface TimingDefaults {
  delayLoopMs?: number;
  retry?: number;
  delayBeforeRetryMs?: number;
  warmupMs?: number;
  alpha?: boolean;
  logAllFailures?: boolean;
  connectTimeoutMs?: number;
}

/** keepalived validate_check_config: retry/delay_before_retry from the type, warmup = delay_loop. */
export function resolveTiming(kind: CheckerKind, d: TimingDefaults): CheckerTiming {
  const delayLoopMs = d.delayLoopMs ?? DEFAULT_DELAY_LOOP_MS;
  return {
    delayLoopMs,
    retry: d.retry ?? defaultRetry(kind),
    delayBeforeRetryMs: d.delayBeforeRetryMs ?? defaultDelayBeforeRetryMs(kind) ?? delayLoopMs,
    warmupMs: d.warmupMs ?? delayLoopMs,
    alpha: d.alpha ?? false,
    logAllFailures: d.logAllFailures ?? false,
  };
}

type Target = { address: string; port: number };
type ConnOverrides = { connectIp?: string; connectPort?: number; bindto?: string; bindPort?: number; bindIf?: string; fwmark?: number };

function conn(rs: Target, o: ConnOverrides & TimingDefaults) {
  return {
    connectIp: o.connectIp ?? rs.address,
    connectPort: o.connectPort ?? rs.port,
    ...(o.bindto ? { bindto: o.bindto } : {}),
    ...(o.bindPort ? { bindPort: o.bindPort } : {}),
    ...(o.bindIf ? { bindIf: o.bindIf } : {}),
    ...(o.fwmark ? { fwmark: o.fwmark } : {}),
    connectTimeoutMs: o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
  };
}

export function tcpCheck(rs: Target, o: ConnOverrides & TimingDefaults = {}): TcpCheckSpec {
  return { kind: 'TCP_CHECK', ...resolveTiming('TCP_CHECK', o), ...conn(rs, o) };
}

export function url(path: string, o: Partial<UrlSpec> = {}): UrlSpec {
  return { path, statusCodes: [[200, 299]], ...o };
}

export function httpCheck(
  rs: Target,
  urls: UrlSpec[],
  o: ConnOverrides & TimingDefaults & { ssl?: boolean; httpProtocol?: HttpCheckSpec['httpProtocol']; virtualhost?: string; enableSni?: boolean; fastRecovery?: boolean; tls?: HttpCheckSpec['tls'] } = {},
): HttpCheckSpec {
  const kind = o.ssl ? 'SSL_GET' : 'HTTP_GET';
  return {
    kind,
    ...resolveTiming(kind, o),
    ...conn(rs, o),
    httpProtocol: o.httpProtocol ?? '1.0',
    ...(o.virtualhost ? { virtualhost: o.virtualhost } : {}),
    enableSni: o.enableSni ?? false,
    urls,
    fastRecovery: o.fastRecovery ?? false,
    ...(o.tls ? { tls: o.tls } : {}),
  };
}

export function dnsCheck(rs: Target, o: ConnOverrides & TimingDefaults & { type?: DnsCheckSpec['type']; name?: string } = {}): DnsCheckSpec {
  return { kind: 'DNS_CHECK', ...resolveTiming('DNS_CHECK', o), ...conn(rs, o), type: o.type ?? 'SOA', name: o.name ?? '.' };
}

export function miscCheck(path: string, o: TimingDefaults & { timeoutMs?: number; dynamic?: boolean; user?: string; group?: string; vsDelayLoopMs?: number } = {}): MiscCheckSpec {
  const t = resolveTiming('MISC_CHECK', o);
  return {
    kind: 'MISC_CHECK',
    ...t,
    path,
    // keepalived check_misc.c: misc_timeout defaults to the *virtual server's* delay_loop
    timeoutMs: o.timeoutMs ?? o.vsDelayLoopMs ?? t.delayLoopMs,
    dynamic: o.dynamic ?? false,
    ...(o.user ? { user: o.user } : {}),
    ...(o.group ? { group: o.group } : {}),
  };
}

export function realServer(address: string, port: number, o: Partial<RealServerSpec> = {}): RealServerSpec {
  return {
    address: canonicalIp(address),
    port,
    weight: 1,
    forwarding: 'NAT',
    upperThreshold: 0,
    lowerThreshold: 0,
    inhibitOnFailure: false,
    checkers: [],
    ...o,
  };
}

export type VsTarget =
  | { address: string; port: number; protocol?: Protocol }
  | { fwmark: number; family?: 'inet' | 'inet6'; protocol?: Protocol }
  | { group: string; endpoints: ServiceKey[]; protocol?: Protocol; family?: 'inet' | 'inet6' };

/** A virtual server with keepalived's defaults: wlc, NAT, TCP here (keepalived's parser
 * default is UDP with a config error when protocol is missing; we make callers say it). */
export function virtualServer(t: VsTarget, o: Partial<Omit<VirtualServerSpec, 'name' | 'endpoints' | 'family'>> & { forwarding?: ForwardingMethod } = {}): VirtualServerSpec {
  const protocol = t.protocol ?? o.protocol ?? 'TCP';
  let name: string;
  let family: 'inet' | 'inet6';
  let endpoints: ServiceKey[];
  let extra: Partial<VirtualServerSpec> = {};
  if ('fwmark' in t) {
    family = t.family ?? 'inet';
    name = `fwmark:${t.fwmark}`;
    endpoints = [{ family, fwmark: t.fwmark, protocol: null, address: '', port: 0 }];
    extra = { fwmark: t.fwmark };
  } else if ('group' in t) {
    family = t.family ?? t.endpoints[0]?.family ?? 'inet';
    name = `group:${t.group}`;
    endpoints = t.endpoints.map((e) => (e.fwmark ? { ...e, protocol: null, address: '', port: 0 } : { ...e, protocol, address: canonicalIp(e.address) }));
    extra = { group: t.group };
  } else {
    family = familyOf(t.address) ?? 'inet';
    const a = canonicalIp(t.address);
    name = hostPort(a, t.port);
    endpoints = [{ family, fwmark: 0, protocol, address: a, port: t.port }];
  }
  return {
    scheduler: 'wlc',
    flags: 0,
    persistenceTimeout: 0,
    persistenceGranularity: null,
    peName: '',
    quorum: 1,
    hysteresis: 0,
    sorryServerInhibit: false,
    omega: false,
    haSuspend: false,
    realServers: [],
    forwarding: 'NAT',
    ...o,
    ...extra,
    protocol,
    name,
    family,
    endpoints,
  };
}
