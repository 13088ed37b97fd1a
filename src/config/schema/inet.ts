/**
 * Address parsing with glibc inet_pton() semantics (what keepalived 2.2.7
 * calls): IPv4 must be four decimal octets without leading zeros; IPv6 allows
 * one "::" and a trailing dotted quad. keepalived decides the family by the
 * presence of ':' before parsing (lib/utils.c inet_stosockaddr,
 * vrrp/vrrp_ipaddress.c parse_ipaddress).
 */
import { ConfErr, type Reporter } from './diag';
import { readUnsigned } from './cnum';

export type Family = 'inet' | 'inet6';

export interface IpAddr {
  family: Family;
  bytes: Uint8Array;
  /** canonical text form */
  text: string;
}

export function inetPton4(src: string): Uint8Array | null {
  const out = new Uint8Array(4);
  let sawDigit = false;
  let octets = 0;
  let tp = 0;
  let cur = 0;
  for (const ch of src) {
    if (ch >= '0' && ch <= '9') {
      const nw = cur * 10 + (ch.charCodeAt(0) - 48);
      if (sawDigit && cur === 0) return null;
      if (nw > 255) return null;
      cur = nw;
      out[tp] = cur;
      if (!sawDigit) {
        if (++octets > 4) return null;
        sawDigit = true;
      }
    } else if (ch === '.' && sawDigit) {
      if (octets === 4) return null;
      tp++;
      cur = 0;
      out[tp] = 0;
      sawDigit = false;
    } else return null;
  }
  if (octets < 4) return null;
  return out;
}

export function inetPton6(src: string): Uint8Array | null {
  const out = new Uint8Array(16);
  let tp = 0;
  let colonp = -1;
  let i = 0;
  if (src[i] === ':') {
    if (src[++i] !== ':') return null;
  }
  let curtok = i;
  let sawXdigit = false;
  let val = 0;
  let digits = 0;
  while (i < src.length) {
    const ch = src[i++];
    const hv = '0123456789abcdef'.indexOf(ch.toLowerCase());
    if (hv >= 0) {
      if (digits >= 4) return null;
      val = (val << 4) | hv;
      digits++;
      sawXdigit = true;
      continue;
    }
    if (ch === ':') {
      curtok = i;
      if (!sawXdigit) {
        if (colonp >= 0) return null;
        colonp = tp;
        continue;
      } else if (i >= src.length) {
        return null;
      }
      if (tp + 2 > 16) return null;
      out[tp++] = (val >> 8) & 0xff;
      out[tp++] = val & 0xff;
      sawXdigit = false;
      digits = 0;
      val = 0;
      continue;
    }
    if (ch === '.' && tp + 4 <= 16) {
      const v4 = inetPton4(src.slice(curtok));
      if (!v4) return null;
      out.set(v4, tp);
      tp += 4;
      sawXdigit = false;
      break;
    }
    return null;
  }
  if (sawXdigit) {
    if (tp + 2 > 16) return null;
    out[tp++] = (val >> 8) & 0xff;
    out[tp++] = val & 0xff;
  }
  if (colonp >= 0) {
    if (tp === 16) return null;
    const n = tp - colonp;
    for (let j = 1; j <= n; j++) {
      out[16 - j] = out[colonp + n - j];
      out[colonp + n - j] = 0;
    }
    tp = 16;
  }
  if (tp !== 16) return null;
  return out;
}

export function formatIp(family: Family, b: Uint8Array): string {
  if (family === 'inet') return Array.from(b).join('.');
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((b[i] << 8) | b[i + 1]);
  // RFC 5952: compress the longest run (len >= 2) of zero words
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] === 0) {
      let j = i;
      while (j < 8 && words[j] === 0) j++;
      if (j - i > bestLen && j - i >= 2) {
        bestStart = i;
        bestLen = j - i;
      }
      i = j;
    } else i++;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLen).join(':');
  return `${left}::${right}`;
}

/** family by keepalived's rule: any ':' means IPv6 */
export function guessFamily(s: string): Family {
  return s.includes(':') ? 'inet6' : 'inet';
}

export function parseIp(s: string, family: Family = guessFamily(s)): IpAddr | null {
  const b = family === 'inet' ? inetPton4(s) : inetPton6(s);
  if (!b) return null;
  return { family, bytes: b, text: formatIp(family, b) };
}

export function ipEqual(a: IpAddr, b: IpAddr): boolean {
  if (a.family !== b.family) return false;
  for (let i = 0; i < a.bytes.length; i++) if (a.bytes[i] !== b.bytes[i]) return false;
  return true;
}

export function isMulticast(a: IpAddr): boolean {
  return a.family === 'inet' ? (a.bytes[0] & 0xf0) === 0xe0 : a.bytes[0] === 0xff;
}

/** IN6_IS_ADDR_MC_LINKLOCAL */
export function isMcLinkLocal6(a: IpAddr): boolean {
  return a.family === 'inet6' && a.bytes[0] === 0xff && (a.bytes[1] & 0x0f) === 0x02;
}

/** IN6_IS_ADDR_LINKLOCAL (fe80::/10) */
export function isLinkLocal6(a: IpAddr): boolean {
  return a.family === 'inet6' && a.bytes[0] === 0xfe && (a.bytes[1] & 0xc0) === 0x80;
}

export interface SockAddr {
  ip: IpAddr;
  /** 0 = not specified */
  port: number;
}

/**
 * lib/utils.c inet_stosockaddr(): returns null on error. A port, when given,
 * is read with read_unsigned(1..65535) whose own error is reported. Anything
 * from the first '-' or '/' is ignored (range and mask syntax).
 */
export function inetStosockaddr(rep: Reporter, ip: string, port: string | null): SockAddr | null {
  const family = guessFamily(ip);
  let portNum = 0;
  if (port !== null) {
    const p = readUnsigned(rep, port, 1, 65535);
    if (p === null) return null;
    portNum = p;
  }
  const cut = ip.search(/[-/]/);
  const text = cut >= 0 ? ip.slice(0, cut) : ip;
  const a = parseIp(text, family);
  if (!a) return null;
  return { ip: a, port: portNum };
}

export interface IpPrefix {
  ip: IpAddr;
  prefixLen: number;
  /** true when "/len" was written */
  hasPrefix: boolean;
}

/**
 * vrrp/vrrp_ipaddress.c parse_ipaddress(): "ADDR[/LEN]". A bad prefix length
 * is reported and the full-length default kept; a bad address is reported
 * ("VRRP parsed invalid IP") and null returned.
 */
export function parseIpaddress(rep: Reporter, str: string, allowSubnetMask: boolean): IpPrefix | null {
  const family = guessFamily(str);
  const full = family === 'inet6' ? 128 : 32;
  let prefixLen = full;
  let addrText = str;
  let hasPrefix = false;
  const slash = allowSubnetMask ? str.indexOf('/') : -1;
  if (slash >= 0) {
    const n = readUnsigned(rep, str.slice(slash + 1), 0, full);
    if (n === null) rep.error(ConfErr.GENERAL_ERROR, `Invalid address prefix len ${str.slice(slash + 1)} for address ${str} - using ${full}`);
    else {
      prefixLen = n;
      hasPrefix = true;
    }
    addrText = str.slice(0, slash);
  }
  const a = parseIp(addrText, family);
  if (!a) {
    rep.error(ConfErr.GENERAL_ERROR, `VRRP parsed invalid IP ${str}. skipping IP...`);
    return null;
  }
  return { ip: a, prefixLen, hasPrefix };
}

/**
 * glibc inet_aton(): what getaddrinfo(AI_NUMERICHOST, AF_INET) accepts —
 * 1 to 4 parts, each decimal, octal (0..) or hex (0x..).
 */
export function inetAton(s: string): Uint8Array | null {
  if (s === '') return null;
  const parts = s.split('.');
  if (parts.length > 4) return null;
  const nums: number[] = [];
  for (const p of parts) {
    if (!/^(0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*)$/.test(p)) return null;
    const n = p.startsWith('0x') || p.startsWith('0X') ? (p.length > 2 ? parseInt(p.slice(2), 16) : 0) : p.length > 1 && p[0] === '0' ? parseInt(p, 8) : parseInt(p, 10);
    nums.push(n);
  }
  const last = nums[nums.length - 1];
  const lead = nums.slice(0, -1);
  if (lead.some((n) => n > 255)) return null;
  const lastMax = [0xffffffff, 0xffffff, 0xffff, 0xff][lead.length];
  if (last > lastMax) return null;
  let v = last;
  lead.forEach((n, i) => {
    v += n * 2 ** (8 * (3 - i));
  });
  return new Uint8Array([(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]);
}
