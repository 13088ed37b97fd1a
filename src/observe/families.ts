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
 * Label strings are rendered once (per series, or per instance per scrape) and carried
 * in `Sample.labelStr`: a 255-instance agent exposes ~17 000 series, and building and
 * escaping every label set on every scrape was most of the scrape's cost.
 */
import { labelString, type Collectable, type Exemplar, type FamilyData, type MetricType, type Sample } from './exposition';

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
}

export class CounterFamily<S> extends BaseFamily<S> {
  private series = new Map<string, CounterSeries>();
  constructor(name: string, help: string, labelNames: readonly string[], snapshot: () => S) {
    super(name, help, 'counter', labelNames, snapshot);
  }
  inc(labels: Labels, by = 1, exemplar?: Exemplar): void {
    if (!(by >= 0) || !Number.isFinite(by)) return; // counters never go down; ignore garbage
    const k = this.key(labels);
    let s = this.series.get(k);
    if (!s) {
      const l = { ...labels };
      s = { labels: l, labelStr: labelString(l), value: 0 };
      this.series.set(k, s);
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
}

interface HistSeries {
  labels: Labels;
  labelStr: string;
  bucketLabels: Labels[];
  bucketStrs: string[];
  bounds: number[];
  counts: number[];
  sum: number;
  count: number;
}

/**
 * A histogram whose bucket bounds may differ per series: the advert inter-arrival
 * histogram uses multiples of each instance's own advert interval
 * (observability-anchors.md §8 B: buckets ≈ 0.5, 0.9, 1, 1.1, 1.5, 2, 3 × advert_int).
 * Each series is a complete histogram of its own, which the exposition formats allow.
 */
export class HistogramFamily<S> extends BaseFamily<S> {
  private series = new Map<string, HistSeries>();
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
      const bucketLabels = [...want, Infinity].map((x) => ({ ...l, le: x === Infinity ? '+Inf' : String(x) }));
      s = {
        labels: l,
        labelStr: labelString(l),
        bucketLabels,
        bucketStrs: bucketLabels.map(labelString),
        bounds: [...want],
        counts: new Array(want.length).fill(0),
        sum: 0,
        count: 0,
      };
      this.series.set(k, s);
    }
    for (let i = 0; i < s.bounds.length; i++) if (v <= s.bounds[i]) s.counts[i]++;
    s.sum += v;
    s.count++;
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
      for (let i = 0; i < s.bounds.length; i++) out.push({ metricName: bucket, labels: s.bucketLabels[i], labelStr: s.bucketStrs[i], value: s.counts[i] });
      out.push({ metricName: bucket, labels: s.bucketLabels[s.bounds.length], labelStr: s.bucketStrs[s.bounds.length], value: s.count });
      out.push({ metricName: this.name + '_sum', labels: s.labels, labelStr: s.labelStr, value: s.sum });
      out.push({ metricName: this.name + '_count', labels: s.labels, labelStr: s.labelStr, value: s.count });
    }
    return out;
  }
}

function sameBounds(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
