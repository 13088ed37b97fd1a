/**
 * The HTTP endpoint (fastify 5): /metrics (telemetry path), /json (keepalived's SIGJSON
 * schema), /healthz, and a landing page at / — served by the agent itself, so scraping
 * needs no signals, no root and no shared /tmp (observability-anchors.md §1.5 lessons 1, 6).
 * Defaults follow mehdy/keepalived-exporter (`--web.listen-address :9165`,
 * `--web.telemetry-path /metrics`); `--web.config.file` is exporter-toolkit's TLS /
 * basic-auth file (web-config.ts).
 *
 * The daemon runs this server in a worker thread (worker-host.ts), away from the VRRP
 * timers; it can also run on the calling thread (tests, benches). Either way a bad, slow or
 * flooding client must not monopolise the loop it runs on:
 * - connection cap (server.maxConnections), header/request/idle timeouts checked every
 *   second (slowloris), 1 KiB body limit (only GET/HEAD exist), small header limit;
 * - concurrent scrapes of the same format share one render (one snapshot instant);
 * - handler work never runs in the poll phase that read the request, and at most a few
 *   handlers run per event-loop turn (Pacer below), so a crowd of scrapers cannot delay
 *   an advert by more than one small slice of HTTP work; a scrape reuses a render that
 *   started after it arrived, so a queue of scrapes costs one render;
 * - bcrypt (deliberately slow, pure JS in bcryptjs) runs in a worker thread
 *   (bcrypt-worker.ts), at most 2 at a time with a bounded wait queue; verified
 *   credentials are cached, so a legitimate scraper pays it once and a password-guessing
 *   flood gets 503 instead of eating the CPU.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { negotiate } from '../observe/exposition';
import { BcryptWorker } from './bcrypt-worker';
import { loadWebConfig, type WebConfig } from './web-config';

export interface MetricsRenderer {
  render(acceptHeader?: string): Promise<{ contentType: string; body: string }>;
  /** the same bytes as render(), from cached per-family Buffers (no 2 MB string copy per scrape) */
  renderBytes?(acceptHeader?: string): Promise<{ contentType: string; body: Buffer }>;
  /** the same bytes as one Buffer per family, written with one writev (no 2 MB concatenation) */
  renderChunks?(acceptHeader?: string): Promise<{ contentType: string; chunks: Buffer[]; length: number }>;
}

export interface HttpServerOptions {
  /** "[host]:port"; default ":9165" (all addresses) */
  listenAddress?: string;
  /** default "/metrics" */
  telemetryPath?: string;
  /** exporter-toolkit web config file (TLS, basic auth, headers) */
  webConfigFile?: string;
  /** already-parsed web config (wins over webConfigFile) */
  webConfig?: WebConfig;
  metrics: MetricsRenderer;
  /** the /json body: a string is sent as is (keepalived's byte format), anything else JSON-encoded (may be a Promise) */
  json: () => unknown;
  /** /healthz: 200 while the engine runs, else 503 */
  healthy: () => boolean | Promise<boolean>;
  limits?: {
    maxConnections?: number;
    /** whole request (headers + body) must arrive within this (default 10 s) */
    requestTimeoutMs?: number;
    headersTimeoutMs?: number;
    /** idle socket timeout (default 30 s) */
    idleTimeoutMs?: number;
    keepAliveTimeoutMs?: number;
    /** concurrent bcrypt verifications (default 2) and waiting ones (default 32) */
    maxConcurrentAuth?: number;
    maxQueuedAuth?: number;
    /** requests handled per event-loop turn (default 2; see Pacer) */
    requestsPerTurn?: number;
  };
  /** receives errors the server handled (render failures, socket errors) */
  onError?: (err: Error) => void;
}

export interface HttpServer {
  readonly address: AddressInfo;
  /** base URL, e.g. "https://127.0.0.1:19100" */
  readonly url: string;
  /** /metrics and /json requests being handled now (arrived, not answered yet) */
  readonly inFlight?: number;
  close(): Promise<void>;
}

/** Parse "[host]:port", "host:port", ":port", "[::1]:port". */
export function parseListenAddress(s: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(s.trim());
  if (!m) throw new Error(`invalid listen address ${JSON.stringify(s)} (want [host]:port)`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`invalid port in listen address ${JSON.stringify(s)}`);
  const host = m[1] ?? m[2];
  return { host: host ? host : undefined, port };
}

const html = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const LANDING = (paths: { metrics: string }) => `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>keepwatch</title></head>
<body>
<h1>keepwatch</h1>
<p>A keepalived-compatible VRRP / LVS agent.</p>
<ul>
<li><a href="${html(paths.metrics)}">Metrics</a> (Prometheus; keepalived-exporter compatible)</li>
<li><a href="/json">JSON</a> (keepalived's SIGJSON schema)</li>
<li><a href="/healthz">Health</a></li>
</ul>
</body>
</html>
`;

/**
 * Paces handler work through the event loop. The VRRP FSM shares this loop, and a due
 * advert timer sends from setImmediate, i.e. in the check phase AFTER the poll phase
 * (src/vrrp/instance.ts realScheduler): everything handled in the poll phase that read the
 * requests delays the advert. Measured with 50 closed-loop scrapers of /metrics for 30 s
 * (bench/send-lag.mjs, ~1.4 ms CPU per scrape, 2 shared cores): send lag p50 48 ms, p99
 * 194 ms, 10% of the adverts missing and a 395 ms gap between two adverts — longer than
 * the 341 ms Master_Down_Interval of a 100 ms instance, so a backup would have taken over.
 * Paced (and renders shared): p50 2.5 ms, p99 32 ms, largest gap 128 ms, at 5.7× the
 * scrape throughput; the remaining tail is CPU starvation and GC on the shared box.
 *
 * So a handler first awaits turn(): turns are granted from setImmediate callbacks, at most
 * `perTurn` per callback. The advert's deferred send, queued in the timers phase, is ahead
 * of them in the check phase; the rest of the crowd waits for later loop turns (and the
 * scrapes granted together still share one render). Closed-loop clients are thereby also
 * limited to `perTurn` new requests per turn, so the poll phase stays small too.
 */
export class Pacer {
  private waiting: (() => void)[] = [];
  private scheduled = false;
  constructor(private readonly perTurn: number) {}
  turn(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      this.schedule();
    });
  }
  get queued(): number {
    return this.waiting.length;
  }
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const go = this.waiting.splice(0, this.perTurn);
      // later arrivals: a new immediate, which runs in the NEXT loop turn (after timers)
      if (this.waiting.length) this.schedule();
      for (const r of go) r();
    });
  }
}

class Semaphore {
  private active = 0;
  private waiting: (() => void)[] = [];
  constructor(
    private readonly max: number,
    private readonly maxQueue: number,
  ) {}
  /** resolves with a release function, or null when the queue is full */
  async acquire(): Promise<(() => void) | null> {
    if (this.active >= this.max) {
      if (this.waiting.length >= this.maxQueue) return null;
      await new Promise<void>((r) => this.waiting.push(r));
    } else this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }
}


export async function startHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  const cfg: WebConfig = opts.webConfig ?? (opts.webConfigFile ? loadWebConfig(opts.webConfigFile) : { basicAuthUsers: {}, headers: {} });
  const telemetryPath = opts.telemetryPath ?? '/metrics';
  if (!telemetryPath.startsWith('/')) throw new Error(`telemetry path must start with "/": ${telemetryPath}`);
  const { host, port } = parseListenAddress(opts.listenAddress ?? ':9165');
  const lim = opts.limits ?? {};
  const onError = opts.onError ?? (() => undefined);

  const tls = cfg.tls;
  const serverFactory = (handler: http.RequestListener): http.Server => {
    const common = {
      maxHeaderSize: 8 * 1024,
      requestTimeout: lim.requestTimeoutMs ?? 10_000,
      headersTimeout: lim.headersTimeoutMs ?? 5_000,
      keepAliveTimeout: lim.keepAliveTimeoutMs ?? 5_000,
      // how often Node checks the two timeouts above (default 30 s would let a slowloris
      // client hold a connection much longer than headersTimeout)
      connectionsCheckingInterval: 1_000,
    };
    const s = tls
      ? https.createServer(
          {
            ...common,
            cert: tls.cert,
            key: tls.key,
            ca: tls.ca,
            requestCert: tls.clientAuthType !== 'NoClientCert',
            rejectUnauthorized: tls.clientAuthType === 'RequireAndVerifyClientCert',
            minVersion: tls.minVersion,
            maxVersion: tls.maxVersion,
            ciphers: tls.ciphers,
            honorCipherOrder: tls.honorCipherOrder,
            ecdhCurve: tls.ecdhCurve,
            handshakeTimeout: 5_000,
          },
          handler,
        )
      : http.createServer(common, handler);
    s.maxConnections = lim.maxConnections ?? 64;
    s.setTimeout(lim.idleTimeoutMs ?? 30_000, (sock) => sock.destroy());
    s.maxRequestsPerSocket = 1000;
    s.on('clientError', (err: NodeJS.ErrnoException, sock) => {
      // malformed or too slow request: answer like Node's default handler, never throw
      const status =
        err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      if (sock.writable) sock.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
      else sock.destroy();
      onError(err);
    });
    s.on('tlsClientError', (err) => onError(err));
    return s as http.Server;
  };

  const app = Fastify({
    logger: false,
    bodyLimit: 1024,
    forceCloseConnections: true,
    return503OnClosing: true,
    serverFactory,
    // No route has a schema. Fastify's default compilers would load ajv and
    // fast-json-stringify (~100 modules, a few MB of heap in every agent) for nothing.
    schemaController: {
      compilersFactory: {
        buildValidator: () => () => {
          throw new Error('keepwatch routes take no schemas');
        },
        buildSerializer: () => () => {
          throw new Error('keepwatch routes take no schemas');
        },
      },
    },
  });

  // ---- TLS client-certificate policies Node cannot express by itself ----
  if (tls && (tls.clientAuthType === 'RequireAnyClientCert' || tls.clientAuthType === 'VerifyClientCertIfGiven' || tls.clientAllowedSans)) {
    app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      const sock = req.raw.socket as TLSSocket;
      const cert = typeof sock.getPeerCertificate === 'function' ? sock.getPeerCertificate() : undefined;
      const present = !!cert && Object.keys(cert).length > 0;
      if (tls.clientAuthType === 'RequireAnyClientCert' && !present) return reply.code(403).type('text/plain').send('client certificate required\n');
      if (tls.clientAuthType === 'VerifyClientCertIfGiven' && present && !sock.authorized) return reply.code(403).type('text/plain').send('client certificate not trusted\n');
      if (tls.clientAllowedSans) {
        const sans = (cert?.subjectaltname ?? '').split(/,\s*/).map((x) => x.slice(x.indexOf(':') + 1));
        if (!tls.clientAllowedSans.some((a) => sans.includes(a))) return reply.code(403).type('text/plain').send('client certificate SAN not allowed\n');
      }
    });
  }

  // ---- basic auth ----
  const users = cfg.basicAuthUsers;
  let bcryptWorker: BcryptWorker | undefined;
  if (Object.keys(users).length > 0) {
    const bw = (bcryptWorker = new BcryptWorker());
    const sem = new Semaphore(lim.maxConcurrentAuth ?? 2, lim.maxQueuedAuth ?? 32);
    // Unknown users are checked against a random hash of the same cost, so the response
    // time does not tell whether a user exists (exporter-toolkit does the same).
    const cost = Number(/^\$2[aby]?\$(\d\d)\$/.exec(Object.values(users)[0])?.[1] ?? 10);
    const dummyHash = await bw.hash(randomBytes(16).toString('hex'), cost);
    const cache = new Map<string, boolean>();
    app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      const deny = () => reply.code(401).header('WWW-Authenticate', 'Basic').type('text/plain').send('Unauthorized\n');
      const h = req.headers.authorization;
      if (!h || !/^Basic\s+/i.test(h)) return deny();
      const decoded = Buffer.from(h.replace(/^Basic\s+/i, '').trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return deny();
      const user = decoded.slice(0, colon);
      const pass = decoded.slice(colon + 1);
      const hash = Object.prototype.hasOwnProperty.call(users, user) ? users[user] : undefined;
      const key = createHash('sha256').update(`${user}\u0000${pass}\u0000${hash ?? ''}`).digest('hex');
      let ok = cache.get(key);
      if (ok === undefined) {
        const release = await sem.acquire();
        if (!release) return reply.code(503).header('Retry-After', '1').type('text/plain').send('Too many authentication attempts\n');
        try {
          const match = await bw.compare(pass, hash ?? dummyHash);
          // constant-time "was the user known" combine, so timing does not reveal it
          ok = timingSafeEqual(Buffer.from([match ? 1 : 0, hash ? 1 : 0]), Buffer.from([1, 1]));
        } catch (e) {
          onError(e as Error);
          ok = false;
        } finally {
          release();
        }
        if (cache.size >= 1024) cache.clear();
        cache.set(key, ok);
      }
      if (!ok) return deny();
    });
  }

  if (Object.keys(cfg.headers).length > 0) {
    app.addHook('onSend', async (_req, reply, payload) => {
      for (const [k, v] of Object.entries(cfg.headers)) reply.header(k, v);
      return payload;
    });
  }

  // ---- routes ----
  const pacer = new Pacer(Math.max(1, lim.requestsPerTurn ?? 2));
  // A scrape is answered with a render that STARTED after the scrape arrived: never older
  // than the request, one snapshot instant, and a queue of paced scrapes shares one render
  // instead of paying one each (a render is most of a scrape's CPU and allocation).
  let seq = 0;
  // (The body is encoded to bytes once per render, not once per reply: at thousands of
  // scrapes per second that per-reply copy was half of the garbage the collector paused for.)
  const latest = new Map<string, { started: number; p: Promise<{ contentType: string; chunks: Buffer[]; length: number }> }>();
  const renderOnce = async (accept: string | undefined): Promise<{ contentType: string; chunks: Buffer[]; length: number }> => {
    const m = opts.metrics;
    if (m.renderChunks) return m.renderChunks(accept);
    const b = m.renderBytes ? await m.renderBytes(accept) : await m.render(accept).then((x) => ({ contentType: x.contentType, body: Buffer.from(x.body, 'utf8') }));
    return { contentType: b.contentType, chunks: [b.body], length: b.body.length };
  };
  let inFlight = 0;
  app.get(telemetryPath, async (req, reply) => {
    inFlight++;
    try {
      return await scrape(req, reply);
    } finally {
      inFlight--;
    }
  });
  const scrape = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const arrived = ++seq;
    await pacer.turn();
    const accept = req.headers.accept;
    const fmt = negotiate(accept);
    let r = latest.get(fmt);
    if (!r || r.started < arrived) {
      r = { started: ++seq, p: renderOnce(accept) };
      latest.set(fmt, r);
    }
    try {
      const out = await r.p;
      if (out.chunks.length === 1 || req.method === 'HEAD') return reply.type(out.contentType).header('content-length', out.length).send(out.chunks[0] ?? '');
      // The families' Buffers go to the socket as they are, in one writev (corked): the
      // same bytes fastify would send, without concatenating them. Headers fastify's
      // hooks would add are added here (the web config's custom headers).
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { ...cfg.headers, 'content-type': out.contentType, 'content-length': out.length });
      res.cork();
      for (const c of out.chunks) res.write(c);
      res.end();
      return reply;
    } catch (e) {
      onError(e as Error);
      return reply.code(500).type('text/plain').send(`error gathering metrics: ${(e as Error).message}\n`);
    }
  };

  app.get('/json', async (_req, reply) => {
    inFlight++;
    try {
      await pacer.turn();
      const v = await opts.json();
      return reply.type('application/json').send(typeof v === 'string' ? v : JSON.stringify(v));
    } catch (e) {
      onError(e as Error);
      return reply.code(500).type('text/plain').send(`error: ${(e as Error).message}\n`);
    } finally {
      inFlight--;
    }
  });

  app.get('/healthz', async (_req, reply) => {
    let ok = false;
    try {
      ok = await opts.healthy();
    } catch (e) {
      onError(e as Error);
    }
    return ok ? reply.type('text/plain').send('OK\n') : reply.code(503).type('text/plain').send('engine not running\n');
  });

  if (telemetryPath !== '/') app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(LANDING({ metrics: telemetryPath })));

  app.setErrorHandler(async (e: unknown, _req, reply) => {
    const err = e instanceof Error ? (e as Error & { statusCode?: number }) : new Error(String(e));
    onError(err);
    const sc = (err as { statusCode?: number }).statusCode;
    const code = sc && sc >= 400 && sc < 600 ? sc : 500;
    return reply.code(code).type('text/plain').send(`${code === 500 ? 'internal error' : err.message}\n`);
  });

  // ":9165" = every address: IPv6 wildcard (dual-stack) when the host has IPv6, else 0.0.0.0.
  if (host === undefined) {
    try {
      await app.listen({ host: '::', port, ipv6Only: false });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL') throw e;
      await app.listen({ host: '0.0.0.0', port });
    }
  } else await app.listen({ host, port });

  const address = app.server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    address,
    url: `${tls ? 'https' : 'http'}://${urlHost}:${address.port}`,
    get inFlight() {
      return inFlight;
    },
    close: async () => {
      await app.close();
      await bcryptWorker?.close();
    },
  };
}
