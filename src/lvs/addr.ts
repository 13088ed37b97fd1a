/**
 * IP address helpers for the IPVS client and the LVS model: parsing to the kernel's
 * `union nf_inet_addr` bytes and back, and one canonical text form per address so that
 * "2001:DB8::0:1" from a config and "2001:db8::1" from a kernel dump compare equal.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { formatIpv4, formatIpv6Hex, parseIpv4, parseIpv6 } from '../net/addr';
import type { IpFamily } from './types';

export function familyOf(address: string): IpFamily | null {
  if (isIPv4(address)) return 'inet';
  if (isIPv6(address)) return 'inet6';
  return null;
}

/**
 * 16 bytes for IPv6, 4 for IPv4. Throws on a non-address (callers validate first). The
 * gate is familyOf(), so a zone index must match node's isIPv6 ("fe80::1%eth0", not
 * "fe80::1%"); the bytes come from the shared parser in src/net/addr.ts.
 */
export function ipToBytes(address: string): Buffer {
  const f = familyOf(address);
  const b = f === 'inet' ? parseIpv4(address) : f === 'inet6' ? parseIpv6(address) : null;
  if (!b) throw new Error(`not an IP address: ${address}`);
  return b;
}

/** Canonical text (RFC 5952 §4 for IPv6: lower case, longest zero run compressed, all hex). */
export function bytesToIp(family: IpFamily, b: Buffer): string {
  return family === 'inet' ? formatIpv4(b) : formatIpv6Hex(b);
}

export function canonicalIp(address: string): string {
  const f = familyOf(address);
  return f ? bytesToIp(f, ipToBytes(address)) : address;
}

/** "192.0.2.1:80" / "[2001:db8::1]:80" — keepalived's FMT_RS / ipvsadm's notation. */
export function hostPort(address: string, port: number): string {
  return familyOf(address) === 'inet6' ? `[${address}]:${port}` : `${address}:${port}`;
}

/** IPv4 prefix length -> dotted mask; used for persistence_granularity. */
export function prefixToV4Mask(prefix: number): string {
  const m = prefix <= 0 ? 0 : (0xffffffff << (32 - Math.min(prefix, 32))) >>> 0;
  return [m >>> 24, (m >>> 16) & 255, (m >>> 8) & 255, m & 255].join('.');
}

/** Dotted IPv4 mask -> prefix length, or null when the mask is not contiguous. */
export function v4MaskToPrefix(mask: string): number | null {
  const b = parseIpv4(mask);
  if (!b) return null;
  const n = b.readUInt32BE(0);
  let p = 0;
  while (p < 32 && n & (0x80000000 >>> p)) p++;
  return ((n << p) >>> 0) === 0 || p === 32 ? p : null;
}

/**
 * Expand a keepalived virtual_server_group address form into single addresses:
 * "a.b.c.d-e" (last octet / last hextet range), "a.b.c.d-e.f.g.h" (keepalived 2.2 also
 * accepts a full end address; only the last part may differ) and "a.b.c.d/nn" (every
 * address of the prefix; capped so a typo cannot create 16M services).
 */
export function expandRange(spec: string, max = 256): string[] | null {
  const slash = spec.indexOf('/');
  if (slash > 0) {
    const base = spec.slice(0, slash);
    const len = Number(spec.slice(slash + 1));
    const fam = familyOf(base);
    if (!fam || !Number.isInteger(len)) return null;
    const bits = fam === 'inet' ? 32 : 128;
    if (len < 0 || len > bits || bits - len > 16 || 2 ** (bits - len) > max) return null;
    const b = ipToBytes(base);
    // Work on the low 32 bits only: the cap above keeps the range inside them.
    const off = b.length - 4;
    const low = b.readUInt32BE(off);
    const span = 2 ** (bits - len);
    const start = span >= 2 ** 32 ? 0 : low - (low % span);
    const out: string[] = [];
    for (let i = 0; i < span; i++) {
      const c = Buffer.from(b);
      c.writeUInt32BE((start + i) >>> 0, off);
      out.push(bytesToIp(fam, c));
    }
    return out;
  }
  const dash = spec.lastIndexOf('-');
  if (dash <= 0) return familyOf(spec) ? [canonicalIp(spec)] : null;
  const first = spec.slice(0, dash);
  const endPart = spec.slice(dash + 1);
  const fam = familyOf(first);
  if (!fam) return null;
  const b = ipToBytes(first);
  let end: number;
  if (fam === 'inet') {
    const e4 = parseIpv4(endPart);
    end = e4 ? e4[3] : Number(endPart);
    if (e4 && !e4.subarray(0, 3).equals(b.subarray(0, 3))) return null;
    if (!Number.isInteger(end) || end < b[3] || end > 255) return null;
  } else {
    end = isIPv6(endPart) ? ipToBytes(endPart).readUInt16BE(14) : parseInt(endPart, 16);
    if (!Number.isInteger(end) || end < b.readUInt16BE(14) || end > 0xffff) return null;
  }
  const startV = fam === 'inet' ? b[3] : b.readUInt16BE(14);
  if (end - startV + 1 > max) return null;
  const out: string[] = [];
  for (let v = startV; v <= end; v++) {
    const c = Buffer.from(b);
    if (fam === 'inet') c[3] = v;
    else c.writeUInt16BE(v, 14);
    out.push(bytesToIp(fam, c));
  }
  return out;
}
