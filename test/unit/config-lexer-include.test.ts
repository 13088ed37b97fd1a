/**
 * `include` and its variants. Which problems are errors (and which only
 * warnings, where keepalived merely logs) was checked case by case against
 * keepalived 2.2.7 `-t` exit codes in config-lexer-keepalived.test.ts.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfigFile, parseConfigText } from '../../src/config/parse';
import { diag, errors, shape, tmpTree } from './config-lexer-helpers';

const dirs: string[] = [];
function tree(files: Record<string, string>): string {
  const d = tmpTree(files);
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('include', () => {
  it('relative paths resolve from the including file; diagnostics carry the included FILE:LINE; files lists every file', () => {
    const d = tree({
      'keepalived.conf': 'top1\ninclude conf.d/a.conf\ntop3\n',
      'conf.d/a.conf': 'a1\ninclude sub/b.conf\na3 "unclosed\n',
      'conf.d/sub/b.conf': '\n\nb3\ninclude ../../c.conf\n',
      'c.conf': 'c1\n',
    });
    const main = path.join(d, 'keepalived.conf');
    const r = parseConfigFile(main, { configId: 'kt' });
    expect(r.nodes.map((n) => `${path.relative(d, n.file)}:${n.line}:${n.keyword}`)).toEqual([
      'keepalived.conf:1:top1',
      'conf.d/a.conf:1:a1',
      'conf.d/sub/b.conf:3:b3',
      'c.conf:1:c1',
      'conf.d/a.conf:3:a3',
      'keepalived.conf:3:top3',
    ]);
    expect(errors(r).map((e) => e.replace(d + '/', ''))).toEqual([
      `conf.d/a.conf:3 Unterminated quote 'a3 "unclosed'`,
      `conf.d/a.conf:3 Unmatched quote: 'a3 "unclosed'`,
    ]);
    expect(r.files).toEqual(['keepalived.conf', 'conf.d/a.conf', 'conf.d/sub/b.conf', 'c.conf'].map((f) => path.join(d, f)));
  });

  it('display names follow the name given for the main file', () => {
    const d = tree({ 'k.conf': 'include sub/x.conf\n', 'sub/x.conf': 'x\n' });
    const r = parseConfigFile(path.join(d, 'k.conf'), { configId: 'kt', file: 'k.conf' });
    expect(r.nodes.map((n) => `${n.file}:${n.line}`)).toEqual(['sub/x.conf:1']);
    expect(r.files).toEqual([path.join(d, 'k.conf'), path.join(d, 'sub/x.conf')]);
  });

  it('include works inside a block, and a block may end in the including file', () => {
    const d = tree({
      'k.conf': 'vrrp_instance VI_1 {\n  include parts/*.conf\n}\nvirtual_server 192.0.2.1 80 {\n  include rs.conf\n',
      'parts/1.conf': 'state MASTER\n',
      'parts/2.conf': 'virtual_ipaddress {\n 192.0.2.1\n}\n',
      'rs.conf': '  real_server 192.0.2.2 80 {\n  }\n}\n',
    });
    const r = parseConfigFile(path.join(d, 'k.conf'), { configId: 'kt' });
    expect(shape(r.nodes)).toEqual([
      ['1:vrrp_instance VI_1', ['1:state MASTER', ['1:virtual_ipaddress', ['2:192.0.2.1']]]],
      ['4:virtual_server 192.0.2.1 80', [['1:real_server 192.0.2.2 80', []]]],
    ]);
    expect(r.diagnostics).toEqual([]);
  });

  it('wildcards * ? [...] match in sorted order and skip hidden files', () => {
    // ([!ab] cannot be written: the `!` starts a comment, in keepalived too)
    const d = tree({
      'k.conf': 'include d/*.conf\ninclude d/g?.conf\ninclude d/[ab]*.conf\ninclude d/[^ab]1.conf\n',
      'd/b.conf': 'b\n',
      'd/a.conf': 'a\n',
      'd/g1.conf': 'g1\n',
      'd/.hidden.conf': 'hidden\n',
      'd/a.txt': 'txt\n',
    });
    const r = parseConfigFile(path.join(d, 'k.conf'), { configId: 'kt' });
    expect(r.nodes.map((n) => n.keyword)).toEqual(['a', 'b', 'g1', 'g1', 'a', 'b', 'g1']);
    expect(r.diagnostics).toEqual([]);
  });

  it('csh braces expand in the order written, nested and with empty alternatives', () => {
    const d = tree({
      'k.conf': 'include {b,a}.conf\ninclude foo/{,cat,dog}.conf\ninclude {foo/{cat,dog},a}.conf\n',
      'a.conf': 'a\n',
      'b.conf': 'b\n',
      'foo/.conf': 'foo-empty\n',
      'foo/cat.conf': 'cat\n',
      'foo/dog.conf': 'dog\n',
    });
    const r = parseConfigFile(path.join(d, 'k.conf'), { configId: 'kt' });
    expect(r.nodes.map((n) => n.keyword)).toEqual(['b', 'a', 'foo-empty', 'cat', 'dog', 'cat', 'dog', 'a']);
    expect(r.diagnostics).toEqual([]);
  });

  it('plain include: a missing file is only a warning, an unmatched wildcard is silent (verified)', () => {
    const d = tree({ 'k.conf': 'include missing.conf\ninclude nomatch*.conf\nafter\n' });
    const f = path.join(d, 'k.conf');
    const r = parseConfigFile(f, { configId: 'kt' });
    expect(shape(r.nodes)).toEqual(['3:after']);
    expect(diag(r)).toEqual([`warning ${f}:1 Config files missing 'missing.conf'.`]);
  });

  it('includer / includem / includew / includeb / includea report errors with keepalived messages', () => {
    const d = tree({
      'k.conf': [
        'includem missing.conf',
        'includem nomatch*.conf',
        'includew nomatch*.conf',
        'includea nomatch*.conf',
        'includeb {one,two}.conf',
        'include {one,two}.conf',
        'includer sub',
        '',
      ].join('\n'),
      'one.conf': 'one\n',
      'sub/x': '',
    });
    const f = path.join(d, 'k.conf');
    const r = parseConfigFile(f, { configId: 'kt' });
    // includeb refuses the whole glob, plain include reads what exists
    expect(shape(r.nodes)).toEqual(['1:one']);
    expect(diag(r)).toEqual([
      `error ${f}:1 Config files missing 'missing.conf'.`,
      `error ${f}:3 No config files matched 'nomatch*.conf'.`,
      `error ${f}:4 No config files matched 'nomatch*.conf'.`,
      `error ${f}:5 Some config files missing: "{one,two}.conf".`,
      `warning ${f}:6 Some config files missing: "{one,two}.conf".`,
      `error ${f}:7 Configuration file '${d}/sub/' is a directory - skipping`,
    ]);
  });

  it('allConfig (-e) makes every include check an error', () => {
    const d = tree({ 'k.conf': 'include nomatch*.conf\ninclude missing.conf\n' });
    const f = path.join(d, 'k.conf');
    expect(diag(parseConfigFile(f, { configId: 'kt', allConfig: true }))).toEqual([
      `error ${f}:1 No config files matched 'nomatch*.conf'.`,
      `error ${f}:2 Config files missing 'missing.conf'.`,
    ]);
  });

  it('include_check in global_defs applies to later includes, and is restored when an included file ends', () => {
    const d = tree({
      'k.conf': 'include a.conf\ninclude missing2.conf\nglobal_defs {\n  include_check wildcard_match bogus +brace_match +nothing\n}\ninclude nomatch*\n',
      'a.conf': 'global_defs {\n  include_check\n}\ninclude missing1.conf\n',
    });
    const f = path.join(d, 'k.conf');
    const a = path.join(d, 'a.conf');
    const r = parseConfigFile(f, { configId: 'kt' });
    expect(diag(r)).toEqual([
      // bare include_check = every check (keepalived include_check_set(NULL))
      `error ${a}:4 Config files missing 'missing1.conf'.`,
      // back in k.conf the checks in force when a.conf was included (none) apply again
      `warning ${f}:2 Config files missing 'missing2.conf'.`,
      `error ${f}:4 Duplicate include_check 'bogus' specified - ignoring`,
      `error ${f}:4 Unknown include_check type 'nothing' - ignoring`,
      `error ${f}:6 No config files matched 'nomatch*'.`,
    ]);
    // the keyword itself stays in the tree for the model
    expect(shape(r.nodes)[0]).toEqual(['1:global_defs', ['2:include_check']]);
  });

  it('files that are not regular non-executable files are skipped (directory, executable, FIFO, device)', () => {
    const d = tree({ 'k.conf': 'includer dir\nincluder exec.conf\nincluder fifo\nincluder /dev/null\ninclude exec.conf\nlast\n', 'dir/x': '', 'exec.conf': 'never\n' });
    fs.chmodSync(path.join(d, 'exec.conf'), 0o755);
    // a FIFO must not block the parser (stat() first, as keepalived check_glob_file())
    execFileSync('mkfifo', [path.join(d, 'fifo')]);
    const f = path.join(d, 'k.conf');
    const r = parseConfigFile(f, { configId: 'kt' });
    expect(shape(r.nodes)).toEqual(['6:last']);
    expect(diag(r)).toEqual([
      `error ${f}:1 Configuration file '${d}/dir/' is a directory - skipping`,
      `error ${f}:2 Configuration file '${d}/exec.conf' is not a regular non-executable file - skipping`,
      `error ${f}:3 Configuration file '${d}/fifo' is not a regular non-executable file - skipping`,
      `error ${f}:4 Configuration file '/dev/null' is not a regular non-executable file - skipping`,
      `warning ${f}:5 Configuration file '${d}/exec.conf' is not a regular non-executable file - skipping`,
    ]);
  });

  it('an unreadable file gives "open problem (Permission denied)"', () => {
    // Tests run as root, which file modes cannot refuse. A write-only sysctl
    // (mode 0200) is refused even to root by procfs (EACCES, verified with
    // cat and with keepalived 2.2.7: "open problem (Permission denied)").
    const d = tree({ 'k.conf': 'includer /proc/sys/vm/drop_caches\ninclude /proc/sys/vm/drop_caches\n' });
    const f = path.join(d, 'k.conf');
    expect(diag(parseConfigFile(f, { configId: 'kt' }))).toEqual([
      `error ${f}:1 Configuration file '/proc/sys/vm/drop_caches' open problem (Permission denied) - skipping`,
      `warning ${f}:2 Configuration file '/proc/sys/vm/drop_caches' open problem (Permission denied) - skipping`,
    ]);
  });

  it('a file including itself is an error, not a hang (keepalived recurses until EMFILE: verified)', () => {
    const d = tree({ 'k.conf': 'before\ninclude k.conf\nafter\n' });
    const f = path.join(d, 'k.conf');
    const r = parseConfigFile(f, { configId: 'kt' });
    expect(shape(r.nodes)).toEqual(['1:before', '3:after']);
    expect(diag(r)).toEqual([`error ${f}:2 include loop: '${f}' is already being read (${f} -> ${f}) - skipping`]);
  });

  it('an include cycle through several files names the chain', () => {
    const d = tree({ 'k.conf': 'include a/a.conf\n', 'a/a.conf': 'a\ninclude ../b.conf\n', 'b.conf': 'b\ninclude a/a.conf\n' });
    const f = path.join(d, 'k.conf');
    const r = parseConfigFile(f, { configId: 'kt' });
    expect(r.nodes.map((n) => n.keyword)).toEqual(['a', 'b']);
    expect(errors(r)).toEqual([`${d}/b.conf:2 include loop: '${d}/a/a.conf' is already being read (${d}/a/a.conf -> ${d}/b.conf -> ${d}/a/a.conf) - skipping`]);
  });

  it('the same file included twice in a row is not a loop', () => {
    const d = tree({ 'k.conf': 'include x.conf\ninclude x.conf\n', 'x.conf': 'x\n' });
    const r = parseConfigFile(path.join(d, 'k.conf'), { configId: 'kt' });
    expect(r.nodes.map((n) => n.keyword)).toEqual(['x', 'x']);
    expect(r.diagnostics).toEqual([]);
    expect(r.files).toEqual([path.join(d, 'k.conf'), path.join(d, 'x.conf')]);
  });

  it('include nesting deeper than 64 files is an error', () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 80; i++) files[`f${i}.conf`] = `l${i}\ninclude f${i + 1}.conf\n`;
    files['f80.conf'] = 'end\n';
    const d = tree(files);
    const r = parseConfigFile(path.join(d, 'f0.conf'), { configId: 'kt' });
    expect(r.nodes.length).toBe(64);
    expect(errors(r)).toEqual([`${d}/f63.conf:2 includes nested deeper than 64 files - skipping '${d}/f64.conf'`]);
  });

  it('${_PWD} is the directory of the file being read', () => {
    const d = tree({ 'k.conf': 'p ${_PWD}\ninclude sub/s.conf\np ${_PWD}\n', 'sub/s.conf': 's ${_PWD}\n' });
    const real = fs.realpathSync(d);
    const r = parseConfigFile(path.join(d, 'k.conf'), { configId: 'kt' });
    expect(r.nodes.map((n) => `${n.keyword} ${n.args[0]}`)).toEqual([`p ${real}`, `s ${real}/sub`, `p ${real}`]);
  });

  it('the main file may be a glob (as keepalived -f): every match is read, with a warning', () => {
    const d = tree({ 'c1.conf': 'one\n', 'c2.conf': 'two\n' });
    const r = parseConfigFile(path.join(d, 'c*.conf'), { configId: 'kt' });
    expect(r.nodes.map((n) => `${path.basename(n.file)}:${n.keyword}`)).toEqual(['c1.conf:one', 'c2.conf:two']);
    expect(diag(r)).toEqual([`warning ${d}/c*.conf:0 multiple configuration file matches of ${d}/c*.conf, starting with ${d}/c1.conf`]);
  });

  it('a missing or unusable main file is an error', () => {
    const d = tree({ 'sub/x': '' });
    const missing = path.join(d, 'nope.conf');
    expect(diag(parseConfigFile(missing, { configId: 'kt' }))).toEqual([
      `error ${missing}:0 Config files missing '${missing}'.`,
      `error ${missing}:0 Failed to open configuration file '${missing}'`,
    ]);
    const dir = path.join(d, 'sub');
    expect(diag(parseConfigFile(dir, { configId: 'kt' }))).toEqual([
      `error ${dir}:0 Configuration file '${dir}' is a directory - skipping`,
      `error ${dir}:0 Failed to open configuration file '${dir}'`,
    ]);
  });

  it("the pattern is the whole rest of the line (keepalived), with a hint when it swallowed a '}'", () => {
    const d = tree({ 'k.conf': 'global_defs { include x.conf }\n', 'x.conf': 'router_id r\n' });
    const f = path.join(d, 'k.conf');
    const r = parseConfigFile(f, { configId: 'kt' });
    expect(diag(r)).toEqual([
      `warning ${f}:1 Config files missing 'x.conf }'. (the include pattern is the whole rest of the line, here including the '}')`,
      `error ${f}:1 There are 1 missing '}'s or extra '{'s - block 'global_defs' opened here is not closed at the end of the configuration`,
    ]);
  });

  it('includes after @ID and from definitions are honoured (verified, contrary to the man page note)', () => {
    const d = tree({ 'x.conf': 'x\n' });
    const r = parseConfigText('@kt include x.conf\n@other include x.conf\n$I=include x.conf\n$I\n', { file: 'k.conf', configId: 'kt', baseDir: d });
    expect(r.nodes.map((n) => n.keyword)).toEqual(['x', 'x']);
  });

  it('an include produced by ~SEQ is read at once, in order (keepalived reads them last-first: documented divergence)', () => {
    const d = tree({ 'f1.conf': 'one\n', 'f2.conf': 'two\n', 'f3.conf': 'three\n' });
    const r = parseConfigText('~SEQ(I,1,3) include f${I}.conf\n', { file: 'k.conf', configId: 'kt', baseDir: d });
    expect(r.nodes.map((n) => n.keyword)).toEqual(['one', 'two', 'three']);
    expect(r.diagnostics).toEqual([]);
  });

  it('include, includer... without a file name are ordinary keywords for the model to reject', () => {
    const r = parseConfigText('include\nincluder\nincludex y\n', { file: 'k.conf', configId: 'kt' });
    expect(shape(r.nodes)).toEqual(['1:include', '2:includer', '3:includex y']);
  });
});
