/**
 * Stray braces and the other places where keepalived 2.2.7's dispatcher
 * (lib/parser.c process_stream / alloc_value_block) decides block structure
 * from its keyword tables and the flat line stream, not from brace pairs.
 * The expected diagnostics are the ones /usr/sbin/keepalived 2.2.7 -t printed
 * for the same text (test/fixtures/configs/invalid/brace-stray-*.conf check
 * the verdicts against the binary in test/interop/config-parity.test.ts).
 */
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { load } from './config-model-host';
import { parseConfigText } from '../../src/config/parse';
import { loadConfig } from '../../src/config/load';

/** "LINE: message" of every reported (non-log) diagnostic, in order */
const reported = (r: ReturnType<typeof load>): string[] => r.diagnostics.filter((d) => d.code !== 'LOG').map((d) => `${d.line}: ${d.message}`);

const SCRIPT = 'vrrp_script chk {\n    script "/bin/true"\n}\n';

describe('the lexer keeps the line stream keepalived dispatches', () => {
  it('braces stay where read_line() put them, also the ones the tree drops', () => {
    const r = parseConfigText('a { {\n  b\n}\nc\n}\n}\n', { file: 'k.conf', configId: 'kt' });
    expect(r.lines.map((l) => `${l.line}:${l.tokens.join(' ')}`)).toEqual(['1:a', '1:{', '1:{', '2:b', '3:}', '4:c', '5:}', '6:}']);
    // keyword lines carry the processed text for script keywords
    expect(r.lines[0]).toEqual({ tokens: ['a'], file: 'k.conf', line: 1, raw: 'a' });
    // the tree pairs the second `{` with the first `}` and drops the last `}`
    expect(r.diagnostics.map((d) => `${d.line}: ${d.message}`)).toEqual(["1: Unexpected '{' - ignoring", "6: Extra '}' found"]);
  });
});

describe("a stray '{' is ignored and the next '}' ends the keyword block (keepalived 2.2.7)", () => {
  it('`vrrp_instance X { {`: what follows the first `}` is at the top level', () => {
    const text = 'vrrp_instance VI_1 { {\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {\n        192.0.2.10/24\n    }\n}\n' + SCRIPT + '}\n';
    const r = load(text);
    expect(reported(r)).toEqual(["1: Unexpected '{' - ignoring", "11: Unknown keyword '}'", '0: SECURITY VIOLATION - scripts are being executed but script_security not enabled.']);
    expect(r.exitCode).toBe(6);
    expect(r.config!.scripts.map((s) => s.name)).toEqual(['chk']);
    expect(r.config!.instances[0].virtualIpaddresses.map((v) => v.address)).toEqual(['192.0.2.10']);
  });

  it('`{` alone on a line after a block: its `}` ends the instance, the rest is read at the top level', () => {
    const text = 'vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {\n        192.0.2.10/24\n    }\n    {\n    nopreempt\n    }\n    priority 50\n}\n';
    const r = load(text);
    expect(reported(r)).toEqual(["7: Unexpected '{' - ignoring", "10: Unknown keyword 'priority'", "11: Unknown keyword '}'"]);
    expect(r.exitCode).toBe(5);
    // nopreempt was read inside the instance, priority was not
    expect(r.config!.instances[0]).toMatchObject({ nopreempt: true, priority: 100 });
  });

  it('`{` after a keyword that takes no block: the `}` that follows ends the instance', () => {
    const text = 'vrrp_instance VI_1 {\n    interface eth0 {\n    virtual_router_id 51\n    }\n    virtual_ipaddress {\n        192.0.2.10/24\n    }\n}\n';
    const r = load(text);
    expect(reported(r)).toEqual([
      "2: Unexpected '{' - ignoring",
      "5: Unknown keyword 'virtual_ipaddress'",
      "5: Unexpected '{' - ignoring",
      "6: Unknown keyword '192.0.2.10/24'",
      "7: Unknown keyword '}'",
      "8: Unknown keyword '}'",
      '1: (VI_1) No VIP specified; at least one is sensible',
    ]);
    expect(r.config!.instances[0].virtualIpaddresses).toEqual([]);
  });

  it("`}}`: the extra '}' ends the enclosing block early", () => {
    const text = 'vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {\n        192.0.2.10/24\n    }}\n    priority 50\n}\n';
    const r = load(text);
    // (lexical diagnostics come first here; keepalived prints them as it reads)
    expect(reported(r)).toEqual(["8: Extra '}' found", "7: Unknown keyword 'priority'", "8: Unknown keyword '}'"]);
    expect(r.exitCode).toBe(5);
  });

  it("a block opened without '{' is ended by the '}' read_line() counts as extra", () => {
    const r = load('vrrp_instance VI_1\n    interface eth0\n    virtual_router_id 51\n}\n' + SCRIPT);
    expect(reported(r)).toEqual([
      "4: Extra '}' found",
      "2: Unknown keyword 'interface'",
      "3: Unknown keyword 'virtual_router_id'",
      "4: Unknown keyword '}'",
      "2: Missing '{' at beginning of configuration block",
      '0: SECURITY VIOLATION - scripts are being executed but script_security not enabled.',
      '1: (VI_1) No VIP specified; at least one is sensible',
    ]);
    expect(r.exitCode).toBe(6);
  });

  it('include_check after `global_defs { {` is an unknown top-level keyword: the plain include reads what exists', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-braces-'));
    try {
      fs.writeFileSync(path.join(dir, 'part.inc'), 'vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n}\n');
      const main = path.join(dir, 'k.conf');
      fs.writeFileSync(main, 'global_defs { {\n    router_id r1\n}\n    include_check brace_match\n}\ninclude {part,missing}.inc\n');
      const r = loadConfig(main, { configId: 'kt' });
      expect(r.diagnostics.map((d) => `${d.line}: ${d.message}`)).toContain("4: Unknown keyword 'include_check'");
      expect(r.diagnostics.find((d) => /Some config files missing/.test(d.message))?.code).toBe('LOG');
      expect(r.exitCode).toBe(5);
      expect(r.config!.instances.map((v) => v.name)).toEqual(['VI_1']);
      // inside global_defs only notification_email takes a block
      fs.writeFileSync(main, 'global_defs {\n    router_id r1 {\n    }\n    include_check brace_match\n}\ninclude {part,missing}.inc\n');
      expect(loadConfig(main, { configId: 'kt' }).exitCode).toBe(5);
      fs.writeFileSync(main, 'global_defs {\n    notification_email {\n        a@example.com\n    }\n    include_check brace_match\n}\ninclude {part,missing}.inc\n');
      expect(loadConfig(main, { configId: 'kt' }).exitCode).toBe(6);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('alloc_value_block() as keepalived 2.2.7 has it', () => {
  it('a quoted "{" on the keyword line: the words after it are the first entries (verified: exit 0)', () => {
    const r = load('vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress "{" 192.0.2.1 "}"\n}\n');
    expect(r.exitCode).toBe(0);
    expect(r.config!.instances[0].virtualIpaddresses.map((v) => v.address)).toEqual(['192.0.2.1']);
  });

  it('"{" "}" alone: one more line is read into the block', () => {
    const r = load('vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress "{" "}"\n    192.0.2.2\n    192.0.2.3\n}\n');
    expect(reported(r)).toEqual(["6: Unknown keyword '192.0.2.3'"]);
    expect(r.config!.instances[0].virtualIpaddresses.map((v) => v.address)).toEqual(['192.0.2.2']);
  });

  it('virtual_server_group: the block name slot is NULL, so a message naming it exits 2 (verified)', () => {
    const vs = 'virtual_server group G {\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n    real_server 192.0.2.201 80 {\n        TCP_CHECK {\n        }\n    }\n}\n';
    const extra = load('virtual_server_group G 80 {\n    192.0.2.1 80\n}\n' + vs);
    expect(extra.exitCode).toBe(2);
    expect(reported(extra)).toContain('1: *** Configuration line starting `***MISSING ***` is missing a parameter at word position 1');
    expect(load('virtual_server_group G\n    192.0.2.1 80\n}\n' + vs).exitCode).toBe(2);
    expect(load('virtual_server_group G {\n    192.0.2.1 80\n}\n' + vs).exitCode).toBe(0);
  });
});

describe('a block keyword that was refused but whose block is still read', () => {
  it('keepalived works on an invalid pointer there; keepwatch reads on with a throw-away object and refuses', () => {
    const r = load('vrrp_instance VI_1 255\n    state BACKUP\n    interface eth0\n}\n');
    expect(r.config).toBeNull();
    expect(r.exitCode).not.toBe(0);
    const last = r.diagnostics[r.diagnostics.length - 1];
    expect(last).toMatchObject({ severity: 'error', line: 2 });
    expect(last.message).toMatch(/^'state' is read as part of a vrrp_instance but no vrrp_instance was created/);
  });

  it('a missing parameter in such a block still ends the load, as in keepalived (verified: exit 2)', () => {
    expect(load('vrrp_instance VI_1 255\n    state\n    interface eth0\n}\n').exitCode).toBe(2);
    // keepalived wrote `state BACKUP` through the invalid pointer and carried on to `interface`
    expect(load('vrrp_instance VI_1 1\n    state BACKUP\n    interface\n    virtual_router_id 51\n}\n').exitCode).toBe(2);
  });

  it('the same for a virtual_server whose address was refused', () => {
    const r = load('virtual_server 192.0.2.300 80\n    protocol TCP\n    real_server 192.0.2.201 80 {\n        TCP_CHECK {\n        }\n    }\n}\n');
    expect(r.config).toBeNull();
    expect(r.diagnostics.some((d) => /no virtual_server was created/.test(d.message))).toBe(true);
  });
});
