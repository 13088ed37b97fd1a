/**
 * IP address helpers for the IPVS client and the LVS model: parsing to the kernel's
 * `union nf_inet_addr` bytes and back, and one canonical text form per address so that
 * "2001:DB8::0:1" from a config and "2001:db8::1" from a kernel dump compare equal.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { IpFamily } from './types';

export function familyOf(address: string): IpFamily | null {
  if (isIPv4(address)) return 'inet';
  if (isIPv6(address)) return 'inet6';
  return null;
}

function v4Bytes(a: string): Buffer {
  return Buffer.from(a.split('.').map((p) => Number(p)));
}

/** 16 bytes for IPv6, 4 for IPv4. Throws on a non-address (callers validate first). */
export function ipToBytes(address: string): Buffer {
  if (isIPv4(address)) return v4Bytes(address);
  if (!isIPv6(address)) throw new Error(`not an IP address: ${address}`);
  let s = address;
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  // An embedded dotted quad (::ffff:192.0.2.1) becomes two hextets.
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const b = v4Bytes(tail);
    s = `${s.slice(0, lastColon + 1)}${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const [head, rest] = s.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const r = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const fill = rest !== undefined ? 8 - h.length - r.length : 0;
  const groups = [...h, ...Array<string>(fill).fill('0'), ...r];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** Canonical text (RFC 5952 for IPv6: lower case, longest zero run compressed). */
export function bytesToIp(family: IpFamily, b: Buffer): string {
  if (family === 'inet') return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(b.readUInt16BE(i * 2));
  let bestAt = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestAt < 0) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLen).join(':')}`;
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
  if (!isIPv4(mask)) return null;
  const n = v4Bytes(mask).readUInt32BE(0);
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
    end = isIPv4(endPart) ? v4Bytes(endPart)[3] : Number(endPart);
    if (isIPv4(endPart) && !v4Bytes(endPart).subarray(0, 3).equals(b.subarray(0, 3))) return null;
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
