/**
 * Address text <-> bytes: the one implementation shared by the southbound adapters, the
 * VRRP codec (src/vrrp/packet.ts) and the IPVS client (src/lvs/addr.ts). Small and
 * dependency-free because the hot path (one advert per interval per instance) formats
 * received source addresses.
 *
 * Parsing follows glibc inet_pton(), which keepalived 2.2.7 calls: IPv4 is four decimal
 * octets without leading zeros ("010.0.0.1" is rejected), IPv6 allows one "::" and a
 * dotted quad only as the last 32 bits. A zone index ("fe80::1%eth0") is dropped.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** "192.0.2.1" -> 4 bytes; null when not a dotted-quad IPv4 address. */
export function parseIpv4(s: string): Buffer | null {
  if (!isIPv4(s)) return null;
  return Buffer.from(s.split('.').map((x) => Number(x)));
}

/** Any RFC 4291 §2.2 text form (incl. "::" and trailing dotted quad) -> 16 bytes; null if invalid. */
export function parseIpv6(s: string): Buffer | null {
  const pct = s.indexOf('%'); // zone index ("fe80::1%eth0") is not part of the address
  const text = pct >= 0 ? s.slice(0, pct) : s;
  if (!isIPv6(text)) return null;
  const out = Buffer.alloc(16);
  let head = text;
  let tail = '';
  const dbl = text.indexOf('::');
  if (dbl >= 0) {
    head = text.slice(0, dbl);
    tail = text.slice(dbl + 2);
  }
  const groups = (part: string): number[] => {
    if (part === '') return [];
    const res: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const v4 = parseIpv4(g);
        if (!v4) return [NaN];
        res.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else res.push(parseInt(g, 16));
    }
    return res;
  };
  const h = groups(head);
  const t = groups(tail);
  if (h.some(Number.isNaN) || t.some(Number.isNaN)) return null;
  if (dbl < 0 && h.length !== 8) return null;
  if (h.length + t.length > 8) return null;
  h.forEach((v, i) => out.writeUInt16BE(v, i * 2));
  t.forEach((v, i) => out.writeUInt16BE(v, (8 - t.length + i) * 2));
  return out;
}

export function formatIpv4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/**
 * 16 bytes -> RFC 5952 canonical text: lower case, the longest run of >= 2 zero groups
 * compressed (§4.2.2/§4.2.3, the first one on ties), and per §5 an IPv4-mapped address
 * keeps its dotted quad ("::ffff:192.0.2.1").
 */
export function formatIpv6(b: Uint8Array, off = 0): string {
  let mapped = b[off + 10] === 0xff && b[off + 11] === 0xff;
  for (let i = 0; mapped && i < 10; i++) mapped = b[off + i] === 0;
  return mapped ? `::ffff:${formatIpv4(b, off + 12)}` : formatIpv6Hex(b, off);
}

/**
 * RFC 5952 §4 text with every group in hex, IPv4-mapped included ("::ffff:c000:201"):
 * the canonical key the VRRP codec and the IPVS client compare addresses by.
 */
export function formatIpv6Hex(b: Uint8Array, off = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[off + i * 2]! << 8) | b[off + i * 2 + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) => g.slice(from, to).map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

export function formatIp(b: Uint8Array): string {
  return b.length === 4 ? formatIpv4(b) : formatIpv6(b);
}

/** "00:00:5e:00:01:33" (or with '-') -> 6 bytes; null if malformed. */
export function parseMac(s: string): Buffer | null {
  const parts = s.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) return null;
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

export function formatMac(b: Uint8Array): string {
  return Array.from(b.subarray(0, 6), (x) => x.toString(16).padStart(2, '0')).join(':');
}

/** fe80::/10 (RFC 4291 §2.5.6): needs a scope id when used as a socket address. */
export function isLinkLocal6(b: Uint8Array): boolean {
  return b[0] === 0xfe && (b[1]! & 0xc0) === 0x80;
}

/** ff02::/16 and other link-local-scope multicast (RFC 4291 §2.7 scope 2) also need a scope id. */
export function isLinkScopeMulticast6(b: Uint8Array): boolean {
  return b[0] === 0xff && (b[1]! & 0x0f) === 0x02;
}
