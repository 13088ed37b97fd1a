import { describe, expect, it } from 'vitest';
import { parseListenAddress } from '../../src/http/server';
import { parseYaml, WebConfigError, webConfigFromYaml } from '../../src/http/web-config';

const HASH = '$2y$10$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG';

describe('YAML subset', () => {
  it('parses the exporter-toolkit example', () => {
    const doc = parseYaml(
      [
        '---',
        '# comment',
        'tls_server_config:',
        '  cert_file: server.crt   # trailing comment',
        '  key_file: "server.key"',
        "  client_auth_type: 'RequireAndVerifyClientCert'",
        '  cipher_suites:',
        '  - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
        '  - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
        '  curve_preferences: [CurveP256, X25519]',
        '  prefer_server_cipher_suites: true',
        'http_server_config:',
        '  headers: {X-Frame-Options: deny, "X-Content-Type-Options": nosniff}',
        'basic_auth_users:',
        `  prometheus: ${HASH}`,
        `  'with space': "${HASH}"`,
        '',
      ].join('\n'),
    );
    expect(doc).toEqual({
      tls_server_config: {
        cert_file: 'server.crt',
        key_file: 'server.key',
        client_auth_type: 'RequireAndVerifyClientCert',
        cipher_suites: ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384'],
        curve_preferences: ['CurveP256', 'X25519'],
        prefer_server_cipher_suites: true,
      },
      http_server_config: { headers: { 'X-Frame-Options': 'deny', 'X-Content-Type-Options': 'nosniff' } },
      basic_auth_users: { prometheus: HASH, 'with space': HASH },
    });
  });

  it('block scalars for inline PEM, nested sequences, hash signs inside values', () => {
    const doc = parseYaml('a:\n  cert: |\n    -----BEGIN X-----\n    abc#def\n\n    -----END X-----\n  b: x#y\nlist:\n    - "q # not a comment"\n    - 3\n');
    expect(doc).toEqual({ a: { cert: '-----BEGIN X-----\nabc#def\n\n-----END X-----\n', b: 'x#y' }, list: ['q # not a comment', 3] });
    expect(parseYaml('k: >-\n  one\n  two\n')).toEqual({ k: 'one two' });
    expect(parseYaml('')).toBeNull();
    expect(parseYaml('a:\nb: ~\n')).toEqual({ a: null, b: null });
  });

  it('reports errors with FILE:LINE', () => {
    const bad: [string, RegExp][] = [
      ['a: 1\n  b: 2\n', /web.yml:2: unexpected indentation/],
      ['a:\n\tb: 1\n', /web.yml:2: tab/],
      ['a: 1\na: 2\n', /web.yml:2: duplicate key a/],
      ['just text\n', /web.yml:1: expected "key: value"/],
      ['a: "unterminated\n', /web.yml:1: unterminated/],
      ['a: &anchor x\n', /web.yml:1: unsupported YAML syntax/],
      ['a: [x, [y]]\n', /web.yml:1: nested flow/],
      ['- a: 1\n', /web.yml:1: mappings inside sequences/],
      ['a: 1\n---\nb: 2\n', /web.yml:2: multiple YAML documents/],
    ];
    for (const [text, re] of bad) expect(() => parseYaml(text, 'web.yml'), text).toThrow(re);
  });
});

describe('web config validation', () => {
  const files: Record<string, string> = { '/etc/kw/server.crt': 'CERT', '/etc/kw/server.key': 'KEY', '/etc/kw/ca.crt': 'CA', '/abs/other.crt': 'OTHER' };
  const read = (p: string) => {
    if (!(p in files)) throw new Error('ENOENT');
    return files[p];
  };
  const load = (yaml: string) => webConfigFromYaml(parseYaml(yaml, 'web.yml'), 'web.yml', '/etc/kw', read);

  it('maps TLS settings to Node options, relative paths from the config directory', () => {
    const c = load(
      'tls_server_config:\n  cert_file: /abs/other.crt\n  key_file: server.key\n  client_ca_file: ca.crt\n  client_auth_type: VerifyClientCertIfGiven\n  min_version: TLS13\n  cipher_suites: [TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256]\n  curve_preferences: [CurveP384]\n  client_allowed_sans: [scraper.example]\n',
    );
    expect(c.tls).toEqual({
      cert: 'OTHER',
      key: 'KEY',
      ca: 'CA',
      clientAuthType: 'VerifyClientCertIfGiven',
      minVersion: 'TLSv1.3',
      ciphers: 'ECDHE-RSA-CHACHA20-POLY1305',
      ecdhCurve: 'P-384',
      clientAllowedSans: ['scraper.example'],
    });
    expect(load('tls_server_config:\n  cert: PEMC\n  key: PEMK\n').tls).toMatchObject({ cert: 'PEMC', key: 'PEMK', clientAuthType: 'NoClientCert', minVersion: 'TLSv1.2' });
  });

  it('basic auth users and allowed headers', () => {
    const c = load(`basic_auth_users:\n  alice: ${HASH}\nhttp_server_config:\n  http2: false\n  headers:\n    x-frame-options: deny\n`);
    expect(c.basicAuthUsers).toEqual({ alice: HASH });
    expect(c.headers).toEqual({ 'X-Frame-Options': 'deny' });
    expect(load('').basicAuthUsers).toEqual({});
  });

  it('rejects what exporter-toolkit rejects', () => {
    const bad: [string, RegExp][] = [
      ['tls_config:\n  cert_file: x\n', /unknown field "tls_config"/],
      ['tls_server_config:\n  cert_file: server.crt\n  keyfile: server.key\n', /unknown field "keyfile"/],
      ['tls_server_config:\n  cert_file: server.crt\n', /missing key_file/],
      ['tls_server_config:\n  cert_file: missing.crt\n  key_file: server.key\n', /cannot read cert_file \/etc\/kw\/missing.crt/],
      ['tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n', /needs client_ca_file/],
      ['tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: Maybe\n', /invalid client_auth_type/],
      ['tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS14\n', /unknown TLS version/],
      ['tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  cipher_suites: [TLS_NULL]\n', /unknown cipher suite TLS_NULL/],
      ['basic_auth_users:\n  bob: plaintext\n', /bob: not a bcrypt hash/],
      ['http_server_config:\n  headers:\n    Set-Cookie: a=b\n', /header Set-Cookie is not allowed/],
      ['basic_auth_users: [a, b]\n', /basic_auth_users must be a mapping/],
    ];
    for (const [y, re] of bad) {
      expect(() => load(y), y).toThrow(WebConfigError);
      expect(() => load(y), y).toThrow(re);
    }
  });
});

describe('listen address', () => {
  it('parses keepalived-exporter style addresses', () => {
    expect(parseListenAddress(':9165')).toEqual({ host: undefined, port: 9165 });
    expect(parseListenAddress('127.0.0.1:19100')).toEqual({ host: '127.0.0.1', port: 19100 });
    expect(parseListenAddress('[::1]:19100')).toEqual({ host: '::1', port: 19100 });
    expect(parseListenAddress('localhost:80')).toEqual({ host: 'localhost', port: 80 });
    expect(() => parseListenAddress('9165')).toThrow(/invalid listen address/);
    expect(() => parseListenAddress(':99999')).toThrow(/invalid port/);
    expect(() => parseListenAddress('::1:80')).toThrow(/invalid listen address/);
  });
});
