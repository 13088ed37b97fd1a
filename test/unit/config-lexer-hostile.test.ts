/**
 * Hostile input: every case must end with a clear diagnostic (or a clean
 * result) in bounded time — never a throw, a hang or a stack overflow.
 * (Include loops, missing and unreadable includes, FIFOs and devices are in
 * config-lexer-include.test.ts.)
 */
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_BLOCK_DEPTH, parseConfigFile } from '../../src/config/parse';
import type { ConfNode } from '../../src/config/ast';
import { diag, errors, p, rng, shape, tmpTree } from './config-lexer-helpers';

const dirs: string[] = [];
function file(name: string, content: string | Buffer): string {
  const d = tmpTree({ [name]: content });
  dirs.push(d);
  return path.join(d, name);
}
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function depth(nodes: ConfNode[]): number {
  // iterative, the tree may be deep
  let max = 0;
  const stack: [ConfNode[], number][] = [[nodes, 1]];
  while (stack.length) {
    const [ns, d] = stack.pop()!;
    for (const n of ns) {
      if (n.children) {
        max = Math.max(max, d);
        stack.push([n.children, d + 1]);
      }
    }
  }
  return max;
}

describe('hostile input', () => {
  it('random bytes: a result with diagnostics, no throw', () => {
    const next = rng(42);
    const buf = Buffer.alloc(256 * 1024);
    for (let i = 0; i < buf.length; i++) buf[i] = Math.floor(next() * 256);
    const f = file('random.conf', buf);
    const r = parseConfigFile(f, { configId: 'kt' });
    expect(r.files).toEqual([f]);
    // NULs are certain in 256 KiB of random bytes
    expect(r.diagnostics.some((d) => d.severity === 'warning' && d.message.startsWith('NUL byte'))).toBe(true);
    expect(r.diagnostics.length).toBeLessThanOrEqual(1001);
    for (const d of r.diagnostics) expect(d.file).toBe(f);
  });

  it('random printable configuration-like noise: no throw', () => {
    const next = rng(7);
    const alphabet = 'ab {}"\'#!$\\@~(),=\t\n_SEQLT0123456789';
    let s = '';
    for (let i = 0; i < 200_000; i++) s += alphabet[Math.floor(next() * alphabet.length)];
    const r = p(s);
    expect(Array.isArray(r.nodes)).toBe(true);
    expect(r.diagnostics.length).toBeLessThanOrEqual(1001);
  });

  it('a 0-byte file gives nothing and no diagnostics', () => {
    const f = file('empty.conf', '');
    expect(parseConfigFile(f, { configId: 'kt' })).toEqual({ nodes: [], diagnostics: [], lines: [], files: [f] });
  });

  it('a 5 MB file parses', () => {
    const blocks: string[] = [];
    let size = 0;
    for (let i = 0; size < 5 * 1024 * 1024; i++) {
      const b = `virtual_server 192.0.2.${i % 250} ${1024 + (i % 60000)} {\n  delay_loop 6\n  real_server 198.51.100.${i % 250} 80 {\n    TCP_CHECK {\n      connect_timeout 3\n    }\n  }\n}\n`;
      blocks.push(b);
      size += b.length;
    }
    const f = file('big.conf', blocks.join(''));
    const r = parseConfigFile(f, { configId: 'kt' });
    expect(r.diagnostics).toEqual([]);
    expect(r.nodes.length).toBe(blocks.length);
    expect(r.nodes[blocks.length - 1]!.line).toBe((blocks.length - 1) * 8 + 1);
  });

  it('a 1 MB line is kept whole, with a warning that keepalived would split it', () => {
    const long = 'x'.repeat(1024 * 1024);
    const f = file('long.conf', `a\nnotify "${long}" ${long}\nb\n`);
    const r = parseConfigFile(f, { configId: 'kt' });
    expect(r.nodes.map((n) => `${n.line}:${n.keyword}:${n.args.map((a) => a.length).join(',')}`)).toEqual(['1:a:', `2:notify:${long.length},${long.length}`, '3:b:']);
    expect(diag(r)).toEqual([
      `warning ${f}:2 line is ${2 * long.length + 10} bytes long; keepalived 2.2.7 reads lines in 1024-byte pieces and would split it (keepwatch keeps it whole)`,
    ]);
  });

  it('10 000-deep nesting: one error, the tree stops at the depth limit, later lines are fine', () => {
    const n = 10_000;
    const r = p('a {\n'.repeat(n) + '}\n'.repeat(n) + 'after\n');
    expect(errors(r)).toEqual([`k.conf:${MAX_BLOCK_DEPTH + 1} blocks nested deeper than ${MAX_BLOCK_DEPTH} levels - the content of the deeper blocks is ignored`]);
    expect(depth(r.nodes)).toBe(MAX_BLOCK_DEPTH);
    expect(shape(r.nodes).slice(1)).toEqual([`${2 * n + 1}:after`]);
  });

  it('10 000 unclosed blocks: one error', () => {
    const r = p('a {\n'.repeat(10_000));
    expect(errors(r)).toEqual([
      `k.conf:${MAX_BLOCK_DEPTH + 1} blocks nested deeper than ${MAX_BLOCK_DEPTH} levels - the content of the deeper blocks is ignored`,
      `k.conf:${MAX_BLOCK_DEPTH} There are 10000 missing '}'s or extra '{'s - block 'a' opened here is not closed at the end of the configuration`,
    ]);
  });

  it('10 000 extra closing braces: the first 1000 diagnostics and a summary', () => {
    const r = p('}\n'.repeat(10_000));
    expect(r.diagnostics.length).toBe(1001);
    expect(r.diagnostics[999]).toEqual({ severity: 'error', file: 'k.conf', line: 1000, message: "Extra '}' found" });
    expect(r.diagnostics[1000]).toEqual({
      severity: 'error',
      file: 'k.conf',
      line: 10_000,
      message: '9000 further diagnostics suppressed (9000 errors); only the first 1000 are listed',
    });
  });

  it('NUL bytes end their line (as keepalived reads C strings) with one warning; line numbers stay right', () => {
    const f = file('nul.conf', Buffer.from('a b\0c d\nx\0\0y\nlast\n', 'latin1'));
    const r = parseConfigFile(f, { configId: 'kt' });
    expect(shape(r.nodes)).toEqual(['1:a b', '2:x', '3:last']);
    expect(diag(r)).toEqual([
      `warning ${f}:1 NUL byte in configuration file (binary data?): the rest of each line after a NUL is ignored, as keepalived 2.2.7 reads lines as C strings`,
    ]);
  });

  it('a UTF-8 byte order mark is ignored with a warning', () => {
    const f = file('bom.conf', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('global_defs {\n}\n')]));
    const r = parseConfigFile(f, { configId: 'kt' });
    expect(shape(r.nodes)).toEqual([['1:global_defs', []]]);
    expect(diag(r)).toEqual([`warning ${f}:1 UTF-8 byte order mark at the start of the file ignored (keepalived 2.2.7 would make it part of the first keyword)`]);
  });

  it('invalid UTF-8 does not throw (bytes become U+FFFD)', () => {
    const f = file('latin1.conf', Buffer.from([0x61, 0x20, 0xff, 0xfe, 0x0a]));
    expect(shape(parseConfigFile(f, { configId: 'kt' }).nodes)).toEqual(['1:a \ufffd\ufffd']);
  });

  it('a 1 MB line of $ and ${ fragments is processed in bounded time', () => {
    // every `{` splits the line: the pieces after it must not be rescanned from scratch
    const r = p(`$A=x\nv ${'$$ ${ } '.repeat(100_000)}\nw ${'$A '.repeat(5000)}\n`);
    expect(r.diagnostics.map((d) => d.message)).toEqual([
      'line is 800002 bytes long; keepalived 2.2.7 reads lines in 1024-byte pieces and would split it (keepwatch keeps it whole)',
    ]);
    // `v $$ $` {} then 99 999 times `$$ $` {}, then w
    expect(shape(r.nodes.slice(0, 2))).toEqual([['2:v $$ $', []], ['2:$$ $', []]]);
    expect(r.nodes.length).toBe(100_000 + 1);
    expect(r.nodes[r.nodes.length - 1]!.args.length).toBe(5000);
    expect(r.nodes[r.nodes.length - 1]!.args.every((a) => a === 'x')).toBe(true);
  });

  it('a long chain of definitions expands (not mistaken for recursion)', () => {
    const defs: string[] = [];
    for (let i = 0; i < 2000; i++) defs.push(`$D${i}=\${D${i + 1}}`);
    defs.push('$D2000=end');
    expect(shape(p(`${defs.join('\n')}\nv $D0\n`).nodes)).toEqual(['2002:v end']);
  });

  it('a directory given as the configuration file is an error, not a crash', () => {
    const d = tmpTree({ 'x/y': '' });
    dirs.push(d);
    const r = parseConfigFile(path.join(d, 'x'), { configId: 'kt' });
    expect(r.nodes).toEqual([]);
    expect(errors(r).length).toBe(2);
  });
});
