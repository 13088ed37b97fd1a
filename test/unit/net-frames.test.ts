/**
 * Byte-for-byte comparison of what src/net builds with what keepalived 2.2.7 put on the
 * wire (shared/reference/keepalived-2.2.7/*.txt hex dumps: MAC 02:00:00:00:00:01,
 * source 192.0.2.11, VIPs 192.0.2.50 / 2001:db8::50).
 */
import { describe, expect, it } from 'vitest';
import { buildGarpFrame, buildUnsolicitedNaFrame } from '../../src/net/announce';
import { buildIpv4Header, internetChecksum } from '../../src/vrrp/packet';
import { formatIp, formatIpv6, formatIpv6Hex, parseIpv4, parseIpv6, parseMac, formatMac } from '../../src/net/addr';
import { netlinkError } from '../../src/net/netlink';
import { sysctlPath } from '../../src/net/sysctl';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const MAC = parseMac('02:00:00:00:00:01')!;

describe('gratuitous ARP frame', () => {
  it('matches keepalived vrrp_arp.c output (vrrp-v2-multicast.txt)', () => {
    const ref = hex('ffff ffff ffff 0200 0000 0001 0806 0001 0800 0604 0001 0200 0000 0001 c000 0232 ffff ffff ffff c000 0232');
    expect(buildGarpFrame(MAC, parseIpv4('192.0.2.50')!).equals(ref)).toBe(true);
  });
  it('uses the given (VMAC) MAC for Ethernet source and sender hardware address', () => {
    const f = buildGarpFrame(parseMac('00:00:5e:00:01:33')!, parseIpv4('192.0.2.100')!);
    expect(formatMac(f.subarray(6, 12))).toBe('00:00:5e:00:01:33');
    expect(formatMac(f.subarray(22, 28))).toBe('00:00:5e:00:01:33');
    expect(f.length).toBe(42);
  });
});

describe('unsolicited neighbour advertisement frame', () => {
  const ref = hex(
    '3333 0000 0001 0200 0000 0001 86dd 6000 0000 0020 3aff 2001 0db8 0000 0000 0000 0000 0000 0050 ff02 0000 0000 0000 0000 0000 0000 0001 8800 f88c 2000 0000 2001 0db8 0000 0000 0000 0000 0000 0050 0201 0200 0000 0001',
  );
  it('matches keepalived vrrp_ndisc.c output incl. checksum (vrrp-v3-ipv6.txt)', () => {
    expect(buildUnsolicitedNaFrame(MAC, parseIpv6('2001:db8::50')!, false).toString('hex')).toBe(ref.toString('hex'));
  });
  it('sets the Router flag when forwarding, with a checksum that still verifies', () => {
    const f = buildUnsolicitedNaFrame(MAC, parseIpv6('2001:db8::50')!, true);
    expect(f[14 + 40 + 4]).toBe(0xa0);
    const pseudo = Buffer.concat([f.subarray(22, 54), hex('00000020 000000 3a')]);
    expect(internetChecksum(Buffer.concat([pseudo, f.subarray(54, 86)]))).toBe(0);
  });
});

// vrrp-socket.ts sends src/vrrp/packet.ts's header with IP_HDRINCL: check what goes on the wire
describe('IPv4 header for IP_HDRINCL', () => {
  it('matches keepalived vrrp_build_ip4 (multicast v2 advert, id 1)', () => {
    const h = buildIpv4Header({ src: '192.0.2.11', dst: '224.0.0.18', ttl: 255, protocol: 112, payloadLength: 20, id: 1 });
    expect(h.toString('hex')).toBe(hex('45c0 0028 0001 0000 ff70 1887 c000 020b e000 0012').toString('hex'));
  });
  it('matches keepalived for a unicast v2 advert and a v3 advert', () => {
    const u = buildIpv4Header({ src: '192.0.2.11', dst: '192.0.2.12', ttl: 255, protocol: 112, payloadLength: 20, id: 1 });
    expect(u.toString('hex')).toBe(hex('45c0 0028 0001 0000 ff70 368d c000 020b c000 020c').toString('hex'));
    const v3 = buildIpv4Header({ src: '192.0.2.11', dst: '224.0.0.18', ttl: 255, protocol: 112, payloadLength: 12, id: 1 });
    expect(v3.toString('hex')).toBe(hex('45c0 0020 0001 0000 ff70 188f c000 020b e000 0012').toString('hex'));
  });
});

describe('address helpers', () => {
  it('parses and canonicalises IPv6 (RFC 5952)', () => {
    const cases: Array<[string, string]> = [
      ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
      ['ff02::12', 'ff02::12'],
      ['fe80::ff:fe00:1', 'fe80::ff:fe00:1'],
      ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
      ['2001:db8::1:0:0:1', '2001:db8::1:0:0:1'],
      ['::', '::'],
      ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
      ['fe80::1%eth0', 'fe80::1'],
    ];
    for (const [i, o] of cases) expect(formatIpv6(parseIpv6(i)!)).toBe(o);
    // the all-hex flavour differs only for IPv4-mapped addresses
    for (const [i, o] of cases) expect(formatIpv6Hex(parseIpv6(i)!)).toBe(i === '::ffff:192.0.2.1' ? '::ffff:c000:201' : o);
    expect(formatIpv6(parseIpv6('::fffe:192.0.2.1')!)).toBe('::fffe:c000:201');
    expect(formatIpv6(parseIpv6('1::ffff:192.0.2.1')!)).toBe('1::ffff:c000:201');
    expect(formatIp(Buffer.from([192, 0, 2, 1]))).toBe('192.0.2.1');
    expect(parseIpv4('192.0.2.01')).toBeNull();
    expect(parseIpv6('2001:db8::g')).toBeNull();
    expect(parseIpv6('192.0.2.1')).toBeNull();
    expect(parseIpv4('192.0.2.256')).toBeNull();
    expect(parseMac('00:00:5e:00:01')).toBeNull();
  });
});

describe('netlink error parsing', () => {
  it('turns "Request rejected: EEXIST" into code/errno', () => {
    const e = netlinkError('add address 192.0.2.100/32 dev eth0', new Error('Request rejected: EEXIST'));
    expect(e.code).toBe('EEXIST');
    expect(e.errno).toBe(17);
    expect(e.message).toBe('add address 192.0.2.100/32 dev eth0: EEXIST');
  });
  it('maps numeric errnos and timeouts', () => {
    expect(netlinkError('x', new Error('Request rejected: -19')).code).toBe('ENODEV');
    expect(netlinkError('x', new Error('Timeout has been reached')).code).toBe('ETIMEDOUT');
  });
});

describe('sysctl paths', () => {
  it('uses slashes so a dotted VMAC name is one path component', () => {
    expect(sysctlPath('ipv4', 'vrrp.51', 'arp_ignore')).toBe('/proc/sys/net/ipv4/conf/vrrp.51/arp_ignore');
    expect(sysctlPath('ipv4', '../x', 'arp_ignore')).not.toContain('/conf/../');
  });
});
