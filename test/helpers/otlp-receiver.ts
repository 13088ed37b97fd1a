/**
 * A real OTLP/HTTP traces receiver for the live tests: a small node process running
 * INSIDE a lab namespace (a server bound in the root namespace would not be reachable
 * from the agents' namespaces — they only share the lab bridge), listening on that
 * namespace's lab address. Agents export to it with
 *   OTEL_EXPORTER_OTLP_ENDPOINT=http://<host>:<port>   (the exporter appends /v1/traces).
 *
 * It accepts OTLP/HTTP JSON (what @opentelemetry/exporter-trace-otlp-http sends; the
 * OTLP spec's "JSON Protobuf Encoding": ids as hex strings, 64-bit ints as decimal
 * strings), answers 200 `{}` (an ExportTraceServiceResponse with no partial_success),
 * and prints one JSON line per span to stdout, with its resource attributes and the
 * sender's address; a protobuf body is refused with 415 and reported, so a wrong
 * protocol shows up as an error instead of as "no spans".
 *
 *   const rx = await startOtlpReceiver(lab.hosts.cl, '192.0.2.100', 19801);
 *   ... agents run with OTEL_EXPORTER_OTLP_ENDPOINT=rx.endpoint ...
 *   const spans = await rx.waitSpans((all) => all.filter(...).length >= 2 && all, 'two transitions');
 *   await rx.stop();
 */
import type { ChildProcess } from 'node:child_process';
import { killGroup, waitFor, type Netns } from './netns';
import { onLines } from './lines';

export type AttrValue = string | number | boolean | undefined;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' or undefined for a root span (the JSON encoding sends '' or omits it) */
  parentSpanId?: string;
  name: string;
  kind?: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, AttrValue>;
  status: { code?: number; message?: string };
  resource: Record<string, AttrValue>;
  scope: string;
  /** source address of the POST (which agent sent it) */
  remote: string;
  /** arrival order at the receiver */
  seq: number;
}

export interface OtlpReceiver {
  /** base URL for OTEL_EXPORTER_OTLP_ENDPOINT */
  endpoint: string;
  /** every span received so far, in arrival order */
  spans: ReceivedSpan[];
  /** POST /v1/traces requests answered (200) and refused (415/400) */
  requests(): { ok: number; refused: number; errors: string[] };
  /** wait until `pred(spans)` returns a truthy value; resolves with it */
  waitSpans<T>(pred: (spans: ReceivedSpan[]) => T | undefined | false | null, what: string, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
  child: ChildProcess;
}

interface OtlpAnyValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}

/** OTLP KeyValue list → plain object (intValue arrives as a decimal string in JSON). */
export function otlpAttrs(a: { key: string; value: OtlpAnyValue }[] | undefined): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const x of a ?? []) {
    const v = x.value ?? {};
    out[x.key] = v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.boolValue ?? v.doubleValue));
  }
  return out;
}

// The receiver process. Plain CommonJS for `node -e`; prints JSON lines only.
const RECEIVER_JS = String.raw`
const http = require('node:http');
const [host, port] = [process.argv[1], Number(process.argv[2])];
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const server = http.createServer((req, res) => {
  const chunks = [];
  let size = 0;
  req.on('data', (c) => { size += c.length; if (size <= 16 * 1024 * 1024) chunks.push(c); });
  req.on('end', () => {
    if (req.method !== 'POST' || req.url !== '/v1/traces') { res.writeHead(404).end(); return; }
    const ct = String(req.headers['content-type'] || '');
    if (!ct.includes('json')) {
      out({ t: 'refused', why: 'content-type ' + ct });
      res.writeHead(415, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    let body;
    try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); }
    catch (e) { out({ t: 'refused', why: 'bad json: ' + e.message }); res.writeHead(400).end(); return; }
    const remote = req.socket.remoteAddress;
    for (const rs of body.resourceSpans || [])
      for (const ss of rs.scopeSpans || [])
        for (const span of ss.spans || [])
          out({ t: 'span', remote, resource: (rs.resource && rs.resource.attributes) || [], scope: (ss.scope && ss.scope.name) || '', span });
    out({ t: 'ok' });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
server.on('error', (e) => { out({ t: 'error', why: e.message }); process.exit(1); });
server.listen(port, host, () => out({ t: 'listening', port: server.address().port }));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

/** Start the receiver in `ns` on `host:port`; resolves once it listens. */
export async function startOtlpReceiver(ns: Netns, host: string, port: number): Promise<OtlpReceiver> {
  const child = ns.spawn(process.execPath, ['-e', RECEIVER_JS, host, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const spans: ReceivedSpan[] = [];
  const counts = { ok: 0, refused: 0, errors: [] as string[] };
  let listening = false;
  let stderr = '';
  let seq = 0;
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => (stderr += d));
  onLines(child.stdout!, (line) => {
    let m: { t: string; why?: string; remote?: string; scope?: string; resource?: never; span?: Record<string, unknown> };
    try {
      m = JSON.parse(line);
    } catch {
      counts.errors.push(`unparsable receiver line: ${line}`);
      return;
    }
    if (m.t === 'listening') listening = true;
    else if (m.t === 'ok') counts.ok++;
    else if (m.t === 'refused') {
      counts.refused++;
      counts.errors.push(m.why ?? 'refused');
    } else if (m.t === 'error') counts.errors.push(m.why ?? 'error');
    else if (m.t === 'span' && m.span) {
      const s = m.span as {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind?: number;
        startTimeUnixNano: string;
        endTimeUnixNano: string;
        attributes?: { key: string; value: OtlpAnyValue }[];
        status?: { code?: number; message?: string };
      };
      spans.push({
        traceId: s.traceId,
        spanId: s.spanId,
        parentSpanId: s.parentSpanId || undefined,
        name: s.name,
        kind: s.kind,
        startNs: BigInt(s.startTimeUnixNano),
        endNs: BigInt(s.endTimeUnixNano),
        attributes: otlpAttrs(s.attributes),
        status: s.status ?? {},
        resource: otlpAttrs(m.resource),
        scope: m.scope ?? '',
        remote: (m.remote ?? '').replace(/^::ffff:/, ''),
        seq: seq++,
      });
    }
  });
  const exited = new Promise<void>((res) => child.on('exit', () => res()));
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`OTLP receiver in ${ns.name} exited: ${stderr} ${counts.errors.join('; ')}`);
      return listening;
    },
    `OTLP receiver on ${host}:${port} in ${ns.name}`,
    20_000,
  );
  const url = host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`;
  return {
    endpoint: url,
    spans,
    child,
    requests: () => ({ ok: counts.ok, refused: counts.refused, errors: [...counts.errors] }),
    waitSpans: (pred, what, timeoutMs = 30_000) =>
      waitFor(() => pred(spans) || undefined, `spans at the OTLP receiver: ${what}`, timeoutMs, 50).then(
        (v) => v as never,
        (e: Error) => {
          throw new Error(`${e.message}\nreceived ${spans.length} spans: ${spans.map((s) => `${s.name}@${s.remote}`).join(', ')}${counts.errors.length ? `\nerrors: ${counts.errors.join('; ')}` : ''}`);
        },
      ),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killGroup(child, 'SIGTERM');
      const done = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000).unref())]);
      if (!done) {
        killGroup(child, 'SIGKILL');
        await exited;
      }
    },
  };
}
