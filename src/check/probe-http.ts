/**
 * HTTP_GET / SSL_GET (keepalived check/check_http.c, check_ssl.c).
 *
 * For each `url` in order, on a fresh connection: send keepalived's request
 *
 *   GET <path> HTTP/1.0|1.1\r\n
 *   User-Agent: KeepAliveClient\r\n
 *   [Connection: close\r\n]            (http_protocol 1.0C and 1.1)
 *   Host: <virtualhost> | <ip>:<port>\r\n\r\n
 *
 * read the response until the server closes (or Content-Length is complete), then check
 * the status code (default 200-299), the MD5 digest of the body (as genhash computes it:
 * the raw bytes after the header block) and the optional regex. All URLs must pass.
 * connect_timeout bounds the connect and every wait for data, as keepalived uses it.
 * SSL_GET: certificates are not verified (keepalived's SSL_CTX has SSL_VERIFY_NONE);
 * enable_sni sends the virtualhost as SNI.
 *
 * Difference from keepalived, on purpose: keepalived checks one URL per delay_loop while
 * recovering; here a check is all URLs at once, so recovery is not N delay_loops slow.
 */
import { createHash } from 'node:crypto';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { hostPort } from '../lvs/addr';
import type { HttpCheckSpec, ProbeOutcome, UrlSpec } from './types';

const MAX_RESPONSE = 8 * 1024 * 1024;

export function buildRequest(spec: HttpCheckSpec, url: UrlSpec): string {
  const vhost = url.virtualhost ?? spec.virtualhost;
  const host = vhost ?? hostPort(spec.connectIp, spec.connectPort);
  const minor = spec.httpProtocol === '1.1' ? 1 : 0;
  const close = spec.httpProtocol === '1.0' ? '' : 'Connection: close\r\n';
  return `GET ${url.path} HTTP/1.${minor}\r\nUser-Agent: KeepAliveClient\r\n${close}Host: ${host}\r\n\r\n`;
}

export interface HttpResponse {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

/** Split a raw response; null when there is no complete status line + header block. */
export function parseResponse(raw: Buffer): HttpResponse | null {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const head = raw.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/\d+\.\d+\s+(\d{3})/.exec(head[0] ?? '');
  if (!m) return null;
  const headers = new Map<string, string>();
  for (const l of head.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
  }
  return { status: Number(m[1]), headers, body: raw.subarray(end + 4) };
}

function readFileMaybe(path: string | undefined): Buffer | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

function exchange(spec: HttpCheckSpec, url: UrlSpec, signal?: AbortSignal): Promise<{ raw: Buffer } | ProbeOutcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    let sock: Socket;
    const finish = (r: { raw: Buffer } | ProbeOutcome) => {
      if (done) return;
      done = true;
      signal?.removeEventListener('abort', onAbort);
      sock.on('error', () => undefined);
      sock.destroy();
      resolve(r);
    };
    const onAbort = () => finish({ ok: false, detail: 'aborted' });
    const base = {
      host: spec.connectIp,
      port: spec.connectPort,
      ...(spec.bindto ? { localAddress: spec.bindto } : {}),
      ...(spec.bindPort ? { localPort: spec.bindPort } : {}),
    };
    const vhost = url.virtualhost ?? spec.virtualhost;
    const request = buildRequest(spec, url);
    try {
      if (spec.kind === 'SSL_GET') {
        sock = tlsConnect({
          ...base,
          rejectUnauthorized: false,
          ...(spec.enableSni && vhost && !isIP(vhost) ? { servername: vhost } : {}),
          ca: readFileMaybe(spec.tls?.ca),
          cert: readFileMaybe(spec.tls?.certificate),
          key: readFileMaybe(spec.tls?.key),
          ...(spec.tls?.password ? { passphrase: spec.tls.password } : {}),
        });
        sock.once('secureConnect', () => sock.write(request));
      } else {
        sock = netConnect(base);
        sock.once('connect', () => sock.write(request));
      }
    } catch (e) {
      resolve({ ok: false, detail: e instanceof Error ? e.message : String(e) });
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    sock.setTimeout(spec.connectTimeoutMs, () => finish({ ok: false, timeout: true, detail: size ? 'timeout reading response' : 'timeout connecting or waiting for a response' }));
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      size += d.length;
      if (size > MAX_RESPONSE) return finish({ ok: false, detail: 'response too large' });
      // Content-Length known and complete: no need to wait for the close
      const raw = Buffer.concat(chunks);
      const r = parseResponse(raw);
      const cl = r?.headers.get('content-length');
      if (r && cl !== undefined && /^\d+$/.test(cl) && r.body.length >= Number(cl)) finish({ raw });
    });
    sock.once('end', () => finish({ raw: Buffer.concat(chunks) }));
    sock.once('error', (e: NodeJS.ErrnoException) => finish({ ok: false, detail: e.code ?? e.message }));
  });
}

/** Judge one response against a url block (keepalived http_handle_response order). */
export function judge(url: UrlSpec, raw: Buffer): ProbeOutcome {
  if (raw.length === 0) return { ok: false, detail: `no data received for ${url.path}` };
  const r = parseResponse(raw);
  if (!r) return { ok: false, detail: `malformed HTTP response for ${url.path}` };
  const ranges = url.statusCodes.length ? url.statusCodes : [[200, 299] as [number, number]];
  if (!ranges.some(([lo, hi]) => r.status >= lo && r.status <= hi)) return { ok: false, detail: `HTTP status code ${r.status} for ${url.path}` };
  if (url.digest) {
    const md5 = createHash('md5').update(r.body).digest('hex');
    if (md5 !== url.digest.toLowerCase()) return { ok: false, detail: `MD5 digest ${md5} != ${url.digest} for ${url.path}` };
  }
  if (url.regex !== undefined) {
    let matched: boolean;
    try {
      matched = new RegExp(url.regex).test(r.body.toString('latin1'));
    } catch (e) {
      return { ok: false, detail: `bad regex: ${e instanceof Error ? e.message : String(e)}` };
    }
    if (matched === !!url.regexNoMatch) return { ok: false, detail: `regex ${url.regexNoMatch ? 'matched' : 'did not match'} for ${url.path}` };
  }
  return { ok: true, detail: `HTTP ${r.status} ${url.path}` };
}

export async function probeHttp(spec: HttpCheckSpec, signal?: AbortSignal): Promise<ProbeOutcome> {
  // keepalived http_connect_thread: no url = the server is considered up without checking
  if (spec.urls.length === 0) return { ok: true, detail: 'no url configured' };
  let last: ProbeOutcome = { ok: true };
  for (const url of spec.urls) {
    const r = await exchange(spec, url, signal);
    last = 'raw' in r ? judge(url, r.raw) : r;
    if (!last.ok) return last;
  }
  return last;
}
