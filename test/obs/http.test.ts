/**
 * The real fastify server on 127.0.0.1 (ports 19100–19119): routes, content negotiation,
 * TLS with an openssl-generated CA/server/client certificate, bcrypt basic auth, and the
 * abuse cases (slow clients, connection floods, auth floods) that must not stall it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpServer } from '../../src/http/server';
import { Journal } from '../../src/journal/journal';
import { renderKeepalivedJson } from '../../src/observe/json';
import { createMetrics } from '../../src/observe/metrics';
import { waitFor } from '../helpers/netns';
import { threeInstanceSnapshot } from './fixtures';

const PORT = { plain: 19100, tls: 19101, mtls: 19102, slow: 19103, conn: 19104, authflood: 19105, anyip: 19106, wildcard: 19107 };

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}
function request(url: string, o: { method?: string; headers?: Record<string, string>; body?: string; ca?: string; cert?: string; key?: string } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(
      u,
      { method: o.method ?? 'GET', headers: o.headers, ca: o.ca, cert: o.cert, key: o.key, agent: false, timeout: 20_000 } as https.RequestOptions,
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    if (o.body) req.write(o.body);
    req.end();
  });
}
const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });

let running = true;
const snap = () => ({ ...threeInstanceSnapshot(), running });
const journal = new Journal();
const metrics = createMetrics(journal, snap, { defaultMetrics: false });
const servers: HttpServer[] = [];
let dir: string;

afterAll(async () => {
  for (const s of servers) await s.close();
  metrics.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('plain HTTP', () => {
  let base: string;
  beforeAll(async () => {
    const s = await startHttpServer({ listenAddress: `127.0.0.1:${PORT.plain}`, metrics, json: () => renderKeepalivedJson(snap()), healthy: () => running });
    servers.push(s);
    base = s.url;
    expect(base).toBe(`http://127.0.0.1:${PORT.plain}`);
  });

  it('/metrics in text format 0.0.4 by default', async () => {
    const r = await request(`${base}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(r.body).toContain('\nkeepalived_vrrp_state{iname="VI_1",intf="eth0",vrid="51",ip_address="192.0.2.50/24"} 2\n');
    expect(r.body.startsWith('# HELP keepalived_up Status\n# TYPE keepalived_up gauge\nkeepalived_up 1\n')).toBe(true);
    // the families' Buffers written as they are (server.ts): the same bytes as a render, and a length that matches
    expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.body));
    expect(r.headers['transfer-encoding']).toBeUndefined();
    expect(r.body).toBe((await metrics.render()).body);
  });

  it('/metrics negotiates OpenMetrics like Prometheus asks for it', async () => {
    const r = await request(`${base}/metrics`, { headers: { accept: 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1' } });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(r.body.endsWith('# EOF\n')).toBe(true);
    expect(r.body).toContain('# TYPE keepalived_advertisements_received counter\n');
    const h = await request(`${base}/metrics`, { method: 'HEAD' });
    expect(h.status).toBe(200);
    expect(h.body).toBe('');
  });

  it("/json is keepalived's dump, byte for byte", async () => {
    const r = await request(`${base}/json`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.body).toBe(renderKeepalivedJson(snap()));
    expect(JSON.parse(r.body).map((x: { data: { iname: string } }) => x.data.iname)).toEqual(['VI_1', 'VI_2', 'VI_6']);
  });

  it('/healthz follows the engine; keepalived_up too', async () => {
    expect((await request(`${base}/healthz`)).status).toBe(200);
    running = false;
    try {
      const r = await request(`${base}/healthz`);
      expect(r.status).toBe(503);
      expect((await request(`${base}/metrics`)).body).toContain('\nkeepalived_up 0\n');
    } finally {
      running = true;
    }
  });

  it('landing page, 404s and bodies that are refused', async () => {
    const r = await request(`${base}/`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.body).toContain('<a href="/metrics">Metrics</a>');
    expect((await request(`${base}/nope`)).status).toBe(404);
    expect((await request(`${base}/metrics`, { method: 'POST', body: 'x'.repeat(64 * 1024), headers: { 'content-type': 'text/plain' } })).status).toBeGreaterThanOrEqual(400);
    // and it is still fine
    expect((await request(`${base}/healthz`)).status).toBe(200);
  });

  it('IPv6 loopback listen address; a busy port is an error, not a crash', async () => {
    // (":port" = every address is not exercised here: tests stay on loopback)
    const s = await startHttpServer({ listenAddress: `[::1]:${PORT.wildcard}`, metrics, json: () => '[]', healthy: () => true });
    try {
      expect(s.url).toBe(`http://[::1]:${PORT.wildcard}`);
      expect((await request(`${s.url}/healthz`)).status).toBe(200);
      await expect(startHttpServer({ listenAddress: `[::1]:${PORT.wildcard}`, metrics, json: () => '[]', healthy: () => true })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await s.close();
    }
  });

  it('a render failure is a 500, not a crash', async () => {
    const s = await startHttpServer({
      listenAddress: `127.0.0.1:${PORT.anyip}`,
      telemetryPath: '/kmetrics',
      metrics: { render: async () => Promise.reject(new Error('boom')) },
      json: () => {
        throw new Error('no json');
      },
      healthy: () => {
        throw new Error('no health');
      },
    });
    try {
      const m = await request(`${s.url}/kmetrics`);
      expect(m.status).toBe(500);
      expect(m.body).toContain('boom');
      expect((await request(`${s.url}/json`)).status).toBe(500);
      expect((await request(`${s.url}/healthz`)).status).toBe(503);
      expect((await request(`${s.url}/`)).body).toContain('href="/kmetrics"');
    } finally {
      await s.close();
    }
  });
});

describe('abuse: slow clients and floods', () => {
  it('a slowloris client is dropped and others are served meanwhile', async () => {
    const s = await startHttpServer({ listenAddress: `127.0.0.1:${PORT.slow}`, metrics, json: () => '[]', healthy: () => true, limits: { headersTimeoutMs: 500, requestTimeoutMs: 1000 } });
    servers.push(s);
    const sock = net.connect(PORT.slow, '127.0.0.1');
    let closed = false;
    let reply = '';
    sock.on('data', (d) => (reply += d.toString()));
    sock.on('close', () => (closed = true));
    sock.on('error', () => undefined);
    await new Promise((r) => sock.once('connect', r));
    sock.write('GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    // the event loop is not held: a normal client is served while the slow one dangles
    expect((await request(`${s.url}/healthz`)).status).toBe(200);
    await waitFor(() => closed || undefined, 'server closes the slow connection', 20_000);
    expect(reply).toMatch(/^HTTP\/1.1 408 /);
  });

  it('connections beyond the cap are refused; the server recovers', async () => {
    const s = await startHttpServer({
      listenAddress: `127.0.0.1:${PORT.conn}`,
      metrics,
      json: () => '[]',
      healthy: () => true,
      limits: { maxConnections: 5, headersTimeoutMs: 120_000, requestTimeoutMs: 120_000, idleTimeoutMs: 120_000 },
    });
    servers.push(s);
    const socks: { c: net.Socket; closed: boolean; data: string }[] = [];
    for (let k = 0; k < 30; k++) {
      const c = net.connect(PORT.conn, '127.0.0.1');
      const st = { c, closed: false, data: '' };
      c.on('error', () => undefined);
      c.on('close', () => (st.closed = true));
      c.on('data', (d) => (st.data += d.toString()));
      socks.push(st);
    }
    await waitFor(() => socks.filter((x) => x.closed).length >= 25 || undefined, 'excess connections closed', 20_000);
    // exactly the 5 accepted ones are alive, and they are served normally
    const alive = socks.filter((x) => !x.closed);
    expect(alive).toHaveLength(5);
    for (const a of alive) a.c.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await waitFor(() => alive.every((a) => a.closed) || undefined, 'accepted connections answered', 20_000);
    for (const a of alive) expect(a.data).toMatch(/^HTTP\/1.1 200 OK\r\n/);
    expect((await request(`${s.url}/healthz`)).status).toBe(200);
  });

  it('200 concurrent scrapes all succeed', async () => {
    const base = `http://127.0.0.1:${PORT.plain}`;
    const rs = await Promise.all(Array.from({ length: 200 }, () => request(`${base}/metrics`).catch((e: Error) => ({ status: -1, body: e.message }) as Res)));
    const ok = rs.filter((r) => r.status === 200);
    // the connection cap (64) may refuse some; none may fail otherwise, and none may be partial
    for (const r of rs) expect([200, -1]).toContain(r.status);
    expect(ok.length).toBeGreaterThan(0);
    for (const r of ok) expect(r.body.endsWith('\n')).toBe(true);
  });
});

describe('TLS and basic auth (exporter-toolkit web config)', () => {
  let ca: string;
  let clientCert: string;
  let clientKey: string;
  const user = 'prometheus';
  const pass = 'correct horse battery staple';

  const openssl = (...args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kw-obs-tls-'));
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=keepwatch test CA', '-days', '2');
    openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext');
    openssl('req', ...ec, '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=scraper');
    writeFileSync(path.join(dir, 'client.ext'), 'subjectAltName=DNS:scraper.example\nextendedKeyUsage=clientAuth\n');
    openssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '2', '-extfile', 'client.ext');
    ca = readFileSync(path.join(dir, 'ca.crt'), 'utf8');
    clientCert = readFileSync(path.join(dir, 'client.crt'), 'utf8');
    clientKey = readFileSync(path.join(dir, 'client.key'), 'utf8');
    // htpasswd-style $2y$ hash, as exporter-toolkit docs generate them
    const hash = (await bcrypt.hash(pass, 10)).replace(/^\$2b\$/, '$2y$');
    writeFileSync(
      path.join(dir, 'web.yml'),
      `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\nbasic_auth_users:\n  ${user}: ${hash}\n`,
    );
    writeFileSync(
      path.join(dir, 'mtls.yml'),
      'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_ca_file: ca.crt\n  client_auth_type: RequireAndVerifyClientCert\n  client_allowed_sans: [scraper.example]\n',
    );
    servers.push(await startHttpServer({ listenAddress: `127.0.0.1:${PORT.tls}`, webConfigFile: path.join(dir, 'web.yml'), metrics, json: () => '[]', healthy: () => true }));
    servers.push(await startHttpServer({ listenAddress: `127.0.0.1:${PORT.mtls}`, webConfigFile: path.join(dir, 'mtls.yml'), metrics, json: () => '[]', healthy: () => true }));
  });

  it('HTTPS with basic auth: 401 without or with wrong credentials, 200 with the right ones', async () => {
    const url = `https://127.0.0.1:${PORT.tls}/metrics`;
    const none = await request(url, { ca });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Basic');
    expect((await request(url, { ca, headers: basic(user, 'wrong') })).status).toBe(401);
    expect((await request(url, { ca, headers: basic('mallory', pass) })).status).toBe(401);
    expect((await request(url, { ca, headers: { authorization: 'Bearer x' } })).status).toBe(401);
    const ok = await request(url, { ca, headers: basic(user, pass) });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('keepalived_up 1');
    expect(ok.headers['x-frame-options']).toBe('deny');
    // again: served from the verified-credentials cache
    expect((await request(url, { ca, headers: basic(user, pass) })).status).toBe(200);
    // plain HTTP to the TLS port is not served
    await expect(request(`http://127.0.0.1:${PORT.tls}/metrics`)).rejects.toThrow();
    // a client that does not trust the server's CA refuses it
    await expect(request(url, { headers: basic(user, pass) })).rejects.toThrow(/self.signed|unable to verify|certificate/i);
  });

  it('RequireAndVerifyClientCert with allowed SANs', async () => {
    const url = `https://127.0.0.1:${PORT.mtls}/healthz`;
    await expect(request(url, { ca })).rejects.toThrow();
    const ok = await request(url, { ca, cert: clientCert, key: clientKey });
    expect(ok.status).toBe(200);
    // a certificate the CA signed but without an allowed SAN (here: the CA's own) → 403
    const noSan = await request(url, { ca, cert: ca, key: readFileSync(path.join(dir, 'ca.key'), 'utf8') });
    expect(noSan.status).toBe(403);
    // a certificate the CA did not sign is rejected in the handshake
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'rogue.key', '-out', 'rogue.crt', '-subj', '/CN=rogue', '-days', '2', '-addext', 'subjectAltName=DNS:scraper.example');
    await expect(request(url, { ca, cert: readFileSync(path.join(dir, 'rogue.crt'), 'utf8'), key: readFileSync(path.join(dir, 'rogue.key'), 'utf8') })).rejects.toThrow();
  });

  it('a password-guessing flood is bounded (503) and does not lock out the real scraper', async () => {
    const hash = await bcrypt.hash(pass, 10);
    const s = await startHttpServer({
      listenAddress: `127.0.0.1:${PORT.authflood}`,
      webConfig: { basicAuthUsers: { [user]: hash }, headers: {} },
      metrics,
      json: () => '[]',
      healthy: () => true,
      limits: { maxConcurrentAuth: 1, maxQueuedAuth: 2 },
    });
    servers.push(s);
    // prime the cache for the legitimate scraper
    expect((await request(`${s.url}/healthz`, { headers: basic(user, pass) })).status).toBe(200);
    const flood = await Promise.all(Array.from({ length: 40 }, (_, k) => request(`${s.url}/healthz`, { headers: basic(user, `guess-${k}`) })));
    const codes = flood.map((r) => r.status);
    expect(codes.every((c) => c === 401 || c === 503)).toBe(true);
    expect(codes.filter((c) => c === 503).length).toBeGreaterThan(0);
    expect(codes.filter((c) => c === 401).length).toBeGreaterThan(0);
    expect((await request(`${s.url}/healthz`, { headers: basic(user, pass) })).status).toBe(200);
  });
});
