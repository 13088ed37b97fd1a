/**
 * The real probes against real servers on 127.0.0.1 (this suite's ports: 19300-19349):
 * a TCP listener, an HTTP and an HTTPS server, a UDP DNS responder, and scripts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttp, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { createServer as createTcp, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { HealthEngine } from '../../src/check/engine';
import { probeDns } from '../../src/check/probe-dns';
import { buildRequest, probeHttp } from '../../src/check/probe-http';
import { probeMisc } from '../../src/check/probe-misc';
import { probeTcp } from '../../src/check/probe-tcp';
import { Journal } from '../../src/journal/journal';
import type { JournalEvent } from '../../src/journal/events';
import { dnsCheck, httpCheck, miscCheck, realServer, tcpCheck, url, virtualServer } from '../../src/lvs/spec';
import { waitFor } from '../helpers/netns';

const H = '127.0.0.1';
const P = { tcp: 19300, closed: 19301, bindPort: 19302, http: 19303, https: 19304, dns: 19305, dnsSilent: 19306, engine: 19307 };

function listen(s: TcpServer | HttpServer, port: number): Promise<void> {
  return new Promise((r, j) => {
    s.once('error', j);
    s.listen(port, H, () => r());
  });
}
const close = (s: { close(cb?: () => void): unknown }) => new Promise<void>((r) => s.close(() => r()));

describe('TCP_CHECK probe', () => {
  let srv: TcpServer;
  const peers: Array<{ address?: string; port?: number }> = [];
  beforeAll(async () => {
    srv = createTcp((s) => {
      peers.push({ address: s.remoteAddress, port: s.remotePort });
      s.on('error', () => undefined);
      s.end();
    });
    await listen(srv, P.tcp);
  });
  afterAll(() => close(srv));

  it('succeeds when the port accepts, fails with the errno when it refuses', async () => {
    expect(await probeTcp(tcpCheck({ address: H, port: P.tcp }))).toEqual({ ok: true });
    expect(await probeTcp(tcpCheck({ address: H, port: P.closed }))).toMatchObject({ ok: false, detail: 'ECONNREFUSED' });
  });

  it('connect_ip / connect_port override the real server address, bind_port sets the source', async () => {
    // the real server is a documentation address we must not touch; connect_ip redirects the check
    const spec = tcpCheck({ address: '198.51.100.11', port: 80 }, { connectIp: H, connectPort: P.tcp, bindto: H, bindPort: P.bindPort });
    expect(await probeTcp(spec)).toEqual({ ok: true });
    await waitFor(() => peers.some((p) => p.port === P.bindPort), 'the server to see our source port');
  });
});

describe('HTTP_GET / SSL_GET probes', () => {
  let http: HttpServer;
  let https: HttpServer;
  let dir: string;
  const seen: Array<{ line: string; host?: string; ua?: string; conn?: string; sni?: string | false | null }> = [];
  const handler = (req: IncomingMessage, res: import('node:http').ServerResponse) => {
    const sock = req.socket as TLSSocket;
    seen.push({ line: `${req.method} ${req.url} HTTP/${req.httpVersion}`, host: req.headers.host, ua: req.headers['user-agent'], conn: req.headers.connection, sni: sock.servername });
    if (req.url === '/ok') res.end('hello');
    else if (req.url === '/moved') {
      res.writeHead(301, { location: '/ok' });
      res.end();
    } else if (req.url === '/slow') {
      /* never answer */
    } else {
      res.writeHead(500);
      res.end('boom');
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kwt-lvs-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=rs.example.test'], { stdio: 'ignore' });
    http = createHttp(handler);
    https = createHttps({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, handler);
    await listen(http, P.http);
    await listen(https, P.https);
  });
  afterAll(async () => {
    http.closeAllConnections();
    https.closeAllConnections();
    await close(http);
    await close(https);
    rmSync(dir, { recursive: true, force: true });
  });

  const rs = { address: H, port: P.http };

  it("sends keepalived's request and accepts 2xx by default", async () => {
    seen.length = 0;
    expect(await probeHttp(httpCheck(rs, [url('/ok')]))).toMatchObject({ ok: true });
    expect(seen[0]).toMatchObject({ line: 'GET /ok HTTP/1.0', host: `${H}:${P.http}`, ua: 'KeepAliveClient' });
    expect(seen[0].conn).toBeUndefined();
  });

  it('status_code, digest and virtualhost; HTTP/1.1 adds Connection: close', async () => {
    seen.length = 0;
    const md5 = createHash('md5').update('hello').digest('hex');
    expect(await probeHttp(httpCheck(rs, [url('/ok', { digest: md5 })], { httpProtocol: '1.1', virtualhost: 'www.example.test' }))).toMatchObject({ ok: true });
    expect(seen[0]).toMatchObject({ line: 'GET /ok HTTP/1.1', host: 'www.example.test', conn: 'close' });
    const bad = await probeHttp(httpCheck(rs, [url('/ok', { digest: '00112233445566778899aabbccddeeff' })]));
    expect(bad.ok).toBe(false);
    expect(bad.detail).toContain(`MD5 digest ${md5}`);
    expect(await probeHttp(httpCheck(rs, [url('/nope')]))).toMatchObject({ ok: false, detail: 'HTTP status code 500 for /nope' });
    expect(await probeHttp(httpCheck(rs, [url('/moved')]))).toMatchObject({ ok: false });
    expect(await probeHttp(httpCheck(rs, [url('/moved', { statusCodes: [[301, 302]] })]))).toMatchObject({ ok: true });
    expect(await probeHttp(httpCheck(rs, [url('/ok', { regex: 'hel+o' })]))).toMatchObject({ ok: true });
    expect(await probeHttp(httpCheck(rs, [url('/ok', { regex: 'hel+o', regexNoMatch: true })]))).toMatchObject({ ok: false });
  });

  it('Host: the virtualhost, else ip:port with an IPv6 address in brackets (keepalived FMT_RS)', () => {
    expect(buildRequest(httpCheck({ address: '2001:db8::1', port: 80 }, [url('/')]), url('/'))).toContain('\r\nHost: [2001:db8::1]:80\r\n');
    expect(buildRequest(httpCheck({ address: '192.0.2.1', port: 8080 }, [url('/')]), url('/'))).toContain('\r\nHost: 192.0.2.1:8080\r\n');
    expect(buildRequest(httpCheck({ address: '2001:db8::1', port: 80 }, [url('/')], { virtualhost: 'www.example.test' }), url('/'))).toContain('\r\nHost: www.example.test\r\n');
  });

  it('every url must pass', async () => {
    expect(await probeHttp(httpCheck(rs, [url('/ok'), url('/moved', { statusCodes: [[301, 301]] })]))).toMatchObject({ ok: true });
    expect(await probeHttp(httpCheck(rs, [url('/ok'), url('/nope')]))).toMatchObject({ ok: false });
  });

  it('a server that does not answer fails with a timeout after connect_timeout', async () => {
    const r = await probeHttp(httpCheck(rs, [url('/slow')], { connectTimeoutMs: 300 }));
    expect(r).toMatchObject({ ok: false, timeout: true });
  });

  it('SSL_GET talks TLS (no certificate verification, as keepalived) and sends SNI when enable_sni', async () => {
    seen.length = 0;
    const srs = { address: H, port: P.https };
    expect(await probeHttp(httpCheck(srs, [url('/ok')], { ssl: true }))).toMatchObject({ ok: true });
    expect(seen[0].sni).toBe(false);
    expect(await probeHttp(httpCheck(srs, [url('/ok')], { ssl: true, virtualhost: 'www.example.test', enableSni: true }))).toMatchObject({ ok: true });
    expect(seen[1]).toMatchObject({ sni: 'www.example.test', host: 'www.example.test' });
    // plain HTTP to the TLS port is not an HTTP response
    expect((await probeHttp(httpCheck(srs, [url('/ok')], { connectTimeoutMs: 1000 }))).ok).toBe(false);
  });
});

describe('DNS_CHECK probe', () => {
  let dns: UdpSocket;
  let silent: UdpSocket;
  const queries: Array<{ name: string; type: number; rd: boolean }> = [];
  beforeAll(async () => {
    dns = createSocket('udp4');
    dns.on('message', (m, from) => {
      // parse QNAME / QTYPE (RFC 1035 §4.1.2)
      const labels: string[] = [];
      let o = 12;
      while (m[o]) {
        labels.push(m.subarray(o + 1, o + 1 + m[o]).toString());
        o += 1 + m[o];
      }
      const type = m.readUInt16BE(o + 1);
      const name = labels.join('.') || '.';
      queries.push({ name, type, rd: (m.readUInt16BE(2) & 0x0100) !== 0 });
      const reply = (id: number, rcode: number) => {
        const r = Buffer.from(m);
        r.writeUInt16BE(id, 0);
        r.writeUInt16BE(0x8180 | rcode, 2); // QR RD RA + rcode
        dns.send(r, from.port, from.address);
      };
      // a stray answer with another id first: the probe must ignore it
      reply((m.readUInt16BE(0) + 1) & 0xffff, 0);
      reply(m.readUInt16BE(0), name === 'example.test' || name === '.' ? 0 : 3);
    });
    silent = createSocket('udp4');
    silent.on('message', () => undefined);
    await new Promise<void>((r) => dns.bind(P.dns, H, r));
    await new Promise<void>((r) => silent.bind(P.dnsSilent, H, r));
  });
  afterAll(() => {
    dns.close();
    silent.close();
  });

  it('queries name/type with RD and succeeds on RCODE 0', async () => {
    expect(await probeDns(dnsCheck({ address: H, port: P.dns }, { type: 'A', name: 'example.test' }))).toEqual({ ok: true });
    expect(queries.at(-1)).toEqual({ name: 'example.test', type: 1, rd: true });
    // keepalived defaults: SOA of the root
    expect(await probeDns(dnsCheck({ address: H, port: P.dns }))).toEqual({ ok: true });
    expect(queries.at(-1)).toMatchObject({ name: '.', type: 6 });
  });

  it('fails on an error RCODE and on silence', async () => {
    expect(await probeDns(dnsCheck({ address: H, port: P.dns }, { type: 'AAAA', name: 'missing.test' }))).toMatchObject({ ok: false, detail: 'read error occurred. (rcode = 3)' });
    expect(queries.at(-1)?.type).toBe(28);
    expect(await probeDns(dnsCheck({ address: H, port: P.dnsSilent }, { connectTimeoutMs: 300 }))).toMatchObject({ ok: false, timeout: true });
  });

  it('an abort (engine stop, reload) settles a pending probe as aborted, not as a timeout', async () => {
    const ac = new AbortController();
    const pending = probeDns(dnsCheck({ address: H, port: P.dnsSilent }, { connectTimeoutMs: 60_000 }), ac.signal);
    ac.abort();
    expect(await pending).toEqual({ ok: false, detail: 'aborted' });
  });
});

describe('MISC_CHECK probe', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kwt-misc-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exit 0 = success, other exits fail; misc_dynamic accepts 2..255 and reports the code', async () => {
    expect(await probeMisc(miscCheck('/bin/sh -c "exit 0"'))).toMatchObject({ ok: true, exitCode: 0 });
    expect(await probeMisc(miscCheck('/bin/sh -c "exit 1"'))).toMatchObject({ ok: false, exitCode: 1 });
    expect(await probeMisc(miscCheck('/bin/sh -c "exit 7"'))).toMatchObject({ ok: false, exitCode: 7 });
    expect(await probeMisc(miscCheck('/bin/sh -c "exit 7"', { dynamic: true }))).toMatchObject({ ok: true, exitCode: 7 });
    expect(await probeMisc(miscCheck('/bin/sh -c "exit 1"', { dynamic: true }))).toMatchObject({ ok: false, exitCode: 1 });
  });

  it('misc_timeout kills a hanging script and fails', async () => {
    const r = await probeMisc(miscCheck('/bin/sleep 30', { timeoutMs: 300 }));
    expect(r).toMatchObject({ ok: false, timeout: true });
  });

  it('runs as the configured user', async () => {
    const out = join(dir, 'uid');
    writeFileSync(out, '');
    execFileSync('chmod', ['0777', dir, out]);
    expect(await probeMisc(miscCheck(`/bin/sh -c "id -u > ${out}"`, { user: 'nobody' }))).toMatchObject({ ok: true });
    expect(readFileSync(out, 'utf8').trim()).toBe(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
    expect(await probeMisc(miscCheck('/bin/true', { user: 'no-such-user-kwt' }))).toMatchObject({ ok: false });
  });
});

describe('engine with real probes', () => {
  it('a real server whose listener goes away is taken down and returns when it listens again', async () => {
    const journal = new Journal();
    const events: JournalEvent[] = [];
    journal.subscribe((e) => events.push(e));
    const timing = { delayLoopMs: 100, delayBeforeRetryMs: 50, warmupMs: 0, retry: 1, connectTimeoutMs: 500 };
    const vs = virtualServer({ address: '192.0.2.10', port: 80 }, { realServers: [realServer(H, P.engine, { checkers: [tcpCheck({ address: H, port: P.engine }, timing)] })] });
    const serve = () =>
      createTcp((s) => {
        s.on('error', () => undefined);
        s.end();
      });
    let srv = serve();
    await listen(srv, P.engine);
    const engine = new HealthEngine({ journal });
    engine.load([vs]);
    engine.start();
    try {
      const alive = () => engine.health(vs).realServers.get(`${H}:${P.engine}`)?.alive;
      await waitFor(() => events.some((e) => e.type === 'checker.result' && e.result === 'success'), 'a successful check');
      expect(alive()).toBe(true);
      await close(srv);
      await waitFor(() => alive() === false, 'the real server to go down');
      const down = events.find((e) => e.type === 'realserver.state');
      expect(down).toMatchObject({ up: false, realServer: `${H}:${P.engine}` });
      srv = serve();
      await listen(srv, P.engine);
      await waitFor(() => alive() === true, 'the real server to come back');
      expect(events.filter((e) => e.type === 'realserver.state').map((e) => (e as { up: boolean }).up)).toEqual([false, true]);
    } finally {
      engine.stop();
      await close(srv);
    }
  });
});
