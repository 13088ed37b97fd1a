/**
 * `--web.config.file`: the Prometheus exporter-toolkit web configuration
 * (prometheus/exporter-toolkit docs/web-configuration.md), so the TLS / basic-auth file an
 * operator already uses for node_exporter or mehdy/keepalived-exporter works unchanged:
 *
 *   tls_server_config:
 *     cert_file: server.crt          # relative paths: relative to the config file
 *     key_file: server.key
 *     client_auth_type: RequireAndVerifyClientCert
 *     client_ca_file: ca.crt
 *     min_version: TLS12
 *   http_server_config:
 *     headers: { X-Frame-Options: deny }
 *   basic_auth_users:
 *     prometheus: $2y$10$…              # bcrypt hashes
 *
 * Unknown keys are errors, as in exporter-toolkit (yaml.UnmarshalStrict).
 *
 * No YAML library is installed; the file format is small, so this module carries a
 * parser for the YAML subset such files use: block mappings and sequences by
 * indentation, plain/single/double-quoted scalars, flow sequences/mappings of scalars
 * (`[a, b]`, `{k: v}`), literal/folded block scalars (inline `cert: |`), comments and a
 * leading `---`. Anything else is reported with FILE:LINE.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

export type YamlValue = string | number | boolean | null | YamlValue[] | { [k: string]: YamlValue };

export class WebConfigError extends Error {}

interface Line {
  indent: number;
  text: string;
  no: number;
  raw: string;
}

function stripComment(s: string): string {
  let q: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (q) {
      if (c === q) {
        if (q === "'" && s[i + 1] === "'") i++;
        else q = null;
      } else if (c === '\\' && q === '"') i++;
    } else if (c === '"' || c === "'") {
      if (i === 0 || /[\s:[{,-]/.test(s[i - 1])) q = c;
    } else if (c === '#' && (i === 0 || /\s/.test(s[i - 1]))) return s.slice(0, i);
  }
  return s;
}

/** Parse the YAML subset described in the module comment. */
export function parseYaml(text: string, file = 'web config'): YamlValue {
  const err = (no: number, msg: string) => new WebConfigError(`${file}:${no}: ${msg}`);
  const rawLines = text.replace(/\r\n?/g, '\n').split('\n');
  const lines: Line[] = [];
  for (let i = 0; i < rawLines.length; i++) {
    const raw = rawLines[i];
    const lead = /^[ \t]*/.exec(raw)![0];
    if (lead.includes('\t') && raw.trim() !== '') throw err(i + 1, 'tab characters are not allowed in indentation');
    const body = stripComment(raw).replace(/\s+$/, '');
    if (body.trim() === '') {
      lines.push({ indent: -1, text: '', no: i + 1, raw });
      continue;
    }
    if (lines.every((l) => l.indent < 0) && body.trim() === '---') {
      lines.push({ indent: -1, text: '', no: i + 1, raw });
      continue;
    }
    if (body.trim() === '...' || body.trim() === '---') throw err(i + 1, 'multiple YAML documents are not supported');
    lines.push({ indent: lead.length, text: body.slice(lead.length), no: i + 1, raw });
  }
  let pos = 0;
  const skipBlank = () => {
    while (pos < lines.length && lines[pos].indent < 0) pos++;
  };

  const scalar = (s: string, no: number): YamlValue => {
    s = s.trim();
    if (s === '') return null;
    if (s.startsWith('"')) {
      if (!s.endsWith('"') || s.length < 2) throw err(no, 'unterminated double-quoted string');
      try {
        return JSON.parse(s) as string;
      } catch {
        throw err(no, `bad double-quoted string ${s}`);
      }
    }
    if (s.startsWith("'")) {
      if (!s.endsWith("'") || s.length < 2) throw err(no, 'unterminated single-quoted string');
      return s.slice(1, -1).replace(/''/g, "'");
    }
    if (s.startsWith('[') || s.startsWith('{')) return flow(s, no);
    if (/^[&*!|>%@`]/.test(s)) throw err(no, `unsupported YAML syntax: ${s}`);
    if (s === 'true' || s === 'True' || s === 'TRUE') return true;
    if (s === 'false' || s === 'False' || s === 'FALSE') return false;
    if (s === 'null' || s === '~' || s === 'Null' || s === 'NULL') return null;
    if (/^[-+]?\d+$/.test(s)) return Number(s);
    return s;
  };

  /** flow collections of scalars: [a, "b", c] and {k: v, k2: v2} (one level) */
  const flow = (s: string, no: number): YamlValue => {
    const open = s[0];
    const close = open === '[' ? ']' : '}';
    if (!s.endsWith(close)) throw err(no, `unterminated flow collection ${s}`);
    const inner = s.slice(1, -1).trim();
    const items: string[] = [];
    let cur = '';
    let q: string | null = null;
    for (let i = 0; i < inner.length; i++) {
      const c = inner[i];
      if (q) {
        cur += c;
        if (c === q) q = null;
      } else if (c === '"' || c === "'") {
        q = c;
        cur += c;
      } else if (c === '[' || c === '{') throw err(no, 'nested flow collections are not supported');
      else if (c === ',') {
        items.push(cur);
        cur = '';
      } else cur += c;
    }
    if (cur.trim() !== '') items.push(cur);
    if (open === '[') return items.map((x) => scalar(x, no));
    const o: Record<string, YamlValue> = {};
    for (const it of items) {
      const m = /^\s*("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^:]+?)\s*:(?:\s+(.*))?$/.exec(it);
      if (!m) throw err(no, `bad flow mapping entry ${it.trim()}`);
      o[String(scalar(m[1], no))] = scalar(m[2] ?? '', no);
    }
    return o;
  };

  const blockScalar = (indicator: string, parentIndent: number): string => {
    const folded = indicator.startsWith('>');
    const chomp = indicator.includes('-') ? 'strip' : indicator.includes('+') ? 'keep' : 'clip';
    const body: string[] = [];
    let ind = -1;
    while (pos < lines.length) {
      const l = lines[pos];
      if (l.indent >= 0 && l.indent <= parentIndent) break;
      const rawIndent = /^ */.exec(l.raw)![0].length;
      if (l.indent < 0 && l.raw.trim() === '') {
        body.push('');
        pos++;
        continue;
      }
      if (ind < 0) ind = rawIndent;
      if (rawIndent < ind) break;
      body.push(l.raw.slice(ind));
      pos++;
    }
    while (chomp !== 'keep' && body.length && body[body.length - 1] === '') body.pop();
    let s = folded ? body.join(' ').replace(/ ?\n ?/g, '\n') : body.join('\n');
    if (chomp !== 'strip' && body.length) s += '\n';
    return s;
  };

  const parseBlock = (indent: number): YamlValue => {
    skipBlank();
    if (pos >= lines.length) return null;
    const first = lines[pos];
    if (first.text === '-' || first.text.startsWith('- ')) return parseSeq(first.indent);
    return parseMap(indent);
  };

  const valueAfterKey = (rest: string, l: Line): YamlValue => {
    if (rest === '') {
      skipBlank();
      const next = lines[pos];
      if (next && next.indent > l.indent) return parseBlock(next.indent);
      if (next && next.indent === l.indent && (next.text === '-' || next.text.startsWith('- '))) return parseSeq(next.indent);
      return null;
    }
    if (/^[|>][-+]?$/.test(rest)) return blockScalar(rest, l.indent);
    return scalar(rest, l.no);
  };

  const parseMap = (indent: number): YamlValue => {
    const o: Record<string, YamlValue> = {};
    while (true) {
      skipBlank();
      if (pos >= lines.length) break;
      const l = lines[pos];
      if (l.indent < indent) break;
      if (l.indent > indent) throw err(l.no, 'unexpected indentation');
      if (l.text === '-' || l.text.startsWith('- ')) break;
      const m = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^:'"][^:]*?)\s*:(?:\s+(.*)|$)/.exec(l.text);
      if (!m) throw err(l.no, `expected "key: value", got ${l.text}`);
      const key = String(scalar(m[1], l.no));
      if (key in o) throw err(l.no, `duplicate key ${key}`);
      pos++;
      o[key] = valueAfterKey((m[2] ?? '').trim(), l);
    }
    return o;
  };

  const parseSeq = (indent: number): YamlValue => {
    const a: YamlValue[] = [];
    while (true) {
      skipBlank();
      if (pos >= lines.length) break;
      const l = lines[pos];
      if (l.indent !== indent || !(l.text === '-' || l.text.startsWith('- '))) {
        if (l.indent > indent) throw err(l.no, 'unexpected indentation');
        break;
      }
      pos++;
      const rest = l.text.slice(1).trim();
      if (rest === '') {
        skipBlank();
        const next = lines[pos];
        a.push(next && next.indent > indent ? parseBlock(next.indent) : null);
      } else if (/^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^:'"[{][^:]*?)\s*:(\s|$)/.test(rest)) throw err(l.no, 'mappings inside sequences are not supported');
      else a.push(scalar(rest, l.no));
    }
    return a;
  };

  skipBlank();
  if (pos >= lines.length) return null;
  const root = parseBlock(lines[pos].indent);
  skipBlank();
  if (pos < lines.length) throw err(lines[pos].no, 'unexpected content');
  return root;
}

// ------------------------------------------------------------------ the web config

export type ClientAuthType = 'NoClientCert' | 'RequestClientCert' | 'RequireAnyClientCert' | 'VerifyClientCertIfGiven' | 'RequireAndVerifyClientCert';
const CLIENT_AUTH: ClientAuthType[] = ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'];
const TLS_VERSIONS: Record<string, 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'> = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' };
/** Go crypto/tls cipher suite names → OpenSSL names (TLS 1.0–1.2; TLS 1.3 suites are not configurable in Go either). */
const CIPHERS: Record<string, string> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
};
const CURVES: Record<string, string> = { CurveP256: 'P-256', CurveP384: 'P-384', CurveP521: 'P-521', X25519: 'X25519' };
/** exporter-toolkit only lets these response headers be set */
const HEADERS = ['Content-Security-Policy', 'X-Frame-Options', 'X-Content-Type-Options', 'X-XSS-Protection', 'Strict-Transport-Security'];

export interface TlsConfig {
  cert: string;
  key: string;
  ca?: string;
  clientAuthType: ClientAuthType;
  clientAllowedSans?: string[];
  minVersion: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  ciphers?: string;
  honorCipherOrder?: boolean;
  ecdhCurve?: string;
}

export interface WebConfig {
  tls?: TlsConfig;
  /** user → bcrypt hash */
  basicAuthUsers: Record<string, string>;
  headers: Record<string, string>;
}

/**
 * Validate a parsed web config; `baseDir` resolves relative file names (exporter-toolkit
 * resolves them against the config file's directory); `readFile` is injectable for tests.
 */
export function webConfigFromYaml(doc: YamlValue, file: string, baseDir: string, readFile: (p: string) => string = (p) => readFileSync(p, 'utf8')): WebConfig {
  const fail = (msg: string) => new WebConfigError(`${file}: ${msg}`);
  const obj = (v: YamlValue, where: string): Record<string, YamlValue> => {
    if (v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) throw fail(`${where} must be a mapping`);
    return v;
  };
  const str = (v: YamlValue, where: string): string => {
    if (typeof v !== 'string' || v === '') throw fail(`${where} must be a non-empty string`);
    return v;
  };
  const strList = (v: YamlValue, where: string): string[] => {
    if (v === null) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw fail(`${where} must be a list of strings`);
    return v as string[];
  };
  const known = (o: Record<string, YamlValue>, keys: string[], where: string) => {
    for (const k of Object.keys(o)) if (!keys.includes(k)) throw fail(`unknown field ${JSON.stringify(k)} in ${where}`);
  };
  const readRel = (p: string, what: string): string => {
    const full = path.isAbsolute(p) ? p : path.join(baseDir, p);
    try {
      return readFile(full);
    } catch (e) {
      throw fail(`cannot read ${what} ${full}: ${(e as Error).message}`);
    }
  };

  const root = obj(doc, 'the top level');
  known(root, ['tls_server_config', 'http_server_config', 'basic_auth_users'], 'the top level');
  const out: WebConfig = { basicAuthUsers: {}, headers: {} };

  if (root.tls_server_config !== undefined && root.tls_server_config !== null) {
    const t = obj(root.tls_server_config, 'tls_server_config');
    known(
      t,
      ['cert_file', 'key_file', 'cert', 'key', 'client_auth_type', 'client_ca_file', 'client_ca', 'client_allowed_sans', 'min_version', 'max_version', 'cipher_suites', 'curve_preferences', 'prefer_server_cipher_suites'],
      'tls_server_config',
    );
    const cert = t.cert !== undefined ? str(t.cert, 'tls_server_config.cert') : t.cert_file !== undefined ? readRel(str(t.cert_file, 'tls_server_config.cert_file'), 'cert_file') : undefined;
    const key = t.key !== undefined ? str(t.key, 'tls_server_config.key') : t.key_file !== undefined ? readRel(str(t.key_file, 'tls_server_config.key_file'), 'key_file') : undefined;
    if (!cert) throw fail('tls_server_config: missing cert_file');
    if (!key) throw fail('tls_server_config: missing key_file');
    const cat = t.client_auth_type ?? 'NoClientCert';
    if (typeof cat !== 'string' || !CLIENT_AUTH.includes(cat as ClientAuthType)) throw fail(`invalid client_auth_type ${JSON.stringify(cat)}`);
    const ca = t.client_ca !== undefined ? str(t.client_ca, 'tls_server_config.client_ca') : t.client_ca_file !== undefined ? readRel(str(t.client_ca_file, 'tls_server_config.client_ca_file'), 'client_ca_file') : undefined;
    if ((cat === 'VerifyClientCertIfGiven' || cat === 'RequireAndVerifyClientCert') && !ca) throw fail(`client_auth_type ${cat} needs client_ca_file`);
    const minV = t.min_version ?? 'TLS12';
    const maxV = t.max_version;
    if (typeof minV !== 'string' || !TLS_VERSIONS[minV]) throw fail(`unknown TLS version ${JSON.stringify(minV)}`);
    if (maxV !== undefined && maxV !== null && (typeof maxV !== 'string' || !TLS_VERSIONS[maxV])) throw fail(`unknown TLS version ${JSON.stringify(maxV)}`);
    const tls: TlsConfig = { cert, key, ca, clientAuthType: cat as ClientAuthType, minVersion: TLS_VERSIONS[minV] };
    if (typeof maxV === 'string') tls.maxVersion = TLS_VERSIONS[maxV];
    const sans = strList(t.client_allowed_sans ?? null, 'client_allowed_sans');
    if (sans.length) tls.clientAllowedSans = sans;
    const ciphers = strList(t.cipher_suites ?? null, 'cipher_suites');
    if (ciphers.length)
      tls.ciphers = ciphers
        .map((c) => {
          const o = CIPHERS[c];
          if (!o) throw fail(`unknown cipher suite ${c}`);
          return o;
        })
        .join(':');
    const curves = strList(t.curve_preferences ?? null, 'curve_preferences');
    if (curves.length)
      tls.ecdhCurve = curves
        .map((c) => {
          const o = CURVES[c];
          if (!o) throw fail(`unknown curve ${c}`);
          return o;
        })
        .join(':');
    if (t.prefer_server_cipher_suites !== undefined) tls.honorCipherOrder = t.prefer_server_cipher_suites === true;
    out.tls = tls;
  }

  if (root.http_server_config !== undefined && root.http_server_config !== null) {
    const h = obj(root.http_server_config, 'http_server_config');
    known(h, ['http2', 'headers'], 'http_server_config');
    const hdrs = obj(h.headers ?? null, 'http_server_config.headers');
    for (const [k, v] of Object.entries(hdrs)) {
      const canon = HEADERS.find((x) => x.toLowerCase() === k.toLowerCase());
      if (!canon) throw fail(`header ${k} is not allowed (allowed: ${HEADERS.join(', ')})`);
      out.headers[canon] = str(v, `header ${k}`);
    }
  }

  if (root.basic_auth_users !== undefined && root.basic_auth_users !== null) {
    const u = obj(root.basic_auth_users, 'basic_auth_users');
    for (const [user, hash] of Object.entries(u)) {
      const h = str(hash, `basic_auth_users.${user}`);
      if (!/^\$2[aby]?\$\d\d\$[./A-Za-z0-9]{53}$/.test(h)) throw fail(`basic_auth_users.${user}: not a bcrypt hash`);
      out.basicAuthUsers[user] = h;
    }
  }
  return out;
}

export function loadWebConfig(file: string): WebConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new WebConfigError(`${file}: ${(e as Error).message}`);
  }
  return webConfigFromYaml(parseYaml(text, file), file, path.dirname(path.resolve(file)));
}
