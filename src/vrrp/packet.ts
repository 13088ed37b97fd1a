/**
 * VRRP packet codec: VRRPv2 (RFC 3768 §5) and VRRPv3 (RFC 5798 §5) over IPv4 and
 * IPv6, with receive validation in keepalived 2.2.7's exact order
 * (vrrp/vrrp.c:vrrp_check_packet, vrrp_scheduler.c:vrrp_dispatcher_read).
 *
 * Pure: no sockets, no clock. decodeAdvert() never throws, whatever the bytes
 * (shared/design.md "errors are values at the edges"); every rejection is a
 * DecodeError naming keepalived's counter.
 *
 * VRRPv2 packet (RFC 3768 §5.1):
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |Version| Type  | Virtual Rtr ID|   Priority    | Count IP Addrs|
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |   Auth Type   |   Adver Int   |          Checksum             |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                         IP Address (1)                        |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                            .                                  |
 *    |                            .                                  |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                         IP Address (n)                        |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                     Authentication Data (1)                   |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                     Authentication Data (2)                   |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 *   Adver Int is in seconds. The checksum (RFC 3768 §5.3.8) covers the VRRP
 *   message only, no pseudo-header. keepalived 2.2.7 also sends v2 over IPv6
 *   (no auth data there; the kernel computes an ICMPv6-style checksum,
 *   IPV6_CHECKSUM offset 6).
 *
 * VRRPv3 packet (RFC 5798 §5.1):
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                    IPv4 Fields or IPv6 Fields                 |
 *   ...                                                             ...
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |Version| Type  | Virtual Rtr ID|   Priority    |Count IPvX Addr|
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |(rsvd) |     Max Adver Int     |          Checksum             |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                                                               |
 *    +                                                               +
 *    |                       IPvX Address(es)                        |
 *    +                                                               +
 *    |                                                               |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 *   Max Adver Int: 12 bits, centiseconds. Checksum (RFC 5798 §5.2.8): over the
 *   VRRP message plus the IPv4/IPv6 pseudo-header (RFC 8200 §8.1 style):
 *
 *    IPv4 pseudo-header            IPv6 pseudo-header
 *    +--------+--------+--------+--------+   +-------------------------------+
 *    |          Source Address           |   |   Source Address (16 bytes)   |
 *    +--------+--------+--------+--------+   +-------------------------------+
 *    |        Destination Address        |   | Destination Address (16 bytes)|
 *    +--------+--------+--------+--------+   +-------------------------------+
 *    |  zero  |  112   |   VRRP length   |   |  VRRP length (32 bits)        |
 *    +--------+--------+--------+--------+   +-------------------------------+
 *                                            |  zero (24 bits)  | next hdr 112|
 *                                            +-------------------------------+
 *
 * IPv4 header as keepalived builds it for IP_HDRINCL sends (vrrp_build_ip4), RFC 791:
 *
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |Version|  IHL  |Type of Service|          Total Length         |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |         Identification        |Flags|      Fragment Offset    |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |  Time to Live |    Protocol   |         Header Checksum       |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                       Source Address                          |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                    Destination Address                        |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   keepalived: IHL 5, TOS 0xC0, no DF, ID = own counter (never 0), TTL 255 or
 *   unicast_ttl, protocol 112 (51 with AH).
 */
import { timingSafeEqual } from 'node:crypto';
import type { VrrpErrorCounter } from '../journal/events';
import { formatIpv4, formatIpv6Hex, parseIpv4, parseIpv6 } from '../net/addr';

export type Family = 'ipv4' | 'ipv6';
export type VrrpVersion = 2 | 3;

export const IPPROTO_VRRP = 112;
export const IPPROTO_AH = 51;
/** RFC 3768 §5.2.2 / RFC 5798 §5.1.1.2 */
export const VRRP_MCAST_GROUP4 = '224.0.0.18';
/** RFC 5798 §5.1.2.2 */
export const VRRP_MCAST_GROUP6 = 'ff02::12';
/** RFC 3768 §5.2.3 / RFC 5798 §5.1.1.3: TTL / hop limit MUST be 255 */
export const VRRP_TTL = 255;
export const VRRP_TYPE_ADVERT = 1;
export const VRRP_HEADER_LEN = 8;
export const VRRP_AUTH_LEN = 8;
export const AUTH_NONE = 0;
export const AUTH_PASS = 1;
export const AUTH_AH = 2;
/** keepalived's IP_TOS for adverts (IPTOS_PREC_INTERNETCONTROL) */
export const VRRP_TOS = 0xc0;

// ---------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------

// One parser/formatter for the whole agent (src/net/addr.ts, glibc inet_pton() semantics);
// re-exported so codec users keep importing addresses from here.
export { parseIpv4, parseIpv6 };

/** Parse an address of the given family; null if it is not a valid one. */
export function parseIp(s: string, family: Family): Buffer | null {
  return family === 'ipv4' ? parseIpv4(s) : parseIpv6(s);
}

/**
 * Text form of 4 or 16 address bytes (IPv6 per RFC 5952 §4: lower case, longest zero run
 * compressed, every group in hex, so "::ffff:c000:201" for an IPv4-mapped address).
 */
export function formatIp(b: Uint8Array): string {
  return b.length === 4 ? formatIpv4(b) : formatIpv6Hex(b);
}

/** Canonical text form of an address string (so "2001:DB8:0::50" equals "2001:db8::50"); null if invalid. */
export function canonicalIp(s: string): string | null {
  const b = parseIpv4(s) ?? parseIpv6(s);
  return b ? formatIp(b) : null;
}

/**
 * Compare two addresses as unsigned big-endian numbers: <0, 0, >0.
 * keepalived 2.2.7 lib/utils.c:inet_inaddrcmp (IPv6 32 bits at a time, which is the
 * same order as bytewise). Different families or unparsable input compare equal (0),
 * as keepalived's vrrp_saddr_cmp does for a family mismatch.
 */
export function compareIp(a: string, b: string): number {
  const x = parseIpv4(a) ?? parseIpv6(a);
  const y = parseIpv4(b) ?? parseIpv6(b);
  if (!x || !y || x.length !== y.length) return 0;
  return Buffer.compare(x, y);
}

/** True for 224.0.0.0/4 or ff00::/8. */
export function isMulticast(addr: string): boolean {
  const v4 = parseIpv4(addr);
  if (v4) return (v4[0] & 0xf0) === 0xe0;
  const v6 = parseIpv6(addr);
  return v6 !== null && v6[0] === 0xff;
}

// ---------------------------------------------------------------------------
// Checksums (RFC 1071 Internet checksum, RFC 1624 incremental update)
// ---------------------------------------------------------------------------

/** One's-complement 32-bit accumulation of 16-bit big-endian words (odd tail padded with zero). */
export function sum16(buf: Uint8Array, acc = 0): number {
  const n = buf.length & ~1;
  for (let i = 0; i < n; i += 2) acc += (buf[i] << 8) | buf[i + 1];
  if (buf.length & 1) acc += buf[buf.length - 1] << 8;
  return acc;
}

/** Fold an accumulated sum and complement it: the Internet checksum (RFC 1071). */
export function foldChecksum(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return ~acc & 0xffff;
}

export function internetChecksum(buf: Uint8Array, initial = 0): number {
  return foldChecksum(sum16(buf, initial));
}

/** Sum of the IPv4 pseudo-header (RFC 5798 §5.2.8): src, dst, zero, protocol, length. */
export function pseudoHeaderSum4(src: Uint8Array, dst: Uint8Array, length: number, proto = IPPROTO_VRRP): number {
  return sum16(src) + sum16(dst) + proto + length;
}

/** Sum of the IPv6 pseudo-header (RFC 8200 §8.1): src, dst, 32-bit length, next header. */
export function pseudoHeaderSum6(src: Uint8Array, dst: Uint8Array, length: number, nextHeader = IPPROTO_VRRP): number {
  return sum16(src) + sum16(dst) + Math.floor(length / 0x10000) + (length & 0xffff) + nextHeader;
}

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

export interface AdvertFields {
  version: VrrpVersion;
  vrid: number;
  priority: number;
  /** v3: Max Adver Int in centiseconds (12 bits). Required for v3. */
  advertIntCs?: number;
  /** v2: Adver Int in whole seconds (8 bits). Required for v2. */
  advertIntSec?: number;
  /** the virtual addresses, all of the context's family (keepalived puts only VIPs, never eVIPs, here) */
  addresses: string[];
  /** v2 only: 0 none, 1 PASS (2 AH is not supported by this codec) */
  authType?: number;
  /** v2 PASS: the password; only its first 8 bytes are used, zero padded (keepalived auth_pass) */
  authPass?: string;
}

/**
 * How the VRRPv3-over-IPv4 checksum's pseudo-header destination is chosen
 * (keepalived `old_unicast_checksum`, OLD_CHKSUM_COMPAT):
 *  - 'standard': the real destination (RFC 5798).
 *  - 'old': always the multicast group (keepalived ≤ 1.3.6 unicast bug), i.e.
 *    `old_unicast_checksum` configured, or auto-switched after receiving one.
 */
export type ChecksumMode = 'standard' | 'old';

export interface EncodeContext {
  family: Family;
  /** source address; needed for the v3 IPv4 and the IPv6 checksum */
  src?: string;
  /** destination (group or unicast peer); needed for the v3 IPv4 and the IPv6 checksum */
  dst?: string;
  /** VRRPv3/IPv4 only; default 'standard' */
  checksumMode?: ChecksumMode;
  /** the group used by checksumMode 'old' (global vrrp_mcast_group4), default 224.0.0.18 */
  mcastGroup4?: string;
}

export class EncodeError extends Error {}

/** Length of a VRRP message: keepalived vrrp_pkt_len / RFC 3768 §5.1 / RFC 5798 §5.1. */
export function vrrpMessageLength(version: VrrpVersion, family: Family, naddr: number): number {
  return VRRP_HEADER_LEN + naddr * (family === 'ipv4' ? 4 : 16) + (version === 2 && family === 'ipv4' ? VRRP_AUTH_LEN : 0);
}

/** The 8 auth-data bytes keepalived puts in a v2 PASS advert (strncpy of auth_pass into 8 bytes). */
export function authPassBytes(pass: string | undefined): Buffer {
  const out = Buffer.alloc(VRRP_AUTH_LEN);
  if (pass) Buffer.from(pass, 'utf8').copy(out, 0, 0, VRRP_AUTH_LEN);
  // strncpy stops at the first NUL: bytes after it stay zero
  const nul = out.indexOf(0);
  if (nul >= 0) out.fill(0, nul);
  return out;
}

/**
 * Encode one advertisement: the VRRP message (no IP header), checksum filled.
 * IPv6: the checksum is computed when src and dst are given (the kernel recomputes
 * it anyway with IPV6_CHECKSUM = 6); otherwise left 0 as keepalived does.
 * Throws EncodeError on invalid input (programmer/config errors, validated earlier).
 */
export function encodeAdvert(a: AdvertFields, ctx: EncodeContext): Buffer {
  const { family } = ctx;
  if (a.version !== 2 && a.version !== 3) throw new EncodeError(`bad version ${String(a.version)}`);
  if (!Number.isInteger(a.vrid) || a.vrid < 1 || a.vrid > 255) throw new EncodeError(`bad vrid ${a.vrid}`);
  if (!Number.isInteger(a.priority) || a.priority < 0 || a.priority > 255) throw new EncodeError(`bad priority ${a.priority}`);
  if (a.addresses.length > 255) throw new EncodeError('more than 255 addresses');
  const len = vrrpMessageLength(a.version, family, a.addresses.length);
  const b = Buffer.alloc(len);
  b[0] = (a.version << 4) | VRRP_TYPE_ADVERT;
  b[1] = a.vrid;
  b[2] = a.priority;
  b[3] = a.addresses.length;
  if (a.version === 2) {
    const sec = a.advertIntSec ?? 0;
    if (!Number.isInteger(sec) || sec < 0 || sec > 255) throw new EncodeError(`bad v2 advert interval ${sec}`);
    const at = a.authType ?? AUTH_NONE;
    if (at !== AUTH_NONE && at !== AUTH_PASS) throw new EncodeError(`unsupported auth type ${at}`);
    b[4] = at;
    b[5] = sec;
  } else {
    const cs = a.advertIntCs ?? 0;
    if (!Number.isInteger(cs) || cs < 0 || cs > 0xfff) throw new EncodeError(`bad v3 advert interval ${cs}`);
    // RFC 5798 §5.2.7: 4 reserved bits, zero on send
    b.writeUInt16BE(cs & 0x0fff, 4);
  }
  let off = VRRP_HEADER_LEN;
  for (const addr of a.addresses) {
    const ab = parseIp(addr, family);
    if (!ab) throw new EncodeError(`bad ${family} address ${addr}`);
    ab.copy(b, off);
    off += ab.length;
  }
  if (a.version === 2 && family === 'ipv4' && (a.authType ?? 0) === AUTH_PASS) authPassBytes(a.authPass).copy(b, off);
  b.writeUInt16BE(computeChecksum(b, a.version, ctx), 6);
  return b;
}

/** The checksum the message `b` (checksum field ignored) must carry in this context. */
export function computeChecksum(b: Buffer, version: VrrpVersion, ctx: EncodeContext): number {
  const saved = b.readUInt16BE(6);
  b.writeUInt16BE(0, 6);
  try {
    if (ctx.family === 'ipv4') {
      // RFC 3768 §5.3.8: v2 has no pseudo-header
      if (version === 2) return internetChecksum(b);
      const src = ctx.src !== undefined ? parseIpv4(ctx.src) : null;
      const dstStr = ctx.checksumMode === 'old' ? (ctx.mcastGroup4 ?? VRRP_MCAST_GROUP4) : ctx.dst;
      const dst = dstStr !== undefined ? parseIpv4(dstStr) : null;
      if (!src || !dst) throw new EncodeError('VRRPv3 over IPv4 needs src and dst for the pseudo-header checksum');
      return internetChecksum(b, pseudoHeaderSum4(src, dst, b.length));
    }
    const src = ctx.src !== undefined ? parseIpv6(ctx.src) : null;
    const dst = ctx.dst !== undefined ? parseIpv6(ctx.dst) : null;
    // keepalived leaves 0 for the kernel (IPV6_CHECKSUM); we fill it when we can
    if (!src || !dst) return 0;
    return internetChecksum(b, pseudoHeaderSum6(src, dst, b.length));
  } finally {
    b.writeUInt16BE(saved, 6);
  }
}

/**
 * Change the priority of an encoded advert in place, patching the checksum
 * incrementally (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')), as keepalived's
 * vrrp_update_pkt does. The result equals a fresh encode with that priority.
 */
export function patchPriority(b: Buffer, priority: number): void {
  if (b.length < VRRP_HEADER_LEN) return;
  const oldWord = b.readUInt16BE(2);
  b[2] = priority & 0xff;
  const newWord = b.readUInt16BE(2);
  if (oldWord === newWord) return;
  const hc = b.readUInt16BE(6);
  let sum = (~hc & 0xffff) + (~oldWord & 0xffff) + newWord;
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  b.writeUInt16BE(~sum & 0xffff, 6);
}

export interface Ipv4HeaderFields {
  src: string;
  dst: string;
  /** 255, or unicast_ttl */
  ttl: number;
  /** IP identification; keepalived counts from 1 and skips 0 (the kernel would fill 0) */
  id: number;
  /** length of what follows the header (the VRRP message) */
  payloadLength: number;
  protocol?: number;
  tos?: number;
}

/** A 20-byte IPv4 header for IP_HDRINCL sends, header checksum filled (RFC 791). */
export function buildIpv4Header(h: Ipv4HeaderFields): Buffer {
  const src = parseIpv4(h.src);
  const dst = parseIpv4(h.dst);
  if (!src || !dst) throw new EncodeError(`bad IPv4 address ${src ? h.dst : h.src}`);
  const b = Buffer.alloc(20);
  b[0] = 0x45; // version 4, IHL 5
  b[1] = h.tos ?? VRRP_TOS;
  b.writeUInt16BE(20 + h.payloadLength, 2);
  b.writeUInt16BE(h.id & 0xffff, 4);
  b.writeUInt16BE(0, 6); // keepalived: no DF, no fragment offset
  b[8] = h.ttl & 0xff;
  b[9] = h.protocol ?? IPPROTO_VRRP;
  src.copy(b, 12);
  dst.copy(b, 16);
  b.writeUInt16BE(internetChecksum(b), 10);
  return b;
}

/** keepalived's IP ID sequence (vrrp_update_pkt): +1 per packet, wrapping past 0. */
export function nextIpId(prev: number): number {
  const n = (prev + 1) & 0xffff;
  return n === 0 ? 1 : n;
}

// ---------------------------------------------------------------------------
// Decoding and validation
// ---------------------------------------------------------------------------

export interface Advert {
  version: VrrpVersion;
  type: number;
  vrid: number;
  priority: number;
  naddr: number;
  /** the addresses carried, canonical text */
  addresses: string[];
  /** v2 auth type (undefined for v3) */
  authType?: number;
  /** v2: interval in seconds; v3: undefined */
  advertIntSec?: number;
  /** v3: 12-bit Max Adver Int in centiseconds; v2: seconds × 100 (for uniform use) */
  advertIntCs: number;
  /** the interval in milliseconds (v2 seconds × 1000, v3 cs × 10) */
  advertIntMs: number;
  checksum: number;
  /** sender (IP source address), canonical text */
  src: string;
  /** TTL / hop limit if known */
  ttl?: number;
}

/** The name of each check, in keepalived's order (for tests, logs and detail). */
export type CheckName =
  | 'too_short' // vrrp_get_header: not even a full header (no counter)
  | 'vrid' // unknown VRID on this socket (global vrid_err; never counted by keepalived)
  | 'mcast_mismatch6' // IPv6 multicast/unicast mismatch, discarded by the dispatcher (no counter)
  | 'ah_mismatch' // AH header present ⇔ auth_type AH
  | 'length' // received length vs naddr / version
  | 'ttl' // TTL/hop limit != 255 (multicast only)
  | 'version' // version != configured (SNMP vers_err)
  | 'auth_type_invalid' // v2 auth type not 0/1/2
  | 'auth_type_mismatch' // v2 auth type != configured
  | 'auth_failure' // v2 PASS password differs
  | 'advert_interval' // v2 interval != configured: DROP, not counted
  | 'type' // type != 1
  | 'naddr' // address count != configured VIPs
  | 'ip_total_length' // IPv4 total length != bytes received
  | 'checksum' // checksum (SNMP chk_err)
  | 'mcast_mismatch' // multicast packet on a unicast instance or vice versa
  | 'vip_missing' // a configured VIP is absent from the advert
  | 'unicast_src' // unicast source is not one of our peers (no counter)
  | 'peer_ttl'; // TTL outside the peer's min_ttl..max_ttl

export interface DecodeError {
  check: CheckName;
  /** keepalived's counter for this failure; null when keepalived has none */
  counter: VrrpErrorCounter | null;
  /**
   * Whether keepalived 2.2.7 increments that counter. False for advert_interval_err
   * (never counted), vrid_err (never counted) and the no-counter checks. Stats
   * dumps must only count `counted` errors to match keepalived.
   */
  counted: boolean;
  /** 'instance': per-instance stats; 'global': summed router-wide (SNMP chk/vers/vrid errors) */
  scope: 'instance' | 'global';
  /** the packet passed the basic checks, so keepalived counted it in advert_rcvd (check 13) */
  countedAsReceived: boolean;
  /** keepalived VRRP_PACKET_KO (invalid) or VRRP_PACKET_DROP (not for us) */
  disposition: 'ko' | 'drop';
  detail: string;
}

export interface UnicastPeer {
  address: string;
  /** keepalived unicast_peer min_ttl (default 0) */
  minTtl?: number;
  /** keepalived unicast_peer max_ttl (default 255) */
  maxTtl?: number;
}

/** What the receiving instance expects (its configuration plus FSM-dependent bits). */
export interface RxExpect {
  family: Family;
  version: VrrpVersion;
  vrid: number;
  /** v2: 0 none, 1 PASS, 2 AH (AH is detected as a mismatch only; its ICV is not verified) */
  authType: number;
  authPass?: string;
  /** configured VIPs (not eVIPs) in the instance's family */
  vips: string[];
  /** configured advert_int in ms (v2 compares whole seconds) */
  advertIntMs: number;
  unicast: boolean;
  /**
   * keepalived check_vip_addr: true unless `skip_check_adv_addr` and the sender is the
   * master we last accepted (vrrp_state_backup). MASTER always checks. See
   * fsm.ts shouldCheckAddresses().
   */
  checkVipAddr: boolean;
  /** `check_unicast_src` (instance or global) or a peer with min/max_ttl */
  checkUnicastSrc?: boolean;
  unicastPeers?: UnicastPeer[];
  /** current checksum mode for v3/IPv4 (see ChecksumMode) */
  checksumMode?: ChecksumMode;
  /** `old_unicast_checksum never`: do not auto-switch to the old checksum */
  checksumNeverOld?: boolean;
  mcastGroup4?: string;
  /**
   * IPv6: keepalived lets the kernel verify (IPV6_CHECKSUM on the socket) and does
   * not look. 'verify' checks it here too (needs src and dst). Default 'kernel'.
   */
  ipv6Checksum?: 'kernel' | 'verify';
}

export interface RxPacket {
  /** the VRRP message (for IPv4 without the IP header) */
  vrrp: Uint8Array;
  /** IPv4: the IP header as received (gives TTL, total length, protocol, src, dst) */
  ipHeader?: Uint8Array;
  /** source address (recvmsg name, or the IP header's) */
  src: string;
  /** destination address when known (IPv4 header / IPV6_PKTINFO) */
  dst?: string;
  /** TTL / hop limit when known (IPv4 header / IPV6_HOPLIMIT); undefined = not received (-1) */
  ttl?: number;
}

export type DecodeResult =
  | { ok: true; advert: Advert; /** the v3 unicast checksum only matched the old (group) form: switch this instance to 'old' (keepalived logs "Setting unicast VRRPv3 checksum to old version") */ switchToOldChecksum: boolean }
  | { ok: false; error: DecodeError };

/** The fixed header fields, for demultiplexing by VRID before full validation; null if < 8 bytes. */
export function peekHeader(vrrp: Uint8Array): { version: number; type: number; vrid: number; priority: number; naddr: number } | null {
  if (!vrrp || vrrp.length < VRRP_HEADER_LEN) return null;
  return { version: vrrp[0] >> 4, type: vrrp[0] & 0x0f, vrid: vrrp[1], priority: vrrp[2], naddr: vrrp[3] };
}

function fail(check: CheckName, detail: string, o: Partial<DecodeError> = {}): { ok: false; error: DecodeError } {
  const counter = o.counter === undefined ? null : o.counter;
  return {
    ok: false,
    error: {
      check,
      counter,
      counted: o.counted ?? counter !== null,
      scope: o.scope ?? 'instance',
      countedAsReceived: o.countedAsReceived ?? false,
      disposition: o.disposition ?? 'ko',
      detail,
    },
  };
}

/**
 * Validate and decode one received VRRP packet for one instance, in keepalived
 * 2.2.7's order (shared/research/keepalived-features.md §3.4). Never throws.
 */
export function decodeAdvert(p: RxPacket, exp: RxExpect): DecodeResult {
  try {
    return decodeInner(p, exp);
  } catch (e) {
    // Defensive: the checks below are written not to throw; if one ever does, the
    // packet is reported as malformed instead of crashing the receive loop.
    return fail('too_short', `malformed packet (${e instanceof Error ? e.message : String(e)})`, { counter: 'packet_len_err', counted: false, disposition: 'drop' });
  }
}

function decodeInner(p: RxPacket, exp: RxExpect): DecodeResult {
  const v = p.vrrp;
  const fam = exp.family;
  const ip = fam === 'ipv4' ? p.ipHeader : undefined;
  const src = canonicalIp(p.src) ?? p.src;

  // vrrp_get_header: the IP header (if any) and the 8-byte VRRP header must be there
  if (!v || v.length < VRRP_HEADER_LEN) return fail('too_short', `${fam === 'ipv4' ? 'IPv4' : 'IPv6'} VRRP packet too short - ${v ? v.length : 0} bytes`, { counter: 'packet_len_err', counted: false, disposition: 'drop' });
  if (ip && (ip.length < 20 || (ip[0] & 0x0f) * 4 !== ip.length)) return fail('too_short', `IPv4 header malformed (${ip.length} bytes, IHL ${ip.length ? ip[0] & 0x0f : 0})`, { counter: 'packet_len_err', counted: false, disposition: 'drop' });

  const version = v[0] >> 4;
  const type = v[0] & 0x0f;
  const vrid = v[1];
  const priority = v[2];
  const naddr = v[3];

  // vrrp_dispatcher_read: demultiplex by VRID; unknown VRIDs are ignored (vrid_err is never counted)
  if (vrid !== exp.vrid) return fail('vrid', `Unknown VRID(${vrid}) received, expected ${exp.vrid}`, { counter: 'vrid_err', counted: false, scope: 'global', disposition: 'drop' });

  const dst = ip ? formatIp(ip.subarray(16, 20)) : p.dst !== undefined ? canonicalIp(p.dst) ?? undefined : undefined;
  const dstMulticast = dst !== undefined ? isMulticast(dst) : undefined;

  // vrrp_dispatcher_read, IPv6 only: a multicast packet on a unicast instance (or the reverse) is discarded silently
  if (fam === 'ipv6' && dstMulticast !== undefined && dstMulticast === exp.unicast) {
    return fail('mcast_mismatch6', `discarding ${dstMulticast ? 'mult' : 'un'}icast packet on ${exp.unicast ? 'un' : 'mult'}icast instance`, { disposition: 'drop' });
  }

  // 1. AH header present ⇔ auth_type AH (IPv4)
  if (ip) {
    const isAh = ip[9] === IPPROTO_AH;
    if (isAh !== (exp.authType === AUTH_AH)) {
      return fail('ah_mismatch', isAh ? 'Received AH header but auth type not AH' : 'No AH header but auth type is AH', { counter: 'authtype_mismatch' });
    }
    if (isAh) return fail('ah_mismatch', 'IPSEC AH authentication is not supported', { counter: 'authtype_mismatch' });
  }

  // 2. the complete VRRP packet (RFC 3768 §7.1 "MUST verify that the received packet contains the complete VRRP packet")
  const expectedLen = VRRP_HEADER_LEN + naddr * (fam === 'ipv4' ? 4 : 16) + (fam === 'ipv4' && version === 2 ? VRRP_AUTH_LEN : 0);
  if (v.length !== expectedLen) {
    const ihl = ip ? ip.length : 0;
    return fail('length', `vrrp packet too ${v.length > expectedLen ? 'long' : 'short'}, length ${v.length + ihl} and expect ${expectedLen + ihl}`, { counter: 'packet_len_err' });
  }

  // 3. TTL / hop limit 255 (RFC 3768 §7.1, RFC 5798 §7.1) — keepalived skips it for unicast
  const ttl = ip ? ip[8] : p.ttl;
  if (!exp.unicast && ttl !== undefined && ttl !== VRRP_TTL) return fail('ttl', `invalid TTL/HL. Received ${ttl} and expect ${VRRP_TTL}`, { counter: 'ip_ttl_err' });

  // 4. version (counted only as SNMP vers_err, summed router-wide)
  if (version !== exp.version) return fail('version', `wrong version. Received ${version} and expect ${exp.version}`, { counter: 'version_err', scope: 'global' });

  let advertIntSec: number | undefined;
  let authType: number | undefined;
  if (version === 2) {
    authType = v[4];
    advertIntSec = v[5];
    // 5. auth type must be one keepalived knows
    if (authType !== AUTH_NONE && authType !== AUTH_PASS && authType !== AUTH_AH) return fail('auth_type_invalid', `Invalid auth type: ${authType}`, { counter: 'invalid_authtype' });
    // 6. RFC 3768 §7.1 "MUST perform authentication specified by Auth Type"
    if (authType !== exp.authType) return fail('auth_type_mismatch', `received a ${authType} auth, expecting ${exp.authType}!`, { counter: 'authtype_mismatch' });
    // 7. PASS: constant-time compare of the 8 bytes (keepalived memcmp_constant_time).
    // keepalived reads them at ip + tot_len - 8; with a valid length that is the last 8 bytes.
    if (exp.authType === AUTH_PASS && fam === 'ipv4') {
      const got = Buffer.from(v.subarray(v.length - VRRP_AUTH_LEN));
      if (!timingSafeEqual(got, authPassBytes(exp.authPass))) return fail('auth_failure', 'received an invalid passwd!', { counter: 'auth_failure' });
    }
    // 8. RFC 3768 §7.1 "MUST verify that the Adver Interval ... is the same as the locally configured".
    // keepalived drops it without counting advert_interval_err (never incremented in 2.2.7).
    const mine = Math.round(exp.advertIntMs / 1000);
    if (advertIntSec !== mine) return fail('advert_interval', `advertisement interval mismatch mine=${mine} sec rcv'd=${advertIntSec} sec`, { counter: 'advert_interval_err', counted: false, disposition: 'drop' });
  }

  // 9. type
  if (type !== VRRP_TYPE_ADVERT) return fail('type', `Invalid packet type. ${type} and expect ${VRRP_TYPE_ADVERT}`, { counter: 'invalid_type_rcvd' });

  // 10. address count
  if (exp.checkVipAddr && naddr !== exp.vips.length) return fail('naddr', `received an unexpected ip number count ${naddr}, expected ${exp.vips.length}!`, { counter: 'addr_list_err' });

  // 11. IPv4 total length against what was received
  if (ip) {
    const tot = (ip[2] << 8) | ip[3];
    if (tot !== ip.length + v.length) return fail('ip_total_length', `ip_tot_len mismatch against received length. ${tot} and received ${ip.length + v.length}`, { counter: 'packet_len_err' });
  }

  // 12. checksum
  let switchToOldChecksum = false;
  const got = (v[6] << 8) | v[7];
  if (fam === 'ipv4') {
    if (version === 2) {
      if (internetChecksum(v) !== 0) return fail('checksum', `Invalid VRRPv2 checksum (0x${hex4(got)})`, { counter: 'checksum_err', scope: 'global' });
    } else {
      const s4 = ip ? ip.subarray(12, 16) : parseIpv4(src);
      const d4 = ip ? ip.subarray(16, 20) : dst !== undefined ? parseIpv4(dst) : null;
      if (s4 && d4) {
        const group = parseIpv4(exp.mcastGroup4 ?? VRRP_MCAST_GROUP4) ?? parseIpv4(VRRP_MCAST_GROUP4)!;
        const pdst = exp.checksumMode === 'old' ? group : d4;
        if (internetChecksum(v, pseudoHeaderSum4(s4, pdst, v.length)) !== 0) {
          // keepalived OLD_CHKSUM_COMPAT: a unicast v3 advert checksummed with the group as
          // pseudo-header destination (keepalived ≤ 1.3.6) switches us to that method
          const canSwitch = exp.unicast && exp.checksumMode !== 'old' && !exp.checksumNeverOld && Buffer.compare(Buffer.from(pdst), group) !== 0;
          if (canSwitch && internetChecksum(v, pseudoHeaderSum4(s4, group, v.length)) === 0) switchToOldChecksum = true;
          else return fail('checksum', `Invalid VRRPv3 checksum (0x${hex4(got)})`, { counter: 'checksum_err', scope: 'global' });
        }
      }
    }
  } else if (exp.ipv6Checksum === 'verify') {
    const s6 = parseIpv6(src);
    const d6 = dst !== undefined ? parseIpv6(dst) : null;
    if (s6 && d6 && internetChecksum(v, pseudoHeaderSum6(s6, d6, v.length)) !== 0) {
      return fail('checksum', `Invalid VRRPv${version} IPv6 checksum (0x${hex4(got)})`, { counter: 'checksum_err', scope: 'global' });
    }
  }

  // 13. multicast destination ⇔ multicast instance (IPv4; IPv6 was handled by the dispatcher)
  if (fam === 'ipv4' && dstMulticast !== undefined && dstMulticast === exp.unicast) {
    return fail('mcast_mismatch', `Expected ${exp.unicast ? 'un' : 'mult'}icast packet but received ${exp.unicast ? 'mult' : 'un'}icast packet`, { counter: 'addr_list_err' });
  }

  // ---- keepalived counts advert_rcvd from here on ----
  const addrLen = fam === 'ipv4' ? 4 : 16;
  const addresses: string[] = [];
  for (let i = 0; i < naddr; i++) addresses.push(formatIp(v.subarray(VRRP_HEADER_LEN + i * addrLen, VRRP_HEADER_LEN + (i + 1) * addrLen)));

  if (exp.checkVipAddr) {
    // 14. RFC 3768 §7.1 "MAY verify that the IP address(es) associated with the VRID are valid"
    const have = new Set(addresses);
    for (const vip of exp.vips) {
      const c = canonicalIp(vip) ?? vip;
      if (!have.has(c)) return fail('vip_missing', `ip address associated with VRID ${vrid} not present in MASTER advert: ${c}`, { counter: 'addr_list_err', countedAsReceived: true });
    }
    // 15./16. unicast source must be a configured peer; per-peer TTL range
    if (exp.unicast && exp.checkUnicastSrc) {
      const peer = (exp.unicastPeers ?? []).find((u) => (canonicalIp(u.address) ?? u.address) === src);
      if (!peer) return fail('unicast_src', `unicast source address ${src} not a unicast peer`, { countedAsReceived: true });
      const lo = peer.minTtl ?? 0;
      const hi = peer.maxTtl ?? 255;
      if (ttl !== undefined && (ttl < lo || ttl > hi)) return fail('peer_ttl', `TTL/HL ${ttl} not in range ${lo} - ${hi}`, { counter: 'ip_ttl_err', countedAsReceived: true });
    }
  }

  const advertIntCs = version === 3 ? ((v[4] << 8) | v[5]) & 0x0fff : (advertIntSec ?? 0) * 100;
  return {
    ok: true,
    switchToOldChecksum,
    advert: {
      version: version as VrrpVersion,
      type,
      vrid,
      priority,
      naddr,
      addresses,
      authType,
      advertIntSec,
      advertIntCs,
      advertIntMs: version === 3 ? advertIntCs * 10 : (advertIntSec ?? 0) * 1000,
      checksum: got,
      src,
      ttl,
    },
  };
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}
