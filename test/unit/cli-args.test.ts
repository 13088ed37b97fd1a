import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../src/cli/args';

describe('keepalived-compatible argv', () => {
  it('has keepalived defaults', () => {
    const o = parseArgs([]);
    expect(o.useFile).toBe('/etc/keepalived/keepalived.conf');
    expect(o.pidFile).toBe('/run/keepalived.pid');
    expect(o.vrrpPidFile).toBe('/run/keepalived_vrrp.pid');
    expect(o.checkersPidFile).toBe('/run/keepalived_checkers.pid');
    expect(o.webListenAddress).toBe(':9165');
    expect(o.webTelemetryPath).toBe('/metrics');
  });
  it('bundles short flags and takes attached or separate arguments', () => {
    const o = parseArgs(['-nlDD', '-f', '/a.conf', '-p/x.pid', '-iNODE1']);
    expect(o.dontFork && o.logConsole).toBe(true);
    expect(o.logDetail).toBe(2);
    expect(o.useFile).toBe('/a.conf');
    expect(o.pidFile).toBe('/x.pid');
    expect(o.configId).toBe('NODE1');
  });
  it('takes the -t log file only attached, like getopt optional arguments', () => {
    expect(parseArgs(['-t']).configTestLog).toBeUndefined();
    expect(parseArgs(['-t/tmp/log']).configTestLog).toBe('/tmp/log');
    expect(parseArgs(['--config-test=/tmp/l2']).configTestLog).toBe('/tmp/l2');
    // a following word is not consumed by an optional argument
    expect(() => parseArgs(['-t', 'x'])).toThrow(UsageError);
  });
  it('accepts long options with = or a separate word, and unambiguous prefixes', () => {
    const o = parseArgs(['--use-file=/b.conf', '--vrrp_pid', '/v.pid', '--log-cons', '--web.listen-address=127.0.0.1:9999']);
    expect(o.useFile).toBe('/b.conf');
    expect(o.vrrpPidFile).toBe('/v.pid');
    expect(o.logConsole).toBe(true);
    expect(o.webListenAddress).toBe('127.0.0.1:9999');
  });
  it('refuses unknown options, missing arguments and bad values with a clear message', () => {
    expect(() => parseArgs(['--bogus'])).toThrow(/Unknown option --bogus/);
    expect(() => parseArgs(['-q'])).toThrow(/invalid option -- 'q'/);
    expect(() => parseArgs(['-f'])).toThrow(/requires an argument/);
    expect(() => parseArgs(['--pid'])).toThrow(/requires an argument/);
    expect(() => parseArgs(['-S', 'local9'])).toThrow(/facility/);
    expect(() => parseArgs(['--dont-fork=yes'])).toThrow(/doesn't allow an argument/);
    expect(() => parseArgs(['stray'])).toThrow(/unexpected argument/);
    expect(() => parseArgs(['--log-level=loud'])).toThrow(/log level/);
  });
  it('maps -G to no-syslog and accepts --no-namespace as an alias', () => {
    expect(parseArgs(['-G']).noSyslog).toBe(true);
    expect(parseArgs(['--no-namespace']).noSyslog).toBe(true);
  });
  it('treats -P -C together as both subsystems, as keepalived does', () => {
    const o = parseArgs(['-P', '-C']);
    expect(o.vrrpOnly || o.checkOnly).toBe(false);
    expect(parseArgs(['-P']).vrrpOnly).toBe(true);
  });
  it('parses umask in octal', () => {
    expect(parseArgs(['-u', '022']).umask).toBe(0o22);
    expect(() => parseArgs(['-u', 'abc'])).toThrow(/umask/);
  });
});
