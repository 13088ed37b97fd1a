/**
 * Prometheus metrics: an observer of the journal (counters, histograms) and of the
 * snapshot (gauges, and keepalived's own counters), served by src/http/server.ts.
 *
 * Two sets (shared/research/observability-anchors.md §8):
 * - A, drop-in compatibility with mehdy/keepalived-exporter v1.7: same names, label
 *   names, types, HELP texts and value encodings, so its dashboard and rules keep working.
 * - B, native additions: a state stateset with explicit zeros (no-master / split-brain
 *   maths), transitions with reasons, timers, priorities, histograms, LVS and SNMP health.
 *   Every native per-instance family carries `iname, intf, vrid, vrrp_domain`.
 *
 * Gauges are computed at scrape time from ONE snapshot, so a scrape is one consistent
 * instant (lesson 1 of §1.5: no signal + dump-file race, never stale data).
 */
import { createHash } from 'node:crypto';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { JournalEvent, VrrpState } from '../journal/events';
import type { Journal } from '../journal/journal';
import type { AgentSnapshot, InstanceSnapshot, SnapshotProvider } from '../state/snapshot';
import { escapeLabel, formatValue, labelInner, negotiate, render as renderExposition, renderBytes, renderChunks, type ExpositionFormat, type MetricLike, type Sample } from './exposition';
import { STATE_CODE, STATES } from './common';
import { BaseFamily, CollectedFamily, CounterFamily, EMPTY, flat, flatten, HistogramFamily } from './families';

/** Where exemplar trace ids come from (src/observe/tracing.ts implements it). */
export interface TraceIdSource {
  /** trace id of the (sampled) span that represents this journal event, if any */
  traceIdFor(e: JournalEvent): string | undefined;
}

export interface MetricsOptions {
  /**
   * Operator-set cluster key for split-brain / no-master grouping. When given it wins;
   * otherwise the instance's own `vrrp_domain`, otherwise the network of its first VIP
   * (e.g. "192.0.2.0/24") — VRIDs repeat across L2 domains (KASM lesson, §1.3).
   */
  vrrpDomain?: string | ((inst: InstanceSnapshot) => string);
  /** put trace_id exemplars on keepalived_vrrp_transitions_total (OpenMetrics only) */
  tracingExemplars?: TraceIdSource;
  /** prom-client default process_* / nodejs_* metrics (default true) */
  defaultMetrics?: boolean;
  /** more families, rendered last (the HTTP worker's view of the main thread's default metrics) */
  extraMetrics?: MetricLike[];
  /** keepwatch's own version/revision for the build-info metrics */
  version?: string;
  revision?: string;
}

export interface Metrics {
  registry: Registry;
  /** Text 0.0.4 by default; OpenMetrics 1.0.0 when the Accept header asks for it. */
  render(acceptHeader?: string): Promise<{ contentType: string; body: string }>;
  /**
   * The same exposition as UTF-8 bytes, for the HTTP endpoint: unchanged families re-use
   * their bytes from the previous scrape, and the server sends a Buffer without the UTF-8
   * scan and re-encode a 2 MB string costs it on every scrape.
   */
  renderBytes(acceptHeader?: string): Promise<{ contentType: string; body: Buffer }>;
  /** the same bytes as one Buffer per family (the HTTP server writes them with one writev) */
  renderChunks(acceptHeader?: string): Promise<{ contentType: string; chunks: Buffer[]; length: number }>;
  /**
   * Encode the journal-fed families (counters and histograms fed by events) now, against
   * the previous scrape's snapshot: the HTTP worker calls it while it waits for the
   * snapshot of the next scrape, and renderBytes then re-uses every family no event moved
   * in between (families keep their bytes while their version stands, families.ts).
   */
  warm(acceptHeader?: string): void;
  /** stop observing the journal */
  close(): void;
}

export { STATE_CODE };
const SCRIPT_STATUSES = ['init', 'good', 'bad', 'init_failed'] as const;

const INST = ['iname', 'intf', 'vrid', 'vrrp_domain'] as const;
const COMPAT = ['iname', 'intf', 'vrid'] as const;

// ---------------------------------------------------------------- vrrp_domain

/** Network of an address/prefix in canonical text ("192.0.2.0/24", "2001:db8::/64"). */
export function networkOf(address: string, prefix: number): string | undefined {
  if (address.includes(':')) {
    const n = parseV6(address);
    if (n === undefined || !(prefix >= 0 && prefix <= 128)) return undefined;
    const mask = prefix === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - prefix)) - 1n);
    return `${formatV6(n & mask)}/${prefix}`;
  }
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255) || !(prefix >= 0 && prefix <= 32)) return undefined;
  const n = ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const net = (n & mask) >>> 0;
  return `${net >>> 24}.${(net >>> 16) & 255}.${(net >>> 8) & 255}.${net & 255}/${prefix}`;
}

function parseV6(a: string): bigint | undefined {
  const pct = a.indexOf('%');
  if (pct >= 0) a = a.slice(0, pct);
  let head = a;
  let tail = '';
  const dbl = a.indexOf('::');
  if (dbl >= 0) {
    head = a.slice(0, dbl);
    tail = a.slice(dbl + 2);
  }
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = dbl >= 0 ? [...h, ...new Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t] : h;
  if (groups.length !== 8) return undefined;
  let n = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  return n;
}

function formatV6(n: bigint): string {
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((n >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952 §4.2: compress the longest run (≥ 2) of zero groups, the first if tied.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return hex.slice(0, best).join(':') + '::' + hex.slice(best + bestLen).join(':');
}

/** Default cluster key of an instance: the network of its first VIP, else "". */
export function deriveVrrpDomain(inst: InstanceSnapshot): string {
  const v = inst.vips[0];
  if (!v) return '';
  return networkOf(v.address, v.prefix) ?? `${v.address}/${v.prefix}`;
}

export function resolveVrrpDomain(inst: InstanceSnapshot, opt?: MetricsOptions['vrrpDomain']): string {
  if (typeof opt === 'function') return opt(inst);
  if (typeof opt === 'string' && opt !== '') return opt;
  return inst.vrrp_domain || deriveVrrpDomain(inst);
}

/**
 * mehdy/keepalived-exporter ParseVIP: split keepalived's VIP text on spaces; the label
 * `ip_address` is the first word (with "/len" when keepalived prints one) and `intf` the
 * third ("192.0.2.50/24 dev eth0 scope global" → "192.0.2.50/24", "eth0").
 */
export function compatVipLabels(v: { text: string; address: string; prefix: number; dev: string }): { ip: string; dev: string } | undefined {
  const words = v.text ? v.text.split(' ') : [];
  if (words.length >= 3) return { ip: words[0], dev: words[2] };
  if (v.text) return undefined; // the exporter skips VIP lines it cannot parse
  const host = v.address.includes(':') ? 128 : 32;
  return { ip: v.prefix === host ? v.address : `${v.address}/${v.prefix}`, dev: v.dev };
}

// ---------------------------------------------------------------- buckets

const SEND_LAG_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1];
const SCRIPT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const CHECKER_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const ADVERT_MULTIPLES = [0.5, 0.9, 1, 1.1, 1.5, 2, 3];
const DEFAULT_ADVERT_BUCKETS = ADVERT_MULTIPLES; // 1 s advert interval

function advertBuckets(advertIntCs: number): number[] {
  const base = advertIntCs > 0 ? advertIntCs / 100 : 1;
  return ADVERT_MULTIPLES.map((m) => Math.round(m * base * 1e6) / 1e6);
}

// ---------------------------------------------------------------- per-instance families

type InstLabels = { iname: string; intf: string; vrid: string; vrrp_domain: string };

/**
 * One instance's label strings, kept ACROSS scrapes, with a line cache for every
 * per-instance family. A 255-instance agent exposes ~17 500 series of which ~60 per
 * instance come from per-instance families; between two scrapes most of their values do
 * not move (priorities, intervals, statesets, info), so a scrape mostly re-uses the
 * sample line it made last time and only formats the values that changed.
 */
interface InstEntry {
  // what the labels were made from; compared on every scrape, any difference makes a new entry
  intf: string;
  vrid: number;
  vrrpDomainField: string;
  vip0Address: string | undefined;
  vip0Prefix: number | undefined;
  inst: InstLabels;
  /** label set rendered without braces */
  inner: string;
  str: string;
  compat: { iname: string; intf: string; vrid: string };
  compatStr: string;
  /** per cache slot (see InstanceLabelCache.alloc): last sample line(s) … */
  lines: string[];
  /** … the value they show (NaN: no line yet / no series) … */
  vals: Float64Array;
  /** … and either what they were made from (KeyedInstanceFamily) or the family's flat "name{labels} " */
  keys: string[];
  gen: number;
}

/**
 * The instances' labels, keyed by instance name and checked against the snapshot on every
 * scrape (interface, VRID, vrrp_domain and the first VIP, which the derived domain comes
 * from), so a reload or an in-place change can never leave a stale label behind; entries
 * of instances that disappeared are dropped.
 */
class InstanceLabelCache {
  private entries = new Map<string, InstEntry>();
  private gen = 0;
  private memo?: { s: AgentSnapshot; ents: InstEntry[] };
  /** bumped whenever an instance's labels appear, change or go away */
  version = 0;
  private slots = 0;
  constructor(private readonly domainOpt: MetricsOptions['vrrpDomain']) {}
  /** reserve `n` line-cache slots for a family */
  alloc(n: number): number {
    const b = this.slots;
    this.slots += n;
    return b;
  }
  /** a new scrape: the provider may hand out the same object mutated in place */
  invalidate(): void {
    this.memo = undefined;
  }
  get(iname: string): InstEntry | undefined {
    return this.entries.get(iname);
  }
  /** entries aligned with `s.instances` (computed once per snapshot) */
  of(s: AgentSnapshot): InstEntry[] {
    if (this.memo && this.memo.s === s) return this.memo.ents;
    const gen = ++this.gen;
    const list = s.instances;
    const ents = new Array<InstEntry>(list.length);
    let fresh = 0;
    for (let k = 0; k < list.length; k++) {
      const i = list[k];
      const fnDomain = typeof this.domainOpt === 'function' ? this.domainOpt(i) : undefined;
      const v0 = i.vips[0];
      let e = this.entries.get(i.iname);
      if (
        !e ||
        e.intf !== i.ifp_ifname ||
        e.vrid !== i.vrid ||
        e.vrrpDomainField !== i.vrrp_domain ||
        e.vip0Address !== v0?.address ||
        e.vip0Prefix !== v0?.prefix ||
        (fnDomain !== undefined && fnDomain !== e.inst.vrrp_domain)
      ) {
        const inst = { iname: i.iname, intf: i.ifp_ifname, vrid: String(i.vrid), vrrp_domain: fnDomain ?? resolveVrrpDomain(i, this.domainOpt) };
        const compat = { iname: inst.iname, intf: inst.intf, vrid: inst.vrid };
        const inner = labelInner(inst);
        e = {
          intf: i.ifp_ifname,
          vrid: i.vrid,
          vrrpDomainField: i.vrrp_domain,
          vip0Address: v0?.address,
          vip0Prefix: v0?.prefix,
          inst,
          inner,
          str: `{${inner}}`,
          compat,
          compatStr: `{${labelInner(compat)}}`,
          lines: new Array<string>(this.slots).fill(''),
          vals: new Float64Array(this.slots).fill(NaN),
          keys: new Array<string>(this.slots).fill(''),
          gen: 0,
        };
        this.entries.set(i.iname, e);
        this.version++;
      }
      if (e.gen !== gen) {
        e.gen = gen;
        fresh++;
      }
      ents[k] = e;
    }
    if (this.entries.size !== fresh) {
      for (const [n, e] of this.entries)
        if (e.gen !== gen) {
          this.entries.delete(n);
          this.version++;
        }
    }
    this.memo = { s, ents };
    return ents;
  }
}

/** the cached line(s) of one slot, instance after instance */
function slotLines(ents: InstEntry[], n: number, slot: number): string {
  let body = '';
  for (let k = 0; k < n; k++) body += ents[k].lines[slot];
  return body;
}

/**
 * Shared by the per-instance families. A scrape first refreshes every instance's cached
 * line(s) (`refresh`, which says whether any line changed, appeared or went away); when
 * nothing moved and the instances are the same entries in the same order, the family's
 * body from the previous scrape is returned as is — most per-instance families
 * (priorities, intervals, statesets, info, VIPs) are static between two scrapes.
 */
abstract class PerInstanceFamily extends BaseFamily<AgentSnapshot> {
  /** OpenMetrics sample lines equal the text ones (gauges; counters already named *_total) */
  private readonly sameInOm: boolean;
  /** bumped when any instance's line changed, appeared or went away, or the instances did */
  private gen = 0;
  private lastEnts: InstEntry[] | undefined;
  /** the string path's cache (render()): the body of generation `gen` and its header-prefixed texts */
  private last: { gen: number; body: string; flat: boolean; text?: string; openmetrics?: string } = { gen: -1, body: '', flat: false };
  constructor(name: string, help: string, type: 'gauge' | 'counter', labelNames: readonly string[], snapshot: () => AgentSnapshot, protected readonly cache: InstanceLabelCache) {
    super(name, help, type, labelNames, snapshot);
    this.sameInOm = type === 'gauge' || name.endsWith('_total');
  }
  /** update the instances' cached lines; true when any of them changed */
  protected abstract refresh(s: AgentSnapshot, insts: InstanceSnapshot[], ents: InstEntry[]): boolean;
  /** the sample lines of all instances from the cache ("" when none) */
  protected abstract concat(s: AgentSnapshot, insts: InstanceSnapshot[], ents: InstEntry[]): string;
  /** brings the line caches up to `s`: the generation of the body, or EMPTY */
  private update(s: AgentSnapshot): number | typeof EMPTY {
    if (!s.running || (this.gate && !this.gate(s))) return EMPTY;
    const ents = this.cache.of(s);
    let changed = this.refresh(s, s.instances, ents);
    if (!changed) {
      const prev = this.lastEnts;
      if (!prev || prev.length !== ents.length) changed = true;
      else
        for (let k = 0; k < ents.length; k++)
          if (prev[k] !== ents[k]) {
            changed = true;
            break;
          }
    }
    if (changed) {
      this.gen++;
      this.lastEnts = ents;
    }
    return this.gen;
  }
  override writeFamily(s: AgentSnapshot, format: ExpositionFormat): string {
    if (format === 'openmetrics' && !this.sameInOm) return super.writeFamily(s, format);
    const gen = this.update(s);
    if (gen === EMPTY) return '';
    const last = this.last;
    if (last.gen !== gen) this.last = { gen, body: this.concat(s, s.instances, this.cache.of(s)), flat: false };
    else if (!last.flat) {
      flatten(last.body);
      last.flat = true;
    }
    // the same string object while nothing changed
    const l = this.last;
    return l.body ? (l[format] ??= this.header(format) + l.body) : '';
  }
  protected override bytesToken(s: AgentSnapshot, format: ExpositionFormat): unknown {
    if (format === 'openmetrics' && !this.sameInOm) return undefined;
    return this.update(s);
  }
  protected override bytesText(s: AgentSnapshot, format: ExpositionFormat): string {
    if (format === 'openmetrics' && !this.sameInOm) return super.writeFamily(s, format);
    if (this.last.gen === this.gen) return this.last.body ? this.header(format) + this.last.body : '';
    const body = this.concat(s, s.instances, this.cache.of(s));
    return body ? this.header(format) + body : '';
  }
}

/** One series per instance from a numeric field (null/undefined/NaN: no series). */
class InstanceFamily extends PerInstanceFamily {
  private readonly slot: number;
  constructor(
    name: string,
    help: string,
    type: 'gauge' | 'counter',
    /** mehdy/keepalived-exporter label set (iname, intf, vrid) instead of the native one */
    private readonly compat: boolean,
    snapshot: () => AgentSnapshot,
    cache: InstanceLabelCache,
    private readonly value: (i: InstanceSnapshot) => number | null | undefined,
  ) {
    super(name, help, type, compat ? COMPAT : INST, snapshot, cache);
    this.slot = cache.alloc(1);
  }
  protected samples(s: AgentSnapshot): Sample[] {
    const out: Sample[] = [];
    if (!s.running) return out;
    const ents = this.cache.of(s);
    s.instances.forEach((i, k) => {
      const v = this.value(i);
      if (v === null || v === undefined || Number.isNaN(v)) return;
      const l = ents[k];
      out.push(this.compat ? { labels: l.compat, labelStr: l.compatStr, value: v } : { labels: l.inst, labelStr: l.str, value: v });
    });
    return out;
  }
  protected refresh(_s: AgentSnapshot, insts: InstanceSnapshot[], ents: InstEntry[]): boolean {
    const slot = this.slot;
    let changed = false;
    for (let k = 0; k < insts.length; k++) {
      const v = this.value(insts[k]);
      const e = ents[k];
      if (v === null || v === undefined || v !== v) {
        // no series; NaN in the slot means "no line"
        if (e.vals[slot] === e.vals[slot]) {
          e.vals[slot] = NaN;
          e.lines[slot] = '';
          changed = true;
        }
      } else if (e.vals[slot] !== v) {
        // keys[slot] holds this family's flat "name{labels} " for the entry
        const pre = e.keys[slot] || (e.keys[slot] = flat(this.name + (this.compat ? e.compatStr : e.str) + ' '));
        e.lines[slot] = pre + (formatValue(v) + '\n');
        e.vals[slot] = v;
        changed = true;
      }
    }
    return changed;
  }
  protected concat(_s: AgentSnapshot, insts: InstanceSnapshot[], ents: InstEntry[]): string {
    return slotLines(ents, insts.length, this.slot);
  }
}

/** A stateset-like family: one series per instance and fixed value of an extra label. */
class InstanceSetFamily extends PerInstanceFamily {
  private readonly slot: number;
  constructor(
    name: string,
    help: string,
    type: 'gauge' | 'counter',
    private readonly label: string,
    private readonly members: readonly string[],
    snapshot: () => AgentSnapshot,
    cache: InstanceLabelCache,
    private readonly value: (i: InstanceSnapshot, member: string) => number,
  ) {
    super(name, help, type, [...INST, label], snapshot, cache);
    this.slot = cache.alloc(members.length);
  }
  protected samples(s: AgentSnapshot): Sample[] {
    const out: Sample[] = [];
    if (!s.running) return out;
    const ents = this.cache.of(s);
    s.instances.forEach((i, k) => {
      const l = ents[k];
      for (const x of this.members) out.push({ labels: { ...l.inst, [this.label]: x }, labelStr: `{${l.inner},${this.label}="${escapeLabel(x)}"}`, value: this.value(i, x) });
    });
    return out;
  }
  protected refresh(_s: AgentSnapshot, insts: InstanceSnapshot[], ents: InstEntry[]): boolean {
    const m = this.members;
    let changed = false;
    for (let k = 0; k < insts.length; k++) {
      const i = insts[k];
      const e = ents[k];
      for (let j = 0; j < m.length; j++) {
        const v = this.value(i, m[j]);
        const slot = this.slot + j;
        // every member always has a line (NaN included, shown as "NaN", so never a cache hit)
        if (e.vals[slot] !== v || e.lines[slot] === '') {
          const pre = e.keys[slot] || (e.keys[slot] = flat(this.name + '{' + e.inner + ',' + this.label + '="' + escapeLabel(m[j]) + '"} '));
          e.lines[slot] = pre + (formatValue(v) + '\n');
          e.vals[slot] = v;
          changed = true;
        }
      }
    }
    return changed;
  }
  protected concat(_s: AgentSnapshot, insts: InstanceSnapshot[], ents: InstEntry[]): string {
    const n = this.members.length;
    let body = '';
    for (let k = 0; k < insts.length; k++) {
      const lines = ents[k].lines;
      for (let j = 0; j < n; j++) body += lines[this.slot + j];
    }
    return body;
  }
}

/**
 * One series per instance and value of an extra label that varies per instance (tracked
 * interfaces): an instance's lines are rebuilt only when its (label, value) pairs change.
 */
class InstancePairsFamily extends PerInstanceFamily {
  private readonly slot: number;
  constructor(
    name: string,
    help: string,
    type: 'gauge' | 'counter',
    private readonly label: string,
    snapshot: () => AgentSnapshot,
    cache: InstanceLabelCache,
    private readonly value: (i: InstanceSnapshot, s: AgentSnapshot) => [string, number][] | undefined,
  ) {
    super(name, help, type, [...INST, label], snapshot, cache);
    this.slot = cache.alloc(1);
  }
  protected samples(s: AgentSnapshot): Sample[] {
    const out: Sample[] = [];
    if (!s.running) return out;
    const ents = this.cache.of(s);
    s.instances.forEach((i, k) => {
      const l = ents[k];
      for (const [x, n] of this.value(i, s) ?? []) out.push({ labels: { ...l.inst, [this.label]: x }, labelStr: `{${l.inner},${this.label}="${escapeLabel(x)}"}`, value: n });
    });
    return out;
  }
  protected refresh(s: AgentSnapshot, insts: InstanceSnapshot[], ents: InstEntry[]): boolean {
    const slot = this.slot;
    let changed = false;
    for (let k = 0; k < insts.length; k++) {
      const v = this.value(insts[k], s);
      const e = ents[k];
      let key = '';
      if (v) for (const [x, n] of v) key += x + '\u0000' + n + '\u0000';
      if (e.keys[slot] !== key || e.vals[slot] !== 1) {
        let lines = '';
        if (v) {
          const pre = this.name + '{' + e.inner + ',' + this.label + '="';
          for (const [x, n] of v) lines += pre + escapeLabel(x) + '"} ' + formatValue(n) + '\n';
        }
        e.lines[slot] = lines;
        e.keys[slot] = key;
        e.vals[slot] = 1; // the slot is filled (the key of an instance without pairs is "")
        changed = true;
      }
    }
    return changed;
  }
  protected concat(_s: AgentSnapshot, insts: InstanceSnapshot[], ents: InstEntry[]): string {
    return slotLines(ents, insts.length, this.slot);
  }
}

/**
 * Per-instance families whose lines depend on more than the instance labels and one number
 * (per-VIP state, instance info): `keyOf` says what the instance's lines are made of; they
 * are rebuilt only when it changes. `collect` is the plain Sample path for registry.metrics().
 */
class KeyedInstanceFamily extends PerInstanceFamily {
  private readonly slot: number;
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    snapshot: () => AgentSnapshot,
    cache: InstanceLabelCache,
    private readonly collect: (s: AgentSnapshot) => Sample[],
    private readonly keyOf: (i: InstanceSnapshot) => string,
    /** all sample lines of the instance, "" for none */
    private readonly build: (name: string, i: InstanceSnapshot, e: InstEntry) => string,
  ) {
    super(name, help, 'gauge', labelNames, snapshot, cache);
    this.slot = cache.alloc(1);
  }
  protected samples(s: AgentSnapshot): Sample[] {
    return this.collect(s);
  }
  protected refresh(_s: AgentSnapshot, insts: InstanceSnapshot[], ents: InstEntry[]): boolean {
    const slot = this.slot;
    let changed = false;
    for (let k = 0; k < insts.length; k++) {
      const i = insts[k];
      const e = ents[k];
      const key = this.keyOf(i);
      if (e.keys[slot] !== key || e.vals[slot] !== 1) {
        e.lines[slot] = this.build(this.name, i, e);
        e.keys[slot] = key;
        e.vals[slot] = 1; // marks the slot as filled (a key may legitimately be "")
        changed = true;
      }
    }
    return changed;
  }
  protected concat(_s: AgentSnapshot, insts: InstanceSnapshot[], ents: InstEntry[]): string {
    return slotLines(ents, insts.length, this.slot);
  }
}

// ---------------------------------------------------------------- createMetrics

/** prom-client's default process_* / nodejs_* metrics, as promtool accepts them. */
export function addDefaultMetrics(registry: Registry): Registry {
  collectDefaultMetrics({ register: registry });
  // These three are gauges whose names end in _total: `promtool check metrics` rejects
  // them (npm-feasibility.md §4), so they are removed.
  for (const n of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(n);
  return registry;
}

/**
 * The journal event types the metrics observe (the `onEvent` switch below). The HTTP
 * worker (src/http/worker-host.ts) forwards only these to its replica journal.
 */
export const METRIC_EVENT_TYPES: ReadonlySet<JournalEvent['type']> = new Set<JournalEvent['type']>([
  'vrrp.transition',
  'vrrp.advert.received',
  'vrrp.advert.sent',
  'vrrp.global_error',
  'vrrp.error',
  'track.script',
  'notify.run',
  'checker.result',
  'realserver.state',
  'snmp.notification',
]);

export function createMetrics(journal: Journal, snapshot: SnapshotProvider, opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const add = <T extends MetricLike>(f: T): T => {
    registry.registerMetric(f as never);
    return f;
  };

  // prom-client's own registry.metrics()/get() path: one snapshot per macrotask (all get()
  // calls of one registry.metrics() start synchronously). render() passes its snapshot
  // explicitly instead, so concurrent renders never mix instants.
  let pinned: AgentSnapshot | undefined;
  const snap = (): AgentSnapshot => {
    if (!pinned) {
      pinned = snapshot();
      setImmediate(() => (pinned = undefined));
    }
    return pinned;
  };

  // ---- labels: rendered once per instance and kept across scrapes (domain derivation, escaping) ----
  const labels = new InstanceLabelCache(opts.vrrpDomain);
  const lab = (s: AgentSnapshot, i: InstanceSnapshot): InstEntry => labels.of(s)[s.instances.indexOf(i)];

  // journal-fed per-instance families use the labels of the last scrape between scrapes
  let eventCacheMono = -Infinity;
  function labelsForEvent(e: { instance: string; vrid: number; intf: string; mono: number }): InstLabels {
    let l = labels.get(e.instance);
    if (!l && e.mono - eventCacheMono > 1000) {
      // An instance not seen in a scrape yet (first transition at startup): look its
      // domain up once; rate-limited so a flood of events for an unknown name cannot
      // turn into a snapshot per event.
      eventCacheMono = e.mono;
      try {
        labels.invalidate();
        labels.of(snapshot());
      } catch {
        /* keep going with the event's own fields */
      }
      l = labels.get(e.instance);
    }
    return l?.inst ?? { iname: e.instance, intf: e.intf, vrid: String(e.vrid), vrrp_domain: typeof opts.vrrpDomain === 'string' ? opts.vrrpDomain : '' };
  }

  const running = (s: AgentSnapshot) => s.running;
  const instances = (s: AgentSnapshot): InstanceSnapshot[] => (s.running ? s.instances : []);
  const gauge = (name: string, help: string, labelNames: readonly string[], fn: (s: AgentSnapshot) => Sample[]) => add(new CollectedFamily<AgentSnapshot>(name, help, 'gauge', labelNames, snap, fn));
  const counter = (name: string, help: string, labelNames: readonly string[], fn: (s: AgentSnapshot) => Sample[]) => add(new CollectedFamily<AgentSnapshot>(name, help, 'counter', labelNames, snap, fn));

  /** one gauge/counter per instance from a numeric field */
  const perInstance = (name: string, help: string, type: 'gauge' | 'counter', fn: (i: InstanceSnapshot) => number | null | undefined) =>
    add(new InstanceFamily(name, help, type, false, snap, labels, fn));
  /** one series per instance and state (statesets, explicit zeros) */
  const perInstanceState = (name: string, help: string, type: 'gauge' | 'counter', fn: (i: InstanceSnapshot, st: VrrpState) => number) =>
    add(new InstanceSetFamily(name, help, type, 'state', STATES, snap, labels, fn as (i: InstanceSnapshot, st: string) => number));
  const compatCounter = (name: string, help: string, fn: (i: InstanceSnapshot) => number) => add(new InstanceFamily(name, help, 'counter', true, snap, labels, fn));

  // =========================== A. mehdy/keepalived-exporter compatibility ===========================
  gauge('keepalived_up', 'Status', [], (s) => [{ labels: {}, value: running(s) ? 1 : 0 }]);
  const goarch = process.arch === 'x64' ? 'amd64' : process.arch === 'ia32' ? '386' : process.arch;
  gauge(
    'keepalived_exporter_build_info',
    "A metric with a constant '1' value labeled by version, revision, branch, goversion from which keepalived_exporter was built, and the goos and goarch for the build.",
    ['branch', 'goarch', 'goos', 'goversion', 'revision', 'tags', 'version'],
    (s) => [
      {
        labels: { branch: '', goarch, goos: process.platform, goversion: process.version, revision: opts.revision ?? '', tags: '', version: opts.version ?? s.version },
        value: 1,
      },
    ],
  );
  const vipStateFamily = (name: string, help: string, excluded: boolean) =>
    add(
      new KeyedInstanceFamily(
        name,
        help,
        ['iname', 'intf', 'vrid', 'ip_address'],
        snap,
        labels,
        (s) => {
      const out: Sample[] = [];
      for (const i of instances(s)) {
        const list = excluded ? i.evips : i.vips;
        const code = STATE_CODE[i.state];
        for (const v of list) {
          const p = compatVipLabels(v);
          if (!p) continue;
          out.push({ labels: { iname: i.iname, intf: p.dev, vrid: String(i.vrid), ip_address: p.ip }, value: code });
        }
        // keepalived-exporter: an instance without VIPs still gets one series, with the
        // instance interface and an empty ip_address.
        if (!excluded && i.vips.length === 0) out.push({ labels: { iname: i.iname, intf: i.ifp_ifname, vrid: String(i.vrid), ip_address: '' }, value: code });
      }
      return out;
    },
        // the lines depend on the state and on the VIPs' text (or address/prefix/dev when keepalived gave none)
        (i) => {
          let k = String(STATE_CODE[i.state]);
          for (const v of excluded ? i.evips : i.vips) k += '\u0000' + (v.text ? v.text : v.address + '/' + v.prefix + ' ' + v.dev);
          return k;
        },
        (fam, i, e) => {
          const code = formatValue(STATE_CODE[i.state]);
          const pre = fam + '{iname="' + escapeLabel(i.iname) + '",intf="';
          const vrid = '",vrid="' + e.compat.vrid + '",ip_address="';
          let out = '';
          for (const v of excluded ? i.evips : i.vips) {
            const p = compatVipLabels(v);
            if (p) out += pre + escapeLabel(p.dev) + vrid + escapeLabel(p.ip) + '"} ' + code + '\n';
          }
          if (!excluded && i.vips.length === 0) out += pre + escapeLabel(i.ifp_ifname) + vrid + '"} ' + code + '\n';
          return out;
        },
      ),
    );
  vipStateFamily('keepalived_vrrp_state', 'State of vrrp', false);
  vipStateFamily('keepalived_vrrp_excluded_state', 'State of vrrp with excluded VIP', true);
  // keepalived-exporter reports the configured garp_delay here (a config value typed as a counter); kept for dashboards.
  compatCounter('keepalived_gratuitous_arp_delay_total', 'Gratuitous ARP delay', (i) => i.garp_delay);
  compatCounter('keepalived_advertisements_received_total', 'Advertisements received', (i) => i.stats.advert_rcvd);
  compatCounter('keepalived_advertisements_sent_total', 'Advertisements sent', (i) => i.stats.advert_sent);
  compatCounter('keepalived_become_master_total', 'Became master', (i) => i.stats.become_master);
  compatCounter('keepalived_release_master_total', 'Released master', (i) => i.stats.release_master);
  compatCounter('keepalived_packet_length_errors_total', 'Packet length errors', (i) => i.stats.packet_len_err);
  compatCounter('keepalived_advertisements_interval_errors_total', 'Advertisement interval errors', (i) => i.stats.advert_interval_err);
  compatCounter('keepalived_ip_ttl_errors_total', 'TTL errors', (i) => i.stats.ip_ttl_err);
  compatCounter('keepalived_invalid_type_received_total', 'Invalid type errors', (i) => i.stats.invalid_type_rcvd);
  compatCounter('keepalived_address_list_errors_total', 'Address list errors', (i) => i.stats.addr_list_err);
  compatCounter('keepalived_authentication_invalid_total', 'Authentication invalid', (i) => i.stats.invalid_authtype);
  compatCounter('keepalived_authentication_mismatch_total', 'Authentication mismatch', (i) => i.stats.authtype_mismatch);
  compatCounter('keepalived_authentication_failure_total', 'Authentication failure', (i) => i.stats.auth_failure);
  compatCounter('keepalived_priority_zero_received_total', 'Priority zero received', (i) => i.stats.pri_zero_rcvd);
  compatCounter('keepalived_priority_zero_sent_total', 'Priority zero sent', (i) => i.stats.pri_zero_sent);
  const scripts = (s: AgentSnapshot) => (s.running ? s.scripts : []);
  // keepalived .data "Status = GOOD|BAD" (result >= rise); the exporter maps BAD 0, GOOD 1.
  gauge('keepalived_script_status', 'Tracker Script Status', ['name'], (s) => scripts(s).map((x) => ({ labels: { name: x.name }, value: x.status === 'good' ? 1 : 0 })));
  gauge('keepalived_script_state', 'Tracker Script State', ['name'], (s) => scripts(s).map((x) => ({ labels: { name: x.name }, value: x.state })));

  // =========================== B. native additions ===========================
  gauge('keepalived_build_info', "A metric with a constant '1' value labeled by keepwatch version, revision and Node.js version.", ['version', 'revision', 'node_version'], (s) => [
    { labels: { version: opts.version ?? s.version, revision: opts.revision ?? '', node_version: process.version }, value: 1 },
  ]);
  const hashCache = new Map<string, string>();
  const vipsHash = (i: InstanceSnapshot): string => {
    // Same VIP set on every member → same hash, whatever the local device names are.
    const key = i.vips
      .map((v) => `${v.address}/${v.prefix}`)
      .sort()
      .join(',');
    let h = hashCache.get(key);
    if (!h) {
      h = createHash('sha256').update(key).digest('hex').slice(0, 16);
      if (hashCache.size > 4096) hashCache.clear();
      hashCache.set(key, h);
    }
    return h;
  };
  const infoLabels = (i: InstanceSnapshot) => ({ version: String(i.version), family: i.family, vmac_intf: i.vmac_ifname, unicast: String(i.unicast), nopreempt: String(i.nopreempt), vips_hash: vipsHash(i) });
  add(
    new KeyedInstanceFamily(
      'keepalived_vrrp_instance_info',
      'VRRP instance identity: cluster key (vrrp_domain), protocol version, address family, VMAC interface, unicast, nopreempt and a hash of the VIP set (equal on all members).',
      [...INST, 'version', 'family', 'vmac_intf', 'unicast', 'nopreempt', 'vips_hash'],
      snap,
      labels,
      (s) => (s.running ? s.instances.map((i) => ({ labels: { ...lab(s, i).inst, ...infoLabels(i) }, value: 1 })) : []),
      (i) => {
        let k = `${i.version}\u0000${i.family}\u0000${i.vmac_ifname}\u0000${i.unicast}\u0000${i.nopreempt}`;
        for (const v of i.vips) k += '\u0000' + v.address + '/' + v.prefix;
        return k;
      },
      (fam, i, e) => `${fam}{${e.inner},${labelInner(infoLabels(i))}} 1\n`,
    ),
  );
  perInstanceState('keepalived_vrrp_status', 'VRRP instance state as a stateset: 1 for the current state, 0 for the others.', 'gauge', (i, st) => (i.state === st ? 1 : 0));
  perInstance('keepalived_vrrp_wanted_state', 'keepalived wantstate: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT, 98 STOP.', 'gauge', (i) => STATE_CODE[i.wantstate]);
  const transitions = add(
    new CounterFamily<AgentSnapshot>('keepalived_vrrp_transitions_total', 'VRRP state transitions by from/to state and reason (ietf-vrrp event vocabulary).', [...INST, 'from', 'to', 'reason'], snap),
  );
  perInstance('keepalived_vrrp_last_transition_timestamp_seconds', 'Wall-clock time of the last state transition (keepalived last_transition).', 'gauge', (i) => i.last_transition);
  perInstanceState('keepalived_vrrp_time_in_state_seconds_total', 'Cumulative seconds spent in each state since start.', 'counter', (i, st) => i.time_in_state?.[st] ?? 0);
  perInstance('keepalived_vrrp_priority_base', 'Configured priority.', 'gauge', (i) => i.base_priority);
  perInstance('keepalived_vrrp_priority_effective', 'Effective priority after tracking weights.', 'gauge', (i) => i.effective_priority);
  perInstance('keepalived_vrrp_master_priority', 'Priority in the adverts of the current master as last seen.', 'gauge', (i) => i.master_priority);
  perInstance('keepalived_vrrp_advert_interval_seconds', 'Configured advertisement interval.', 'gauge', (i) => i.adver_int);
  perInstance('keepalived_vrrp_master_advert_interval_seconds', 'Master_Adver_Interval learned from the master (RFC 5798 section 6.1).', 'gauge', (i) => i.master_adver_int);
  perInstance('keepalived_vrrp_skew_time_seconds', 'Skew_Time (RFC 3768 section 6.1 / RFC 5798 section 6.1).', 'gauge', (i) => i.skew_time);
  perInstance('keepalived_vrrp_master_down_interval_seconds', 'Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time.', 'gauge', (i) => i.master_down_interval);
  perInstance('keepalived_vrrp_master_down_timer_remaining_seconds', 'Seconds left before this BACKUP declares the master down (absent unless BACKUP).', 'gauge', (i) => i.master_down_remaining);
  perInstance('keepalived_vrrp_last_advert_received_timestamp_seconds', 'Wall-clock time of the last advertisement received from the master (0 if none).', 'gauge', (i) => i.last_advert_received);
  const advertInterval = add(
    new HistogramFamily<AgentSnapshot>(
      'keepalived_vrrp_advert_receive_interval_seconds',
      "Inter-arrival time of the master's advertisements; buckets are multiples of the master's advert interval.",
      INST,
      DEFAULT_ADVERT_BUCKETS,
      snap,
    ),
  );
  const sendLag = add(new HistogramFamily<AgentSnapshot>('keepalived_vrrp_advert_send_lag_seconds', 'Lateness of advertisement sends against their schedule (event-loop stalls).', INST, SEND_LAG_BUCKETS, snap));
  perInstance('keepalived_vrrp_advertisements_received_in_master_total', 'Advertisements heard while MASTER (another master on the wire).', 'counter', (i) => i.adverts_received_in_master);
  perInstance('keepalived_vrrp_garp_sent_total', 'Gratuitous ARPs sent.', 'counter', (i) => i.garp_sent);
  perInstance('keepalived_vrrp_unsolicited_na_sent_total', 'Unsolicited neighbour advertisements sent.', 'counter', (i) => i.na_sent);
  const globalErr = {
    checksum_err: add(new CounterFamily<AgentSnapshot>('keepalived_vrrp_checksum_errors_total', 'VRRP packets with a bad checksum (RFC 2787 vrrpRouterChecksumErrors).', ['intf'], snap)),
    version_err: add(new CounterFamily<AgentSnapshot>('keepalived_vrrp_version_errors_total', 'VRRP packets with an unknown or mismatched version (RFC 2787 vrrpRouterVersionErrors).', ['intf'], snap)),
    vrid_err: add(new CounterFamily<AgentSnapshot>('keepalived_vrrp_vrid_errors_total', 'VRRP packets for a VRID not configured here (RFC 2787 vrrpRouterVrIdErrors).', ['intf'], snap)),
  };
  const errFamilies = Object.values(globalErr);
  perInstance('keepalived_vrrp_vips_configured', 'Virtual IP addresses configured.', 'gauge', (i) => i.vips.length);
  perInstance('keepalived_vrrp_vips_installed', 'Virtual IP addresses currently installed on this host.', 'gauge', (i) => {
    let n = 0;
    for (const v of i.vips) if (v.installed) n++;
    return n;
  });
  gauge('keepalived_vrrp_sync_group_status', 'Sync group state as a stateset.', ['group', 'state'], (s) => {
    const out: Sample[] = [];
    if (!running(s)) return out;
    for (const g of s.syncGroups) for (const st of STATES) out.push({ labels: { group: g.name, state: st }, value: g.state === st ? 1 : 0 });
    return out;
  });
  gauge('keepalived_vrrp_script_status', 'vrrp_script result as a stateset (KEEPALIVED-MIB vrrpScriptResult).', ['name', 'status'], (s) => {
    const out: Sample[] = [];
    for (const x of scripts(s)) for (const st of SCRIPT_STATUSES) out.push({ labels: { name: x.name, status: st }, value: x.status === st ? 1 : 0 });
    return out;
  });
  const scriptDuration = add(new HistogramFamily<AgentSnapshot>('keepalived_vrrp_script_duration_seconds', 'vrrp_script run time.', ['name'], SCRIPT_BUCKETS, snap));
  const scriptRuns = add(new CounterFamily<AgentSnapshot>('keepalived_vrrp_script_runs_total', 'vrrp_script runs by result.', ['name', 'result'], snap));
  add(new InstancePairsFamily('keepalived_vrrp_track_interface_up', 'Tracked interface is up (1) or down (0).', 'gauge', 'tracked_intf', snap, labels, (i, s) => {
    if (i.track_interface.length === 0) return undefined;
    const out: [string, number][] = [];
    for (const t of i.track_interface) {
      const u = s.trackedInterfaces.find((x) => x.name === t);
      if (u) out.push([t, u.up ? 1 : 0]);
    }
    return out;
  }));
  const trackProcesses = (s: AgentSnapshot) => (s.running ? (s.trackProcesses ?? []) : []);
  gauge('keepalived_vrrp_track_process_running', 'Processes currently matching a vrrp_track_process.', ['name'], (s) => trackProcesses(s).map((p) => ({ labels: { name: p.name }, value: p.running })));
  gauge('keepalived_vrrp_track_process_quorum_met', 'vrrp_track_process quorum met (1) or not (0).', ['name'], (s) => trackProcesses(s).map((p) => ({ labels: { name: p.name }, value: p.quorumMet ? 1 : 0 })));
  const notifyDuration = add(new HistogramFamily<AgentSnapshot>('keepalived_notify_script_duration_seconds', 'Notify script run time by event.', ['event'], SCRIPT_BUCKETS, snap));

  // ---- LVS: virtual servers, real servers, checkers, IPVS ----
  type VS = AgentSnapshot['virtualServers'][number];
  type RS = VS['realServers'][number];
  const vss = (s: AgentSnapshot) => (s.running ? s.virtualServers : []);
  const vsGauge = (name: string, help: string, fn: (vs: VS) => number) => gauge(name, help, ['virtual_server'], (s) => vss(s).map((vs) => ({ labels: { virtual_server: vs.name }, value: fn(vs) })));
  gauge('keepalived_virtual_server_info', 'Virtual server identity.', ['virtual_server', 'protocol', 'scheduler', 'forwarding'], (s) =>
    vss(s).map((vs) => ({ labels: { virtual_server: vs.name, protocol: vs.protocol, scheduler: vs.scheduler, forwarding: vs.forwarding }, value: 1 })),
  );
  vsGauge('keepalived_virtual_server_real_servers_configured', 'Real servers configured (KEEPALIVED-MIB virtualServerRealServersTotal).', (vs) => vs.realServers.length);
  vsGauge('keepalived_virtual_server_real_servers_up', 'Real servers up (KEEPALIVED-MIB virtualServerRealServersUp).', (vs) => vs.realServers.filter((r) => r.up).length);
  vsGauge('keepalived_virtual_server_quorum', 'Configured quorum.', (vs) => vs.quorum);
  vsGauge('keepalived_virtual_server_quorum_met', 'Quorum met (1) or not (0).', (vs) => (vs.quorumMet ? 1 : 0));
  const rsGauge = (name: string, help: string, fn: (rs: RS) => number | undefined) =>
    gauge(name, help, ['virtual_server', 'real_server'], (s) => {
      const out: Sample[] = [];
      for (const vs of vss(s))
        for (const rs of vs.realServers) {
          const v = fn(rs);
          if (v !== undefined) out.push({ labels: { virtual_server: vs.name, real_server: rs.address }, value: v });
        }
      return out;
    });
  rsGauge('keepalived_real_server_up', 'Real server alive (1) or dead (0).', (rs) => (rs.up ? 1 : 0));
  rsGauge('keepalived_real_server_weight', 'Current real server weight.', (rs) => rs.weight);
  rsGauge('keepalived_real_server_failed_checks', 'Checkers currently failing for the real server.', (rs) => rs.failedChecks);
  const rsTransitions = add(new CounterFamily<AgentSnapshot>('keepalived_real_server_transitions_total', 'Real server state changes by new state.', ['virtual_server', 'real_server', 'to'], snap));
  const checkerDuration = add(new HistogramFamily<AgentSnapshot>('keepalived_checker_duration_seconds', 'Health check duration.', ['virtual_server', 'checker'], CHECKER_BUCKETS, snap));
  const checkerChecks = add(new CounterFamily<AgentSnapshot>('keepalived_checker_checks_total', 'Health checks by result.', ['virtual_server', 'real_server', 'checker', 'result'], snap));
  const ipvsVs = (name: string, help: string, key: 'conns' | 'inPkts' | 'outPkts' | 'inBytes' | 'outBytes') =>
    counter(name, help, ['virtual_server'], (s) => {
      const out: Sample[] = [];
      for (const vs of vss(s)) if (vs.ipvs) out.push({ labels: { virtual_server: vs.name }, value: vs.ipvs[key] });
      return out;
    });
  ipvsVs('keepalived_ipvs_virtual_server_connections_total', 'IPVS connections scheduled to the virtual server.', 'conns');
  ipvsVs('keepalived_ipvs_virtual_server_incoming_packets_total', 'IPVS incoming packets.', 'inPkts');
  ipvsVs('keepalived_ipvs_virtual_server_outgoing_packets_total', 'IPVS outgoing packets.', 'outPkts');
  ipvsVs('keepalived_ipvs_virtual_server_incoming_bytes_total', 'IPVS incoming bytes.', 'inBytes');
  ipvsVs('keepalived_ipvs_virtual_server_outgoing_bytes_total', 'IPVS outgoing bytes.', 'outBytes');
  rsGauge('keepalived_ipvs_real_server_active_connections', 'IPVS active connections to the real server.', (rs) => rs.ipvs?.activeConns);
  rsGauge('keepalived_ipvs_real_server_inactive_connections', 'IPVS inactive connections to the real server.', (rs) => rs.ipvs?.inactiveConns);

  // ---- config reload, SNMP ----
  gauge('keepalived_config_last_reload_successful', 'Whether the last configuration reload succeeded.', [], (s) => [{ labels: {}, value: s.reload.lastSuccessful ? 1 : 0 }]);
  gauge('keepalived_config_last_reload_success_timestamp_seconds', 'Wall-clock time of the last successful configuration (re)load.', [], (s) => [{ labels: {}, value: s.reload.lastSuccessWall / 1000 }]);
  counter('keepalived_config_reloads_total', 'Configuration reloads by result.', ['result'], (s) => [
    { labels: { result: 'success' }, value: s.reload.successes },
    { labels: { result: 'failure' }, value: s.reload.failures },
  ]);
  // Only when AgentX is in use: a 0 here pages (KeepalivedAgentxDisconnected).
  const snmpOn = (s: AgentSnapshot) => s.snmp.enabled ?? (s.snmp.connected || s.snmp.reconnects > 0);
  gauge('keepalived_snmp_agentx_connected', 'AgentX session to the SNMP master agent is open.', [], (s) => (snmpOn(s) ? [{ labels: {}, value: s.snmp.connected ? 1 : 0 }] : []));
  counter('keepalived_snmp_agentx_reconnects_total', 'AgentX reconnects.', [], (s) => (snmpOn(s) ? [{ labels: {}, value: s.snmp.reconnects }] : []));
  const snmpNotifications = add(new CounterFamily<AgentSnapshot>('keepalived_snmp_notifications_sent_total', 'SNMP notifications (traps) sent.', ['notification'], snap));

  // ---- journal observer ----
  const lastAdvert = new Map<string, { mono: number; src: string }>();
  const onEvent = (e: JournalEvent): void => {
    switch (e.type) {
      case 'vrrp.transition': {
        const l = labelsForEvent(e);
        let exemplar;
        if (opts.tracingExemplars) {
          const id = opts.tracingExemplars.traceIdFor(e);
          if (id) exemplar = { labelSet: { trace_id: id }, value: 1, timestamp: e.wall / 1000 };
        }
        transitions.inc({ ...l, from: e.from, to: e.to, reason: e.reason }, 1, exemplar);
        lastAdvert.delete(e.instance);
        break;
      }
      case 'vrrp.advert.received': {
        if (e.inMaster || e.discarded || e.priority === 0) break;
        const prev = lastAdvert.get(e.instance);
        if (prev && prev.src === e.src && e.mono >= prev.mono) advertInterval.observe(labelsForEvent(e), (e.mono - prev.mono) / 1000, advertBuckets(e.advertIntCs));
        lastAdvert.set(e.instance, { mono: e.mono, src: e.src });
        break;
      }
      case 'vrrp.advert.sent':
        sendLag.observe(labelsForEvent(e), Math.max(0, e.lagMs) / 1000);
        break;
      case 'vrrp.global_error':
        globalErr[e.counter].inc({ intf: e.intf });
        break;
      case 'vrrp.error':
        if (e.counter === 'checksum_err' || e.counter === 'version_err' || e.counter === 'vrid_err') globalErr[e.counter].inc({ intf: e.intf });
        break;
      case 'track.script':
        scriptRuns.inc({ name: e.name, result: e.result });
        scriptDuration.observe({ name: e.name }, e.durationMs / 1000);
        break;
      case 'notify.run':
        notifyDuration.observe({ event: e.event }, e.durationMs / 1000);
        break;
      case 'checker.result':
        checkerChecks.inc({ virtual_server: e.virtualServer, real_server: e.realServer, checker: e.checker, result: e.result });
        checkerDuration.observe({ virtual_server: e.virtualServer, checker: e.checker }, e.durationMs / 1000);
        break;
      case 'realserver.state':
        rsTransitions.inc({ virtual_server: e.virtualServer, real_server: e.realServer, to: e.up ? 'up' : 'down' });
        break;
      case 'snmp.notification':
        if (e.ok) snmpNotifications.inc({ notification: e.notification });
        break;
      default:
        break;
    }
  };
  const unsubscribe = journal.subscribe(onEvent);
  // keepalived_up 0 means "nothing else about instances": no journal-fed series either.
  for (const f of [transitions, advertInterval, sendLag, ...Object.values(globalErr), scriptDuration, scriptRuns, notifyDuration, rsTransitions, checkerDuration, checkerChecks]) f.gate = running;

  // Series of things that no longer exist (instance removed by a reload, VS gone) go away.
  // The per-instance part only runs when it can remove something: an instance's labels
  // appeared, changed or went away, or a series was created since the last prune.
  let prunedAt = { labels: -1, created: -1 };
  const prune = (s: AgentSnapshot) => {
    const created = transitions.created + advertInterval.created + sendLag.created;
    if (labels.version !== prunedAt.labels || created !== prunedAt.created) {
      const live = new Set(labels.of(s).map((e) => e.inst.iname + '\u0000' + e.inst.vrrp_domain));
      const instKeep = (l: Record<string, string>) => live.has(l.iname + '\u0000' + l.vrrp_domain);
      transitions.prune(instKeep);
      advertInterval.prune(instKeep);
      sendLag.prune(instKeep);
      prunedAt = { labels: labels.version, created };
    }
    const vsNames = new Set(s.virtualServers.map((v) => v.name));
    const vsKeep = (l: Record<string, string>) => vsNames.has(l.virtual_server);
    rsTransitions.prune(vsKeep);
    checkerDuration.prune(vsKeep);
    checkerChecks.prune(vsKeep);
    const scriptNames = new Set(s.scripts.map((x) => x.name));
    scriptRuns.prune((l) => scriptNames.has(l.name));
    scriptDuration.prune((l) => scriptNames.has(l.name));
  };

  if (opts.defaultMetrics !== false) addDefaultMetrics(registry);
  for (const m of opts.extraMetrics ?? []) add(m);

  /** take this scrape's snapshot; bring the label cache and the journal-fed families up to it */
  const prepare = (): AgentSnapshot => {
    const s = snapshot();
    labels.invalidate(); // a new scrape: labels are re-checked (instances may have changed in place)
    labels.of(s);
    if (s.running) {
      prune(s);
      // The router-wide error counters (RFC 2787 vrrpRouterChecksumErrors, …; keepalived's
      // SNMP view reads 0 before any bad packet) exist from the start on every VRRP
      // interface: a series born at 1 would hide its first error from rate()/increase(),
      // and the fleet dashboard's error panel would have nothing to show (live test
      // test/alerts/live-agents.test.ts against real agents).
      const seen = new Set<string>();
      for (const i of s.instances)
        if (i.ifp_ifname && !seen.has(i.ifp_ifname)) {
          seen.add(i.ifp_ifname);
          for (const f of errFamilies) f.inc({ intf: i.ifp_ifname }, 0);
        }
    }
    return s;
  };
  const families = () => registry.getMetricsAsArray() as unknown as MetricLike[];
  let lastSnap: AgentSnapshot | undefined;

  return {
    registry,
    async render(acceptHeader?: string) {
      const s = prepare();
      return renderExposition(families(), negotiate(acceptHeader), { snapshot: s });
    },
    async renderBytes(acceptHeader?: string) {
      const s = (lastSnap = prepare());
      return renderBytes(families(), negotiate(acceptHeader), { snapshot: s });
    },
    async renderChunks(acceptHeader?: string) {
      const s = (lastSnap = prepare());
      return renderChunks(families(), negotiate(acceptHeader), { snapshot: s });
    },
    warm(acceptHeader?: string) {
      const s = lastSnap;
      if (!s) return;
      const format = negotiate(acceptHeader);
      for (const m of families())
        if (m instanceof CounterFamily || m instanceof HistogramFamily) {
          try {
            m.writeFamilyBytes(s, format);
          } catch {
            // renderBytes reports nothing either: the family is rendered (or skipped) there
          }
        }
    },
    close() {
      unsubscribe();
    },
  };
}
