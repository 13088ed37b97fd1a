/**
 * Metric families that plug into a prom-client Registry (they implement the same
 * `name/help/type/get()/reset()` surface prom-client's Registry calls) but keep their
 * data the way keepwatch needs it:
 *
 * - CollectedFamily: computed at scrape time from one AgentSnapshot (gauges, and the
 *   counters keepalived itself keeps — they must report keepalived's numbers, resets
 *   included, exactly as mehdy/keepalived-exporter does: it exports whatever
 *   keepalived.stats says, so a STATS_CLEAR shows up as a counter reset).
 * - CounterFamily / HistogramFamily: fed from journal events between scrapes, with
 *   series pruning when the thing they describe disappears (Prometheus
 *   writing_exporters.md: stale label sets must go away).
 *
 * Scrape cost (bench/metrics-scrape.mjs; a 255-instance agent exposes ~17 500 series, ~2 MB):
 * every family can write itself straight to exposition text (`writeFamily`). Label strings
 * are rendered once per series, and each series keeps its last sample line together with
 * the value it was made from, so a scrape re-uses the line when the value did not move and
 * builds no Sample objects at all. The generic `collectSnapshot` / `get()` path remains for
 * prom-client's own `registry.metrics()`.
 */
import {
  encodeExposition,
  exemplarSuffix,
  familyHeader,
  formatValue,
  labelString,
  renderOpenMetricsFamily,
  renderTextFamily,
  type Collectable,
  type Exemplar,
  type ExpositionFormat,
  type FamilyData,
  type MetricType,
  type Sample,
} from './exposition';

type Labels = Record<string, string>;

/**
 * Flatten a string built by concatenation (a V8 rope) in place. A family body that is
 * re-used scrape after scrape is otherwise walked leaf by leaf (~18 000 lines) on every
 * final join; flat, it is one memcpy. V8 flattens a cons string on the first indexed
 * access (runtime StringCharCodeAt: "it is likely that more indices will be accessed");
 * this is only a speed hint — the string's value is unchanged either way.
 */
export function flatten(s: string): void {
  if (s.length > 0) s.charCodeAt(0);
}

/** `s`, flattened: for strings kept for a long time and concatenated on every scrape. */
export function flat(s: string): string {
  flatten(s);
  return s;
}

/** writeFamilyBytes' cache: the bytes and the token of the data they were made from */
interface ByteCache {
  token: unknown;
  buf: Buffer | undefined;
}

/** bytesToken of a family that writes nothing */
export const EMPTY: unique symbol = Symbol('empty family');

/**
 * A family's text (HELP/TYPE and samples) for the string path (render()), cached until the
 * family's data changes (`version`): the same string object comes back while it is valid.
 */
interface TextCache {
  version: number;
  text: string;
  flat: boolean;
}

function cachedText(c: TextCache | undefined, version: number): string | undefined {
  if (!c || c.version !== version) return undefined;
  if (!c.flat) {
    flatten(c.text);
    c.flat = true;
  }
  return c.text;
}

export abstract class BaseFamily<S> implements Collectable<S> {
  readonly aggregator = 'sum';
  /** when set and false at scrape time the family exposes nothing (e.g. engine not running) */
  gate?: (s: S) => boolean;
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    readonly labelNames: readonly string[],
    /** snapshot source for prom-client's own registry.metrics()/get() path */
    protected readonly snapshot: () => S,
  ) {}
  protected abstract samples(s: S): Sample[];
  collectSnapshot(s: S): FamilyData {
    let values: Sample[];
    try {
      values = this.gate && !this.gate(s) ? [] : this.samples(s);
    } catch {
      // A broken family must not take the whole scrape down.
      values = [];
    }
    return { name: this.name, help: this.help, type: this.type, values };
  }
  get(): Promise<FamilyData> {
    return Promise.resolve(this.collectSnapshot(this.snapshot()));
  }
  private headers?: [string, string];
  /** "# HELP …\n# TYPE …\n" in the given format (computed once) */
  protected header(format: ExpositionFormat): string {
    const h = (this.headers ??= [familyHeader(this.name, this.help, this.type, 'text'), familyHeader(this.name, this.help, this.type, 'openmetrics')]);
    return format === 'openmetrics' ? h[1] : h[0];
  }
  /** Generic fast-path fallback: the Sample path, rendered. Subclasses with many series override it. */
  writeFamily(s: S, format: ExpositionFormat): string {
    const out: string[] = [];
    (format === 'openmetrics' ? renderOpenMetricsFamily : renderTextFamily)(this.collectSnapshot(s), out);
    return out.length ? out[0] : '';
  }
  private bytes: { text?: ByteCache; openmetrics?: ByteCache } = {};
  /**
   * A token that changes whenever the family's exposition in `format` changes, after
   * bringing the family's own caches up to `s`; EMPTY when it writes nothing; undefined
   * when the family cannot tell (its bytes are then rebuilt on every scrape).
   */
  protected bytesToken(_s: S, _format: ExpositionFormat): unknown {
    return undefined;
  }
  /**
   * The text writeFamilyBytes encodes. Families that cache their whole text for the
   * string path (render()) build it here without keeping it: only the Buffer is kept.
   */
  protected bytesText(s: S, format: ExpositionFormat): string {
    return this.writeFamily(s, format);
  }
  /**
   * writeFamily as bytes, re-used while the family's token does not change. What stays
   * in memory between scrapes is the Buffer (outside the V8 heap), not the ~2 MB of
   * family text a 255-instance scrape is made of: kept text survives into the next scrape,
   * and copying it around made the HTTP worker's scavenges 1.5–2 ms, one per scrape
   * (--trace-gc, bench/metrics-scrape.mjs).
   */
  writeFamilyBytes(s: S, format: ExpositionFormat): Buffer | undefined {
    const token = this.bytesToken(s, format);
    const c = this.bytes[format];
    if (token !== undefined && c && c.token === token) return c.buf;
    const text = token === EMPTY ? '' : this.bytesText(s, format);
    const buf = text ? encodeExposition(text) : undefined;
    this.bytes[format] = token === undefined ? undefined : { token, buf };
    return buf;
  }
  reset(): void {}
  protected key(labels: Labels): string {
    let k = '';
    for (const n of this.labelNames) k += (labels[n] ?? '') + '\u0000';
    return k;
  }
}

/** Values produced by a callback at scrape time from the scrape's snapshot. */
export class CollectedFamily<S> extends BaseFamily<S> {
  constructor(
    name: string,
    help: string,
    type: 'gauge' | 'counter',
    labelNames: readonly string[],
    snapshot: () => S,
    private readonly fn: (s: S) => Sample[],
  ) {
    super(name, help, type, labelNames, snapshot);
  }
  protected samples(s: S): Sample[] {
    return this.fn(s);
  }
}

/**
 * Journal-fed families (counters, histograms): their own series map, a version bumped on
 * every change of what they expose (the text caches key on it), and the same prune/reset.
 */
abstract class SeriesFamily<S, T extends { labels: Labels }> extends BaseFamily<S> {
  protected series = new Map<string, T>();
  /** series ever created (lets the owner skip a prune when nothing new appeared) */
  created = 0;
  /** bumped on every change of what the family exposes */
  protected version = 0;
  protected texts: { text?: TextCache; openmetrics?: TextCache } = {};
  prune(keep: (labels: Labels) => boolean): void {
    for (const [k, s] of this.series)
      if (!keep(s.labels)) {
        this.series.delete(k);
        this.version++;
      }
  }
  override reset(): void {
    this.series.clear();
    this.version++;
  }
  /** nothing to expose: no series, or the gate is closed for this snapshot */
  protected empty(snap: S): boolean {
    return this.series.size === 0 || (this.gate !== undefined && !this.gate(snap));
  }
  protected override bytesToken(snap: S): unknown {
    return this.empty(snap) ? EMPTY : this.version;
  }
}

interface CounterSeries {
  labels: Labels;
  labelStr: string;
  value: number;
  exemplar?: Exemplar;
  /** "name{labels} ", flat */
  prefix: string;
  /** last text sample line and the value it shows */
  line: string;
  lineValue: number;
}

export class CounterFamily<S> extends SeriesFamily<S, CounterSeries> {
  /** OpenMetrics sample name: the family name without `_total`, plus `_total` */
  private readonly omName: string;
  constructor(name: string, help: string, labelNames: readonly string[], snapshot: () => S) {
    super(name, help, 'counter', labelNames, snapshot);
    this.omName = name.replace(/_total$/, '') + '_total';
  }
  inc(labels: Labels, by = 1, exemplar?: Exemplar): void {
    if (!(by >= 0) || !Number.isFinite(by)) return; // counters never go down; ignore garbage
    const k = this.key(labels);
    let s = this.series.get(k);
    if (!s) {
      const l = { ...labels };
      const labelStr = labelString(l);
      s = { labels: l, labelStr, prefix: flat(this.name + labelStr + ' '), value: 0, line: '', lineValue: NaN };
      this.series.set(k, s);
      this.created++;
      this.version++;
    }
    if (by !== 0 || exemplar) this.version++;
    s.value += by;
    if (exemplar) s.exemplar = exemplar;
  }
  value(labels: Labels): number | undefined {
    return this.series.get(this.key(labels))?.value;
  }
  protected samples(): Sample[] {
    const out: Sample[] = [];
    for (const s of this.series.values()) out.push({ labels: s.labels, labelStr: s.labelStr, value: s.value, exemplar: s.exemplar ?? null });
    return out;
  }
  override writeFamily(snap: S, format: ExpositionFormat): string {
    if (this.empty(snap)) return '';
    const cached = cachedText(this.texts[format], this.version);
    if (cached !== undefined) return cached;
    const text = this.header(format) + this.body(format);
    this.texts[format] = { version: this.version, text, flat: false };
    return text;
  }
  protected override bytesText(_snap: S, format: ExpositionFormat): string {
    return this.header(format) + this.body(format);
  }
  private body(format: ExpositionFormat): string {
    const om = format === 'openmetrics';
    const sameName = this.omName === this.name;
    let body = '';
    for (const s of this.series.values()) {
      const ex = om ? exemplarSuffix(s.exemplar) : '';
      if (om && (ex || !sameName)) {
        body += this.omName + s.labelStr + ' ' + formatValue(s.value) + ex + '\n';
        continue;
      }
      if (s.lineValue !== s.value) {
        s.line = s.prefix + (formatValue(s.value) + '\n');
        s.lineValue = s.value;
      }
      body += s.line;
    }
    return body;
  }
}

interface HistSeries {
  labels: Labels;
  labelStr: string;
  /** "name_bucket{…,le=\"x\"} " for every bound and +Inf, then "name_sum{…} " and "name_count{…} " (flat) */
  bucketPrefix: string[];
  bounds: number[];
  counts: number[];
  sum: number;
  count: number;
  /** the series' sample lines as last rendered; "" after an observation (identical in both formats) */
  block: string;
}

/**
 * A histogram whose bucket bounds may differ per series: the advert inter-arrival
 * histogram uses multiples of each instance's own advert interval
 * (observability-anchors.md §8 B: buckets ≈ 0.5, 0.9, 1, 1.1, 1.5, 2, 3 × advert_int).
 * Each series is a complete histogram of its own, which the exposition formats allow.
 */
export class HistogramFamily<S> extends SeriesFamily<S, HistSeries> {
  private bodyText = '';
  private bodyVersion = -1;
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly defaultBounds: readonly number[],
    snapshot: () => S,
  ) {
    super(name, help, 'histogram', labelNames, snapshot);
  }
  observe(labels: Labels, v: number, bounds?: readonly number[]): void {
    if (!Number.isFinite(v)) return;
    const k = this.key(labels);
    let s = this.series.get(k);
    const want = bounds ?? this.defaultBounds;
    if (s && bounds && !sameBounds(s.bounds, bounds)) {
      // The interval changed (new master, reload): start this series afresh — a counter
      // reset that rate()/increase() handle.
      s = undefined;
    }
    if (!s) {
      const l = { ...labels };
      const bucket = this.name + '_bucket';
      const labelStr = labelString(l);
      s = {
        labels: l,
        labelStr,
        bucketPrefix: [...[...want, Infinity].map((x) => bucket + labelString({ ...l, le: leLabel(x) }) + ' '), `${this.name}_sum${labelStr} `, `${this.name}_count${labelStr} `].map(flat),
        bounds: [...want],
        counts: new Array(want.length).fill(0),
        sum: 0,
        count: 0,
        block: '',
      };
      this.series.set(k, s);
      this.created++;
    }
    for (let i = 0; i < s.bounds.length; i++) if (v <= s.bounds[i]) s.counts[i]++;
    s.sum += v;
    s.count++;
    s.block = '';
    this.version++;
  }
  protected samples(): Sample[] {
    const out: Sample[] = [];
    const bucket = this.name + '_bucket';
    for (const s of this.series.values()) {
      for (let i = 0; i <= s.bounds.length; i++) {
        const labels = { ...s.labels, le: leLabel(i < s.bounds.length ? s.bounds[i] : Infinity) };
        out.push({ metricName: bucket, labels, labelStr: labelString(labels), value: i < s.bounds.length ? s.counts[i] : s.count });
      }
      out.push({ metricName: this.name + '_sum', labels: s.labels, labelStr: s.labelStr, value: s.sum });
      out.push({ metricName: this.name + '_count', labels: s.labels, labelStr: s.labelStr, value: s.count });
    }
    return out;
  }
  override writeFamily(snap: S, format: ExpositionFormat): string {
    if (this.empty(snap)) return '';
    const cached = cachedText(this.texts[format], this.version);
    if (cached !== undefined) return cached;
    // the sample lines are the same in both formats (no exemplars here): built once per version
    if (this.bodyVersion !== this.version) {
      this.bodyText = this.body();
      this.bodyVersion = this.version;
    }
    const text = this.header(format) + this.bodyText;
    this.texts[format] = { version: this.version, text, flat: false };
    return text;
  }
  protected override bytesText(_snap: S, format: ExpositionFormat): string {
    return this.header(format) + (this.bodyVersion === this.version ? this.bodyText : this.body());
  }
  private body(): string {
    let body = '';
    for (const s of this.series.values()) {
      if (!s.block) {
        let b = '';
        const n = s.bounds.length;
        const p = s.bucketPrefix;
        for (let i = 0; i < n; i++) b += p[i] + (formatValue(s.counts[i]) + '\n');
        const count = formatValue(s.count) + '\n';
        b += p[n] + count;
        b += p[n + 1] + (formatValue(s.sum) + '\n');
        b += p[n + 2] + count;
        // kept until the series' next observation: one flat string, not a rope of ~40 pieces
        s.block = flat(b);
      }
      body += s.block;
    }
    return body;
  }
}

/** the `le` label value of a bucket bound, as prom-client and client_golang print it */
function leLabel(x: number): string {
  return x === Infinity ? '+Inf' : String(x);
}

function sameBounds(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
