/**
 * ~SEQ / ~SEQx / ~LST (keepalived.conf(5) "Sequence blocks", "List blocks";
 * keepalived 2.2.7 lib/parser.c add_seq/add_lst). The man page examples are
 * also run through the real keepalived in config-lexer-keepalived.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/config/parse';
import { errors, p, shape } from './config-lexer-helpers';

function words(text: string): string[] {
  return p(text).nodes.map((n) => [n.keyword, ...n.args].join(' '));
}

describe('~SEQ', () => {
  it('repeats the rest of the line with $var from start to end, at the ~SEQ line number', () => {
    const r = p('x\n~SEQ(SUBNET, 0, 3) ip_address 10.0.${SUBNET}.1\n');
    expect(shape(r.nodes)).toEqual(['1:x', '2:ip_address 10.0.0.1', '2:ip_address 10.0.1.1', '2:ip_address 10.0.2.1', '2:ip_address 10.0.3.1']);
    expect(r.diagnostics).toEqual([]);
  });

  it('defaults: one number is the end (start and step ±1), two are start and end', () => {
    expect(words('~SEQ(I,3) i$I\n')).toEqual(['i1', 'i2', 'i3']);
    expect(words('~SEQ(I,-2) i$I\n')).toEqual(['i-1', 'i-2']);
    expect(words('~SEQ(I,0) i$I\n')).toEqual(['i1', 'i0']);
    expect(words('~SEQ(I,5,3) i$I\n')).toEqual(['i5', 'i4', 'i3']);
    expect(words('~SEQ(I,1,2,6) i$I\n')).toEqual(['i1', 'i3', 'i5']);
  });

  it('~SEQx prints hex; numbers are C integers (0x.., leading 0 = octal)', () => {
    expect(words('~SEQx(SUBNET, 144, 16, 192) fe80::20:${SUBNET}:1\n')).toEqual(['fe80::20:90:1', 'fe80::20:a0:1', 'fe80::20:b0:1', 'fe80::20:c0:1']);
    expect(words('~SEQx(S, 0x90, 0x10, 0xc0) ${S}\n')).toEqual(['90', 'a0', 'b0', 'c0']);
    expect(words('~SEQ(L,010,012) l$L\n')).toEqual(['l8', 'l9', 'l10']);
  });

  it('several ~SEQ on a line nest, the last one innermost (man page AD2/AD1 example)', () => {
    const r = p('virtual_ipaddress {\n    ~SEQx(AD2, 0x90, 0x10, 0xc0) ~SEQx(AD1, 0x12, -1, 0x0c) fe81::10:${AD2}:${AD1}\n}\n');
    const got = r.nodes[0]!.children!.map((n) => n.keyword);
    const want: string[] = [];
    for (let a = 0x90; a <= 0xc0; a += 0x10) for (let b = 0x12; b >= 0x0c; b--) want.push(`fe81::10:${a.toString(16)}:${b.toString(16)}`);
    expect(got).toEqual(want);
    expect(r.nodes[0]!.children!.every((n) => n.line === 2)).toBe(true);
  });

  it('definitions may give the numbers', () => {
    expect(words('$S=4\n$E=6\n~SEQ(M,$S,$E) m$M\n~SEQ(N, ${S} , 5) n$N\n')).toEqual(['m4', 'm5', 'm6', 'n4', 'n5']);
  });

  it('a ~SEQ line may contain blocks', () => {
    expect(shape(p('~SEQ(I,1,2) track_script { chk_$I }\n').nodes)).toEqual([
      ['1:track_script', ['1:chk_1']],
      ['1:track_script', ['1:chk_2']],
    ]);
  });

  it('invalid specifications are errors at their line and produce nothing', () => {
    const r = p(['~SEQ(I,1,0,5) a', '~SEQ(I,5,1,1) b', '~SEQ(I,1,-1,5) c', '~SEQx(I,-1,3) d', '~SEQ I,1,3) e', '~SEQ(I,1,3 f', '~SEQ(,1,3) g', '~SEQ(I) h', '~SEQ(I 1,3) i', '~SEQ(I,1,2,3,4) j', '~SEQ(I,x) k', 'ok', ''].join('\n'));
    expect(shape(r.nodes)).toEqual(['12:ok']);
    expect(errors(r)).toEqual([
      "k.conf:1 Invalid ~SEQ values '~SEQ(I,1,0,5) a'",
      "k.conf:2 Invalid ~SEQ values '~SEQ(I,5,1,1) b'",
      "k.conf:3 Invalid ~SEQ values '~SEQ(I,1,-1,5) c'",
      "k.conf:4 ~SEQx is only valid for positive numbers '~SEQx(I,-1,3) d'",
      "k.conf:5 Invalid ~SEQ specification '~SEQ I,1,3) e' (expected '(' after ~SEQ)",
      "k.conf:6 Invalid ~SEQ specification '~SEQ(I,1,3 f' (missing ')')",
      "k.conf:7 Invalid ~SEQ specification '~SEQ(,1,3) g' (missing variable or values)",
      "k.conf:8 Invalid ~SEQ specification '~SEQ(I) h' (missing variable or values)",
      "k.conf:9 Invalid ~SEQ specification '~SEQ(I 1,3) i' (expected ',' after the variable name)",
      "k.conf:10 Invalid ~SEQ specification '~SEQ(I,1,2,3,4) j' (expected 1 to 3 numbers)",
      "k.conf:11 Invalid ~SEQ specification '~SEQ(I,x) k' (expected 1 to 3 numbers)",
    ]);
  });

  it('a ~SEQ longer than a million iterations is refused at once', () => {
    const r = p('~SEQ(I,1,100000000) x$I\nafter\n');
    expect(shape(r.nodes)).toEqual(['2:after']);
    expect(errors(r)).toEqual(["k.conf:1 ~SEQ would repeat the line 100000000 times; the limit is 1000000 - ignored: '~SEQ(I,1,100000000) x$I'"]);
  });

  it('nested ~SEQs whose product is too large are stopped before expanding', () => {
    const r = p('~SEQ(A,1,1000) ~SEQ(B,1,1000) ~SEQ(C,1,1000) x $A $B $C\nafter\n');
    expect(shape(r.nodes)).toEqual(['2:after']);
    expect(errors(r)).toEqual(['k.conf:1 ~SEQ/~LST here would expand the configuration to about 1000000000 more lines; the limit is 1200000 - expansion stopped']);
  });

  it('expansion through templates stops at maxExpandedLines with one error (limit lowered for the test)', () => {
    const saved = LIMITS.maxExpandedLines;
    LIMITS.maxExpandedLines = 1000;
    try {
      const r = p('$T= \\\n a$I \\\n b$I\n\n~SEQ(I,1,600) $T\nafter\n');
      // each iteration is 2 expanded lines (the ~SEQ line, the template's 2nd line):
      // the 1001st, iteration 501, is refused
      expect(r.nodes.length).toBe(500 * 2 + 1);
      expect(shape(r.nodes).slice(-3)).toEqual(['5:a500', '5:b500', '6:after']);
      expect(errors(r)).toEqual(['k.conf:5 the configuration expands to more than 1000 lines through ~SEQ/~LST and multi-line definitions; expansion stopped here']);
    } finally {
      LIMITS.maxExpandedLines = saved;
    }
  });
});

describe('~LST', () => {
  it('one variable takes each value in turn', () => {
    expect(words('~LST(IF, eth0, eth1,bond0) interface $IF\n')).toEqual(['interface eth0', 'interface eth1', 'interface bond0']);
  });

  it('{A,B} sets several variables at once; missing values are empty (man page)', () => {
    expect(words('~LST({IP, IP1}, {10,1},{20,4},{5,6},{12,8}) 192.168.${IP}.${IP1}\n')).toEqual(['192.168.10.1', '192.168.20.4', '192.168.5.6', '192.168.12.8']);
    expect(words('~LST({A,B},{1,2},{3}) x${A}y${B}z\n')).toEqual(['x1y2z', 'x3yz']);
  });

  it('nests with itself and with ~SEQ (man page)', () => {
    expect(words('~LST(IP, 1, 2) ~LST(IP1, 5,6,7) 192.169.${IP}.${IP1}\n')).toEqual(['192.169.1.5', '192.169.1.6', '192.169.1.7', '192.169.2.5', '192.169.2.6', '192.169.2.7']);
    expect(words('~LST({IP, IP1}, {10,1},{20,4}) ~SEQ(IP2,168,2,172) 192.${IP2}.${IP}.${IP1}\n')).toEqual([
      '192.168.10.1',
      '192.170.10.1',
      '192.172.10.1',
      '192.168.20.4',
      '192.170.20.4',
      '192.172.20.4',
    ]);
  });

  it('invalid specifications are errors', () => {
    const r = p('~LST({A,B},{1,2,3}) x\n~LST(A) y\n~LST A,1) z\n~LST(A,1 2) w\nok\n');
    expect(shape(r.nodes)).toEqual(['5:ok']);
    expect(errors(r)).toEqual([
      "k.conf:1 ~LST specification has too many values '~LST({A,B},{1,2,3}) x'",
      "k.conf:2 Invalid ~LST specification '~LST(A) y' ('A)' is not a valid variable name)",
      "k.conf:3 Invalid ~LST specification '~LST A,1) z' (expected '(' after ~LST)",
      "k.conf:4 Invalid ~LST specification '~LST(A,1 2) w' (bad value list)",
    ]);
  });
});

describe('~SEQ with multi-line definitions', () => {
  it('the man page $VI4 template, scaled down: one line gives IF x NUM x ID instances', () => {
    const text = [
      '$VI4= \\',
      'track_file offset_instance_4.${IF}.${NUM}.${ID} { \\',
      '    file "${_PWD}/679/track_files/4.${IF}.${NUM}.${ID}" \\',
      '    weight -100 \\',
      '} \\',
      'vrrp_instance vrrp4.${IF}.${NUM}.${ID} { \\',
      '    interface bond${IF}.${NUM} \\',
      '    use_vmac vrrp4.${IF}.${NUM}.${ID} \\',
      '    virtual_router_id ${ID} \\',
      '    priority 130 \\',
      '    virtual_ipaddress { \\',
      '        10.${IF}.${NUM}.${ID}/24 \\',
      '    } \\',
      '    track_file { \\',
      '        offset_instance_4.${IF}.${NUM}.${ID} \\',
      '    } \\',
      '}',
      '',
      '~SEQ(IF,0,1) ~SEQ(NUM,0,2) ~SEQ(ID,1,3) $VI4',
      '',
    ].join('\n');
    const r = p(text, { baseDir: '/' });
    expect(r.diagnostics).toEqual([]);
    const inst = r.nodes.filter((n) => n.keyword === 'vrrp_instance');
    const names: string[] = [];
    for (let a = 0; a <= 1; a++) for (let b = 0; b <= 2; b++) for (let c = 1; c <= 3; c++) names.push(`vrrp4.${a}.${b}.${c}`);
    expect(inst.map((n) => n.args[0])).toEqual(names);
    expect(r.nodes.filter((n) => n.keyword === 'track_file').length).toBe(18);
    expect(shape([inst[17]!])).toEqual([
      [
        '19:vrrp_instance vrrp4.1.2.3',
        [
          '19:interface bond1.2',
          '19:use_vmac vrrp4.1.2.3',
          '19:virtual_router_id 3',
          '19:priority 130',
          ['19:virtual_ipaddress', ['19:10.1.2.3/24']],
          ['19:track_file', ['19:offset_instance_4.1.2.3']],
        ],
      ],
    ]);
    expect(r.nodes[0]!.children![0]!.args).toEqual(['//679/track_files/4.0.0.1']);
  });

  it('a ~SEQ inside a template runs within each expansion', () => {
    expect(words('$T= \\\n head$N \\\n ~SEQ(J,1,2) in${N}.$J \\\n tail$N\n\n~SEQ(N,1,2) $T\n')).toEqual([
      'head1',
      'in1.1',
      'in1.2',
      'tail1',
      'head2',
      'in2.1',
      'in2.2',
      'tail2',
    ]);
  });

  it('a definition whose value starts with ~ becomes a sequence line', () => {
    expect(words('$S=~SEQ(K,1,3) k$K\n$S\n')).toEqual(['k1', 'k2', 'k3']);
  });
});
