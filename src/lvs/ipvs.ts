/**
 * Client for the kernel's IPVS generic-netlink family ("IPVS", version 1), on top of the
 * `netlink` package's generic-netlink socket. It does what keepalived's check/libipvs.c
 * does over libnl: resolve the family, GET_INFO, NEW/SET/DEL service and destination,
 * dump services and destinations with their counters, GET/SET_CONFIG timeouts, FLUSH.
 * No ipvsadm is run.
 *
 * Wire layout (include/uapi/linux/ip_vs.h), every request after the 4-byte genl header:
 *
 *   IPVS_CMD_ATTR_SERVICE (nested)            IPVS_CMD_ATTR_DEST (nested)
 *     SVC_ATTR_AF         u16                   DEST_ATTR_ADDR        16 bytes (nf_inet_addr)
 *     SVC_ATTR_PROTOCOL   u16   } address       DEST_ATTR_PORT        u16, network order
 *     SVC_ATTR_ADDR       16 B  } services      DEST_ATTR_FWD_METHOD  u32 (IP_VS_CONN_F_*)
 *     SVC_ATTR_PORT       u16 BE}               DEST_ATTR_WEIGHT      u32
 *     SVC_ATTR_FWMARK     u32   (fwmark svc)    DEST_ATTR_U_THRESH    u32
 *     SVC_ATTR_SCHED_NAME nul-terminated        DEST_ATTR_L_THRESH    u32
 *     SVC_ATTR_PE_NAME    nul-terminated        DEST_ATTR_ADDR_FAMILY u16
 *     SVC_ATTR_FLAGS      {u32 flags,u32 mask}  DEST_ATTR_TUN_TYPE u8, _TUN_PORT u16 BE,
 *     SVC_ATTR_TIMEOUT    u32 seconds                   _TUN_FLAGS u16
 *     SVC_ATTR_NETMASK    u32 (IPv4: mask in network order; IPv6: prefix length)
 *
 * Netlink attributes are host-endian (little endian here); ports and IPv4 netmasks are
 * the kernel's __be16/__be32 carried as-is.
 */
import { spawnSync } from 'node:child_process';
import { createGenericNetlink, FlagsGet, genl, type GenericNetlinkSocket } from 'netlink';
import { bytesToIp, ipToBytes, prefixToV4Mask, v4MaskToPrefix } from './addr';
import { destKeyString, serviceKeyString } from './keys';
import type {
  DestKey,
  IpFamily,
  IpvsDest,
  IpvsInfo,
  IpvsService,
  IpvsStats,
  IpvsTimeouts,
  KernelDest,
  KernelForwarding,
  KernelService,
  Protocol,
  ServiceKey,
  TunnelType,
} from './types';

const GENL_VERSION = 1;
const CMD = {
  NEW_SERVICE: 1,
  SET_SERVICE: 2,
  DEL_SERVICE: 3,
  GET_SERVICE: 4,
  NEW_DEST: 5,
  SET_DEST: 6,
  DEL_DEST: 7,
  GET_DEST: 8,
  SET_CONFIG: 12,
  GET_CONFIG: 13,
  GET_INFO: 15,
  ZERO: 16,
  FLUSH: 17,
} as const;
const CMD_ATTR = { SERVICE: 1, DEST: 2, TIMEOUT_TCP: 4, TIMEOUT_TCP_FIN: 5, TIMEOUT_UDP: 6 } as const;
const SVC = { AF: 1, PROTOCOL: 2, ADDR: 3, PORT: 4, FWMARK: 5, SCHED_NAME: 6, FLAGS: 7, TIMEOUT: 8, NETMASK: 9, STATS: 10, PE_NAME: 11, STATS64: 12 } as const;
const DEST = {
  ADDR: 1,
  PORT: 2,
  FWD_METHOD: 3,
  WEIGHT: 4,
  U_THRESH: 5,
  L_THRESH: 6,
  ACTIVE_CONNS: 7,
  INACT_CONNS: 8,
  PERSIST_CONNS: 9,
  STATS: 10,
  ADDR_FAMILY: 11,
  STATS64: 12,
  TUN_TYPE: 13,
  TUN_PORT: 14,
  TUN_FLAGS: 15,
} as const;
const STATS = { CONNS: 1, INPKTS: 2, OUTPKTS: 3, INBYTES: 4, OUTBYTES: 5, CPS: 6, INPPS: 7, OUTPPS: 8, INBPS: 9, OUTBPS: 10 } as const;
const INFO = { VERSION: 1, CONN_TAB_SIZE: 2 } as const;
const NLA_F_NESTED = 0x8000;
const NLA_TYPE_MASK = 0x3fff;

const AF_INET = 2;
const AF_INET6 = 10;
const PROTO_NUM: Record<Protocol, number> = { TCP: 6, UDP: 17, SCTP: 132 };
const PROTO_NAME = new Map<number, Protocol>([
  [6, 'TCP'],
  [17, 'UDP'],
  [132, 'SCTP'],
]);
// IP_VS_CONN_F_MASQ 0, LOCALNODE 1, TUNNEL 2, DROUTE 3, BYPASS 4
const FWD_NUM: Record<KernelForwarding, number> = { NAT: 0, LOCAL: 1, TUN: 2, DR: 3, BYPASS: 4 };
const FWD_NAME: KernelForwarding[] = ['NAT', 'LOCAL', 'TUN', 'DR', 'BYPASS'];
const TUN_NUM: Record<TunnelType, number> = { ipip: 0, gue: 1, gre: 2 };
const TUN_NAME: TunnelType[] = ['ipip', 'gue', 'gre'];

/** The kernel has no IPVS (genl family "IPVS" unknown): LVS is off, VRRP keeps working. */
export class IpvsUnavailableError extends Error {
  readonly code = 'IPVS_UNAVAILABLE';
  constructor(detail: string) {
    super(`IPVS unavailable: ${detail}`);
    this.name = 'IpvsUnavailableError';
  }
}

/** A request the kernel refused; `errno` is the symbolic name (EEXIST, ENOENT, ESRCH ...). */
export class IpvsError extends Error {
  constructor(
    readonly op: string,
    readonly target: string,
    readonly errno: string,
  ) {
    super(`IPVS ${op} ${target}: ${errno}`);
    this.name = 'IpvsError';
  }
}

// ------------------------------------------------------------------ attribute codec

class AttrWriter {
  private parts: Buffer[] = [];

  private put(type: number, payload: Buffer): this {
    const len = 4 + payload.length;
    const hdr = Buffer.alloc(4);
    hdr.writeUInt16LE(len, 0);
    hdr.writeUInt16LE(type, 2);
    this.parts.push(hdr, payload);
    const pad = (4 - (len % 4)) % 4;
    if (pad) this.parts.push(Buffer.alloc(pad));
    return this;
  }
  u8(type: number, v: number): this {
    return this.put(type, Buffer.from([v & 0xff]));
  }
  u16(type: number, v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(v, 0);
    return this.put(type, b);
  }
  be16(type: number, v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v, 0);
    return this.put(type, b);
  }
  u32(type: number, v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0, 0);
    return this.put(type, b);
  }
  raw(type: number, b: Buffer): this {
    return this.put(type, b);
  }
  str(type: number, s: string): this {
    return this.put(type, Buffer.from(`${s}\0`, 'latin1'));
  }
  nest(type: number, inner: AttrWriter): this {
    return this.put(type | NLA_F_NESTED, inner.buffer());
  }
  buffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function parseAttrs(buf: Buffer): Map<number, Buffer> {
  const m = new Map<number, Buffer>();
  for (let o = 0; o + 4 <= buf.length; ) {
    const len = buf.readUInt16LE(o);
    if (len < 4 || o + len > buf.length) break;
    m.set(buf.readUInt16LE(o + 2) & NLA_TYPE_MASK, buf.subarray(o + 4, o + len));
    o += (len + 3) & ~3;
  }
  return m;
}

/** u32 or u64 by length (IPVS_*_ATTR_STATS mixes them; STATS64 is all u64). */
function num(b: Buffer | undefined): number {
  if (!b) return 0;
  if (b.length >= 8) return Number(b.readBigUInt64LE(0));
  if (b.length >= 4) return b.readUInt32LE(0);
  if (b.length >= 2) return b.readUInt16LE(0);
  return b.length ? b[0] : 0;
}

function parseStats(b: Buffer | undefined): IpvsStats {
  const a = b ? parseAttrs(b) : new Map<number, Buffer>();
  return {
    conns: num(a.get(STATS.CONNS)),
    inPkts: num(a.get(STATS.INPKTS)),
    outPkts: num(a.get(STATS.OUTPKTS)),
    inBytes: num(a.get(STATS.INBYTES)),
    outBytes: num(a.get(STATS.OUTBYTES)),
    cps: num(a.get(STATS.CPS)),
    inPps: num(a.get(STATS.INPPS)),
    outPps: num(a.get(STATS.OUTPPS)),
    inBps: num(a.get(STATS.INBPS)),
    outBps: num(a.get(STATS.OUTBPS)),
  };
}

function afNum(f: IpFamily): number {
  return f === 'inet6' ? AF_INET6 : AF_INET;
}
function afName(n: number): IpFamily {
  return n === AF_INET6 ? 'inet6' : 'inet';
}

/** The kernel's 16-byte nf_inet_addr (IPv4 in the first 4 bytes), as libipvs sends it. */
function inetAddr(address: string): Buffer {
  const b = Buffer.alloc(16);
  ipToBytes(address).copy(b);
  return b;
}

function serviceIdAttrs(k: ServiceKey): AttrWriter {
  const w = new AttrWriter().u16(SVC.AF, afNum(k.family));
  if (k.fwmark) return w.u32(SVC.FWMARK, k.fwmark);
  return w
    .u16(SVC.PROTOCOL, PROTO_NUM[k.protocol ?? 'TCP'])
    .raw(SVC.ADDR, inetAddr(k.address))
    .be16(SVC.PORT, k.port);
}

function serviceFullAttrs(s: IpvsService): AttrWriter {
  const w = serviceIdAttrs(s).str(SVC.SCHED_NAME, s.scheduler);
  if (s.peName) w.str(SVC.PE_NAME, s.peName);
  const flags = Buffer.alloc(8);
  // mask ~0: the service's flags become exactly ours (libipvs ipvs_nl_fill_service_attr)
  flags.writeUInt32LE((s.flags & ~0x0002) >>> 0, 0);
  flags.writeUInt32LE(0xffffffff, 4);
  w.raw(SVC.FLAGS, flags).u32(SVC.TIMEOUT, s.timeout);
  if (s.family === 'inet') w.raw(SVC.NETMASK, ipToBytes(prefixToV4Mask(s.netmask)));
  else w.u32(SVC.NETMASK, s.netmask);
  return w;
}

function destAttrs(d: IpvsDest, full: boolean): AttrWriter {
  const w = new AttrWriter()
    .u16(DEST.ADDR_FAMILY, afNum(d.family))
    .raw(DEST.ADDR, inetAddr(d.address))
    .be16(DEST.PORT, d.port);
  if (!full) return w;
  w.u32(DEST.FWD_METHOD, FWD_NUM[d.forwarding]).u32(DEST.WEIGHT, Math.max(0, d.weight));
  if (d.forwarding === 'TUN' && d.tunnelType) {
    // only kernels >= 5.3 know these; keepalived sends them only for tunnels too
    w.u8(DEST.TUN_TYPE, TUN_NUM[d.tunnelType]);
    if (d.tunnelType === 'gue') w.be16(DEST.TUN_PORT, d.tunnelPort ?? 0);
    if (d.tunnelType !== 'ipip') w.u16(DEST.TUN_FLAGS, d.tunnelFlags ?? 0);
  }
  return w.u32(DEST.U_THRESH, d.upperThreshold).u32(DEST.L_THRESH, d.lowerThreshold);
}

function parseService(data: Buffer): KernelService | null {
  const top = parseAttrs(data).get(CMD_ATTR.SERVICE);
  if (!top) return null;
  const a = parseAttrs(top);
  const family = afName(num(a.get(SVC.AF)));
  const fwmark = num(a.get(SVC.FWMARK));
  const maskRaw = a.get(SVC.NETMASK);
  let netmask = family === 'inet' ? 32 : 128;
  if (maskRaw && maskRaw.length >= 4) {
    netmask = family === 'inet' ? (v4MaskToPrefix(bytesToIp('inet', maskRaw)) ?? 32) : maskRaw.readUInt32LE(0);
  }
  const flagsRaw = a.get(SVC.FLAGS);
  const flags = flagsRaw && flagsRaw.length >= 8 ? flagsRaw.readUInt32LE(0) & flagsRaw.readUInt32LE(4) : 0;
  const cstr = (b: Buffer | undefined) => (b ? b.toString('latin1').replace(/\0.*$/s, '') : '');
  return {
    family,
    fwmark,
    protocol: fwmark ? null : (PROTO_NAME.get(num(a.get(SVC.PROTOCOL))) ?? 'TCP'),
    address: fwmark ? '' : bytesToIp(family, a.get(SVC.ADDR) ?? Buffer.alloc(16)),
    port: fwmark ? 0 : (a.get(SVC.PORT)?.readUInt16BE(0) ?? 0),
    scheduler: cstr(a.get(SVC.SCHED_NAME)),
    peName: cstr(a.get(SVC.PE_NAME)),
    flags: flags & ~0x0002,
    timeout: num(a.get(SVC.TIMEOUT)),
    netmask,
    stats: parseStats(a.get(SVC.STATS64) ?? a.get(SVC.STATS)),
    dests: [],
  };
}

function parseDest(data: Buffer, svcFamily: IpFamily): KernelDest | null {
  const top = parseAttrs(data).get(CMD_ATTR.DEST);
  if (!top) return null;
  const a = parseAttrs(top);
  const afRaw = a.get(DEST.ADDR_FAMILY);
  const family = afRaw ? afName(num(afRaw)) : svcFamily;
  const forwarding = FWD_NAME[num(a.get(DEST.FWD_METHOD)) & 7] ?? 'NAT';
  const d: KernelDest = {
    family,
    address: bytesToIp(family, a.get(DEST.ADDR) ?? Buffer.alloc(16)),
    port: a.get(DEST.PORT)?.readUInt16BE(0) ?? 0,
    forwarding,
    weight: a.get(DEST.WEIGHT)?.readInt32LE(0) ?? 0,
    upperThreshold: num(a.get(DEST.U_THRESH)),
    lowerThreshold: num(a.get(DEST.L_THRESH)),
    activeConns: num(a.get(DEST.ACTIVE_CONNS)),
    inactConns: num(a.get(DEST.INACT_CONNS)),
    persistConns: num(a.get(DEST.PERSIST_CONNS)),
    stats: parseStats(a.get(DEST.STATS64) ?? a.get(DEST.STATS)),
  };
  if (forwarding === 'TUN' && a.has(DEST.TUN_TYPE)) {
    d.tunnelType = TUN_NAME[num(a.get(DEST.TUN_TYPE))] ?? 'ipip';
    if (d.tunnelType === 'gue') d.tunnelPort = a.get(DEST.TUN_PORT)?.readUInt16BE(0) ?? 0;
    if (d.tunnelType !== 'ipip') d.tunnelFlags = num(a.get(DEST.TUN_FLAGS));
  }
  return d;
}

/** "Request rejected: EEXIST" (netlink package) -> "EEXIST". */
function errnoOf(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const m = /Request rejected: (\S+)/.exec(msg);
  if (m) return m[1];
  if (/Timeout/i.test(msg)) return 'ETIMEDOUT';
  return msg;
}

export interface IpvsOpenOptions {
  /** run `modprobe ip_vs` when the family is unknown, as keepalived's ipvs_start does (default true) */
  modprobe?: boolean;
  /** per-request timeout, ms (default 5000) */
  timeoutMs?: number;
}

/**
 * One generic-netlink socket to IPVS in the calling process's network namespace.
 * Requests are serialised (the kernel takes one IPVS mutex anyway); every method
 * rejects with IpvsError carrying the kernel's errno name.
 */
export class IpvsClient {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly sock: GenericNetlinkSocket,
    readonly familyId: number,
    private readonly timeoutMs: number,
  ) {}

  /** Resolve the IPVS family. Rejects with IpvsUnavailableError when the kernel has none. */
  static async open(opts: IpvsOpenOptions = {}): Promise<IpvsClient> {
    const timeoutMs = opts.timeoutMs ?? 5000;
    const resolve = async (): Promise<{ sock: GenericNetlinkSocket; id: number } | string> => {
      const sock = createGenericNetlink();
      try {
        const [fam] = await sock.ctrlRequest(genl.Commands.GET_FAMILY, { familyName: 'IPVS' }, { timeout: timeoutMs });
        if (!fam?.familyId) {
          sock.socket.close();
          return 'no family id in the controller reply';
        }
        return { sock, id: fam.familyId };
      } catch (e) {
        sock.socket.close();
        return errnoOf(e);
      }
    };
    let r = await resolve();
    if (typeof r === 'string' && r === 'ENOENT' && opts.modprobe !== false) {
      // keepalived 2.2.7 ipvswrapper.c ipvs_start(): load the module, then try again
      const p = spawnSync('modprobe', ['ip_vs'], { stdio: 'ignore', timeout: 10_000 });
      if (p.status === 0) r = await resolve();
    }
    if (typeof r === 'string') {
      throw new IpvsUnavailableError(r === 'ENOENT' ? 'the kernel has no "IPVS" generic netlink family (CONFIG_IP_VS not set or ip_vs not loaded)' : r);
    }
    return new IpvsClient(r.sock, r.id, timeoutMs);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.socket.close();
  }

  private async req(op: string, target: string, cmd: number, attrs: AttrWriter | null, dump = false): Promise<Buffer[]> {
    const run = async (): Promise<Buffer[]> => {
      if (this.closed) throw new IpvsError(op, target, 'ECLOSED');
      try {
        const body = attrs ? attrs.buffer() : Buffer.alloc(0);
        const [msgs] = await this.sock.request(this.familyId, cmd, GENL_VERSION, body, {
          timeout: this.timeoutMs,
          ...(dump ? { flags: FlagsGet.DUMP } : {}),
        });
        return msgs.map((m) => m.data);
      } catch (e) {
        throw new IpvsError(op, target, errnoOf(e));
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  async info(): Promise<IpvsInfo> {
    const [data] = await this.req('get-info', 'ipvs', CMD.GET_INFO, null);
    const a = parseAttrs(data ?? Buffer.alloc(0));
    const v = num(a.get(INFO.VERSION));
    return { versionCode: v, version: `${(v >> 16) & 255}.${(v >> 8) & 255}.${v & 255}`, connTableSize: num(a.get(INFO.CONN_TAB_SIZE)) };
  }

  /** All services (counters included, destinations not). */
  async services(): Promise<KernelService[]> {
    const msgs = await this.req('get-services', 'ipvs', CMD.GET_SERVICE, null, true);
    return msgs.map(parseService).filter((s): s is KernelService => s !== null);
  }

  async dests(svc: ServiceKey): Promise<KernelDest[]> {
    const msgs = await this.req('get-dests', serviceKeyString(svc), CMD.GET_DEST, new AttrWriter().nest(CMD_ATTR.SERVICE, serviceIdAttrs(svc)), true);
    return msgs.map((m) => parseDest(m, svc.family)).filter((d): d is KernelDest => d !== null);
  }

  /** Services with their destinations; `only` limits the (per-service) destination dumps. */
  async table(only?: (s: KernelService) => boolean): Promise<KernelService[]> {
    const svcs = await this.services();
    for (const s of svcs) if (!only || only(s)) s.dests = await this.dests(s);
    return svcs;
  }

  async addService(s: IpvsService): Promise<void> {
    await this.req('add-service', serviceKeyString(s), CMD.NEW_SERVICE, new AttrWriter().nest(CMD_ATTR.SERVICE, serviceFullAttrs(s)));
  }

  async editService(s: IpvsService): Promise<void> {
    await this.req('edit-service', serviceKeyString(s), CMD.SET_SERVICE, new AttrWriter().nest(CMD_ATTR.SERVICE, serviceFullAttrs(s)));
  }

  async delService(k: ServiceKey): Promise<void> {
    await this.req('del-service', serviceKeyString(k), CMD.DEL_SERVICE, new AttrWriter().nest(CMD_ATTR.SERVICE, serviceIdAttrs(k)));
  }

  private destReq(op: string, cmd: number, svc: ServiceKey, d: IpvsDest, full: boolean): Promise<Buffer[]> {
    const w = new AttrWriter().nest(CMD_ATTR.SERVICE, serviceIdAttrs(svc)).nest(CMD_ATTR.DEST, destAttrs(d, full));
    return this.req(op, `${destKeyString(d)} in ${serviceKeyString(svc)}`, cmd, w);
  }

  async addDest(svc: ServiceKey, d: IpvsDest): Promise<void> {
    await this.destReq('add-dest', CMD.NEW_DEST, svc, d, true);
  }

  async editDest(svc: ServiceKey, d: IpvsDest): Promise<void> {
    await this.destReq('edit-dest', CMD.SET_DEST, svc, d, true);
  }

  async delDest(svc: ServiceKey, d: DestKey & { family?: IpFamily }): Promise<void> {
    const full: IpvsDest = { family: d.family ?? svc.family, address: d.address, port: d.port, forwarding: 'NAT', weight: 0, upperThreshold: 0, lowerThreshold: 0 };
    await this.destReq('del-dest', CMD.DEL_DEST, svc, full, false);
  }

  async getTimeouts(): Promise<IpvsTimeouts> {
    const [data] = await this.req('get-config', 'timeouts', CMD.GET_CONFIG, null);
    const a = parseAttrs(data ?? Buffer.alloc(0));
    return { tcp: num(a.get(CMD_ATTR.TIMEOUT_TCP)), tcpFin: num(a.get(CMD_ATTR.TIMEOUT_TCP_FIN)), udp: num(a.get(CMD_ATTR.TIMEOUT_UDP)) };
  }

  /** A 0 value leaves that timeout unchanged (the kernel ignores absent attributes). */
  async setTimeouts(t: Partial<IpvsTimeouts>): Promise<void> {
    const w = new AttrWriter();
    if (t.tcp) w.u32(CMD_ATTR.TIMEOUT_TCP, t.tcp);
    if (t.tcpFin) w.u32(CMD_ATTR.TIMEOUT_TCP_FIN, t.tcpFin);
    if (t.udp) w.u32(CMD_ATTR.TIMEOUT_UDP, t.udp);
    await this.req('set-config', 'timeouts', CMD.SET_CONFIG, w);
  }

  /** Remove every service of this network namespace (keepalived lvs_flush). */
  async flush(): Promise<void> {
    await this.req('flush', 'ipvs', CMD.FLUSH, null);
  }

  /** Zero the counters of one service, or of all when none is given. */
  async zero(svc?: ServiceKey): Promise<void> {
    await this.req('zero', svc ? serviceKeyString(svc) : 'ipvs', CMD.ZERO, svc ? new AttrWriter().nest(CMD_ATTR.SERVICE, serviceIdAttrs(svc)) : null);
  }
}

/** open() without the throw: the caller keeps VRRP running when this is an error. */
export async function tryOpenIpvs(opts?: IpvsOpenOptions): Promise<{ ok: true; client: IpvsClient } | { ok: false; error: IpvsUnavailableError }> {
  try {
    return { ok: true, client: await IpvsClient.open(opts) };
  } catch (e) {
    return { ok: false, error: e instanceof IpvsUnavailableError ? e : new IpvsUnavailableError(e instanceof Error ? e.message : String(e)) };
  }
}
