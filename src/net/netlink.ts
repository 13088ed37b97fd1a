/**
 * rtnetlink adapter on the `netlink` npm package 0.3.0 (pinned; unmaintained upstream,
 * hence kept behind the Netlink interface of ./types so a koffi/AF_NETLINK version can
 * replace it). Workarounds from shared/research/npm-feasibility.md §2:
 *  - RtNetlinkSocket's 'message' drops the nlmsg type, so NEWADDR and DELADDR (NEWLINK and
 *    DELLINK) look alike: events are read from the lower NetlinkSocket, which keeps it;
 *  - errors are bare `Error("Request rejected: EEXIST")`: parsed into `code`/`errno`;
 *  - IFLA_LINK is typed Buffer (u32 LE) and IFLA_LINKINFO is a raw nested-attribute Buffer.
 *
 * Two sockets, as keepalived (nl_cmd / nl_kernel): requests on one, multicast events on the
 * other. With one socket an event arriving in the middle of a multipart dump reply makes
 * the package split the dump and fail the request ("Multipart message not terminated").
 *
 * Sockets are created synchronously (createNetlink's first tick, onEvent's call), so they
 * belong to the network namespace of the calling thread.
 */
import { AttrStream, FlagsNew, createRtNetlink, ifla, rt, type NetlinkMessage, type RtNetlinkSocket } from 'netlink';
import * as fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { AddressInfo, AddressSpec, Family, LinkInfo, Netlink, NetlinkEvent, RouteInfo, RouteSpec, RouteTypeName, RuleInfo, RuleSpec } from './types';
import { formatIp, formatMac, parseIpv4, parseIpv6, parseMac } from './addr';
import { ifIndex, ifName, setOpt } from './libc';
import { RTPROT_KEEPALIVED } from './route-match';

export { createVmacSysctl, readSysctl, writeSysctl, sysctlPath, type VmacSysctl, type VmacSysctlOptions } from './sysctl';

const AF_INET = 2;
const AF_INET6 = 10;
// include/uapi/linux/rtnetlink.h message types
const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_NEWADDR = 20;
const RTM_DELADDR = 21;
const RTM_NEWROUTE = 24;
const RTM_DELROUTE = 25;
const RTM_NEWRULE = 32;
const RTM_DELRULE = 33;
const RT_SCOPE_NOWHERE = 255;
const RT_TABLE_MAIN = 254;
/** rtm_flags / rtnh_flags RTNH_F_ONLINK */
const RTNH_F_ONLINK = 4;
/** route attributes (include/uapi/linux/rtnetlink.h enum rtattr_type_t) */
const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_FLOW = 11;
const RTA_TABLE = 15;
/** rule attributes (include/uapi/linux/fib_rules.h) */
const FRA_DST = 1;
const FRA_SRC = 2;
const FRA_IIFNAME = 3;
const FRA_GOTO = 4;
const FRA_PRIORITY = 6;
const FRA_FWMARK = 10;
const FRA_TABLE = 15;
const FRA_FWMASK = 16;
const FRA_OIFNAME = 17;
const FRA_PROTOCOL = 21;
const RTN_TYPES: Record<RouteTypeName, number> = { unicast: 1, local: 2, broadcast: 3, anycast: 4, multicast: 5, blackhole: 6, unreachable: 7, prohibit: 8, throw: 9, nat: 10, xresolve: 11 };
/** fib_rule_hdr action (include/uapi/linux/fib_rules.h FR_ACT_*) */
const FR_ACT: Record<RuleSpec['action'], number> = { table: 1, goto: 2, nop: 3, blackhole: 6, unreachable: 7, prohibit: 8 };
const FIB_RULE_INVERT = 2;
/** IFLA_INET6_ADDR_GEN_MODE (include/uapi/linux/if_link.h) */
const IFLA_INET6_ADDR_GEN_MODE = 8;
const IN6_ADDR_GEN_MODE = { eui64: 0, none: 1, stable_privacy: 2, random: 3 } as const;
/** No kernel answer within this is a bug somewhere; never leave a promise hanging. */
const REQUEST_TIMEOUT_MS = 10_000;
/** requests in flight on the request socket (see RtNetlink.call) */
const NETLINK_MAX_INFLIGHT = 8;

/** rtnetlink scopes (include/uapi/linux/rtnetlink.h enum rt_scope_t) */
const SCOPES: Record<string, number> = { global: 0, site: 200, link: 253, host: 254, nowhere: 255 };
const SCOPE_NAMES = new Map(Object.entries(SCOPES).map(([k, v]) => [v, k]));

export type NetlinkError = Error & { code: string; errno?: number };

/**
 * Turn the package's `Error("Request rejected: EEXIST")` (no code, no errno, no extack)
 * into an Error with `code` and `errno`, prefixed with what we were doing.
 */
export function netlinkError(what: string, e: unknown): NetlinkError {
  const msg = e instanceof Error ? e.message : String(e);
  const existing = (e as { code?: unknown } | null)?.code;
  let code: string;
  const m = /Request rejected: (E[A-Z0-9]+|-?\d+)/.exec(msg);
  if (m) {
    code = m[1]!;
    if (/^-?\d+$/.test(code)) {
      const n = Math.abs(Number(code));
      code = Object.entries(osConstants.errno).find(([, v]) => v === n)?.[0] ?? `E${n}`;
    }
  } else if (typeof existing === 'string') code = existing;
  else if (/Timeout has been reached/.test(msg)) code = 'ETIMEDOUT';
  else code = 'EIO';
  const err = new Error(`${what}: ${code}`, { cause: e }) as NetlinkError;
  err.code = code;
  const errno = (osConstants.errno as Record<string, number>)[code];
  if (errno !== undefined) err.errno = errno;
  return err;
}

function streamToBuffer(sd: ReturnType<typeof ifla.formatMacvlan>): Buffer {
  const s = new AttrStream();
  s.emit(sd);
  return Buffer.concat(s.bufs);
}

/** One netlink attribute: len(u16) type(u16) payload, padded to 4 (NLA_ALIGN). */
function nla(type: number, payload: Buffer): Buffer {
  const len = 4 + payload.length;
  const b = Buffer.alloc((len + 3) & ~3);
  b.writeUInt16LE(len, 0);
  b.writeUInt16LE(type, 2);
  payload.copy(b, 4);
  return b;
}

function u32le(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

function u8(n: number): Buffer {
  return Buffer.from([n & 0xff]);
}

function einval(what: string, detail: string): NetlinkError {
  return netlinkError(`${what}: ${detail}`, Object.assign(new Error(detail), { code: 'EINVAL' }));
}

/** A textual address of `family` as bytes, or an EINVAL error naming the field. */
function addrBytes(family: Family, a: string, field: string, what: string): Buffer {
  const b = family === 'ipv4' ? parseIpv4(a) : parseIpv6(a);
  if (!b) throw einval(what, `bad ${family} ${field} ${a}`);
  return b;
}

function prefixOk(family: Family, n: number | undefined, field: string, what: string): number {
  const v = n ?? (family === 'ipv4' ? 32 : 128);
  if (!Number.isInteger(v) || v < 0 || v > (family === 'ipv4' ? 32 : 128)) throw einval(what, `bad ${field} prefix length ${n}`);
  return v;
}

/** "ip route" style text of a spec for error messages (the config text when there is one). */
function routeWhat(op: string, r: RouteSpec): string {
  return `${op} route ${r.text ?? `${r.dst}/${r.prefix}${r.via ? ` via ${r.via}` : ''}${r.dev ? ` dev ${r.dev}` : ''}${r.table !== RT_TABLE_MAIN ? ` table ${r.table}` : ''}`}`;
}

function ruleWhat(op: string, r: RuleSpec): string {
  return `${op} rule ${r.text ?? `${r.from ? `from ${r.from}/${r.fromPrefix}` : 'from all'}${r.to ? ` to ${r.to}/${r.toPrefix}` : ''} ${r.action}${r.table !== undefined ? ` ${r.table}` : ''}`}`;
}

/** Top-level netlink attributes of a message body: type (without NLA_F_* bits) → payload. */
function tlvs(b: Buffer): Map<number, Buffer> {
  const m = new Map<number, Buffer>();
  let off = 0;
  while (off + 4 <= b.length) {
    const len = b.readUInt16LE(off);
    if (len < 4 || off + len > b.length) break;
    m.set(b.readUInt16LE(off + 2) & 0x3fff, b.subarray(off + 4, off + len));
    off += (len + 3) & ~3;
  }
  return m;
}

function familyOf(n: number | undefined): Family | null {
  return n === AF_INET ? 'ipv4' : n === AF_INET6 ? 'ipv6' : null;
}

function scopeNumber(s: AddressSpec['scope']): number {
  if (s === undefined) return 0;
  if (typeof s === 'number') return s;
  return SCOPES[s] ?? 0;
}

/** SOL_NETLINK / NETLINK_NO_ENOBUFS (include/uapi/linux/netlink.h), SOL_SOCKET / SO_RCVBUF(FORCE) */
const SOL_NETLINK = 270;
const NETLINK_NO_ENOBUFS = 5;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_RCVBUFFORCE = 33;
/** the event socket's receive buffer (SO_RCVBUFFORCE as root; rmem_max caps plain SO_RCVBUF) */
const EVENT_RCVBUF = 8 << 20;

/**
 * The event socket must never see ENOBUFS: the netlink package's native receive path aborts
 * the whole process when recvmsg() fails ("terminate called after throwing an instance of
 * 'Napi::Error'", from ErrnoException in Socket::PollHandler) — an address or route storm
 * while the event loop is busy would kill the daemon and leave its VIPs behind. So the
 * kernel is told to drop what does not fit instead of reporting it (NETLINK_NO_ENOBUFS, as
 * `ip monitor` users do), and the buffer is made big enough that it rarely has to
 * (keepalived raises its netlink buffers the same way, vrrp_netlink.c
 * netlink_set_rx_buf_size). The package does not expose the descriptor: it is found by the
 * socket's port id in /proc/self/net/netlink and its inode among /proc/self/fd.
 * Returns an Error when the option could not be set (reported, not fatal).
 */
function hardenEventSocket(port: number): Error | null {
  let inode: string | undefined;
  try {
    for (const line of fs.readFileSync('/proc/self/net/netlink', 'utf8').split('\n').slice(1)) {
      // sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
      const f = line.trim().split(/\s+/);
      if (f.length >= 10 && f[1] === '0' && Number(f[2]) === port) inode = f[9];
    }
  } catch (e) {
    return netlinkError('netlink event socket: find its descriptor', e);
  }
  if (!inode) return netlinkError(`netlink event socket: port ${port} not in /proc/self/net/netlink`, Object.assign(new Error('not found'), { code: 'ENOENT' }));
  let fd: number | undefined;
  for (const name of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${name}`) === `socket:[${inode}]`) fd = Number(name);
    } catch {
      // closed meanwhile
    }
  }
  if (fd === undefined) return netlinkError(`netlink event socket: no descriptor for inode ${inode}`, Object.assign(new Error('not found'), { code: 'ENOENT' }));
  const err = setOpt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, 1, 'NETLINK_NO_ENOBUFS');
  if (setOpt(fd, SOL_SOCKET, SO_RCVBUFFORCE, EVENT_RCVBUF, 'SO_RCVBUFFORCE')) setOpt(fd, SOL_SOCKET, SO_RCVBUF, EVENT_RCVBUF, 'SO_RCVBUF');
  return err ? netlinkError('netlink event socket', err) : null;
}

/**
 * Open adapters are held here until close(): the package's native socket is a weak
 * handle, and an adapter reachable only through its own event listeners could be
 * garbage-collected and silently stop delivering events (raw-socket did exactly that).
 */
const openAdapters = new Set<RtNetlink>();

class RtNetlink implements Netlink {
  private readonly req: RtNetlinkSocket;
  private ev: RtNetlinkSocket | null = null;
  private readonly eventCbs: Array<(e: NetlinkEvent) => void> = [];
  private readonly errorCbs: Array<(e: Error) => void> = [];
  private readonly names = new Map<number, string>();
  /** route/rule multicast groups asked for by monitorRoutes() */
  private readonly extraGroups = new Set<'IPV4_ROUTE' | 'IPV6_ROUTE' | 'IPV4_RULE' | 'IPV6_RULE'>();
  private closed = false;

  constructor() {
    // 0 = leave the kernel's default buffer sizes (the package's typings wrongly require both)
    this.req = createRtNetlink({ ref: false, recvBufferSize: 0, sendBufferSize: 0 });
    this.req.socket.on('error', (e) => this.fail(netlinkError('netlink request socket', e)));
    openAdapters.add(this);
  }

  private fail(err: Error): void {
    for (const cb of this.errorCbs) {
      try {
        cb(err);
      } catch {
        /* nowhere left to report */
      }
    }
  }

  private opts(flags = 0) {
    return { flags, timeout: REQUEST_TIMEOUT_MS };
  }

  /**
   * Requests in flight on the request socket are limited (NETLINK_MAX_INFLIGHT; dumps one
   * at a time, as keepalived's netlink_talk() does every command). The kernel queues every
   * answer in the socket's receive buffer (~208 KB by default): 254 instances starting
   * together each asked for an address dump at once and overflowed it, and on ENOBUFS the
   * netlink package's native receive path aborts the whole process ("terminate called after
   * throwing an instance of 'Napi::Error'", bench/agent-scrape.mjs) — so it must never see one.
   * A second dump on a socket whose dump is still running is refused by the kernel (EBUSY)
   * anyway. The request's own timeout starts when it is sent, not while it waits here.
   */
  private inflight = 0;
  private readonly waiting: Array<() => void> = [];
  private dumping: Promise<unknown> = Promise.resolve();
  /** per dump kind: the next dump, queued and not started yet (see dump()) */
  private readonly nextDump = new Map<string, Promise<unknown>>();
  /**
   * A dump that starts after this call. Callers that ask while the same dump is still
   * queued share it (its answer is as fresh as each of them asked for): at start-up every
   * instance lists the addresses (residual VIP removal), and 255 of them made 510 dumps of
   * every address of the host, one after the other, instead of two.
   */
  private dump<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const queued = this.nextDump.get(what);
    if (queued) return queued as Promise<T>;
    const p = this.call(
      what,
      () => {
        if (this.nextDump.get(what) === p) this.nextDump.delete(what);
        return fn();
      },
      true,
    );
    this.nextDump.set(what, p);
    // also when it never started (closed)
    void p.catch(() => undefined).then(() => this.nextDump.get(what) === p && this.nextDump.delete(what));
    return p;
  }
  private async call<T>(what: string, fn: () => Promise<T>, dump = false): Promise<T> {
    if (this.closed) throw netlinkError(what, Object.assign(new Error('closed'), { code: 'EBADF' }));
    if (dump) {
      const prev = this.dumping;
      let done!: () => void;
      this.dumping = new Promise<void>((r) => (done = r));
      await prev;
      try {
        return await this.call(what, fn);
      } finally {
        done();
      }
    }
    if (this.inflight >= NETLINK_MAX_INFLIGHT) await new Promise<void>((r) => this.waiting.push(r));
    else this.inflight++;
    try {
      if (this.closed) throw Object.assign(new Error('closed'), { code: 'EBADF' });
      return await fn();
    } catch (e) {
      throw netlinkError(what, e);
    } finally {
      // hand the slot to the next waiting request, or give it back
      const next = this.waiting.shift();
      if (next) next();
      else this.inflight--;
    }
  }

  private index(ifname: string, what: string): number {
    const idx = ifIndex(ifname);
    if (typeof idx !== 'number') throw netlinkError(`${what}: no interface ${ifname}`, idx);
    return idx;
  }

  private nameOf(index: number): string {
    return this.names.get(index) ?? ifName(index) ?? '';
  }

  private toLink(m: rt.LinkMessage): LinkInfo {
    const d = m.data;
    const a = m.attrs;
    const index = d.index ?? 0;
    const name = a.ifname ?? this.nameOf(index);
    const info: LinkInfo = {
      index,
      name,
      up: !!d.flags?.up,
      running: !!d.flags?.running,
      mac: a.address ? formatMac(a.address) : '',
      mtu: a.mtu ?? 0,
    };
    if (a.linkinfo) {
      try {
        const kind = ifla.parseInfo(a.linkinfo).kind;
        if (kind) info.kind = kind;
      } catch {
        /* unknown nested layout: leave kind out */
      }
    }
    if (a.link && a.link.length >= 4) info.parentIndex = a.link.readUInt32LE(0);
    return info;
  }

  private toAddr(m: rt.AddressMessage): AddressInfo | null {
    const d = m.data;
    const a = m.attrs;
    const family = familyOf(d.family);
    if (!family) return null;
    // IPv4: IFA_LOCAL is the local address, IFA_ADDRESS the peer/prefix (rtnetlink(7))
    const bytes = family === 'ipv4' ? (a.local ?? a.address) : (a.address ?? a.local);
    if (!bytes) return null;
    const index = d.index ?? 0;
    const flags = a.flags ?? d.flags ?? {};
    const info: AddressInfo = {
      family,
      address: formatIp(bytes),
      prefix: d.prefixlen ?? 0,
      ifname: this.nameOf(index),
      ifindex: index,
      scope: SCOPE_NAMES.get(d.scope ?? 0) as AddressInfo['scope'] ?? d.scope,
    };
    if (a.broadcast) info.broadcast = formatIp(a.broadcast);
    if (a.label) info.label = a.label;
    if (flags.nodad) info.nodad = true;
    if (flags.noprefixroute) info.noprefixroute = true;
    if (a.cacheInfo && a.cacheInfo.ifaPrefered !== undefined && a.cacheInfo.ifaPrefered !== 0xffffffff) info.preferredLft = a.cacheInfo.ifaPrefered;
    return info;
  }

  async getLinks(): Promise<LinkInfo[]> {
    const msgs = await this.dump('get links', () => this.req.getLinks(undefined, undefined, this.opts()));
    const links = msgs.map((m) => this.toLink(m));
    for (const l of links) this.names.set(l.index, l.name);
    return links;
  }

  async getAddresses(): Promise<AddressInfo[]> {
    await this.getLinks(); // fresh index -> name map for the ifname of each address
    const msgs = await this.dump('get addresses', () => this.req.getAddresses(undefined, undefined, this.opts()));
    return msgs.map((m) => this.toAddr(m)).filter((x): x is AddressInfo => x !== null);
  }

  private addressRequest(a: AddressSpec, what: string): { data: rt.Address; attrs: rt.AddressAttrs } {
    const bytes = a.family === 'ipv4' ? parseIpv4(a.address) : parseIpv6(a.address);
    const max = a.family === 'ipv4' ? 32 : 128;
    if (!bytes) throw netlinkError(`${what}: bad ${a.family} address ${a.address}`, Object.assign(new Error(), { code: 'EINVAL' }));
    if (!Number.isInteger(a.prefix) || a.prefix < 0 || a.prefix > max)
      throw netlinkError(`${what}: bad prefix length ${a.prefix}`, Object.assign(new Error(), { code: 'EINVAL' }));
    const index = this.index(a.ifname, what);
    const flags: rt.AddressFlags = {};
    if (a.nodad) flags.nodad = true;
    if (a.noprefixroute) flags.noprefixroute = true;
    const data: rt.Address = { family: a.family === 'ipv4' ? AF_INET : AF_INET6, prefixlen: a.prefix, index, scope: scopeNumber(a.scope), flags };
    const attrs: rt.AddressAttrs = { address: bytes };
    if (Object.keys(flags).length) attrs.flags = flags; // IFA_FLAGS (u32): noprefixroute does not fit in ifa_flags
    if (a.family === 'ipv4') {
      attrs.local = bytes;
      if (a.label) attrs.label = a.label;
      if (a.broadcast && a.broadcast !== '-') {
        if (a.broadcast === '+') {
          // `brd +` (ip-address(8), keepalived's "brd +"): host bits all ones
          const v = bytes.readUInt32BE(0);
          const mask = a.prefix === 0 ? 0 : (0xffffffff << (32 - a.prefix)) >>> 0;
          const b = Buffer.alloc(4);
          b.writeUInt32BE((v | ~mask) >>> 0);
          attrs.broadcast = b;
        } else {
          const b = parseIpv4(a.broadcast);
          if (!b) throw netlinkError(`${what}: bad broadcast ${a.broadcast}`, Object.assign(new Error(), { code: 'EINVAL' }));
          attrs.broadcast = b;
        }
      }
    }
    // keepalived: IPv6 /128 VIPs get preferred_lft 0 unless "preferred_lft forever"
    if (a.preferredLft !== undefined) attrs.cacheInfo = { ifaPrefered: a.preferredLft, ifaValid: 0xffffffff, cstamp: 0, tstamp: 0 };
    return { data, attrs };
  }

  async addAddress(a: AddressSpec): Promise<void> {
    const what = `add address ${a.address}/${a.prefix} dev ${a.ifname}`;
    const { data, attrs } = this.addressRequest(a, what);
    // CREATE|EXCL like `ip addr add`: an existing address is EEXIST, not silently replaced
    await this.call(what, () => this.req.newAddress(data, attrs, this.opts(FlagsNew.CREATE | FlagsNew.EXCL)));
  }

  async delAddress(a: AddressSpec): Promise<void> {
    const what = `delete address ${a.address}/${a.prefix} dev ${a.ifname}`;
    const { data, attrs } = this.addressRequest(a, what);
    delete attrs.cacheInfo;
    await this.call(what, () => this.req.delAddress(data, attrs, this.opts()));
  }

  async addMacvlan(name: string, parent: string, mac: string, mode: 'private' | 'bridge' = 'private'): Promise<void> {
    const what = `add macvlan ${name} link ${parent} address ${mac}`;
    const macBuf = parseMac(mac);
    if (!macBuf) throw netlinkError(`${what}: bad MAC`, Object.assign(new Error(), { code: 'EINVAL' }));
    if (name.length === 0 || name.length > 15) throw netlinkError(`${what}: bad name`, Object.assign(new Error(), { code: 'EINVAL' }));
    const parentIndex = this.index(parent, what);
    // keepalived vrrp_vmac.c: macvlan in private mode ("will receive frames with same MAC
    // addr as configured on the interface" and not talk to sibling macvlans)
    const linkinfo = streamToBuffer(
      ifla.formatInfo({
        kind: 'macvlan',
        data: streamToBuffer(ifla.formatMacvlan({ mode: ifla.formatMacvlanMode(mode === 'private' ? { private: true } : { bridge: true }) })),
      }),
    );
    await this.call(what, () =>
      this.req.newLink({ family: 0 }, { ifname: name, link: u32le(parentIndex), address: macBuf, linkinfo }, this.opts(FlagsNew.CREATE | FlagsNew.EXCL)),
    );
  }

  async delLink(name: string): Promise<void> {
    const what = `delete link ${name}`;
    const index = this.index(name, what);
    await this.call(what, () => this.req.delLink({ index }, undefined, this.opts()));
  }

  async setLinkUp(name: string, up: boolean): Promise<void> {
    const what = `set link ${name} ${up ? 'up' : 'down'}`;
    const index = this.index(name, what);
    await this.call(what, () => this.req.setLink({ index, change: { up: true }, flags: up ? { up: true } : {} }, undefined, this.opts()));
  }

  /**
   * keepalived vrrp_vmac.c: an IPv6 VMAC gets IN6_ADDR_GEN_MODE_NONE so the kernel does
   * not derive a link-local from the VRRP MAC (RFC 5798 §7.4), then the parent's
   * link-local is added explicitly. Set it before bringing the link up.
   */
  async setIpv6AddrGenMode(name: string, mode: keyof typeof IN6_ADDR_GEN_MODE): Promise<void> {
    const what = `set ${name} addrgenmode ${mode}`;
    const index = this.index(name, what);
    const afSpec = new Map<number, Buffer>([[AF_INET6, nla(IFLA_INET6_ADDR_GEN_MODE, Buffer.from([IN6_ADDR_GEN_MODE[mode]]))]]);
    await this.call(what, () => this.req.setLink({ index }, { afSpec }, this.opts()));
  }

  // ------------------------------------------------------------ routes / rules

  /**
   * rtmsg + attributes for one route, as keepalived 2.2.7 vrrp_iproute.c netlink_route()
   * builds them: protocol RTPROT_KEEPALIVED unless configured; on delete scope NOWHERE
   * (matches any) and the type only when one was configured.
   */
  private routeRequest(r: RouteSpec, del: boolean, what: string): { data: rt.Route; attrs: rt.RouteAttrs } {
    if (r.unsupported?.length) {
      throw netlinkError(`${what}: not supported by keepwatch's netlink adapter: ${r.unsupported.join(', ')}`, Object.assign(new Error('unsupported'), { code: 'EOPNOTSUPP' }));
    }
    const fam = r.family;
    const dstLen = prefixOk(fam, r.prefix, 'destination', what);
    if (!Number.isInteger(r.table) || r.table < 0 || r.table > 0xffffffff) throw einval(what, `bad table ${r.table}`);
    let type = 0;
    if (r.type !== undefined) {
      type = typeof r.type === 'number' ? r.type : RTN_TYPES[r.type];
      if (type === undefined || !Number.isInteger(type) || type < 0 || type > 255) throw einval(what, `bad route type ${String(r.type)}`);
    } else if (!del) type = RTN_TYPES.unicast;
    const data: rt.Route = {
      family: fam === 'ipv4' ? AF_INET : AF_INET6,
      dstLen,
      tos: r.tos ?? 0,
      // tables above 255 travel in RTA_TABLE with rtm_table RT_TABLE_UNSPEC
      table: r.table < 256 ? r.table : 0,
      protocol: r.protocol ?? RTPROT_KEEPALIVED,
      scope: r.scope ?? (del ? RT_SCOPE_NOWHERE : 0),
      type,
    };
    if (r.onlink) data.flags = { __unknown: RTNH_F_ONLINK };
    const attrs: rt.RouteAttrs = { dst: addrBytes(fam, r.dst, 'destination', what) };
    if (r.table >= 256) attrs.table = r.table;
    if (r.from !== undefined) {
      attrs.src = addrBytes(fam, r.from, 'from', what);
      data.srcLen = prefixOk(fam, r.fromPrefix, 'from', what);
    }
    if (r.src !== undefined) attrs.prefsrc = addrBytes(fam, r.src, 'src', what);
    if (r.via !== undefined) attrs.gateway = addrBytes(fam, r.via, 'via', what);
    if (r.dev !== undefined) attrs.oif = this.index(r.dev, what);
    if (r.metric !== undefined) attrs.priority = r.metric;
    if (r.realms !== undefined) attrs.flow = r.realms;
    if (r.expires !== undefined) attrs.expires = u32le(r.expires);
    if (r.pref !== undefined) attrs.pref = u8(r.pref);
    if (r.ttlPropagate !== undefined) attrs.ttlPropagate = r.ttlPropagate ? 1 : 0;
    const m = r.metrics;
    if (m) {
      const metrics: rt.RouteMetrics = {};
      const num: Array<[keyof typeof m, keyof rt.RouteMetrics]> = [
        ['mtu', 'mtu'],
        ['window', 'window'],
        ['rtt', 'rtt'],
        ['rttvar', 'rttvar'],
        ['ssthresh', 'ssthresh'],
        ['cwnd', 'cwnd'],
        ['advmss', 'advmss'],
        ['reordering', 'reordering'],
        ['hoplimit', 'hoplimit'],
        ['initcwnd', 'initcwnd'],
        ['features', 'features'],
        ['rtoMin', 'rtoMin'],
        ['initrwnd', 'initrwnd'],
        ['quickack', 'quickack'],
        ['fastopenNoCookie', 'fastopenNoCookie'],
      ];
      for (const [k, a] of num) {
        const v = m[k];
        if (typeof v === 'number') (metrics as Record<string, Buffer>)[a] = u32le(v >>> 0);
      }
      // RTAX_CC_ALGO: the name, as keepalived sends it (no NUL)
      if (m.congctl) metrics.ccAlgo = Buffer.from(m.congctl);
      if (Object.keys(metrics).length) {
        if (m.lock) metrics.lock = u32le(m.lock >>> 0);
        attrs.metrics = metrics;
      }
    }
    if (r.nexthops?.length) attrs.multipath = this.multipath(r, what);
    return { data, attrs };
  }

  /** RTA_MULTIPATH: struct rtnexthop {len, flags, hops, ifindex} + RTA_GATEWAY/RTA_FLOW per hop. */
  private multipath(r: RouteSpec, what: string): Buffer {
    const parts: Buffer[] = [];
    for (const nh of r.nexthops ?? []) {
      const attrs: Buffer[] = [];
      if (nh.via !== undefined) attrs.push(nla(RTA_GATEWAY, addrBytes(r.family, nh.via, 'nexthop via', what)));
      if (nh.realms !== undefined) attrs.push(nla(RTA_FLOW, u32le(nh.realms)));
      const body = Buffer.concat(attrs);
      const h = Buffer.alloc(8);
      h.writeUInt16LE(8 + body.length, 0);
      h.writeUInt8(nh.onlink ? RTNH_F_ONLINK : 0, 2);
      const w = nh.weight ?? 1;
      if (!Number.isInteger(w) || w < 1 || w > 256) throw einval(what, `bad nexthop weight ${w}`);
      h.writeUInt8(w - 1, 3);
      h.writeInt32LE(nh.dev !== undefined ? this.index(nh.dev, what) : 0, 4);
      parts.push(h, body);
    }
    return Buffer.concat(parts);
  }

  async addRoute(r: RouteSpec, opts: { replace?: boolean } = {}): Promise<void> {
    const what = routeWhat(opts.replace ? 'replace' : 'add', r);
    const { data, attrs } = this.routeRequest(r, false, what);
    // keepalived: NLM_F_CREATE, plus EXCL for "add", APPEND for "append", REPLACE on reload
    let flags = FlagsNew.CREATE;
    if (opts.replace) flags |= FlagsNew.REPLACE;
    else if (r.mode === 'add') flags |= FlagsNew.EXCL;
    else if (r.mode === 'append') flags |= FlagsNew.APPEND;
    await this.call(what, () => this.req.newRoute(data, attrs, this.opts(flags)));
  }

  async delRoute(r: RouteSpec): Promise<void> {
    const what = routeWhat('delete', r);
    const { data, attrs } = this.routeRequest(r, true, what);
    // only what identifies the route: metrics and multipath are not matched on delete
    delete attrs.metrics;
    delete attrs.multipath;
    delete attrs.expires;
    delete attrs.pref;
    delete attrs.ttlPropagate;
    await this.call(what, () => this.req.delRoute(data, attrs, this.opts()));
  }

  /** fib_rule_hdr + FRA_* attributes, as keepalived 2.2.7 vrrp_iprule.c netlink_rule() builds them. */
  private ruleRequest(r: RuleSpec, what: string): { data: rt.Rule; attrs: rt.RuleAttrs } {
    const fam = r.family;
    const action = FR_ACT[r.action];
    if (action === undefined) throw einval(what, `bad rule action ${String(r.action)}`);
    const data: rt.Rule = { family: fam === 'ipv4' ? AF_INET : AF_INET6, tos: r.tos ?? 0, action };
    const attrs: rt.RuleAttrs = {};
    if (r.action === 'table' && !r.l3mdev) {
      const t = r.table ?? RT_TABLE_MAIN;
      if (!Number.isInteger(t) || t < 0 || t > 0xffffffff) throw einval(what, `bad table ${t}`);
      if (t < 256) data.table = t === 0 ? RT_TABLE_MAIN : t;
      else attrs.table = t;
    }
    if (r.not) data.flags = { invert: true };
    if (r.from !== undefined) {
      attrs.src = addrBytes(fam, r.from, 'from', what);
      data.srcLen = prefixOk(fam, r.fromPrefix, 'from', what);
    }
    if (r.to !== undefined) {
      attrs.dst = addrBytes(fam, r.to, 'to', what);
      data.dstLen = prefixOk(fam, r.toPrefix, 'to', what);
    }
    if (r.priority !== undefined) attrs.priority = r.priority;
    if (r.fwmark !== undefined) attrs.fwmark = r.fwmark >>> 0;
    if (r.fwmask !== undefined) attrs.fwmask = r.fwmask >>> 0;
    if (r.realms !== undefined) attrs.flow = r.realms >>> 0;
    if (r.suppressPrefixLength !== undefined) {
      const b = Buffer.alloc(4);
      b.writeInt32LE(r.suppressPrefixLength);
      attrs.suppressPrefixlen = b;
    }
    if (r.suppressIfgroup !== undefined) attrs.suppressIfgroup = u32le(r.suppressIfgroup >>> 0);
    if (r.iif !== undefined) attrs.iifname = r.iif;
    if (r.oif !== undefined) attrs.oifname = r.oif;
    if (r.tunnelId !== undefined) {
      // FRA_TUN_ID is big-endian (keepalived: htobe64)
      const b = Buffer.alloc(8);
      try {
        b.writeBigUInt64BE(BigInt(r.tunnelId));
      } catch {
        throw einval(what, `bad tunnel-id ${r.tunnelId}`);
      }
      attrs.tunId = b;
    }
    if (r.uidRange) attrs.uidRange = { start: r.uidRange[0], end: r.uidRange[1] };
    if (r.l3mdev) attrs.l3Mdev = 1;
    if (r.protocol !== undefined) attrs.protocol = r.protocol;
    if (r.ipProto !== undefined) attrs.ipProto = r.ipProto;
    if (r.sport) attrs.sportRange = { start: r.sport[0], end: r.sport[1] };
    if (r.dport) attrs.dportRange = { start: r.dport[0], end: r.dport[1] };
    if (r.action === 'goto') {
      if (r.goto === undefined) throw einval(what, 'goto without target');
      attrs.goto = r.goto;
    }
    return { data, attrs };
  }

  async addRule(r: RuleSpec): Promise<void> {
    const what = ruleWhat('add', r);
    const { data, attrs } = this.ruleRequest(r, what);
    // keepalived: NLM_F_CREATE|NLM_F_EXCL (the kernel would otherwise add a duplicate rule)
    await this.call(what, () => this.req.newRule(data, attrs, this.opts(FlagsNew.CREATE | FlagsNew.EXCL)));
  }

  async delRule(r: RuleSpec): Promise<void> {
    const what = ruleWhat('delete', r);
    const { data, attrs } = this.ruleRequest(r, what);
    await this.call(what, () => this.req.delRule(data, attrs, this.opts()));
  }

  /** rtmsg header (12 bytes, read directly: the package maps numbers to enum names) + attributes */
  private toRoute(b: Buffer): RouteInfo | null {
    if (b.length < 12) return null;
    const family = familyOf(b[0]);
    if (!family) return null;
    // only the attributes route matching needs, read as plain TLVs: the package's full
    // parser throws on any struct whose size differs from its own (RTA_CACHEINFO…)
    const a = tlvs(b.subarray(12));
    const dst = a.get(RTA_DST);
    const table = a.get(RTA_TABLE);
    const prio = a.get(RTA_PRIORITY);
    const oif = a.get(RTA_OIF);
    const gw = a.get(RTA_GATEWAY);
    const info: RouteInfo = {
      family,
      dst: dst ? formatIp(dst) : family === 'ipv4' ? '0.0.0.0' : '::',
      prefix: b[1]!,
      tos: b[3]!,
      table: table && table.length >= 4 ? table.readUInt32LE(0) : b[4]!,
      protocol: b[5]!,
      scope: b[6]!,
      type: b[7]!,
      metric: prio && prio.length >= 4 ? prio.readUInt32LE(0) : 0,
    };
    if (oif && oif.length >= 4) {
      info.oif = oif.readUInt32LE(0);
      const n = this.nameOf(info.oif);
      if (n) info.ifname = n;
    }
    if (gw) info.via = formatIp(gw);
    return info;
  }

  /** fib_rule_hdr (family, dst_len, src_len, tos, table, res1, res2, action, flags u32) + FRA_* */
  private toRule(b: Buffer): RuleInfo | null {
    if (b.length < 12) return null;
    const family = familyOf(b[0]);
    if (!family) return null;
    const a = tlvs(b.subarray(12));
    const u32 = (t: number): number | undefined => {
      const v = a.get(t);
      return v && v.length >= 4 ? v.readUInt32LE(0) : undefined;
    };
    const str = (t: number): string | undefined => {
      const v = a.get(t);
      return v ? v.toString('utf8').replace(/\0.*$/s, '') : undefined;
    };
    const info: RuleInfo = {
      family,
      priority: u32(FRA_PRIORITY) ?? 0,
      action: b[7]!,
      table: u32(FRA_TABLE) ?? b[4]!,
      fromPrefix: b[2]!,
      toPrefix: b[1]!,
      not: (b.readUInt32LE(8) & FIB_RULE_INVERT) !== 0,
      tos: b[3]!,
    };
    const go = u32(FRA_GOTO);
    if (go !== undefined) info.goto = go;
    const src = a.get(FRA_SRC);
    const dst = a.get(FRA_DST);
    if (src) info.from = formatIp(src);
    if (dst) info.to = formatIp(dst);
    const mark = u32(FRA_FWMARK);
    const mask = u32(FRA_FWMASK);
    if (mark !== undefined) info.fwmark = mark;
    if (mask !== undefined) info.fwmask = mask;
    const iif = str(FRA_IIFNAME);
    const oifn = str(FRA_OIFNAME);
    if (iif !== undefined) info.iif = iif;
    if (oifn !== undefined) info.oif = oifn;
    const proto = a.get(FRA_PROTOCOL);
    if (proto && proto.length >= 1) info.protocol = proto[0]!;
    return info;
  }

  onEvent(cb: (e: NetlinkEvent) => void): void {
    this.eventCbs.push(cb);
    if (this.ev || this.closed) return;
    // a bigger receive buffer makes ENOBUFS (lost events) less likely during address storms;
    // the kernel caps it at net.core.rmem_max
    const ev = createRtNetlink({ ref: false, recvBufferSize: 1 << 20, sendBufferSize: 0 });
    ev.socket.on('error', (e) => this.fail(netlinkError('netlink event socket (events may have been lost; re-read links and addresses)', e)));
    // the lower socket keeps nlmsg_type: the only way to tell NEW from DEL
    ev.socket.on('message', (msgs: NetlinkMessage[]) => {
      for (const msg of msgs) this.event(msg);
    });
    ev.addMembership('LINK');
    ev.addMembership('IPV4_IFADDR');
    ev.addMembership('IPV6_IFADDR');
    for (const g of this.extraGroups) ev.addMembership(g);
    this.ev = ev;
    const hardened = hardenEventSocket((ev.socket as unknown as { address(): { port: number } }).address().port);
    if (hardened) this.fail(hardened);
  }

  monitorRoutes(groups: { ipv4Routes?: boolean; ipv6Routes?: boolean; ipv4Rules?: boolean; ipv6Rules?: boolean }): void {
    const want: Array<['IPV4_ROUTE' | 'IPV6_ROUTE' | 'IPV4_RULE' | 'IPV6_RULE', boolean | undefined]> = [
      ['IPV4_ROUTE', groups.ipv4Routes],
      ['IPV6_ROUTE', groups.ipv6Routes],
      ['IPV4_RULE', groups.ipv4Rules],
      ['IPV6_RULE', groups.ipv6Rules],
    ];
    for (const [g, on] of want) {
      if (!on || this.extraGroups.has(g)) continue;
      this.extraGroups.add(g);
      try {
        this.ev?.addMembership(g);
      } catch (e) {
        this.fail(netlinkError(`netlink event socket: join ${g}`, e));
      }
    }
  }

  onError(cb: (err: Error) => void): void {
    this.errorCbs.push(cb);
  }

  private event(msg: NetlinkMessage): void {
    let e: NetlinkEvent | null = null;
    try {
      if (msg.type === RTM_NEWLINK || msg.type === RTM_DELLINK) {
        const link = this.toLink(rt.parseLinkMessage(msg.data));
        if (msg.type === RTM_NEWLINK) this.names.set(link.index, link.name);
        else this.names.delete(link.index);
        e = { kind: 'link', op: msg.type === RTM_NEWLINK ? 'new' : 'del', link };
      } else if (msg.type === RTM_NEWADDR || msg.type === RTM_DELADDR) {
        const addr = this.toAddr(rt.parseAddressMessage(msg.data));
        if (addr) e = { kind: 'addr', op: msg.type === RTM_NEWADDR ? 'new' : 'del', addr };
      } else if (msg.type === RTM_NEWROUTE || msg.type === RTM_DELROUTE) {
        const route = this.toRoute(msg.data);
        if (route) e = { kind: 'route', op: msg.type === RTM_NEWROUTE ? 'new' : 'del', route };
      } else if (msg.type === RTM_NEWRULE || msg.type === RTM_DELRULE) {
        const rule = this.toRule(msg.data);
        if (rule) e = { kind: 'rule', op: msg.type === RTM_NEWRULE ? 'new' : 'del', rule };
      }
    } catch (err) {
      this.fail(netlinkError(`parse netlink event type ${msg.type}`, err));
      return;
    }
    if (!e) return;
    for (const cb of this.eventCbs) {
      try {
        cb(e);
      } catch (err) {
        this.fail(err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    openAdapters.delete(this);
    this.req.socket.close();
    this.ev?.socket.close();
    this.ev = null;
  }
}

/**
 * Open the rtnetlink adapter. The request socket is opened before the first await (so in
 * the caller's namespace); the returned promise resolves after an initial link dump.
 */
export async function createNetlink(): Promise<Netlink> {
  const nl = new RtNetlink();
  try {
    await nl.getLinks();
  } catch (e) {
    nl.close();
    throw e;
  }
  return nl;
}
