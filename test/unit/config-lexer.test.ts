/**
 * keepalived.conf lexical layer: blocks, comments, words, quoting, CRLF,
 * conditionals, definitions and builtins. Behaviour checked against the real
 * keepalived 2.2.7 is marked "verified" (see config-lexer-keepalived.test.ts
 * for the automated comparisons).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { defaultConfigId, parseConfigText, scriptCommand, splitQuotedEscaped, splitWords } from '../../src/config/parse';
import type { LexNode } from '../../src/config/parse';
import { diag, errors, p, shape } from './config-lexer-helpers';

describe('blocks', () => {
  it('a block on one line: keyword { value }', () => {
    const r = p('virtual_ipaddress { 192.0.2.1/24 dev eth0 }\n');
    expect(shape(r.nodes)).toEqual([['1:virtual_ipaddress', ['1:192.0.2.1/24 dev eth0']]]);
    expect(r.diagnostics).toEqual([]);
  });

  it('{ on the next line, after blank and comment lines', () => {
    const r = p('vrrp_instance VI_1\n\n# the block\n{\n  state MASTER\n}\n');
    expect(shape(r.nodes)).toEqual([['1:vrrp_instance VI_1', ['5:state MASTER']]]);
    expect(r.diagnostics).toEqual([]);
  });

  it('{ and } sharing lines with content', () => {
    const r = p(['vrrp_instance VI_1 { state MASTER', '  virtual_ipaddress {', '    192.0.2.1 } track_script { chk }', '} global_defs { router_id r1 }', ''].join('\n'));
    expect(shape(r.nodes)).toEqual([
      ['1:vrrp_instance VI_1', ['1:state MASTER', ['2:virtual_ipaddress', ['3:192.0.2.1']], ['3:track_script', ['3:chk']]]],
      ['4:global_defs', ['4:router_id r1']],
    ]);
    expect(r.diagnostics).toEqual([]);
  });

  it('nested blocks keep their own line numbers', () => {
    const r = p(['virtual_server 192.0.2.10 80 {', '  real_server 192.0.2.11 80 {', '    HTTP_GET {', '      url {', '        path /', '      }', '    }', '  }', '}', ''].join('\n'));
    expect(shape(r.nodes)).toEqual([['1:virtual_server 192.0.2.10 80', [['2:real_server 192.0.2.11 80', [['3:HTTP_GET', [['4:url', ['5:path /']]]]]]]]]);
  });

  it("an extra '}' is an error at its line and is dropped (verified: \"Extra '}' found\")", () => {
    const r = p('a {\n  b\n}\n}\nc\n');
    expect(shape(r.nodes)).toEqual([['1:a', ['2:b']], '5:c']);
    expect(diag(r)).toEqual(["error k.conf:4 Extra '}' found"]);
  });

  it('an unclosed block at the end is an error at the line that opened it', () => {
    const r = p('global_defs {\n  router_id r1\n}\nvrrp_instance VI_1 {\n  virtual_ipaddress {\n    192.0.2.1\n}\n');
    expect(errors(r)).toEqual(["k.conf:4 There are 1 missing '}'s or extra '{'s - block 'vrrp_instance' opened here is not closed at the end of the configuration"]);
    expect(shape(r.nodes)[1]).toEqual(['4:vrrp_instance VI_1', [['5:virtual_ipaddress', ['6:192.0.2.1']]]]);
  });

  it("a '{' with no keyword before it is an error; its content stays at the current level (as keepalived)", () => {
    const r = p('a {\n}\n{\n  b\n}\nc\n');
    expect(shape(r.nodes)).toEqual([['1:a', []], '4:b', '6:c']);
    expect(diag(r)).toEqual(["error k.conf:3 Unexpected '{' - ignoring"]);
  });

  it('braces inside double quotes are text; unquoted braces split words (verified: a{b gives a, {, b)', () => {
    const r = p('notify "/bin/x {a}"\nvalue a{b}c\n');
    expect(shape(r.nodes)).toEqual(['1:notify /bin/x {a}', ['2:value a', ['2:b']], '2:c']);
  });

  it('a keyword line keeps the processed text in raw (for script keywords)', () => {
    const r = p("notify_master \"/usr/bin/x 'a b'\" root # comment\n");
    const n = r.nodes[0] as LexNode;
    expect(n.raw).toBe("notify_master \"/usr/bin/x 'a b'\" root");
    expect(n.args).toEqual(["/usr/bin/x 'a b'", 'root']);
  });
});

describe('comments', () => {
  it('! and # start a comment anywhere outside double quotes', () => {
    const r = p('# full line\n! full line\nrouter_id r1 # trailing\nrouter_id r2! trailing\nnotify "a#b!c" # x\n');
    expect(shape(r.nodes)).toEqual(['3:router_id r1', '4:router_id r2', '5:notify a#b!c']);
  });

  it("single quotes do not protect a comment character (verified: 'a#b' gives 'a)", () => {
    expect(shape(p("auth_pass 'a#b'\n").nodes)).toEqual(["1:auth_pass 'a"]);
  });

  it('\\# and \\! outside quotes are literal # and ! (verified)', () => {
    expect(shape(p('auth_pass pa\\#ss\\!word\n').nodes)).toEqual(['1:auth_pass pa#ss!word']);
  });

  it('blank and comment-only lines keep line numbers of later lines', () => {
    const r = p('\n\n   \n\t\n# c\n! c\nx\n');
    expect(shape(r.nodes)).toEqual(['7:x']);
  });
});

describe('words and quotes', () => {
  it('splitWords: keepalived alloc_strvec_r (the tokenizer of every keyword line)', () => {
    expect(splitWords('a  b\tc\fd\ve')).toEqual({ words: ['a', 'b', 'c', 'd', 'e'] });
    expect(splitWords('"a b"c')).toEqual({ words: ['a b', 'c'] });
    // verified: keepalived reports the first word of  abcd" efg "h  as 'abcd'
    expect(splitWords('abcd" efg "h')).toEqual({ words: ['abcd', ' efg ', 'h'] });
    expect(splitWords("'x y' z")).toEqual({ words: ["'x", "y'", 'z'] });
    // no escapes here: `"a\"` is a word, then `b`, then an unmatched `"`
    expect(splitWords('"a\\"b"')).toEqual({ words: ['a\\', 'b'], error: `Unmatched quote: '"a\\"b"'` });
  });

  it('an unmatched quote is an error at its line; the words before it are kept', () => {
    const r = p('x\nnotify "/bin/script arg\n');
    expect(shape(r.nodes)).toEqual(['1:x', '2:notify']);
    expect(errors(r)).toEqual([`k.conf:2 Unterminated quote 'notify "/bin/script arg'`, `k.conf:2 Unmatched quote: 'notify "/bin/script arg'`]);
  });

  it('splitQuotedEscaped: the man page "Quoted strings" rules (script keywords)', () => {
    expect(splitQuotedEscaped(`abcd" efg h jkl "mnop`).words).toEqual(['abcd efg h jkl mnop']);
    expect(splitQuotedEscaped(`abcd "efg h jkl" mnop`).words).toEqual(['abcd', 'efg h jkl', 'mnop']);
    expect(splitQuotedEscaped(`/bin/x 'a b' "c'd" 'e"f'`).words).toEqual(['/bin/x', 'a b', "c'd", 'e"f']);
  });

  it('splitQuotedEscaped: every escape of keepalived.conf(5)', () => {
    expect(splitQuotedEscaped('"\\a\\b\\E\\f\\n\\r\\t\\v"').words).toEqual(['\x07\b\x1b\f\n\r\t\v']);
    expect(splitQuotedEscaped('\\101\\0\\7777 \\x41\\x4a4b \\cA\\c[ \\\\ \\" \\q').words).toEqual(['A\x00\xff7', 'AK', '\x01\x1b', '\\', '"', 'q']);
    // \x without a hex digit and \c at the end are the letters themselves
    expect(splitQuotedEscaped('\\xg \\c').words).toEqual(['xg', 'c']);
  });

  it('splitQuotedEscaped: a missing closing quote or a trailing backslash rejects the line', () => {
    expect(splitQuotedEscaped(`a "b c`)).toEqual({ words: [], error: `String 'a "b c': missing terminating "` });
    expect(splitQuotedEscaped(`a 'b c`)).toEqual({ words: [], error: `String 'a 'b c': missing terminating '` });
    expect(splitQuotedEscaped('a b\\')).toEqual({ words: [], error: "Missing escape char at end: 'a b\\'" });
  });

  it('CRLF line endings are stripped (verified)', () => {
    const r = p('global_defs {\r\n  router_id r1\r\n}\r\n"a b"\r\n');
    expect(shape(r.nodes)).toEqual([['1:global_defs', ['2:router_id r1']], '4:a b']);
    expect(r.diagnostics).toEqual([]);
  });

  it('tabs separate words and are stripped at both ends', () => {
    expect(shape(p('\t\tstate\t\tMASTER\t\n').nodes)).toEqual(['1:state MASTER']);
  });

  it('a trailing backslash on a plain line is kept (it only continues $NAME= definitions)', () => {
    expect(shape(p('a b\\\nc\n').nodes)).toEqual(['1:a b\\', '2:c']);
  });
});

describe('conditional lines', () => {
  it('@ID keeps the line only for that config id, @^ID only for the others (verified)', () => {
    const text = 'global_defs {\n  @main router_id main_router\n  @backup router_id backup_router\n}\nunicast_peer {\n  @^main 192.0.2.4\n  @^backup 192.0.2.5\n  @^backup2 192.0.2.6\n}\n';
    expect(shape(p(text, { configId: 'main' }).nodes)).toEqual([
      ['1:global_defs', ['2:router_id main_router']],
      ['5:unicast_peer', ['7:192.0.2.5', '8:192.0.2.6']],
    ]);
    expect(shape(p(text, { configId: 'other' }).nodes)).toEqual([['1:global_defs', []], ['5:unicast_peer', ['6:192.0.2.4', '7:192.0.2.5', '8:192.0.2.6']]]);
  });

  it('@ID with nothing after it drops the line', () => {
    expect(shape(p('@kt\n@kt\tx\n').nodes)).toEqual(['2:x']);
  });

  it('defaultConfigId is the host name up to the first dot, and is the default', () => {
    const id = defaultConfigId();
    expect(id).toBe(os.hostname().split('.')[0]);
    const r = parseConfigText(`@${id} mine\n@^${id} theirs\n`, { file: 'k.conf' });
    expect(shape(r.nodes)).toEqual(['1:mine']);
  });
});

describe('definitions', () => {
  it('$NAME=VALUE, then $NAME (followed by blank , ) or end) and ${NAME} (verified)', () => {
    const r = p('$A=aaa\n$A x\nx$A,y x$A)y\nx$A.y\n${A}y\n"${A} q"\n');
    expect(shape(r.nodes)).toEqual(['2:aaa x', '3:xaaa,y xaaa)y', '4:x$A.y', '5:aaay', '6:aaa q']);
  });

  it('substitution is lazy and recursive: the man page ADDRESS_BASE example (verified)', () => {
    const r = p('$ADDRESS_BASE=10.2.${ADDRESS_BASE_SUB}\n$ADDRESS_BASE_SUB=0\n${ADDRESS_BASE}.100/32\n$ADDRESS_BASE_SUB=10\n${ADDRESS_BASE}.100/32\n');
    expect(shape(r.nodes)).toEqual(['3:10.2.0.100/32', '5:10.2.10.100/32']);
  });

  it('undefined names are left as they are', () => {
    expect(shape(p('notify "/bin/x ${UNDEF} $HOME"\n$UNDEF 1\n').nodes)).toEqual(['1:notify /bin/x ${UNDEF} $HOME', '2:$UNDEF 1']);
  });

  it('empty values, redefinition, and lines that are not definitions', () => {
    const r = p('$E=\nw${E}w\n$E=x\nw${E}w\n$B =1\n$1A=1\n');
    expect(shape(r.nodes)).toEqual(['2:ww', '4:wxw', '5:$B =1', '6:$1A=1']);
  });

  it('definitions work with conditionals: @main $PRIORITY=240 (man page)', () => {
    const text = '@main $PRIORITY=240\n@backup $PRIORITY=200\nvrrp_instance VI_0 {\n  priority $PRIORITY\n}\n$IF_MAIN=@main\n$IF_MAIN priority 241\n';
    expect(shape(p(text, { configId: 'main' }).nodes)).toEqual([['3:vrrp_instance VI_0', ['4:priority 240']], '7:priority 241']);
    expect(shape(p(text, { configId: 'backup' }).nodes)).toEqual([['3:vrrp_instance VI_0', ['4:priority 200']]]);
  });

  it('${_INSTANCE} is the config id, ${_PWD} the (physical) directory of the file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-lexer-pwd-'));
    const r = parseConfigText('x ${_INSTANCE} ${_PWD}\n', { file: 'k.conf', configId: 'lb1', baseDir: dir });
    expect(shape(r.nodes)).toEqual([`1:x lb1 ${fs.realpathSync(dir)}`]);
    fs.rmSync(dir, { recursive: true });
  });

  it('${_RANDOM [MIN [MAX]]}: 0..32767 by default, MIN..MAX inclusive', () => {
    const seq = [0, 0.99999, 0.5];
    let i = 0;
    const random = (): number => seq[i++ % seq.length]!;
    // ${_RANDOM 100}: MIN 100, MAX 32767 -> 100 + floor(0.5 * 32668)
    const r = p('r ${_RANDOM} ${_RANDOM} ${_RANDOM 5 7} ${_RANDOM 5 7} ${_RANDOM 5 7} ${_RANDOM 100}\n', { random });
    expect(shape(r.nodes)).toEqual(['1:r 0 32767 6 5 7 16434']);
  });

  it('${_RANDOM} with a trailing blank or letters is not a reference', () => {
    // left as text, so the unquoted braces split the line like any other braces
    expect(shape(p('r ${_RANDOM 5 } ${_RANDOM x}\n').nodes)).toEqual([
      ['1:r $', ['1:_RANDOM 5']],
      ['1:$', ['1:_RANDOM x']],
    ]);
    expect(p('r "${_RANDOM 5 }"\n').nodes[0]!.args).toEqual(['${_RANDOM 5 }']);
  });

  it('${_HASH} and ${_BANG} give # and ! inside quotes; outside they start a comment (verified)', () => {
    const r = p('a "${_HASH}x${_BANG}" b\nc ${_HASH}d\ne ${_BANG}f\n');
    expect(shape(r.nodes)).toEqual(['1:a #x! b', '2:c', '3:e']);
  });

  it('a user definition overrides a builtin', () => {
    expect(shape(p('$_HASH=h\nx ${_HASH}\n').nodes)).toEqual(['2:x h']);
  });

  it('a definition referring to itself is an error in bounded time (keepalived 2.2.7 hangs: verified)', () => {
    const r = p('$A=${A}\nx $A\n$B=x${B}\ny $B\n$C=${D}\n$D=${C}\nz $C\nok\n');
    expect(shape(r.nodes)).toEqual(['8:ok']);
    expect(errors(r)).toEqual([
      "k.conf:2 more than 10000 parameter substitutions in one line - the definition of 'A' probably refers to itself; line ignored: 'x $A'",
      "k.conf:4 more than 10000 parameter substitutions in one line - the definition of 'B' probably refers to itself; line ignored: 'y $B'",
      "k.conf:7 more than 10000 parameter substitutions in one line - the definition of 'C' probably refers to itself; line ignored: 'z $C'",
    ]);
  });

  it('a definition that grows too long is an error', () => {
    const big = 'v'.repeat(1000);
    const r = p(`$A=${big}\${A}\nx $A\n`);
    expect(r.nodes).toEqual([]);
    expect(errors(r)[0]).toMatch(/^k\.conf:2 parameter substitution makes the line longer than 4194304 characters/);
  });
});

describe('multi-line definitions', () => {
  it('the man page $INSTANCE template expands into full blocks at the reference line', () => {
    const text = [
      '$INSTANCE= \\',
      'vrrp_instance VI_${NUM} { \\',
      '    interface eth0.${NUM} \\',
      '    use_vmac vrrp${NUM}.1 \\',
      '    virtual_router_id 1 \\',
      '    @high priority 130 \\',
      '    @low priority 120 \\',
      '    advert_int 1 \\',
      '    virtual_ipaddress { \\',
      '        10.0.${NUM}.254/24 \\',
      '    } \\',
      '    track_script { \\',
      '        offset_instance_${NUM} \\',
      '    } \\',
      '}',
      '',
      '$NUM=0',
      '$INSTANCE',
      '',
      '$NUM=1',
      '$INSTANCE',
      '',
    ].join('\n');
    const r = p(text, { configId: 'low' });
    const inst = (n: number, line: number): unknown => [
      `${line}:vrrp_instance VI_${n}`,
      [
        `${line}:interface eth0.${n}`,
        `${line}:use_vmac vrrp${n}.1`,
        `${line}:virtual_router_id 1`,
        `${line}:priority 120`,
        `${line}:advert_int 1`,
        [`${line}:virtual_ipaddress`, [`${line}:10.0.${n}.254/24`]],
        [`${line}:track_script`, [`${line}:offset_instance_${n}`]],
      ],
    ];
    expect(shape(r.nodes)).toEqual([inst(0, 18), inst(1, 21)]);
    expect(r.diagnostics).toEqual([]);
  });

  it('nested templates: the man page $VS / $RS example gives 2 virtual servers of 3 real servers', () => {
    // The man page prints this example with empty lines inside $RS; an empty line
    // ends a multi-line definition in keepalived 2.2.7 (verified, and tested
    // below), so the example as printed does not work there. Without them:
    const text = [
      '$RS= \\',
      'real_server 192.168.${VS_NUM}.${RS_NUM} 80 { \\',
      '    weight 1 \\',
      '    MISC_CHECK { \\',
      '        misc_path "${_PWD}/scripts/vs.sh RS_misc.${INST}.${VS_NUM}.${RS_NUM}.0" \\',
      '    } \\',
      '    notify_up "${_PWD}/scripts/notify.sh RS_notify.${INST}.${VS_NUM}.${RS_NUM} UP" \\',
      '}',
      '',
      '$VS= \\',
      'virtual_server 10.0.${VS_NUM}.4 80 { \\',
      '    quorum 2 \\',
      '    $RS_NUM=1 \\',
      '    $RS \\',
      '    $RS_NUM=2 \\',
      '    $RS \\',
      '    $RS_NUM=3 \\',
      '    $RS \\',
      '}',
      '',
      '$INST=i',
      '$VS_NUM=0',
      '$VS',
      '',
      '$VS_NUM=1',
      '$VS',
      '',
    ].join('\n');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-lexer-vs-'));
    const pwd = fs.realpathSync(dir);
    const r = parseConfigText(text, { file: 'k.conf', configId: 'kt', baseDir: dir });
    fs.rmSync(dir, { recursive: true });
    expect(r.diagnostics).toEqual([]);
    expect(r.nodes.map((n) => `${n.line}:${n.keyword} ${n.args[0]}`)).toEqual(['23:virtual_server 10.0.0.4', '26:virtual_server 10.0.1.4']);
    for (const [i, v] of r.nodes.entries()) {
      expect(v.children!.map((c) => `${c.keyword} ${c.args[0]}`)).toEqual(['quorum 2', ...[1, 2, 3].map((k) => `real_server 192.168.${i}.${k}`)]);
      const rs3 = v.children![3]!;
      expect(shape(rs3.children!)).toEqual([
        `${v.line}:weight 1`,
        [`${v.line}:MISC_CHECK`, [`${v.line}:misc_path ${pwd}/scripts/vs.sh RS_misc.i.${i}.3.0`]],
        `${v.line}:notify_up ${pwd}/scripts/notify.sh RS_notify.i.${i}.3 UP`,
      ]);
    }
  });

  it('a blank line ends a definition, a comment-only line does not, a lone \\ adds nothing', () => {
    const r = p('$T= \\\n one \\\n# comment \\\n\\\n two \\\n\nthree\n$T\n');
    expect(shape(r.nodes)).toEqual(['7:three', '8:one', '8:two']);
  });

  it('a multi-line definition is only expanded at the end of a line', () => {
    expect(shape(p('$T= \\\n a \\\n b\nx $T\n$T y\n').nodes)).toEqual(['4:x a', '4:b', '5:$T y']);
  });
});

describe('performance', () => {
  it('a 5 MB configuration parses (well under a few seconds; no timing assertion)', () => {
    const block = (i: number): string =>
      `vrrp_instance VI_${i} {\n  state BACKUP\n  interface eth0\n  virtual_router_id ${i % 255}\n  priority 100\n  virtual_ipaddress {\n    192.0.2.${i % 250}/24 dev eth0 # comment\n  }\n}\n`;
    const parts: string[] = [];
    let size = 0;
    let i = 0;
    while (size < 5 * 1024 * 1024) {
      const b = block(i++);
      parts.push(b);
      size += b.length;
    }
    const r = p(parts.join(''));
    expect(r.nodes.length).toBe(i);
    expect(r.diagnostics).toEqual([]);
    const last = r.nodes[i - 1]!;
    expect(last.line).toBe((i - 1) * 9 + 1);
    expect(last.children![4]!.children![0]!.line).toBe((i - 1) * 9 + 7);
  });
});

describe('script commands', () => {
  it('scriptCommand re-tokenizes the processed line as keepalived does for script keywords', () => {
    const r = p(
      [
        `notify_master "/usr/bin/x 'a b' c\\tq" nobody nogroup`,
        'script "/bin/check \\"quoted arg\\" x\\\\y"',
        "misc_path '/bin/misc' ignored",
        'notify',
        'notify "/bin/x \'unclosed"',
        '',
      ].join('\n'),
    );
    const got = r.nodes.map((n) => scriptCommand(n));
    // escapes are processed twice (line, then command word), as in keepalived:
    // \t becomes a TAB that then separates words, and \\y ends up as y
    expect(got).toEqual([
      { args: ['/usr/bin/x', 'a b', 'c', 'q'], extra: ['nobody', 'nogroup'] },
      { args: ['/bin/check', 'quoted arg', 'xy'], extra: [] },
      { args: ['/bin/misc'], extra: ['ignored'] },
      { error: "'notify' needs a script" },
      { error: `String '/bin/x 'unclosed': missing terminating '` },
    ]);
  });
});
