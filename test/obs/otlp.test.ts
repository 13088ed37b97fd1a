/**
 * Tracing end to end: the real OTLP/HTTP exporter sends to a real HTTP receiver on
 * loopback; we check span names, parent/child links, attributes, resource, exemplar
 * correlation with the metrics, and that a dead collector or a span flood cannot hurt.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/journal';
import { createMetrics } from '../../src/observe/metrics';
import { createTracing, tracingRequested } from '../../src/observe/tracing';
import { waitFor } from '../helpers/netns';
import { threeInstanceSnapshot } from './fixtures';

const RECEIVER_PORT = 19120;
const DEAD_PORT = 19121; // nothing listens here

interface OtlpAttr {
  key: string;
  value: { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpAttr[];
  status?: { code?: number; message?: string };
}
interface Received {
  spans: OtlpSpan[];
  resources: Record<string, unknown>[];
  contentTypes: string[];
}

const attrs = (a: OtlpAttr[]): Record<string, unknown> =>
  Object.fromEntries(a.map((x) => [x.key, x.value.stringValue ?? (x.value.intValue !== undefined ? Number(x.value.intValue) : (x.value.boolValue ?? x.value.doubleValue))]));

let server: Server;
const got: Received = { spans: [], resources: [], contentTypes: [] };

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') {
        got.contentTypes.push(String(req.headers['content-type']));
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        for (const rs of body.resourceSpans ?? []) {
          got.resources.push(attrs(rs.resource?.attributes ?? []));
          for (const ss of rs.scopeSpans ?? []) got.spans.push(...(ss.spans ?? []));
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } else res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(RECEIVER_PORT, '127.0.0.1', r));
  expect((server.address() as AddressInfo).port).toBe(RECEIVER_PORT);
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

const I = { instance: 'VI_1', vrid: 51, intf: 'eth0' } as const;

describe('OTLP/HTTP traces', () => {
  it('is off unless asked for', async () => {
    expect(tracingRequested({})).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' })).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'otlp' })).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x' })).toBe(false);
    expect(tracingRequested({ OTEL_SDK_DISABLED: 'true' }, true)).toBe(false);
    expect(tracingRequested({}, true)).toBe(true);
    const off = await createTracing({ env: {} });
    expect(off.enabled).toBe(false);
  });

  it('vrrp.transition spans with their side effects as children, right links and attributes', async () => {
    got.spans.length = 0;
    const tracing = await createTracing({
      env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${RECEIVER_PORT}/v1/traces`, OTEL_SERVICE_NAME: 'from-env' },
      endpoint: `http://127.0.0.1:${RECEIVER_PORT}/v1/traces`,
      serviceName: 'keepwatch-test',
      serviceVersion: '0.1.0',
      scheduledDelayMillis: 50,
      settleMs: 30,
    });
    expect(tracing.enabled).toBe(true);
    const journal = new Journal();
    const metrics = createMetrics(journal, threeInstanceSnapshot, { defaultMetrics: false, tracingExemplars: tracing });
    // metrics subscribes first: its traceIdFor() call must create the span on demand
    tracing.attach(journal);

    journal.emit({ type: 'vrrp.master_down', ...I, intervalMs: 3609.4 });
    const t1 = journal.emit({ type: 'vrrp.transition', ...I, from: 'BACKUP', to: 'MASTER', reason: 'master_timeout', priority: 150, masterPriority: 0 });
    journal.emit({ type: 'vrrp.vip', ...I, op: 'add', address: '192.0.2.50', dev: 'eth0', ok: true });
    journal.emit({ type: 'vrrp.vip', ...I, op: 'add', address: '192.0.2.51', dev: 'eth0', ok: false, error: 'EEXIST' });
    journal.emit({ type: 'vrrp.garp', ...I, family: 'ipv4', count: 5, dev: 'eth0', address: '192.0.2.50' });
    journal.emit({ type: 'notify.run', event: 'MASTER', target: 'VI_1', command: "'/opt/notify.sh'", exitCode: 0, durationMs: 4 });
    journal.emit({ type: 'vrrp.transition', instance: 'VI_2', vrid: 52, intf: 'eth0', from: 'INIT', to: 'BACKUP', reason: 'startup', priority: 100, masterPriority: 0 });
    journal.emit({ type: 'config.reload', result: 'failure', file: '/etc/keepalived/keepalived.conf', durationMs: 12, added: [], removed: [], changed: ['VI_1'], error: 'line 3: bad' });
    const om = await metrics.render('application/openmetrics-text');
    const t2 = journal.emit({ type: 'vrrp.transition', ...I, from: 'MASTER', to: 'BACKUP', reason: 'higher_priority_master', priority: 150, masterPriority: 200, masterAddress: '192.0.2.12' });
    journal.emit({ type: 'vrrp.vip', ...I, op: 'remove', address: '192.0.2.50', dev: 'eth0', ok: true });
    await tracing.forceFlush();
    await waitFor(() => got.spans.length >= 9 || undefined, 'spans at the receiver', 20_000);
    expect(got.spans).toHaveLength(9);

    const byName = (n: string) => got.spans.filter((s) => s.name === n);
    const [tr1, tr2] = byName('vrrp.transition').filter((s) => attrs(s.attributes)['vrrp.instance'] === 'VI_1');
    expect(tr1 && tr2).toBeTruthy();
    expect(tr1.parentSpanId || undefined).toBeUndefined();
    expect(attrs(tr1.attributes)).toEqual({
      'vrrp.instance': 'VI_1',
      'vrrp.vrid': 51,
      'vrrp.state.from': 'BACKUP',
      'vrrp.state.to': 'MASTER',
      'vrrp.reason': 'master_timeout',
      'vrrp.priority.effective': 150,
      'vrrp.priority.master': 0,
      'network.interface.name': 'eth0',
      'vrrp.master_down_interval_ms': 3609.4,
    });
    expect(attrs(tr2.attributes)).toMatchObject({ 'vrrp.state.to': 'BACKUP', 'vrrp.reason': 'higher_priority_master', 'vrrp.master.address': '192.0.2.12', 'vrrp.priority.master': 200 });
    expect(tr2.traceId).not.toBe(tr1.traceId);

    const kids = got.spans.filter((s) => s.parentSpanId === tr1.spanId);
    expect(kids.map((s) => s.name).sort()).toEqual(['garp.send', 'notify.run', 'vip.add', 'vip.add']);
    for (const k of kids) expect(k.traceId).toBe(tr1.traceId);
    const failed = kids.find((k) => attrs(k.attributes)['vrrp.vip.address'] === '192.0.2.51')!;
    expect(failed.status).toMatchObject({ code: 2, message: 'EEXIST' });
    expect(attrs(kids.find((k) => k.name === 'garp.send')!.attributes)).toMatchObject({ 'garp.count': 5, 'network.type': 'ipv4' });
    const notify = kids.find((k) => k.name === 'notify.run')!;
    expect(BigInt(notify.endTimeUnixNano) - BigInt(notify.startTimeUnixNano)).toBe(4_000_000n);
    // the transition span covers its side effects
    expect(BigInt(tr1.endTimeUnixNano) >= BigInt(notify.endTimeUnixNano)).toBe(true);
    expect(BigInt(tr1.startTimeUnixNano)).toBe(BigInt(t1.wall) * 1_000_000n);
    expect(BigInt(tr2.startTimeUnixNano)).toBe(BigInt(t2.wall) * 1_000_000n);
    expect(got.spans.filter((s) => s.parentSpanId === tr2.spanId).map((s) => s.name)).toEqual(['vip.remove']);

    const reload = byName('config.reload')[0];
    expect(reload.parentSpanId || undefined).toBeUndefined();
    expect(reload.status).toMatchObject({ code: 2, message: 'line 3: bad' });
    expect(attrs(reload.attributes)).toMatchObject({ 'config.result': 'failure', 'config.instances.changed': 1 });

    expect(got.resources[0]).toMatchObject({ 'service.name': 'keepwatch-test', 'service.version': '0.1.0' });
    expect(got.contentTypes[0]).toMatch(/application\/json/);

    // the OpenMetrics exemplar on the transition counter points at the exported trace
    expect(om.body).toContain(`# {trace_id="${tr1.traceId}"} 1 `);
    expect(tracing.currentTraceId('VI_1')).toBe(tr2.traceId);
    metrics.close();
    await tracing.shutdown();
  });

  it('unsampled transitions get no exemplar', async () => {
    const tracing = await createTracing({ enabled: true, env: {}, endpoint: `http://127.0.0.1:${RECEIVER_PORT}/v1/traces`, sampler: 'always_off' });
    const journal = new Journal();
    tracing.attach(journal);
    const metrics = createMetrics(journal, threeInstanceSnapshot, { defaultMetrics: false, tracingExemplars: tracing });
    const e = journal.emit({ type: 'vrrp.transition', ...I, from: 'BACKUP', to: 'MASTER', reason: 'master_timeout', priority: 150, masterPriority: 0 });
    expect(tracing.traceIdFor(e)).toBeUndefined();
    const om = await metrics.render('application/openmetrics-text');
    expect(om.body).toMatch(/^keepalived_vrrp_transitions_total\{[^}]*\} 1$/m);
    expect(om.body).not.toContain('trace_id');
    metrics.close();
    await tracing.shutdown();
  });

  it('a dead collector and a span flood neither throw into the journal nor grow without bound', async () => {
    const dead = await createTracing({ enabled: true, endpoint: `http://127.0.0.1:${DEAD_PORT}/v1/traces`, env: {}, scheduledDelayMillis: 20, exportTimeoutMillis: 500, settleMs: 10 });
    const j1 = new Journal();
    dead.attach(j1);
    for (let k = 0; k < 50; k++) j1.emit({ type: 'vrrp.transition', ...I, from: 'BACKUP', to: 'MASTER', reason: 'master_timeout', priority: 150, masterPriority: 0 });
    expect(j1.observerErrors).toBe(0);
    await dead.forceFlush(); // resolves although the export fails
    await dead.shutdown();

    got.spans.length = 0;
    const bounded = await createTracing({ enabled: true, endpoint: `http://127.0.0.1:${RECEIVER_PORT}/v1/traces`, env: {}, maxQueueSize: 10, scheduledDelayMillis: 20, settleMs: 10 });
    const j2 = new Journal();
    bounded.attach(j2);
    for (let k = 0; k < 1000; k++) {
      j2.emit({ type: 'vrrp.transition', ...I, from: 'BACKUP', to: 'MASTER', reason: 'master_timeout', priority: 150, masterPriority: 0 });
      j2.emit({ type: 'vrrp.vip', ...I, op: 'add', address: '192.0.2.50', dev: 'eth0', ok: true });
    }
    expect(j2.observerErrors).toBe(0);
    await bounded.forceFlush();
    await waitFor(() => got.spans.length > 0 || undefined, 'some spans', 20_000);
    await bounded.shutdown();
    // 2000 spans were produced; the processor holds at most its queue (10) plus the one
    // batch in flight (10), and the last transition span is ended at flush: ≤ 21 arrive.
    expect(got.spans.length).toBeLessThanOrEqual(21);
  });
});
