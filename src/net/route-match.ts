/**
 * Pure helpers over RouteSpec / RuleSpec (./types): identity keys for "is this route the
 * same one" (keepalived 2.2.7 vrrp_iproute.c route_exist, vrrp_iprule.c rule_exist) and the
 * matching of kernel route/rule events to configured entries (core/keepalived_netlink.c
 * route_is_ours, compare_rule). No I/O.
 */
import type { RouteInfo, RouteSpec, RuleInfo, RuleSpec } from './types';
import { formatIp, parseIpv4, parseIpv6 } from './addr';

/** rtm_protocol keepalived marks its routes with; its monitor ignores every other route */
export const RTPROT_KEEPALIVED = 18;
/** IP6_RT_PRIO_USER: the metric the kernel gives an IPv6 route added without one */
const IP6_RT_PRIO_USER = 1024;
const FR_ACT: Record<RuleSpec['action'], number> = { table: 1, goto: 2, nop: 3, blackhole: 6, unreachable: 7, prohibit: 8 };

function canon(a: string | undefined): string | undefined {
  if (a === undefined) return undefined;
  const b = parseIpv4(a) ?? parseIpv6(a);
  return b ? formatIp(b) : a;
}

/**
 * The identity of a route: what keepalived's route_exist() compares (destination, tos,
 * metric, table, scope, type, via, oif, nexthops; plus the IPv6 source prefix). Two specs
 * with the same key are the same kernel route; other attributes are replaced in place.
 */
export function routeKey(r: RouteSpec): string {
  return JSON.stringify([
    r.family,
    canon(r.dst),
    r.prefix,
    canon(r.from) ?? null,
    r.fromPrefix ?? null,
    r.tos ?? 0,
    r.metric ?? null,
    r.table,
    r.scope ?? null,
    r.type ?? 'unicast',
    canon(r.via) ?? null,
    r.dev ?? null,
    (r.nexthops ?? []).map((n) => [canon(n.via) ?? null, n.dev ?? null, n.weight ?? 1, !!n.onlink, n.realms ?? null]),
  ]);
}

/** Everything sent to the kernel (not the text or no_track): a kept route whose attributes changed is replaced. */
export function routeAttrsKey(r: RouteSpec): string {
  const { text: _t, noTrack: _n, ...rest } = r;
  return JSON.stringify(rest, Object.keys(rest).sort());
}

/** The identity of a rule: keepalived's rule_exist() compares every attribute. */
export function ruleKey(r: RuleSpec): string {
  const { text: _t, noTrack: _n, ...rest } = r;
  const norm = { ...rest, from: canon(rest.from), to: canon(rest.to) };
  return JSON.stringify(norm, Object.keys(norm).sort());
}

/**
 * Does a kernel route event concern this configured route? keepalived 2.2.7
 * route_is_ours(): only routes with protocol RTPROT_KEEPALIVED are looked at; then table,
 * family, destination prefix, metric, tos and (when configured) the output interface.
 * Static routes are matched without metric and interface (keepalived does the same).
 *
 * Deviation: keepalived compares the metric with the configured one, 0 when none was
 * given, so an IPv6 route without "metric" (the kernel reports 1024) never matched and its
 * deletion went unnoticed; here an absent IPv6 metric means 1024.
 */
export function routeEventMatches(e: RouteInfo, r: RouteSpec, opts: { static?: boolean } = {}): boolean {
  if (e.protocol !== RTPROT_KEEPALIVED) return false;
  if (e.family !== r.family || e.table !== r.table || e.prefix !== r.prefix || e.tos !== (r.tos ?? 0)) return false;
  if (!opts.static) {
    const metric = r.metric ?? (r.family === 'ipv6' ? IP6_RT_PRIO_USER : 0);
    if (e.metric !== metric) return false;
    if (r.dev !== undefined && e.ifname !== r.dev) return false;
  }
  return canon(e.dst) === canon(r.dst);
}

/** keepalived 2.2.7 compare_rule() (the attributes RuleInfo carries). */
export function ruleEventMatches(e: RuleInfo, r: RuleSpec): boolean {
  if (e.protocol !== undefined && e.protocol !== RTPROT_KEEPALIVED) return false;
  if (e.family !== r.family) return false;
  if (r.priority !== undefined && e.priority !== r.priority) return false;
  if (e.action !== FR_ACT[r.action]) return false;
  if (r.action === 'goto' && e.goto !== r.goto) return false;
  if (r.action === 'table' && !r.l3mdev && e.table !== (r.table ?? 254)) return false;
  if (e.not !== !!r.not) return false;
  if ((r.from === undefined) !== (e.from === undefined)) return false;
  if (r.from !== undefined && (e.fromPrefix !== (r.fromPrefix ?? 0) || canon(e.from) !== canon(r.from))) return false;
  if ((r.to === undefined) !== (e.to === undefined)) return false;
  if (r.to !== undefined && (e.toPrefix !== (r.toPrefix ?? 0) || canon(e.to) !== canon(r.to))) return false;
  if (e.tos !== (r.tos ?? 0)) return false;
  if (e.fwmark !== r.fwmark) return false;
  if (r.fwmask !== undefined && e.fwmask !== r.fwmask) return false;
  if (e.iif !== r.iif || e.oif !== r.oif) return false;
  return true;
}

/** The errno code of a netlink adapter error (NetlinkError.code, else the "…: ECODE" message tail). */
export function errorCode(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | null)?.code;
  if (typeof c === 'string') return c;
  const m = /\b(E[A-Z0-9]{2,})\b/.exec(e instanceof Error ? e.message : String(e));
  return m?.[1];
}

/**
 * Failures that leave the kernel as wanted: adding what is already there (EEXIST), or
 * deleting what is already gone (IPv4/IPv6 routes ESRCH, rules ENOENT, device gone ENODEV).
 */
export function benignRouteError(op: 'add' | 'remove', e: unknown): boolean {
  const c = errorCode(e);
  return op === 'add' ? c === 'EEXIST' : c === 'ESRCH' || c === 'ENOENT' || c === 'ENODEV' || c === 'EADDRNOTAVAIL';
}
