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

interface CounterSeries {
  labels: Labels;
  labelStr: string;
  value: number;
  exemplar?: Exemplar;
  /** last text sample line and the value it shows */
  line: string;
  lineValue: number;
}

export class CounterFamily<S> extends BaseFamily<S> {
  private series = new Map<string, CounterSeries>();
  /** series ever created (lets the owner skip a prune when nothing new appeared) */
  created = 0;
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
      s = { labels: l, labelStr: labelString(l), value: 0, line: '', lineValue: NaN };
      this.series.set(k, s);
      this.created++;
    }
    s.value += by;
    if (exemplar) s.exemplar = exemplar;
  }
  value(labels: Labels): number | undefined {
    return this.series.get(this.key(labels))?.value;
  }
  prune(keep: (labels: Labels) => boolean): void {
    for (const [k, s] of this.series) if (!keep(s.labels)) this.series.delete(k);
  }
  override reset(): void {
    this.series.clear();
  }
  protected samples(): Sample[] {
    const out: Sample[] = [];
    for (const s of this.series.values()) out.push({ labels: s.labels, labelStr: s.labelStr, value: s.value, exemplar: s.exemplar ?? null });
    return out;
  }
  override writeFamily(snap: S, format: ExpositionFormat): string {
    if (this.series.size === 0 || (this.gate && !this.gate(snap))) return '';
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
        s.line = this.name + s.labelStr + ' ' + formatValue(s.value) + '\n';
        s.lineValue = s.value;
      }
      body += s.line;
    }
    return this.header(format) + body;
  }
}

interface HistSeries {
  labels: Labels;
  labelStr: string;
  /** "name_bucket{…,le=\"x\"} " for every bound and +Inf */
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
export class HistogramFamily<S> extends BaseFamily<S> {
  private series = new Map<string, HistSeries>();
  /** series ever created (lets the owner skip a prune when nothing new appeared) */
  created = 0;
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
      s = {
        labels: l,
        labelStr: labelString(l),
        bucketPrefix: [...want, Infinity].map((x) => bucket + labelString({ ...l, le: leLabel(x) }) + ' '),
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
  }
  prune(keep: (labels: Labels) => boolean): void {
    for (const [k, s] of this.series) if (!keep(s.labels)) this.series.delete(k);
  }
  override reset(): void {
    this.series.clear();
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
    if (this.series.size === 0 || (this.gate && !this.gate(snap))) return '';
    let body = '';
    for (const s of this.series.values()) {
      if (!s.block) {
        let b = '';
        const n = s.bounds.length;
        for (let i = 0; i < n; i++) b += s.bucketPrefix[i] + formatValue(s.counts[i]) + '\n';
        const count = formatValue(s.count);
        b += s.bucketPrefix[n] + count + '\n' + this.name + '_sum' + s.labelStr + ' ' + formatValue(s.sum) + '\n' + this.name + '_count' + s.labelStr + ' ' + count + '\n';
        s.block = b;
      }
      body += s.block;
    }
    return this.header(format) + body;
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
