/**
 * OpenTelemetry traces as an observer of the journal. Off by default; on when
 * OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_TRACES_EXPORTER
 * is set (and not "none"), or when the `tracing` option says so; OTEL_SDK_DISABLED=true
 * always wins.
 *
 * Light path (npm-feasibility.md §5: ~80 ms and +15 MB instead of sdk-node's ~500 ms and
 * +50 MB): @opentelemetry/api + sdk-trace-base BasicTracerProvider + BatchSpanProcessor
 * (bounded queue) + exporter-trace-otlp-http (OTLP/HTTP JSON), imported only when
 * tracing is enabled. The provider is not registered globally: spans are created with
 * explicit parent contexts, so no context manager is needed and nothing else in the
 * process is affected.
 *
 * Span model (observability-anchors.md §7): one short `vrrp.transition` span per state
 * change (attributes vrrp.instance, vrrp.vrid, vrrp.state.from/to, vrrp.reason,
 * priorities), whose children are the side effects the journal reports right after it:
 * `vip.add`/`vip.remove`, `vroute.add`/`vroute.remove`, `garp.send`, `notify.run`.
 * The transition span ends `settleMs` after its last side effect (bounded by
 * `maxSpanMs`); a notify script that finishes later still becomes a child (a child may
 * outlive its parent). Root spans: `config.reload`, `vrrp.sync_group`, `ipvs.apply`,
 * `checker.<type>` (failures by default). Names are low-cardinality; ids go in attributes.
 *
 * Never blocks the FSM: journal delivery only creates/ends span objects (microseconds);
 * export happens on the BatchSpanProcessor's timer, and its queue is bounded
 * (OTEL_BSP_MAX_QUEUE_SIZE, default 2048; excess spans are dropped, not buffered).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Context, Span, SpanContext, Tracer } from '@opentelemetry/api';
import type { JournalEvent } from '../journal/events';
import type { Journal } from '../journal/journal';
import type { TraceIdSource } from './metrics';

export interface TracingOptions {
  /** the `tracing` option: true forces on, false forces off, undefined = decide from OTEL_* */
  enabled?: boolean;
  /** environment to read the enable switch, service name and sampler from (default process.env) */
  env?: NodeJS.ProcessEnv;
  serviceName?: string;
  serviceVersion?: string;
  /** full OTLP/HTTP traces URL (…/v1/traces); default from OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT */
  endpoint?: string;
  headers?: Record<string, string>;
  /** OTEL_TRACES_SAMPLER vocabulary; default from the environment (parentbased_always_on) */
  sampler?: 'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio';
  samplerArg?: number;
  /** a transition span ends this long after its last side effect (default 1000 ms) */
  settleMs?: number;
  /** …and at most this long after it started (default 10000 ms) */
  maxSpanMs?: number;
  /** side effects up to this long after a transition are its children (default 60000 ms) */
  correlateMs?: number;
  /** checker spans: only non-success results (default), all, or none */
  checkerSpans?: 'failures' | 'all' | 'none';
  maxQueueSize?: number;
  scheduledDelayMillis?: number;
  exportTimeoutMillis?: number;
}

export interface Tracing extends TraceIdSource {
  readonly enabled: boolean;
  /** subscribe to the journal; returns the unsubscribe function */
  attach(journal: Journal): () => void;
  /** trace id of the sampled span for this event (transition) or of its instance's current transition */
  traceIdFor(e: JournalEvent): string | undefined;
  /** trace id of the latest transition span of an instance, if sampled */
  currentTraceId(instance: string): string | undefined;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** The enable decision (exported for the CLI's --help/--version style reporting and tests). */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env, option?: boolean): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return false;
  if (option !== undefined) return option;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (exporters.includes('none')) return false;
  return exporters.length > 0 || !!env.OTEL_EXPORTER_OTLP_ENDPOINT || !!env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
}

const disabled: Tracing = {
  enabled: false,
  attach: () => () => undefined,
  traceIdFor: () => undefined,
  currentTraceId: () => undefined,
  forceFlush: async () => undefined,
  shutdown: async () => undefined,
};

/** Creates the tracer (loading the SDK only when tracing is enabled). */
export async function createTracing(opts: TracingOptions = {}): Promise<Tracing> {
  const env = opts.env ?? process.env;
  if (!tracingRequested(env, opts.enabled)) return disabled;

  const api = await import('@opentelemetry/api');
  const base = await import('@opentelemetry/sdk-trace-base');
  const resources = await import('@opentelemetry/resources');

  const exporters = (env.OTEL_TRACES_EXPORTER ?? 'otlp')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const spanProcessors = [];
  const bsp = {
    maxQueueSize: opts.maxQueueSize,
    // a batch may not exceed the queue (the SDK would warn and clamp it)
    maxExportBatchSize: opts.maxQueueSize !== undefined ? Math.min(512, opts.maxQueueSize) : undefined,
    scheduledDelayMillis: opts.scheduledDelayMillis,
    exportTimeoutMillis: opts.exportTimeoutMillis,
  };
  if (exporters.includes('console')) spanProcessors.push(new base.BatchSpanProcessor(new base.ConsoleSpanExporter(), bsp));
  if (exporters.includes('otlp') || opts.endpoint || !exporters.includes('console')) {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    spanProcessors.push(
      new base.BatchSpanProcessor(
        new OTLPTraceExporter({
          ...(opts.endpoint ? { url: opts.endpoint } : {}),
          ...(opts.headers ? { headers: opts.headers } : {}),
          ...(opts.exportTimeoutMillis ? { timeoutMillis: opts.exportTimeoutMillis } : {}),
        }),
        bsp,
      ),
    );
  }

  let sampler;
  if (opts.sampler) {
    const ratio = opts.samplerArg ?? 1;
    switch (opts.sampler) {
      case 'always_on':
        sampler = new base.AlwaysOnSampler();
        break;
      case 'always_off':
        sampler = new base.AlwaysOffSampler();
        break;
      case 'traceidratio':
        sampler = new base.TraceIdRatioBasedSampler(ratio);
        break;
      case 'parentbased_always_off':
        sampler = new base.ParentBasedSampler({ root: new base.AlwaysOffSampler() });
        break;
      case 'parentbased_traceidratio':
        sampler = new base.ParentBasedSampler({ root: new base.TraceIdRatioBasedSampler(ratio) });
        break;
      default:
        sampler = new base.ParentBasedSampler({ root: new base.AlwaysOnSampler() });
    }
  }

  // service.name: explicit option > OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES > "keepwatch".
  // service.instance.id: one random UUID per process start (semantic conventions), unless
  // OTEL_RESOURCE_ATTRIBUTES sets one: agents sharing a host name (network namespaces,
  // containers) and the runs before and after a restart are otherwise indistinguishable
  // (found by test/obs/live-otlp.test.ts). process.pid ties the spans to the pid file.
  let resource = resources.resourceFromAttributes({
    'service.name': 'keepwatch',
    ...(opts.serviceVersion ? { 'service.version': opts.serviceVersion } : {}),
    'service.instance.id': randomUUID(),
    'host.name': hostname(),
    'process.pid': process.pid,
  });
  resource = resource.merge(resources.detectResources({ detectors: [resources.envDetector] }));
  if (opts.serviceName) resource = resource.merge(resources.resourceFromAttributes({ 'service.name': opts.serviceName }));

  const provider = new base.BasicTracerProvider({ resource, spanProcessors, ...(sampler ? { sampler } : {}) });
  const tracer = provider.getTracer('keepwatch');
  return new JournalTracer(api, tracer, provider, opts);
}

type Api = typeof import('@opentelemetry/api');

interface OpenTransition {
  span: Span;
  ctx: Context;
  sc: SpanContext;
  startWall: number;
  /** the transition event's monotonic time: children are placed relative to it */
  startMono: number;
  lastEndWall: number;
  timer?: NodeJS.Timeout;
  ended: boolean;
}

class JournalTracer implements Tracing {
  readonly enabled = true;
  private readonly byEvent = new WeakMap<JournalEvent, SpanContext>();
  /** latest transition per instance ("i:NAME") or sync group ("g:NAME") */
  private readonly current = new Map<string, OpenTransition>();
  private readonly lastMasterDown = new Map<string, { wall: number; intervalMs: number }>();
  private readonly settleMs: number;
  private readonly maxSpanMs: number;
  private readonly correlateMs: number;
  private readonly checkerSpans: 'failures' | 'all' | 'none';

  constructor(
    private readonly api: Api,
    private readonly tracer: Tracer,
    private readonly provider: { forceFlush(): Promise<void>; shutdown(): Promise<void> },
    opts: TracingOptions,
  ) {
    this.settleMs = opts.settleMs ?? 1000;
    this.maxSpanMs = opts.maxSpanMs ?? 10_000;
    this.correlateMs = opts.correlateMs ?? 60_000;
    this.checkerSpans = opts.checkerSpans ?? 'failures';
  }

  attach(journal: Journal): () => void {
    return journal.subscribe((e) => this.handle(e));
  }

  traceIdFor(e: JournalEvent): string | undefined {
    let sc = this.byEvent.get(e);
    if (!sc && (e.type === 'vrrp.transition' || e.type === 'vrrp.sync_group')) {
      this.handle(e); // the metrics observer may run before ours: start the span now
      sc = this.byEvent.get(e);
    }
    if (!sc && 'instance' in e) return this.currentTraceId(e.instance);
    return sc && this.sampled(sc) ? sc.traceId : undefined;
  }

  currentTraceId(instance: string): string | undefined {
    const t = this.current.get(`i:${instance}`);
    return t && this.sampled(t.sc) ? t.sc.traceId : undefined;
  }

  /** Ends open transition spans and exports what is queued; never rejects (a dead collector is not our failure). */
  async forceFlush(): Promise<void> {
    for (const t of this.current.values()) this.endTransition(t);
    await this.provider.forceFlush().catch(() => undefined);
  }

  async shutdown(): Promise<void> {
    for (const t of this.current.values()) this.endTransition(t);
    this.current.clear();
    await this.provider.shutdown().catch(() => undefined);
  }

  private sampled(sc: SpanContext): boolean {
    return (sc.traceFlags & this.api.TraceFlags.SAMPLED) === this.api.TraceFlags.SAMPLED;
  }

  private endTransition(t: OpenTransition): void {
    if (t.ended) return;
    t.ended = true;
    if (t.timer) clearTimeout(t.timer);
    t.span.end(Math.max(t.lastEndWall, t.startWall));
  }

  /** (re)arm the settle timer: the span ends settleMs after its last side effect */
  private touch(t: OpenTransition, endWall: number): void {
    if (endWall > t.lastEndWall) t.lastEndWall = endWall;
    if (t.ended) return;
    if (t.timer) clearTimeout(t.timer);
    const left = t.startWall + this.maxSpanMs - t.lastEndWall;
    if (left <= 0) {
      this.endTransition(t);
      return;
    }
    t.timer = setTimeout(() => this.endTransition(t), Math.min(this.settleMs, left));
    t.timer.unref();
  }

  private startTransition(key: string, name: string, e: JournalEvent, attributes: Record<string, string | number | boolean>): OpenTransition {
    const prev = this.current.get(key);
    if (prev) this.endTransition(prev);
    const span = this.tracer.startSpan(name, { startTime: e.wall, attributes }, this.api.ROOT_CONTEXT);
    const sc = span.spanContext();
    const t: OpenTransition = { span, ctx: this.api.trace.setSpan(this.api.ROOT_CONTEXT, span), sc, startWall: e.wall, startMono: e.mono, lastEndWall: e.wall, ended: false };
    this.current.set(key, t);
    this.byEvent.set(e, sc);
    this.touch(t, e.wall);
    return t;
  }

  /** a child of the instance's (or group's) current transition, if recent enough */
  private child(keys: string[], name: string, e: JournalEvent, durationMs: number, attributes: Record<string, string | number | boolean | undefined>, error?: string): void {
    let parent: OpenTransition | undefined;
    for (const k of keys) {
      const t = this.current.get(k);
      if (t && e.wall - t.startWall <= this.correlateMs && e.wall >= t.startWall - 1) {
        parent = t;
        break;
      }
    }
    const clean: Record<string, string | number | boolean> = {};
    for (const [k, v] of Object.entries(attributes)) if (v !== undefined) clean[k] = v;
    // Durations are monotonic-clock measurements while the journal's wall clock has
    // millisecond resolution, so "wall − duration" could put a side effect up to 1 ms
    // before the transition that caused it. A child is therefore placed on the
    // monotonic clock, anchored at its parent's wall start: order and duration exact.
    const dur = Math.max(0, durationMs);
    const end = parent ? parent.startWall + (e.mono - parent.startMono) : e.wall;
    const start = end - dur;
    const span = this.tracer.startSpan(name, { startTime: start, attributes: clean }, parent ? parent.ctx : this.api.ROOT_CONTEXT);
    if (error !== undefined) span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: error });
    span.end(end);
    this.byEvent.set(e, span.spanContext());
    if (parent) this.touch(parent, end);
  }

  private root(name: string, e: JournalEvent, durationMs: number, attributes: Record<string, string | number | boolean | undefined>, error?: string): void {
    this.child([], name, e, durationMs, attributes, error);
  }

  private handle(e: JournalEvent): void {
    if (this.byEvent.has(e)) return; // already handled (traceIdFor ran first)
    switch (e.type) {
      case 'vrrp.master_down':
        this.lastMasterDown.set(e.instance, { wall: e.wall, intervalMs: e.intervalMs });
        break;
      case 'vrrp.transition': {
        const md = this.lastMasterDown.get(e.instance);
        this.lastMasterDown.delete(e.instance);
        const attrs: Record<string, string | number | boolean> = {
          'vrrp.instance': e.instance,
          'vrrp.vrid': e.vrid,
          'vrrp.state.from': e.from,
          'vrrp.state.to': e.to,
          'vrrp.reason': e.reason,
          'vrrp.priority.effective': e.priority,
          'vrrp.priority.master': e.masterPriority,
          'network.interface.name': e.intf,
        };
        if (e.masterAddress) attrs['vrrp.master.address'] = e.masterAddress;
        if (md && e.wall - md.wall <= 100) attrs['vrrp.master_down_interval_ms'] = md.intervalMs;
        this.startTransition(`i:${e.instance}`, 'vrrp.transition', e, attrs);
        break;
      }
      case 'vrrp.sync_group':
        this.startTransition(`g:${e.group}`, 'vrrp.sync_group', e, {
          'vrrp.sync_group': e.group,
          'vrrp.state.from': e.from,
          'vrrp.state.to': e.to,
          'vrrp.reason': e.reason,
        });
        break;
      case 'vrrp.vip':
        this.child(
          [`i:${e.instance}`],
          e.op === 'add' ? 'vip.add' : 'vip.remove',
          e,
          0,
          { 'vrrp.instance': e.instance, 'vrrp.vip.address': e.address, 'network.interface.name': e.dev, 'error.type': e.ok ? undefined : 'netlink' },
          e.ok ? undefined : (e.error ?? 'failed'),
        );
        break;
      case 'vrrp.route':
        this.child(
          [`i:${e.instance}`],
          e.op === 'add' ? 'vroute.add' : 'vroute.remove',
          e,
          0,
          { 'vrrp.instance': e.instance, 'vrrp.route': e.route },
          e.ok ? undefined : (e.error ?? 'failed'),
        );
        break;
      case 'vrrp.garp':
        this.child([`i:${e.instance}`], 'garp.send', e, 0, {
          'vrrp.instance': e.instance,
          'network.type': e.family,
          'network.interface.name': e.dev,
          'vrrp.vip.address': e.address,
          'garp.count': e.count,
        });
        break;
      case 'notify.run':
        this.child(
          [`i:${e.target}`, `g:${e.target}`],
          'notify.run',
          e,
          e.durationMs,
          { 'notify.event': e.event, 'notify.target': e.target, 'process.command_line': e.command, 'process.exit.code': e.exitCode ?? undefined },
          e.error !== undefined ? e.error : e.exitCode !== null && e.exitCode !== 0 ? `exit status ${e.exitCode}` : undefined,
        );
        break;
      case 'config.reload':
        this.root(
          'config.reload',
          e,
          e.durationMs,
          {
            'config.file': e.file,
            'config.result': e.result,
            'config.instances.added': e.added.length,
            'config.instances.removed': e.removed.length,
            'config.instances.changed': e.changed.length,
          },
          e.result === 'failure' ? (e.error ?? 'reload failed') : undefined,
        );
        break;
      case 'ipvs.apply':
        this.root('ipvs.apply', e, e.durationMs, { 'ipvs.op': e.op, 'ipvs.target': e.target }, e.ok ? undefined : (e.error ?? 'failed'));
        break;
      case 'checker.result': {
        if (this.checkerSpans === 'none' || (this.checkerSpans === 'failures' && e.result === 'success')) break;
        const c = e.realServer.lastIndexOf(':');
        this.root(
          `checker.${e.checker.toLowerCase()}`,
          e,
          e.durationMs,
          {
            'lvs.virtual_server': e.virtualServer,
            'server.address': c > 0 ? e.realServer.slice(0, c).replace(/^\[|\]$/g, '') : e.realServer,
            'server.port': c > 0 ? Number(e.realServer.slice(c + 1)) || undefined : undefined,
            'checker.result': e.result,
          },
          e.result === 'success' ? undefined : (e.detail ?? e.result),
        );
        break;
      }
      default:
        break;
    }
  }
}
