/**
 * virtual_ipaddress / static_ipaddress entries (vrrp/vrrp_ipaddress.c
 * alloc_ipaddress), virtual_routes / static_routes (vrrp/vrrp_iproute.c
 * alloc_route, parse_nexthops) and virtual_rules / static_rules
 * (vrrp/vrrp_iprule.c alloc_rule), with keepalived 2.2.7's messages and
 * accept/reject decisions, plus /etc/iproute2 name lookups (lib/rttables.c).
 */
import type { NextHop, RouteEntry, RuleEntry, VirtualIpAddress } from '../model';
import { ConfErr } from './diag';
import type { StrVec } from './engine';
import { readUnsigned, readUnsigned64, readDecimal, strtoul, UINT32_MAX } from './cnum';
import { formatIp, inetPton4, parseIpaddress, type IpPrefix } from './inet';
import { ifGetDynamic, ifGet, type Ctx } from './ctx';

const INFINITY_LIFE_TIME = 0xffffffff;
const RTPROT_KEEPALIVED = 18;

// ---------------------------------------------------------------- rttables

type RtEntry = { id: number; name: string };
const RTN_TYPES: RtEntry[] = [
  { id: 2, name: 'local' },
  { id: 10, name: 'nat' },
  { id: 3, name: 'broadcast' },
  { id: 3, name: 'brd' },
  { id: 4, name: 'anycast' },
  { id: 5, name: 'multicast' },
  { id: 8, name: 'prohibit' },
  { id: 7, name: 'unreachable' },
  { id: 6, name: 'blackhole' },
  { id: 11, name: 'xresolve' },
  { id: 1, name: 'unicast' },
  { id: 9, name: 'throw' },
];
const RTN_BLACKHOLE = 6;
const RTN_UNREACHABLE = 7;
const RTN_PROHIBIT = 8;
const DEFAULTS: Record<string, RtEntry[]> = {
  rt_tables: [
    { id: 253, name: 'default' },
    { id: 254, name: 'main' },
    { id: 255, name: 'local' },
  ],
  rt_protos: [
    { id: 0, name: 'none' },
    { id: 1, name: 'redirect' },
    { id: 2, name: 'kernel' },
    { id: 3, name: 'boot' },
    { id: 4, name: 'static' },
    { id: 8, name: 'gated' },
    { id: 9, name: 'ra' },
    { id: 10, name: 'mrt' },
    { id: 11, name: 'zebra' },
    { id: 12, name: 'bird' },
    { id: 42, name: 'babel' },
    { id: 13, name: 'dnrouted' },
    { id: 14, name: 'xorp' },
    { id: 15, name: 'ntk' },
    { id: 16, name: 'dhcp' },
  ],
  rt_scopes: [
    { id: 0, name: 'global' },
    { id: 255, name: 'nowhere' },
    { id: 254, name: 'host' },
    { id: 253, name: 'link' },
    { id: 200, name: 'site' },
  ],
};

const tableCache = new WeakMap<Ctx, Map<string, RtEntry[]>>();

function rtList(ctx: Ctx, file: string, max: number): RtEntry[] {
  let m = tableCache.get(ctx);
  if (!m) tableCache.set(ctx, (m = new Map()));
  const cached = m.get(file);
  if (cached) return cached;
  const list: RtEntry[] = [];
  const text = ctx.host.readIproute2(file);
  if (text) {
    for (const raw of text.split('\n')) {
      const w = raw.split(/[ \t\f\r\v]+/).filter((x) => x);
      if (w.length !== 2) continue;
      const r = strtoul(w[0], 0);
      if (w[0][0] === '-' || r.end === 0 || r.end < w[0].length || r.value > BigInt(max)) continue;
      list.push({ id: Number(r.value), name: w[1] });
    }
  }
  for (const d of DEFAULTS[file] ?? []) if (!list.some((e) => e.id === d.id)) list.push(d);
  m.set(file, list);
  return list;
}

/** lib/rttables.c find_entry(): a number (base 0) up to max, or a name */
function findEntry(ctx: Ctx, name: string, file: string, max: number): number | null {
  const r = strtoul(name, 0);
  if (r.end > 0 && r.end === name.length) return r.value <= BigInt(max) ? Number(r.value) : null;
  const e = rtList(ctx, file, max).find((x) => x.name === name);
  return e ? e.id : null;
}

export const findTable = (ctx: Ctx, s: string): number | null => findEntry(ctx, s, 'rt_tables', 0xffffffff);
export const findDsfield = (ctx: Ctx, s: string): number | null => findEntry(ctx, s, 'rt_dsfield', 255);
export const findRealm = (ctx: Ctx, s: string): number | null => findEntry(ctx, s, 'rt_realms', 255);
export const findProto = (ctx: Ctx, s: string): number | null => findEntry(ctx, s, 'rt_protos', 255);
export const findScope = (ctx: Ctx, s: string): number | null => findEntry(ctx, s, 'rt_scopes', 255);
export const findGroup = (ctx: Ctx, s: string): number | null => findEntry(ctx, s, 'group', 0x7fffffff);

export function findRtnType(s: string): number | null {
  const e = RTN_TYPES.find((x) => x.name === s);
  if (e) return e.id;
  const r = strtoul(s, 0);
  if (r.end < s.length || r.value > 255n || s[0] === '-') return null;
  return Number(r.value);
}

function rtnTypeName(id: number): string {
  return RTN_TYPES.find((x) => x.id === id)?.name ?? String(id);
}

function getRealms(ctx: Ctx, s: string): number | null {
  const slash = s.indexOf('/');
  const a = findRealm(ctx, slash >= 0 ? s.slice(0, slash) : s);
  if (a === null) return null;
  if (slash < 0) return a;
  const b = findRealm(ctx, s.slice(slash + 1));
  if (b === null) return null;
  return ((a << 16) | b) >>> 0;
}

function getU(ctx: Ctx, s: string, max: number, msg: string): number | null {
  const v = readUnsigned(ctx.rep, s, 0, max);
  if (v === null) ctx.rep.error(ConfErr.GENERAL_ERROR, msg.replace('%s', s));
  return v;
}

/** vrrp_ip_rule_route_parser.c get_time_rtt() */
function getTimeRtt(ctx: Ctx, s0: string, unitMult: number): number | null {
  const s = s0.replace(/^[ \t\f\n\r\v]+/, '');
  let raw = true;
  let shift = 0;
  let num = s;
  const p = s.search(/[sS]/);
  if (p >= 0) {
    const suf = s.slice(p).toLowerCase();
    if (suf !== 's' && suf !== 'sec' && suf !== 'secs') return null;
    raw = false;
    let q = p;
    if (q > 0 && s[q - 1].toLowerCase() === 'm') {
      shift = 0;
      q--;
    } else shift = 3;
    if (q === 0) return null;
    num = s.slice(0, q);
  }
  if (/[eE]/.test(num)) {
    ctx.rep.log(`rtt value exponential form ${s} no longer supported`);
    return null;
  }
  let res = readDecimal(ctx.rep, num, 0, 120000 * unitMult, shift, false);
  if (res === null) return null;
  if (!raw) res *= unitMult;
  if (res > 120000 * unitMult) res = 120000 * unitMult;
  else if (res < 200 * unitMult) res = 200 * unitMult;
  return res;
}

// ---------------------------------------------------------------- addresses

function prefixText(p: IpPrefix): string {
  return p.ip.text;
}

/**
 * alloc_ipaddress(): returns the entry, or null when keepalived drops it.
 * `dev` names are checked against the host (a missing interface stops the
 * VRRP process from running, as keepalived does).
 */
export function allocIpaddress(ctx: Ctx, sv: StrVec, staticAddr: boolean, trackGroups: { name: string }[]): VirtualIpAddress | null {
  const { rep } = ctx;
  const err = (m: string): void => rep.error(ConfErr.GENERAL_ERROR, m);
  const addrStr = sv.slot(0);
  const p = parseIpaddress(rep, addrStr, true);
  if (!p) return null;
  const v: VirtualIpAddress = {
    address: prefixText(p),
    family: p.ip.family,
    prefixLen: p.prefixLen,
    home: false,
    noDad: false,
    mngTmpAddr: false,
    noPrefixRoute: false,
    autoJoin: false,
    noTrack: false,
    useVmac: false,
    file: rep.pos.file,
    line: rep.pos.line,
  };
  let brdMode: 'plus' | 'minus' | null = null;
  let haveBroadcast = false;
  let haveDev = false;
  let preferredSet = false;
  let missing: string | null = null;
  let haveTrackGroup = false;
  let i = 1;
  while (i < sv.size) {
    const str = sv.slot(i);
    const paramAvail = sv.size >= i + 2;
    const needParam = ['dev', 'scope', 'broadcast', 'brd', 'label', 'peer', 'preferred_lft'].includes(str) || (staticAddr && str === 'track_group');
    if (needParam && !paramAvail) {
      missing = str;
      break;
    }
    if (str === 'dev') {
      if (haveDev) {
        err(`Cannot specify ipaddress device more than once for ${addrStr}`);
        return null;
      }
      const name = sv.slot(++i);
      if (!ifGetDynamic(ctx, name)) {
        err(`WARNING - interface ${name} for ip address ${addrStr} doesn't exist`);
        return null;
      }
      v.dev = name;
      haveDev = true;
    } else if (str === 'scope') {
      const sc = findScope(ctx, sv.slot(++i));
      if (sc === null) err(`Invalid scope '${sv.slot(i)}' specified for ${addrStr} - ignoring`);
      else v.scope = sc;
    } else if (str === 'broadcast' || str === 'brd') {
      if (v.family === 'inet6') {
        err(`VRRP is trying to assign a broadcast ${str} to the IPv6 address ${addrStr} !!?? WTF... skipping VIP...`);
        return null;
      }
      haveBroadcast = true;
      const prm = sv.slot(++i);
      if (prm === '-') brdMode = 'minus';
      else if (prm === '+') brdMode = 'plus';
      else if (!inetPton4(prm)) {
        err(`VRRP is trying to assign invalid broadcast ${prm}. skipping VIP...`);
        return null;
      } else v.broadcast = formatIp('inet', inetPton4(prm)!);
    } else if (str === 'label') {
      const prm = sv.slot(++i);
      if (prm.length >= 16) {
        err(`Address label ${prm} is longer than maximum length 15 - removing address`);
        return null;
      }
      v.label = prm;
    } else if (str === 'peer') {
      i++;
      if (v.peer !== undefined) err(`Peer ${sv.slot(i)} - another peer has already been specified`);
      else {
        const pp = parseIpaddress(rep, sv.slot(i), false);
        if (!pp) err(`Invalid peer address ${sv.slot(i)}`);
        else if (pp.ip.family !== v.family) err(`Peer address ${sv.slot(i)} does not match address family`);
        else {
          if (v.prefixLen !== (v.family === 'inet6' ? 128 : 32)) err('Cannot specify address prefix when specifying peer address - ignoring');
          v.peer = pp.ip.text;
          v.prefixLen = pp.prefixLen;
        }
      }
    } else if (str === 'home') v.home = true;
    else if (str === '-nodad') v.noDad = true;
    else if (str === 'mngtmpaddr') v.mngTmpAddr = true;
    else if (str === 'noprefixroute') v.noPrefixRoute = true;
    else if (str === 'autojoin') v.autoJoin = true;
    else if (str === 'no_track') v.noTrack = true;
    else if (str === 'preferred_lft') {
      i++;
      if (sv.slot(i) === 'forever') {
        v.preferredLft = INFINITY_LIFE_TIME;
        preferredSet = true;
      } else {
        const n = readUnsigned(rep, sv.slot(i), 0, UINT32_MAX);
        if (n !== null) {
          v.preferredLft = n;
          preferredSet = true;
        } else err(`preferred_lft ${sv.slot(i)} is invalid`);
      }
    } else if (staticAddr && str === 'track_group') {
      i++;
      if (haveTrackGroup) {
        err(`track_group ${sv.slot(i)} is a duplicate`);
        break;
      }
      haveTrackGroup = true;
      if (trackGroups.some((t) => t.name === sv.slot(i))) v.trackGroup = sv.slot(i);
      else err(`track_group ${sv.slot(i)} not found`);
    } else if (!staticAddr && str === 'use_vmac') v.useVmac = true;
    else err(`Unknown configuration entry '${str}' for ip address - ignoring`);
    i++;
  }
  if (missing !== null) {
    err(`No ${missing} parameter specified for ${addrStr}`);
    return null;
  }
  if (haveBroadcast && v.peer !== undefined) {
    err('Cannot specify broadcast and peer addresses - ignoring broadcast address');
    v.broadcast = undefined;
  } else if (brdMode && v.prefixLen <= 30) {
    const base = inetPton4(v.peer ?? v.address)!;
    const n = ((base[0] << 24) | (base[1] << 16) | (base[2] << 8) | base[3]) >>> 0;
    const mask = v.prefixLen === 0 ? 0xffffffff : (0xffffffff >>> v.prefixLen) >>> 0;
    const b = brdMode === 'plus' ? (n | mask) >>> 0 : (n & ~mask) >>> 0;
    v.broadcast = [b >>> 24, (b >>> 16) & 255, (b >>> 8) & 255, b & 255].join('.');
  } else if (brdMode) err(`Address prefix length ${v.prefixLen} too long for broadcast`);

  if (staticAddr && !v.dev) {
    const def = ctx.g.defaultInterface ?? 'eth0';
    if (!ifGetDynamic(ctx, def)) {
      rep.error(ConfErr.FATAL, `Static address ${addrStr} requires either an interface or default interface must exist`);
      return null;
    }
    v.dev = def;
  }
  if (v.family === 'inet6') {
    if (v.scope) {
      err(`Cannot specify scope for IPv6 addresses (${addrStr}) - ignoring scope`);
      v.scope = undefined;
    }
    if (v.label !== undefined) {
      err(`Cannot specify label for IPv6 addresses (${addrStr}) - ignoring label`);
      v.label = undefined;
    }
    if (!preferredSet) v.preferredLft = v.prefixLen === 128 ? 0 : INFINITY_LIFE_TIME;
  }
  if (v.trackGroup && !v.dev) {
    err('Static route cannot have track_group if interface not specified');
    v.trackGroup = undefined;
  }
  return v;
}

// ---------------------------------------------------------------- routes

interface RouteTarget {
  family: 'inet' | 'inet6' | undefined;
  text: string;
  prefixLen?: number;
}

/** parse_route(): default/any/all, deprecated default6, or ADDR[/LEN] */
function parseRoute(ctx: Ctx, s: string): RouteTarget | null {
  if (s === 'default' || s === 'any' || s === 'all') return { family: undefined, text: 'default' };
  if (s === 'default6') {
    ctx.rep.log("'default6' is deprecated - please replace with 'inet6 default'");
    return { family: 'inet6', text: 'default' };
  }
  const p = parseIpaddress(ctx.rep, s, true);
  if (!p) return null;
  return { family: p.ip.family, text: `${p.ip.text}/${p.prefixLen}`, prefixLen: p.prefixLen };
}

/** parse_encap(): consumes the encap parameters (rarely used) */
function parseEncap(ctx: Ctx, sv: StrVec, i: number, extra: Record<string, number | string>): number {
  const err = (m: string): void => ctx.rep.error(ConfErr.GENERAL_ERROR, m);
  if (sv.size <= ++i) {
    err('Missing encap type');
    return i;
  }
  const type = sv.slot(i++);
  extra.encap = type;
  const pairs = (keys: string[]): void => {
    let any = false;
    while (i + 1 < sv.size && keys.includes(sv.slot(i))) {
      extra[`encap_${sv.slot(i)}`] = sv.slot(i + 1);
      if (sv.slot(i) === 'dst' || sv.slot(i) === 'id') any = true;
      i += 2;
    }
    if (!any) err(`address or id missing for ${type} encapsulation`);
  };
  if (type === 'ip') pairs(['id', 'dst', 'src', 'tos', 'ttl', 'flags']);
  else if (type === 'ip6') pairs(['id', 'dst', 'src', 'tc', 'hoplimit', 'flags']);
  else if (type === 'mpls' || type === 'ila') {
    if (i >= sv.size) err(`missing ${type === 'mpls' ? 'address for MPLS' : 'locator for ILA'} encapsulation`);
    else extra[`encap_${type}`] = sv.slot(i++);
  } else {
    err(`Unknown encap type - ${type}`);
    return i;
  }
  return i - 1;
}

/** alloc_route(): null when keepalived drops the route */
export function allocRoute(ctx: Ctx, sv: StrVec, allowTrackGroup: boolean, trackGroups: { name: string }[]): RouteEntry | null {
  const { rep } = ctx;
  const err = (m: string): null => {
    rep.error(ConfErr.GENERAL_ERROR, m);
    return null;
  };
  const r: RouteEntry = { family: 'inet', dst: '', table: 254, onlink: false, extra: {}, nexthops: [], mode: 'prepend', noTrack: false, file: rep.pos.file, line: rep.pos.line };
  let family: 'inet' | 'inet6' | undefined;
  let dst: RouteTarget | null = null;
  let haveProtocol = false;
  let doNexthop = false;
  let dest: string | undefined;
  let haveTrackGroup = false;
  const fam = (f: 'inet' | 'inet6' | undefined, msg = 'Cannot mix IPv4 and IPv6 addresses for route'): boolean => {
    if (!f) return true;
    if (!family) family = f;
    else if (family !== f) {
      rep.error(ConfErr.GENERAL_ERROR, msg);
      return false;
    }
    return true;
  };
  const withLock = (i: number, name: string): number => {
    if (sv.slot(i) === 'lock') {
      r.extra[`${name}_lock`] = 1;
      return i + 1;
    }
    return i;
  };
  let i = 0;
  while (i < sv.size) {
    const str = sv.slot(i);
    if (str === 'inet6' || str === 'inet') {
      const f = str;
      if (!family) family = f;
      else if (family !== f) return err(`${str} specified for IPv${f === 'inet6' ? 4 : 6} route`);
      i++;
      continue;
    } else if (str === 'src') {
      const a = parseIpaddress(rep, sv.slot(++i), false);
      if (!a) return err(`invalid route src address ${sv.slot(i)}`);
      r.src = a.ip.text;
      if (!fam(a.ip.family)) return null;
    } else if (str === 'as') {
      if (sv.slot(++i) === 'to') i++;
      rep.error(ConfErr.GENERAL_ERROR, '"as to" for MPLS only - ignoring');
    } else if (str === 'via' || str === 'gw') {
      if (str === 'gw') rep.error(ConfErr.GENERAL_ERROR, '"gw" for routes is deprecated. Please use "via"');
      let s = sv.slot(++i);
      let f: 'inet' | 'inet6' | undefined = family;
      if (s === 'inet' || s === 'inet6') {
        f = s;
        s = sv.slot(++i);
      }
      if (!fam(f)) return null;
      const a = parseIpaddress(rep, s, false);
      if (!a) return err(`invalid route via address ${sv.slot(i)}`);
      r.via = a.ip.text;
      if (!fam(a.ip.family)) return null;
    } else if (str === 'from') {
      const a = parseRoute(ctx, sv.slot(++i));
      if (!a) return err(`invalid route from address ${sv.slot(i)}`);
      if (a.family !== 'inet6') return err(`route from address only supported with IPv6 (${sv.slot(i)})`);
      r.from = a.text;
      if (!fam(a.family)) return null;
    } else if (str === 'tos' || str === 'dsfield') {
      const v = findDsfield(ctx, sv.slot(++i));
      if (v === null) return err(`TOS value ${sv.slot(i)} is invalid`);
      r.tos = v;
    } else if (str === 'table') {
      const v = findTable(ctx, sv.slot(++i));
      if (v === null) return err(`Routing table ${sv.slot(i)} not found for route`);
      r.table = v;
    } else if (str === 'protocol') {
      const v = findProto(ctx, sv.slot(++i));
      if (v === null) return err(`Protocol ${sv.slot(i)} not found or invalid for route`);
      r.protocol = v;
      haveProtocol = true;
    } else if (str === 'scope') {
      const v = findScope(ctx, sv.slot(++i));
      if (v === null) return err(`Scope ${sv.slot(i)} not found or invalid for route`);
      r.scope = v;
    } else if (str === 'metric' || str === 'priority' || str === 'preference') {
      const v = getU(ctx, sv.slot(++i), UINT32_MAX, 'Invalid metric %s specified for route');
      if (v === null) return null;
      r.metric = v;
    } else if (str === 'dev' || str === 'oif') {
      const name = sv.slot(++i);
      if (!ifGetDynamic(ctx, name)) return err(`WARNING - interface ${name} for VROUTE nexthop doesn't exist`);
      r.dev = name;
    } else if (str === 'onlink') r.onlink = true;
    else if (str === 'encap') i = parseEncap(ctx, sv, i, r.extra);
    else if (str === 'expires') {
      i++;
      if (family === 'inet') return err('expires is only valid for IPv6');
      family = 'inet6';
      const v = getU(ctx, sv.slot(i), UINT32_MAX, 'Invalid expires time %s specified for route');
      if (v === null) return null;
      r.expires = v;
    } else if (str === 'mtu' || str === 'advmss' || str === 'reordering' || str === 'cwnd' || str === 'ssthresh') {
      i = withLock(i + 1, str);
      const msg = { mtu: 'Invalid MTU %s specified for route', advmss: 'Invalid advmss %s specified for route', reordering: 'Invalid reordering value %s specified for route', cwnd: 'Invalid cwnd value %s specified for route', ssthresh: 'Invalid ssthresh value %s specified for route' }[str];
      const v = getU(ctx, sv.slot(i), UINT32_MAX, msg);
      if (v === null) return null;
      if (str === 'mtu') r.mtu = v;
      else if (str === 'advmss') r.advmss = v;
      else r.extra[str] = v;
    } else if (str === 'hoplimit') {
      const v = getU(ctx, sv.slot(++i), 255, 'Invalid hoplimit %s specified for route');
      if (v === null) return null;
      r.hoplimit = v;
    } else if (str === 'rtt' || str === 'rttvar' || str === 'rto_min') {
      i = withLock(i + 1, str);
      const v = getTimeRtt(ctx, sv.slot(i), str === 'rtt' ? 8 : str === 'rttvar' ? 4 : 1);
      if (v === null) return err(str === 'rto_min' ? `Invalid rto_min value ${sv.slot(i)} specified for route` : `Invalid ${str} ${sv.slot(i)} for route`);
      r.extra[str] = v;
    } else if (str === 'window') {
      const v = getU(ctx, sv.slot(++i), UINT32_MAX, 'Invalid window value %s specified for route');
      if (v === null) return null;
      r.extra.window = v;
    } else if (str === 'realms') {
      const v = getRealms(ctx, sv.slot(++i));
      if (v === null) return err(`Invalid realms ${sv.slot(i)} for route`);
      if (family === 'inet6') return err('realms are only valid for IPv4');
      family = 'inet';
      r.realms = v;
    } else if (str === 'initcwnd' || str === 'initrwnd') {
      const v = getU(ctx, sv.slot(++i), UINT32_MAX, `Invalid ${str} value %s specified for route`);
      if (v === null) return null;
      if (str === 'initcwnd') r.initcwnd = v;
      else r.initrwnd = v;
    } else if (str === 'features') {
      i++;
      if (sv.slot(i) === 'ecn') r.extra.features = 'ecn';
      else rep.error(ConfErr.GENERAL_ERROR, `feature ${sv.slot(i)} not supported`);
    } else if (str === 'quickack' || str === 'fastopen_no_cookie') {
      i++;
      const v = getU(ctx, sv.slot(i), 1, `Invalid ${str} value %s specified for route`);
      if (v === null) return null;
      r.extra[str] = v;
    } else if (str === 'congctl') {
      i++;
      if (sv.slot(i) === 'lock') {
        r.extra.congctl_lock = 1;
        i++;
      }
      r.congctl = sv.slot(i);
    } else if (str === 'pref') {
      i++;
      if (family === 'inet') return err('pref is only valid for IPv6');
      family = 'inet6';
      const s = sv.slot(i);
      if (s === 'low') r.pref = 3;
      else if (s === 'medium') r.pref = 0;
      else if (s === 'high') r.pref = 1;
      else {
        const v = getU(ctx, s, 255, 'Invalid pref value %s specified for route');
        if (v === null) return null;
        r.pref = v;
      }
    } else if (str === 'ttl-propagate') {
      i++;
      const s = sv.slot(i);
      if (s === 'enabled') r.extra['ttl-propagate'] = 1;
      else if (s === 'disabled') r.extra['ttl-propagate'] = 0;
      else rep.error(ConfErr.GENERAL_ERROR, `ttl-propagate value ${s} not recognised`);
    } else if (str === 'add') r.mode = 'add';
    else if (str === 'prepend') r.mode = 'prepend';
    else if (str === 'append') r.mode = 'append';
    else if (str === 'or') {
      rep.error(ConfErr.GENERAL_ERROR, '"or" for routes is deprecated. Please use "nexthop"');
      if (r.nexthops.length) {
        rep.error(ConfErr.GENERAL_ERROR, '"or" route already specified - ignoring subsequent');
        i += 2;
        continue;
      }
      r.nexthops.push({ via: r.via, onlink: false });
      r.via = undefined;
      const a = parseIpaddress(rep, sv.slot(++i), false);
      if (!a) return err(`Invalid "or" address ${sv.slot(i)}`);
      r.nexthops.push({ via: a.ip.text, onlink: false });
    } else if (str === 'nexthop') {
      if (r.nexthops.length) rep.error(ConfErr.GENERAL_ERROR, 'Cannot specify nexthops with "or" route');
      else doNexthop = true;
      break;
    } else if (str === 'no_track') r.noTrack = true;
    else if (allowTrackGroup && str === 'track_group') {
      i++;
      if (haveTrackGroup) {
        rep.error(ConfErr.GENERAL_ERROR, `track_group ${sv.slot(i)} is a duplicate`);
        break;
      }
      haveTrackGroup = true;
      if (trackGroups.some((t) => t.name === sv.slot(i))) r.trackGroup = sv.slot(i);
      else rep.error(ConfErr.GENERAL_ERROR, `track_group ${sv.slot(i)} not found`);
    } else if (str === 'vrf') {
      const name = sv.slot(++i);
      const ifp = ifGet(ctx, name);
      if (!ifp) return err(`VRF ${name} not found for route`);
      if (ifp.kind !== 'vrf') return err(`Route specified VRF ${name} is not a VRF`);
      r.vrf = name;
    } else {
      if (str === 'to') i++;
      // keepalived tests the word before any "to" for a route type (vrrp_iproute.c)
      const t = findRtnType(str);
      if (t !== null) {
        r.type = rtnTypeName(t);
        i++;
      }
      dest = sv.slot(i);
      dst = parseRoute(ctx, dest);
      if (!dst) return err(`unknown route keyword ${dest}`);
      if (dst.family && !fam(dst.family, `Cannot mix IPv4 and IPv6 addresses for route (${dest})`)) return null;
    }
    i++;
  }

  if (doNexthop) {
    const ok = parseNexthops(ctx, sv, i, r, () => family, (f) => (family = f));
    if (!ok) {
      /* keepalived frees only the bad nexthop and keeps the route */
    }
  } else if (i < sv.size) return err(`Route has trailing nonsense - ${sv.slot(i)}`);

  if (!dst) return err('Route must have a destination');

  if (!r.noTrack) {
    if (haveProtocol && r.protocol !== RTPROT_KEEPALIVED)
      rep.error(ConfErr.GENERAL_ERROR, `Route cannot be tracked if protocol is not RTPROT_KEEPALIVED(${RTPROT_KEEPALIVED}), resetting protocol`);
    r.protocol = RTPROT_KEEPALIVED;
    if (!r.dev) {
      rep.error(ConfErr.GENERAL_ERROR, `Warning - cannot track route ${dest} with no interface specified, not tracking`);
      r.noTrack = true;
    }
  }
  if (r.trackGroup && !r.dev) {
    rep.error(ConfErr.GENERAL_ERROR, 'Static route cannot have track group if no oif specified');
    r.trackGroup = undefined;
  }
  r.family = family ?? 'inet';
  r.dst = dst.family === undefined ? (r.family === 'inet6' ? '::/0' : '0.0.0.0/0') : dst.text;
  return r;
}

function parseNexthops(ctx: Ctx, sv: StrVec, start: number, r: RouteEntry, getFam: () => 'inet' | 'inet6' | undefined, setFam: (f: 'inet' | 'inet6') => void): boolean {
  const { rep } = ctx;
  const err = (m: string): false => {
    rep.error(ConfErr.GENERAL_ERROR, m);
    return false;
  };
  let i = start;
  let fam: 'inet' | 'inet6' | undefined;
  while (i < sv.size && sv.slot(i) === 'nexthop') {
    i++;
    const nh: NextHop = { onlink: false };
    while (i < sv.size) {
      let str = sv.slot(i);
      if (str === 'via') {
        str = sv.slot(++i);
        if (str === 'inet' || str === 'inet6') {
          fam = str;
          str = sv.slot(++i);
        }
        if (fam) {
          if (!getFam()) setFam(fam);
          else if (getFam() !== fam) return err('IPv4/6 mismatch for nexthop');
        }
        const a = parseIpaddress(rep, str, false);
        if (!a) return err(`invalid nexthop address ${str}`);
        if (getFam() && a.ip.family !== getFam()) return err('Address family mismatch for next hop');
        if (!getFam()) setFam(a.ip.family);
        nh.via = a.ip.text;
      } else if (str === 'dev') {
        str = sv.slot(++i);
        if (!ifGetDynamic(ctx, str)) return err(`WARNING - interface ${str} for VROUTE nexthop doesn't exist`);
        nh.dev = str;
      } else if (str === 'weight') {
        const v = getU(ctx, sv.slot(++i), 256, 'Invalid weight %s specified for route');
        if (v === null) return false;
        if (!v) return err('Invalid weight 0 specified for route');
        nh.weight = v;
      } else if (str === 'onlink') nh.onlink = true;
      else if (str === 'encap') i = parseEncap(ctx, sv, i, r.extra);
      else if (str === 'realms') {
        const v = getRealms(ctx, sv.slot(++i));
        if (v === null) return err(`Invalid realms ${sv.slot(i)} for route`);
        if (!getFam()) setFam('inet');
        else if (getFam() !== 'inet') return err('realms are only supported for IPv4');
        nh.realms = v;
      } else if (str === 'as') {
        if (sv.slot(++i) === 'to') i++;
        return err("'as [to]' (nat) not supported");
      } else break;
      i++;
    }
    r.nexthops.push(nh);
  }
  if (i < sv.size) return err(`Route has trailing nonsense after nexthops - ${sv.slot(i)}`);
  return true;
}

// ---------------------------------------------------------------- rules

/** alloc_rule(): null when keepalived drops the rule */
export function allocRule(ctx: Ctx, sv: StrVec, allowTrackGroup: boolean, trackGroups: { name: string }[]): RuleEntry | null {
  const { rep } = ctx;
  const err = (m: string): null => {
    rep.error(ConfErr.GENERAL_ERROR, m);
    return null;
  };
  const r: Partial<RuleEntry> & { not: boolean; l3mdev: boolean; noTrack: boolean } = { not: false, l3mdev: false, noTrack: false };
  let family: 'inet' | 'inet6' | undefined;
  let action: RuleEntry['action'] | undefined;
  let havePriority = false;
  let tableOption = false;
  let haveTrackGroup = false;
  const mixed = (f: 'inet' | 'inet6' | undefined): boolean => {
    if (!f) return true;
    if (!family) family = f;
    else if (family !== f) {
      rep.error(ConfErr.GENERAL_ERROR, 'rule specification has mixed IPv4 and IPv6');
      return false;
    }
    return true;
  };
  let i = 0;
  while (i < sv.size) {
    let str = sv.slot(i);
    if (str === 'inet6' || str === 'inet') {
      if (!family) family = str;
      else if (family !== str) return err(`${str} specified for IPv${str === 'inet6' ? 4 : 6} rule`);
    } else if (str === 'from' || str === 'to') {
      const a = parseRoute(ctx, sv.slot(++i));
      if (!a) return err(`Invalid rule ${str} address ${sv.slot(i)}`);
      if (!mixed(a.family)) return null;
      if (str === 'from') r.from = a.text;
      else r.to = a.text;
    } else if (str === 'table' || str === 'lookup') {
      const v = findTable(ctx, sv.slot(++i));
      if (v === null) return err(`Routing table ${sv.slot(i)} not found for rule`);
      if (v === 0) return err('Table 0 is not valid');
      r.table = v;
      if (action) return err('Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable for rule');
      action = 'table';
    } else if (str === 'not') r.not = true;
    else if (str === 'preference' || str === 'order' || str === 'priority') {
      const v = readUnsigned(rep, sv.slot(++i), 0, UINT32_MAX, 0);
      if (v === null) return err(`Invalid rule preference ${str} specified`);
      r.priority = v;
      havePriority = true;
    } else if (str === 'tos' || str === 'dsfield') {
      const v = findDsfield(ctx, sv.slot(++i));
      if (v === null) return err(`TOS value ${sv.slot(i)} is invalid`);
      r.tos = v;
    } else if (str === 'fwmark') {
      const s = sv.slot(++i).replace(/^[ \t\f\n\r\v]+/, '');
      const bad = (): null => err(`Invalid rule fwmark ${s} specified`);
      if (s[0] === '-') return bad();
      const a = strtoul(s, 0);
      if (a.value > BigInt(UINT32_MAX)) return bad();
      let end = a.end;
      let mask: bigint | undefined;
      if (s[end] === '/') {
        const c = s[end + 1] ?? '';
        if (/[ \t\f\n\r\v]/.test(c) || c === '-') return bad();
        const b = strtoul(s.slice(end + 1), 0);
        if (b.value > BigInt(UINT32_MAX)) return bad();
        end = end + 1 + b.end;
        mask = b.value;
      }
      if (end < s.length) return bad();
      r.fwmark = Number(a.value);
      if (mask !== undefined) r.fwmask = Number(mask);
    } else if (str === 'realms') {
      const v = getRealms(ctx, sv.slot(++i));
      if (v === null) return err(`invalid realms ${sv.slot(i)} for rule`);
      r.realms = v;
      tableOption = true;
      if (!family) family = 'inet';
      else if (family !== 'inet') return err('realms is only valid for IPv4');
    } else if (str === 'suppress_prefixlength' || str === 'sup_pl') {
      const v = readUnsigned(rep, sv.slot(++i), 0, 0x7fffffff);
      if (v === null) return err(`Invalid suppress_prefixlength ${str} specified`);
      r.suppressPrefixLength = v;
      tableOption = true;
    } else if (str === 'suppress_ifgroup' || str === 'sup_group') {
      const v = findGroup(ctx, sv.slot(++i));
      if (v === null) return err(`suppress_group ${sv.slot(i)} is invalid`);
      r.suppressIfgroup = v;
      tableOption = true;
    } else if (str === 'dev' || str === 'iif' || str === 'oif') {
      const name = sv.slot(++i);
      if (!ifGetDynamic(ctx, name)) return err(`WARNING - interface ${name} for rule doesn't exist`);
      if (str === 'oif') r.oif = name;
      else r.iif = name;
    } else if (str === 'tunnel-id') {
      const v = readUnsigned64(rep, sv.slot(++i), 0n, (1n << 64n) - 1n);
      if (v === null) return err(`Invalid tunnel-id ${str} specified`);
      r.tunnelId = v.toString();
    } else if (str === 'uidrange') {
      const m = /^\s*([+]?\d+)-([+]?\d+)/.exec(sv.slot(++i));
      if (!m) return err(`Invalid uidrange ${str} specified`);
      r.uidRange = [Number(m[1]) >>> 0, Number(m[2]) >>> 0];
    } else if (str === 'l3mdev') {
      r.l3mdev = true;
      if (action) return err('Cannot specify l3mdev with other action');
      action = 'table';
    } else if (str === 'protocol') {
      const v = readUnsigned(rep, sv.slot(++i), 0, 255);
      if (v === null) rep.error(ConfErr.GENERAL_ERROR, `Invalid protocol ${sv.slot(i)}`);
      else r.protocol = v;
    } else if (str === 'ipproto') {
      const s = sv.slot(++i);
      const names: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, sctp: 132, ipv6_icmp: 58, 'ipv6-icmp': 58, gre: 47, esp: 50, ah: 51, igmp: 2 };
      const n = names[s] ?? (/^\d+$/.test(s) ? Number(s) : -1);
      if (n < 0 || n > 255) rep.error(ConfErr.GENERAL_ERROR, `Invalid ipproto ${s}`);
      else r.ipProto = n;
    } else if (str === 'sport' || str === 'dport') {
      const m = /^\s*(\d+)(?:-(\d+))?/.exec(sv.slot(++i));
      if (!m || Number(m[1]) > 65535 || (m[2] !== undefined && Number(m[2]) > 65535)) rep.error(ConfErr.GENERAL_ERROR, `invalid ${str} range ${sv.slot(i)}`);
      else {
        const range: [number, number] = [Number(m[1]), Number(m[2] ?? m[1])];
        if (str === 'sport') r.sport = range;
        else r.dport = range;
      }
    } else if (str === 'no_track') r.noTrack = true;
    else if (allowTrackGroup && str === 'track_group') {
      i++;
      if (haveTrackGroup) {
        rep.error(ConfErr.GENERAL_ERROR, `track_group ${sv.slot(i)} is a duplicate`);
        break;
      }
      haveTrackGroup = true;
      if (trackGroups.some((t) => t.name === sv.slot(i))) r.trackGroup = sv.slot(i);
      else rep.error(ConfErr.GENERAL_ERROR, `track_group ${sv.slot(i)} not found`);
    } else {
      let a: RuleEntry['action'];
      if (str === 'type') str = sv.slot(++i);
      if (str === 'goto') {
        const v = readUnsigned(rep, sv.slot(++i), 0, UINT32_MAX);
        if (v === null) return err(`Invalid target ${str} specified`);
        r.gotoTarget = v;
        a = 'goto';
      } else if (str === 'nop') a = 'nop';
      else {
        const t = findRtnType(str);
        if (t === null) return err(`Unknown rule option ${str}`);
        if (t === RTN_BLACKHOLE) a = 'blackhole';
        else if (t === RTN_UNREACHABLE) a = 'unreachable';
        else if (t === RTN_PROHIBIT) a = 'prohibit';
        else return err(`Invalid rule action ${str}`);
      }
      if (action) return err('Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable/l3mdev for rule');
      action = a;
    }
    i++;
  }
  if (action === 'goto') {
    if (havePriority) {
      if (r.priority! >= r.gotoTarget!) return err(`Invalid rule - preference ${r.priority} >= goto target ${r.gotoTarget}`);
    } else return err(`Invalid rule - goto target ${r.gotoTarget} specified without preference`);
  }
  if (!action) return err('No action specified for rule - ignoring');
  if (action !== 'table' && tableOption) return err('suppressor/realm specified for non table action - skipping');
  if (r.table !== undefined && r.l3mdev) return err('table cannot be specified for l3mdev rules');
  if (!r.noTrack) {
    if (r.protocol !== undefined && r.protocol !== RTPROT_KEEPALIVED)
      rep.error(ConfErr.GENERAL_ERROR, `Rule cannot be tracked if protocol is not RTPROT_KEEPALIVED(${RTPROT_KEEPALIVED}), resetting protocol`);
    r.protocol = RTPROT_KEEPALIVED;
  }
  if (r.trackGroup && !r.iif) {
    rep.error(ConfErr.GENERAL_ERROR, 'Static rule cannot have track_group if dev/iif not specified');
    r.trackGroup = undefined;
  }
  const fam = family ?? 'inet';
  let priorityDefaulted = false;
  if (!havePriority) {
    r.priority = fam === 'inet' ? ctx.vrrp.nextRulePrio4-- : ctx.vrrp.nextRulePrio6--;
    priorityDefaulted = true;
    rep.error(ConfErr.GENERAL_ERROR, `Rule has no preference specified - setting to ${r.priority}. This is probably not what you want.`);
  }
  return {
    ...r,
    family: fam,
    priority: r.priority!,
    priorityDefaulted,
    action,
    file: rep.pos.file,
    line: rep.pos.line,
  } as RuleEntry;
}
