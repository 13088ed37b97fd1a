import { describe, expect, it } from 'vitest';
import { Reporter } from '../../src/config/schema/diag';
import { readDecimal, readInt, readUnsigned, strtoul, checkTrueFalse } from '../../src/config/schema/cnum';
import { inetAton, inetPton4, inetPton6, parseIp } from '../../src/config/schema/inet';
import { splitQuotedEscaped } from '../../src/config/schema/scripts';

describe('C number readers (lib/parser.c, --config-test mode)', () => {
  it('read_unsigned: negatives, junk, ranges', () => {
    const rep = new Reporter();
    expect(readUnsigned(rep, '42', 1, 255)).toBe(42);
    expect(readUnsigned(rep, ' 7', 1, 255)).toBe(7);
    expect(readUnsigned(rep, '-1', 0, 255)).toBeNull();
    expect(readUnsigned(rep, '12a', 0, 255)).toBeNull();
    expect(readUnsigned(rep, '256', 1, 255)).toBeNull();
    expect(readUnsigned(rep, '99999999999', 0, 4294967295)).toBeNull();
    expect(rep.diagnostics.map((d) => d.message)).toEqual([
      "negative number '-1'",
      "invalid number '12a'",
      "number '256' outside range [1, 255]",
      "number '99999999999' outside unsigned integer range",
    ]);
    expect(rep.exitCode()).toBe(5);
  });

  it('read_int accepts signs; strtoul base 0 understands 0x and octal', () => {
    const rep = new Reporter();
    expect(readInt(rep, '-253', -253, 253)).toBe(-253);
    expect(readInt(rep, '+5', -253, 253)).toBe(5);
    expect(Number(strtoul('0x1F', 0).value)).toBe(31);
    expect(Number(strtoul('017', 0).value)).toBe(15);
    expect(strtoul('abc', 10).end).toBe(0);
  });

  it('read_decimal: microseconds, rounding of extra places, ranges', () => {
    const rep = new Reporter();
    expect(readDecimal(rep, '1.5', 10000, 255000000, 6)).toBe(1500000);
    expect(readDecimal(rep, '.25', 0, 10000000, 6)).toBe(250000);
    expect(readDecimal(rep, '0.0000005', 0, 10000000, 6)).toBe(1);
    expect(rep.diagnostics.map((d) => d.message)).toEqual(["number '0.0000005' has too many decimal places"]);
    expect(readDecimal(rep, '256', 10000, 255000000, 6)).toBeNull();
    expect(rep.diagnostics[1].message).toBe("number '256' outside range [0.010000, 255.000000]");
  });

  it('booleans', () => {
    expect(['true', 'on', 'yes', 'false', 'off', 'no', 'TRUE'].map(checkTrueFalse)).toEqual([1, 1, 1, 0, 0, 0, -1]);
  });
});

describe('addresses (glibc inet_pton semantics)', () => {
  it('IPv4 needs four decimal octets without leading zeros', () => {
    expect(inetPton4('192.0.2.1')).toEqual(new Uint8Array([192, 0, 2, 1]));
    expect(inetPton4('192.0.2')).toBeNull();
    expect(inetPton4('192.0.2.01')).toBeNull();
    expect(inetPton4('192.0.2.256')).toBeNull();
    expect(inetPton4('1.2.3.4.5')).toBeNull();
  });

  it('IPv6 with :: and an embedded IPv4 address, canonical text', () => {
    expect(parseIp('2001:DB8:0:0:0:0:0:1')!.text).toBe('2001:db8::1');
    expect(parseIp('::ffff:192.0.2.1')!.bytes.slice(12)).toEqual(new Uint8Array([192, 0, 2, 1]));
    expect(inetPton6('2001:db8::1::2')).toBeNull();
    expect(inetPton6('2001:db8:12345::1')).toBeNull();
    expect(inetPton6('fe80::1%eth0')).toBeNull();
  });

  it('inet_aton forms (persistence_granularity)', () => {
    expect(inetAton('255.255.255.0')).toEqual(new Uint8Array([255, 255, 255, 0]));
    expect(inetAton('0xffffff00')).toEqual(new Uint8Array([255, 255, 255, 0]));
    expect(inetAton('255.255.0xff00')).toEqual(new Uint8Array([255, 255, 255, 0]));
    expect(inetAton('255.255.255.256')).toBeNull();
  });
});

describe('script command lines (alloc_strvec_quoted_escaped)', () => {
  it('splits on blanks, honours both quotes and C escapes', () => {
    const rep = new Reporter();
    expect(splitQuotedEscaped(rep, `/bin/check "a b" 'c d' e\\ f \\x41\\t`)).toEqual(['/bin/check', 'a b', 'c d', 'e f', 'A\t']);
    expect(splitQuotedEscaped(rep, '   ')).toBeNull();
    expect(splitQuotedEscaped(rep, '"unterminated')).toBeNull();
    expect(rep.diagnostics.map((d) => d.code)).toEqual(['CONFIG_UNMATCHED_QUOTE']);
  });
});

describe('exit code rule (lib/parser.c: the largest class reported wins)', () => {
  it('a fatal class followed by a general error exits 5, alone 4; security 6', () => {
    const a = new Reporter();
    a.error(2, 'bad if');
    expect(a.exitCode()).toBe(4);
    a.error(13, 'general');
    expect(a.exitCode()).toBe(5);
    a.error(3, 'fatal again');
    expect(a.exitCode()).toBe(5);
    a.error(16, 'security');
    expect(a.exitCode()).toBe(6);
    const b = new Reporter();
    b.log('only logged');
    expect(b.exitCode()).toBe(0);
  });
});
