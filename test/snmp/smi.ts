/**
 * A small SMIv2 reader, enough to check our MIB providers against the vendored MIB files
 * (mibs/*.txt): it resolves every OBJECT-TYPE / NOTIFICATION-TYPE / OBJECT IDENTIFIER to a
 * numeric OID and reduces each SYNTAX to the SNMP base type on the wire (RFC 2578 §7.1,
 * textual conventions resolved through RFC 2579 and the MIB's own TEXTUAL-CONVENTIONs).
 *
 * It is a test helper, not a general MIB compiler: it knows the imports these three MIBs
 * use (SNMPv2-SMI, SNMPv2-TC, INET-ADDRESS-MIB, IF-MIB).
 */
import { readFileSync } from 'node:fs';

export type BaseType =
  | 'INTEGER'
  | 'OCTET STRING'
  | 'OBJECT IDENTIFIER'
  | 'IpAddress'
  | 'Counter32'
  | 'Gauge32'
  | 'TimeTicks'
  | 'Counter64'
  | 'Opaque'
  | 'SEQUENCE';

export interface SmiObject {
  name: string;
  kind: 'OBJECT-TYPE' | 'NOTIFICATION-TYPE' | 'OBJECT IDENTIFIER' | 'MODULE-IDENTITY' | 'OTHER';
  oid: number[];
  syntax?: string;
  base?: BaseType;
  access?: string;
  index?: string[];
  augments?: string;
  objects?: string[];
  enums?: Record<string, number>;
}

/** Known roots and imported objects (RFC 2578, RFC 2863). */
const ROOTS: Record<string, number[]> = {
  iso: [1],
  org: [1, 3],
  dod: [1, 3, 6],
  internet: [1, 3, 6, 1],
  mgmt: [1, 3, 6, 1, 2],
  'mib-2': [1, 3, 6, 1, 2, 1],
  private: [1, 3, 6, 1, 4],
  enterprises: [1, 3, 6, 1, 4, 1],
  ifIndex: [1, 3, 6, 1, 2, 1, 2, 2, 1, 1],
};

/** Imported textual conventions and SMI types → base type (RFC 2578, 2579, 4001, 2863). */
const IMPORTED: Record<string, BaseType> = {
  Integer32: 'INTEGER',
  INTEGER: 'INTEGER',
  Unsigned32: 'Gauge32',
  Gauge32: 'Gauge32',
  Counter32: 'Counter32',
  Counter64: 'Counter64',
  TimeTicks: 'TimeTicks',
  IpAddress: 'IpAddress',
  Opaque: 'Opaque',
  'OCTET STRING': 'OCTET STRING',
  'OBJECT IDENTIFIER': 'OBJECT IDENTIFIER',
  DisplayString: 'OCTET STRING',
  TruthValue: 'INTEGER',
  RowStatus: 'INTEGER',
  MacAddress: 'OCTET STRING',
  PhysAddress: 'OCTET STRING',
  TimeStamp: 'TimeTicks',
  TimeInterval: 'INTEGER',
  InetAddressType: 'INTEGER',
  InetAddress: 'OCTET STRING',
  InetPortNumber: 'Gauge32',
  InetAddressPrefixLength: 'Gauge32',
  InetScopeType: 'INTEGER',
  InterfaceIndex: 'INTEGER',
};

/** Strip "--" comments and quoted strings (DESCRIPTION text may contain anything). */
function clean(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      const j = text.indexOf('"', i + 1);
      out += '""';
      i = j < 0 ? text.length : j + 1;
    } else if (c === '-' && text[i + 1] === '-') {
      // comment ends at end of line or at the next "--"
      let j = i + 2;
      while (j < text.length && text[j] !== '\n' && !(text[j] === '-' && text[j + 1] === '-')) j++;
      i = text[j] === '\n' ? j : j + 2;
      out += ' ';
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function braces(s: string, from: number): { body: string; end: number } {
  const start = s.indexOf('{', from);
  let depth = 0;
  for (let i = start; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}') {
      depth--;
      if (depth === 0) return { body: s.slice(start + 1, i), end: i + 1 };
    }
  }
  return { body: s.slice(start + 1), end: s.length };
}

export function parseMib(path: string): { module: string; objects: Map<string, SmiObject> } {
  const text = clean(readFileSync(path, 'utf8'));
  const module = /^\s*([A-Za-z][\w-]*)\s+DEFINITIONS\s*::=\s*BEGIN/m.exec(text)?.[1] ?? '?';
  const objects = new Map<string, SmiObject>();
  const parents = new Map<string, { parent: string; sub: number[] }>();
  const tcs = new Map<string, string>();

  // TEXTUAL-CONVENTIONs of this module
  for (const m of text.matchAll(/([A-Z][\w-]*)\s*::=\s*TEXTUAL-CONVENTION([\s\S]*?)\bSYNTAX\s+([A-Za-z][\w-]*(?:\s+STRING|\s+IDENTIFIER)?)/g)) {
    tcs.set(m[1], m[3].replace(/\s+/g, ' '));
  }

  // Every "name <MACRO> ... ::= { parent n }" definition
  const defRe = /(^|\n)\s*([a-z][\w-]*)\s+(OBJECT-TYPE|NOTIFICATION-TYPE|MODULE-IDENTITY|OBJECT-GROUP|NOTIFICATION-GROUP|MODULE-COMPLIANCE|OBJECT-IDENTITY|OBJECT\s+IDENTIFIER)\b/g;
  let m: RegExpExecArray | null;
  while ((m = defRe.exec(text))) {
    const name = m[2];
    const kindRaw = m[3].replace(/\s+/g, ' ');
    const assign = text.indexOf('::=', m.index + m[0].length);
    if (assign < 0) break;
    const clause = text.slice(m.index + m[0].length, assign);
    const { body, end } = braces(text, assign);
    const parts = body.trim().split(/\s+/);
    const parent = parts[0];
    const sub = parts.slice(1).map((p) => Number(/\((\d+)\)/.exec(p)?.[1] ?? p));
    parents.set(name, { parent, sub });
    const kind: SmiObject['kind'] =
      kindRaw === 'OBJECT-TYPE' || kindRaw === 'NOTIFICATION-TYPE' || kindRaw === 'MODULE-IDENTITY' || kindRaw === 'OBJECT IDENTIFIER'
        ? kindRaw
        : 'OTHER';
    const o: SmiObject = { name, kind, oid: [] };
    if (kind === 'OBJECT-TYPE') {
      const sm = /\bSYNTAX\s+([\s\S]*?)\s+(?:UNITS|MAX-ACCESS|ACCESS)\b/.exec(clause);
      const syn = sm ? sm[1].replace(/\s+/g, ' ').trim() : '';
      o.syntax = syn;
      o.access = /\bMAX-ACCESS\s+([\w-]+)/.exec(clause)?.[1];
      const im = /\bINDEX\s*\{([^}]*)\}/.exec(clause);
      if (im) o.index = im[1].split(',').map((x) => x.trim().replace(/^IMPLIED\s+/, ''));
      const am = /\bAUGMENTS\s*\{([^}]*)\}/.exec(clause);
      if (am) o.augments = am[1].trim();
      const en = /^INTEGER\s*\{([^}]*)\}/.exec(syn);
      if (en) {
        o.enums = {};
        for (const e of en[1].matchAll(/([\w-]+)\s*\(\s*(-?\d+)\s*\)/g)) o.enums[e[1]] = Number(e[2]);
      }
      o.base = baseOf(syn, tcs);
    } else if (kind === 'NOTIFICATION-TYPE') {
      const om = /\bOBJECTS\s*\{([^}]*)\}/.exec(clause);
      o.objects = om ? om[1].split(',').map((x) => x.trim()) : [];
    }
    objects.set(name, o);
    defRe.lastIndex = end;
  }

  const resolve = (name: string, depth = 0): number[] | undefined => {
    if (ROOTS[name]) return ROOTS[name];
    const p = parents.get(name);
    if (!p || depth > 64) return undefined;
    const base = resolve(p.parent, depth + 1);
    return base ? [...base, ...p.sub] : undefined;
  };
  for (const o of objects.values()) o.oid = resolve(o.name) ?? [];
  return { module, objects };
}

function baseOf(syntax: string, tcs: Map<string, string>, depth = 0): BaseType | undefined {
  const s = syntax.replace(/\(.*$/, '').replace(/\{.*$/, '').trim();
  if (s.startsWith('SEQUENCE OF') || /Entry$/.test(s)) return 'SEQUENCE';
  if (IMPORTED[s]) return IMPORTED[s];
  const tc = tcs.get(s);
  if (tc && depth < 8) return baseOf(tc, tcs, depth + 1);
  return undefined;
}
