/**
 * Prometheus exposition: the classic text format 0.0.4 and OpenMetrics 1.0.0, rendered
 * from the `get()` objects of every metric in a prom-client Registry.
 *
 * Why our own renderer instead of `registry.metrics()`: prom-client 15 renders only one
 * content type per registry, and in OpenMetrics mode it *renames* counter metrics in place
 * (`metric.name = name.replace(/_total$/, '')`), so the same registry can no longer render
 * the text format afterwards (observability-anchors.md §4 "Gotcha"). Negotiating per
 * request therefore needs a renderer that leaves the metrics untouched.
 */
import { performance } from 'node:perf_hooks';

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary';

export interface Exemplar {
  labelSet: Record<string, string>;
  value: number;
  /** seconds since the epoch */
  timestamp?: number;
}

export interface Sample {
  /** full sample name when it differs from the family (histogram _bucket/_sum/_count) */
  metricName?: string;
  labels: Record<string, string | number>;
  /** `labels` already rendered ("{a=\"x\"}" or ""), cached by the producer to keep scrapes cheap */
  labelStr?: string;
  value: number;
  exemplar?: Exemplar | null;
}

export interface FamilyData {
  name: string;
  help: string;
  type: MetricType | string;
  values: Sample[];
}

/** Anything that renders like a prom-client metric (prom-client's own classes and ours). */
export interface MetricLike {
  name: string;
  get(): Promise<FamilyData> | FamilyData;
}

/** A family that can be collected against an explicit snapshot (ours; see families.ts). */
export interface Collectable<S> extends MetricLike {
  readonly help: string;
  readonly type: string;
  collectSnapshot(snapshot: S): FamilyData;
  /**
   * Fast path: the whole family (HELP/TYPE and every sample line) in `format`, or "" when
   * it has no samples. Must produce exactly what renderTextFamily/renderOpenMetricsFamily
   * would make of collectSnapshot(snapshot); it exists so the ~17 000 sample lines of a
   * 255-instance scrape can come from per-series caches instead of Sample objects.
   */
  writeFamily?(snapshot: S, format: ExpositionFormat): string;
  /** writeFamily as UTF-8 bytes (undefined when empty), cached while the family does not change */
  writeFamilyBytes?(snapshot: S, format: ExpositionFormat): Buffer | undefined;
}

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

export type ExpositionFormat = 'text' | 'openmetrics';

/**
 * Content negotiation as Prometheus' own exporters do it (client_golang expfmt.Negotiate):
 * OpenMetrics only when the client asks for it with a q-value at least as high as the
 * text format's; anything unparseable falls back to text 0.0.4.
 * Prometheus 2.x sends: `application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*\/*;q=0.1`.
 */
export function negotiate(accept: string | undefined): ExpositionFormat {
  if (!accept) return 'text';
  let om = -1;
  let text = -1;
  for (const part of accept.split(',')) {
    const [typeRaw, ...params] = part.split(';');
    const type = typeRaw.trim().toLowerCase();
    let q = 1;
    let version: string | undefined;
    for (const p of params) {
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      const k = p.slice(0, eq).trim().toLowerCase();
      const v = p.slice(eq + 1).trim().replace(/^"|"$/g, '');
      if (k === 'q') {
        const n = Number(v);
        q = Number.isFinite(n) ? n : 0;
      } else if (k === 'version') version = v;
    }
    if (q <= 0) continue;
    if (type === 'application/openmetrics-text') {
      if (version === undefined || version === '1.0.0' || version === '0.0.1') om = Math.max(om, q);
    } else if (type === 'text/plain' || type === '*/*' || type === 'text/*') {
      text = Math.max(text, q);
    }
  }
  return om > 0 && om >= text ? 'openmetrics' : 'text';
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/**
 * Until a label value or help text with a character outside ASCII has been rendered, the
 * whole exposition is ASCII (metric and label names are ASCII by definition, values are
 * numbers), and Latin-1 encoding gives the same bytes as UTF-8 at a third of the cost
 * (a flat 2 MB string: 0.3 ms instead of 1.0 ms). Every label value and help text passes
 * escapeLabel / escapeHelp before it reaches a sample line — escaping requires it — so
 * they note a non-ASCII character here, before any text containing it is encoded. Sticky:
 * once seen, every later exposition is encoded as UTF-8.
 */
let asciiOnly = true;
const NON_ASCII = /[^\x00-\x7f]/;
function noteText(s: string): void {
  if (asciiOnly && NON_ASCII.test(s)) asciiOnly = false;
}

/** exposition text as bytes (UTF-8; see asciiOnly) */
export function encodeExposition(text: string): Buffer {
  return Buffer.from(text, asciiOnly ? 'latin1' : 'utf8');
}

function escapeHelp(s: string): string {
  noteText(s);
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

const OM_TYPES = new Set(['gauge', 'counter', 'histogram', 'summary']);

/**
 * The "# HELP …\n# TYPE …\n" lines of a family, as renderTextFamily / renderOpenMetricsFamily
 * write them (OpenMetrics: counter families lose `_total`, unknown types become "unknown").
 */
export function familyHeader(name: string, help: string, type: string, format: ExpositionFormat): string {
  if (format === 'openmetrics') {
    const family = type === 'counter' ? name.replace(/_total$/, '') : name;
    return `# HELP ${family} ${escapeHelp(help)}\n# TYPE ${family} ${OM_TYPES.has(type) ? type : 'unknown'}\n`;
  }
  return `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
}

/** OpenMetrics exemplar suffix (" # {trace_id=\"…\"} 1 1795515010.000"), or "" when there is none to show. */
export function exemplarSuffix(ex: Exemplar | null | undefined): string {
  if (!ex) return '';
  let any = false;
  for (const _ in ex.labelSet) {
    any = true;
    break;
  }
  if (!any) return '';
  let out = ` # ${labelString(ex.labelSet) || '{}'} ${formatValue(ex.value)}`;
  if (ex.timestamp !== undefined) out += ` ${ex.timestamp.toFixed(3)}`;
  return out;
}

const NEEDS_ESCAPE = /[\\\n"]/;
export function escapeLabel(s: string): string {
  noteText(s);
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** `{k="v",…}` with exposition escaping, or "" for no labels. */
export function labelString(labels: Record<string, string | number>): string {
  let out = '';
  for (const k in labels) {
    const v = labels[k];
    out += (out ? ',' : '') + k + '="' + (typeof v === 'string' ? escapeLabel(v) : formatValue(v)) + '"';
  }
  return out ? '{' + out + '}' : '';
}

/** the inside of a label set (no braces), to extend with more labels cheaply */
export function labelInner(labels: Record<string, string | number>): string {
  const s = labelString(labels);
  return s ? s.slice(1, -1) : '';
}

/** Classic text format 0.0.4 of one family, appended to `out`. Empty families are left out (client_golang does the same). */
export function renderTextFamily(f: FamilyData, out: string[]): void {
  if (!f.values || f.values.length === 0) return;
  // One flat string per family (array join), not one rope for the whole scrape: the
  // pieces die young and the scavenger has little to copy (a 255-instance scrape is ~2 MB).
  const lines: string[] = [familyHeader(f.name, f.help, f.type, 'text')];
  for (const s of f.values) lines.push(`${s.metricName ?? f.name}${s.labelStr ?? labelString(s.labels)} ${formatValue(s.value)}\n`);
  out.push(lines.join(''));
}

export function renderTextFamilies(families: FamilyData[]): string {
  const out: string[] = [];
  for (const f of families) renderTextFamily(f, out);
  return out.join('');
}

/**
 * OpenMetrics 1.0.0: counter families are named without `_total` while their samples keep
 * it; exemplars (`# {trace_id="…"} value ts`) only on counter `_total` and histogram
 * `_bucket` samples; the exposition ends with `# EOF`.
 */
export function renderOpenMetricsFamily(f: FamilyData, out: string[]): void {
  if (!f.values || f.values.length === 0) return;
  const isCounter = f.type === 'counter';
  const family = isCounter ? f.name.replace(/_total$/, '') : f.name;
  const lines: string[] = [familyHeader(f.name, f.help, f.type, 'openmetrics')];
  for (const s of f.values) {
    const name = s.metricName ?? (isCounter ? family + '_total' : f.name);
    let line = `${name}${s.labelStr ?? labelString(s.labels)} ${formatValue(s.value)}`;
    if (isCounter || name.endsWith('_bucket')) line += exemplarSuffix(s.exemplar);
    lines.push(line + '\n');
  }
  out.push(lines.join(''));
}

export function renderOpenMetricsFamilies(families: FamilyData[]): string {
  const out: string[] = [];
  for (const f of families) renderOpenMetricsFamily(f, out);
  out.push('# EOF\n');
  return out.join('');
}

export interface RenderOptions<S> {
  /** snapshot handed to Collectable families (one instant for the whole scrape) */
  snapshot?: S;
  /**
   * Give the event loop back after this many ms of rendering (default 4): a scrape of
   * hundreds of instances must not delay the VRRP timers that share the thread.
   */
  sliceMs?: number;
}

function isCollectable<S>(m: MetricLike): m is Collectable<S> {
  return typeof (m as Collectable<S>).collectSnapshot === 'function';
}

/**
 * The exposition as bytes, one Buffer per family. Sending a 2 MB string costs the HTTP
 * layer a UTF-8 length scan and a re-encode on every scrape (fastify's Content-Length,
 * Node's socket write): about 2 ms of CPU for 255 instances (bench/metrics-scrape.mjs).
 * Here every family that did not change since the previous scrape contributes the very
 * Buffer it produced then, and the HTTP server hands the list to one writev() (no 2 MB
 * concatenation per scrape: 0.4–0.8 ms with its page faults, and RSS under a flood).
 */
export async function renderChunks<S>(metrics: MetricLike[], format: ExpositionFormat, opts: RenderOptions<S> = {}): Promise<{ contentType: string; chunks: Buffer[]; length: number }> {
  const chunks: Buffer[] = [];
  let length = 0;
  const slice = opts.sliceMs ?? 4;
  let sliceStart = performance.now();
  const one = format === 'openmetrics' ? renderOpenMetricsFamily : renderTextFamily;
  for (const m of metrics) {
    try {
      let b: Buffer | undefined;
      if (isCollectable<S>(m) && opts.snapshot !== undefined && m.writeFamilyBytes) b = m.writeFamilyBytes(opts.snapshot, format);
      else {
        const texts: string[] = [];
        if (isCollectable<S>(m) && opts.snapshot !== undefined) one(m.collectSnapshot(opts.snapshot), texts);
        else {
          // prom-client's get() is async, ours and the HTTP worker's proxies are not: awaiting
          // a plain value would still hand the microtask queue a turn in the middle of a scrape
          const d = m.get();
          one(d instanceof Promise ? await d : d, texts);
        }
        if (texts.length) b = encodeExposition(texts.join(''));
      }
      if (b) {
        chunks.push(b);
        length += b.length;
      }
    } catch {
      // one broken family must not take the scrape down
    }
    if (performance.now() - sliceStart > slice) {
      await new Promise((r) => setImmediate(r));
      sliceStart = performance.now();
    }
  }
  if (format === 'openmetrics') {
    chunks.push(EOF_BYTES);
    length += EOF_BYTES.length;
  }
  return { contentType: format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE, chunks, length };
}

/** renderChunks as one Buffer */
export async function renderBytes<S>(metrics: MetricLike[], format: ExpositionFormat, opts: RenderOptions<S> = {}): Promise<{ contentType: string; body: Buffer }> {
  const r = await renderChunks(metrics, format, opts);
  return { contentType: r.contentType, body: Buffer.concat(r.chunks, r.length) };
}
const EOF_BYTES = Buffer.from('# EOF\n');

export async function render<S>(metrics: MetricLike[], format: ExpositionFormat, opts: RenderOptions<S> = {}): Promise<{ contentType: string; body: string }> {
  // One string per family, joined once at the end: join() produces a flat string (the
  // family strings are ropes of cached lines), so the HTTP layer does not pay for
  // flattening and the short-lived pieces die in the scavenger.
  const out: string[] = [];
  const slice = opts.sliceMs ?? 4;
  let sliceStart = performance.now();
  const one = format === 'openmetrics' ? renderOpenMetricsFamily : renderTextFamily;
  for (const m of metrics) {
    try {
      if (isCollectable<S>(m) && opts.snapshot !== undefined) {
        if (m.writeFamily) {
          const text = m.writeFamily(opts.snapshot, format);
          if (text) out.push(text);
        } else one(m.collectSnapshot(opts.snapshot), out);
      } else one(await m.get(), out);
    } catch {
      // one broken family must not take the scrape down
    }
    if (performance.now() - sliceStart > slice) {
      await new Promise((r) => setImmediate(r));
      sliceStart = performance.now();
    }
  }
  if (format === 'openmetrics') out.push('# EOF\n');
  return { contentType: format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE, body: out.join('') };
}
