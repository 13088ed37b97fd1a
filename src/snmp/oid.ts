/** Object identifiers as arrays of sub-identifiers (each 0..2^32-1, RFC 2578 §3.5). */
export type Oid = readonly number[];

const MAX_SUBID = 0xffffffff;

/** "1.3.6.1" or ".1.3.6.1" → [1,3,6,1]; undefined when malformed. */
export function parseOid(text: string): Oid | undefined {
  const s = text.startsWith('.') ? text.slice(1) : text;
  if (s === '') return [];
  const parts = s.split('.');
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,10}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > MAX_SUBID) return undefined;
    out.push(n);
  }
  return out;
}

/** Parse an OID literal known to be valid (module constants); throws at load time otherwise. */
export function oid(text: string): Oid {
  const o = parseOid(text);
  if (!o) throw new Error(`bad OID literal ${text}`);
  return o;
}

export function formatOid(o: Oid): string {
  return o.join('.');
}

/** Lexicographic order of RFC 2578 §7.7 / RFC 2741 §5.1 ("lexicographically ordered"). */
export function compareOid(a: Oid, b: Oid): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

export function isPrefixOf(prefix: Oid, o: Oid): boolean {
  if (prefix.length > o.length) return false;
  for (let i = 0; i < prefix.length; i++) if (prefix[i] !== o[i]) return false;
  return true;
}

export function concatOid(...parts: Oid[]): Oid {
  const out: number[] = [];
  for (const p of parts) for (const x of p) out.push(x);
  return out;
}

/** IPv4/IPv6 address text → the 4/16 octets used as an OID index suffix or an InetAddress value. */
export function addressOctets(addr: string): number[] | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(addr);
  if (v4) {
    const b = v4.slice(1).map(Number);
    return b.every((x) => x <= 255) ? b : undefined;
  }
  if (!addr.includes(':')) return undefined;
  // IPv6, possibly with an embedded IPv4 tail and "::" compression
  let text = addr.replace(/%.*$/, '');
  const tail = /(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(text);
  let tailBytes: number[] = [];
  if (tail) {
    const t = addressOctets(tail[1]);
    if (!t) return undefined;
    tailBytes = t;
    text = text.slice(0, -tail[1].length) + '0:0';
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - rest.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  const out: number[] = [];
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    const v = parseInt(g, 16);
    out.push(v >> 8, v & 0xff);
  }
  if (tailBytes.length) out.splice(12, 4, ...tailBytes);
  return out.length === 16 ? out : undefined;
}

/** "02:00:00:00:00:01" → 6 octets; undefined when malformed. */
export function macOctets(mac: string): number[] | undefined {
  const parts = mac.split(/[:-]/);
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{1,2}$/.test(p))) return undefined;
  return parts.map((p) => parseInt(p, 16));
}
