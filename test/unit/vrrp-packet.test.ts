import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildIpv4Header,
  canonicalIp,
  compareIp,
  computeChecksum,
  decodeAdvert,
  encodeAdvert,
  formatIp,
  internetChecksum,
  isMulticast,
  nextIpId,
  parseIpv4,
  parseIpv6,
  patchPriority,
  peekHeader,
  vrrpMessageLength,
  type CheckName,
  type RxExpect,
  type RxPacket,
} from '../../src/vrrp/packet';

// Real keepalived 2.2.7 captures (shared/reference/keepalived-2.2.7/, RESULTS.md §8 configs:
// VRID 51, h1 192.0.2.11 prio 150, h2 192.0.2.12 prio 100, VIP 192.0.2.50 / 2001:db8::50).
const REF = join(__dirname, '..', '..', '..', 'shared', 'reference', 'keepalived-2.2.7');

interface Captured {
  family: 'ipv4' | 'ipv6';
  ipHeader?: Buffer;
  vrrp: Buffer;
  src: string;
  dst: string;
  ttl: number;
  ipv6PayloadLen?: number;
}

/** Minimal pcap (LINKTYPE_ETHERNET) reader: the VRRP packets in a capture. */
function readVrrpPcap(file: string): Captured[] {
  const d = readFileSync(join(REF, file));
  expect(d.readUInt32LE(0)).toBe(0xa1b2c3d4);
  expect(d.readUInt32LE(20)).toBe(1); // Ethernet
  const out: Captured[] = [];
  for (let off = 24; off < d.length; ) {
    const incl = d.readUInt32LE(off + 8);
    const pkt = d.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    const et = pkt.readUInt16BE(12);
    if (et === 0x0800 && pkt[14 + 9] === 112) {
      const ihl = (pkt[14] & 0x0f) * 4;
      const tot = pkt.readUInt16BE(16);
      const ip = Buffer.from(pkt.subarray(14, 14 + ihl));
      out.push({ family: 'ipv4', ipHeader: ip, vrrp: Buffer.from(pkt.subarray(14 + ihl, 14 + tot)), src: formatIp(ip.subarray(12, 16)), dst: formatIp(ip.subarray(16, 20)), ttl: ip[8] });
    } else if (et === 0x86dd && pkt[14 + 6] === 112) {
      const plen = pkt.readUInt16BE(14 + 4);
      out.push({ family: 'ipv6', vrrp: Buffer.from(pkt.subarray(54, 54 + plen)), src: formatIp(pkt.subarray(22, 38)), dst: formatIp(pkt.subarray(38, 54)), ttl: pkt[14 + 7], ipv6PayloadLen: plen });
    }
  }
  return out;
}

const captures = {
  v2mc: readVrrpPcap('vrrp-v2-multicast.pcap'),
  v2uc: readVrrpPcap('vrrp-v2-unicast.pcap'),
  v3mc: readVrrpPcap('vrrp-v3-multicast.pcap'),
  v36: readVrrpPcap('vrrp-v3-ipv6.pcap'),
};

function expectFor(c: Captured, over: Partial<RxExpect> = {}): RxExpect {
  const v = (c.vrrp[0] >> 4) as 2 | 3;
  return {
    family: c.family,
    version: v,
    vrid: 51,
    authType: 0,
    vips: [c.family === 'ipv4' ? '192.0.2.50' : '2001:db8::50'],
    advertIntMs: v === 2 ? 1000 : c.family === 'ipv4' ? 100 : 1000,
    unicast: !isMulticast(c.dst),
    checkVipAddr: true,
    ...over,
  };
}

function rx(c: Captured): RxPacket {
  return c.family === 'ipv4' ? { vrrp: c.vrrp, ipHeader: c.ipHeader, src: c.src } : { vrrp: c.vrrp, src: c.src, dst: c.dst, ttl: c.ttl };
}

describe('golden vectors from keepalived 2.2.7 captures', () => {
  it('found the VRRP packets in every capture', () => {
    expect(captures.v2mc.length).toBe(14);
    expect(captures.v2uc.length).toBe(7);
    expect(captures.v3mc.length).toBe(125);
    expect(captures.v36.length).toBe(7);
  });

  it('matches the tcpdump text for the first v2 multicast advert (literal bytes)', () => {
    // vrrp-v2-multicast.txt: 192.0.2.11 > 224.0.0.18: VRRPv2, vrid 51, prio 150, authtype none, intvl 1s, addrs: 192.0.2.50
    const ip = Buffer.from('45c000280001 0000ff701887c000020be0000012'.replace(/ /g, ''), 'hex');
    const vrrp = Buffer.from('21339601000186 97c00002320000000000000000'.replace(/ /g, ''), 'hex');
    expect(captures.v2mc[0].ipHeader).toEqual(ip);
    expect(captures.v2mc[0].vrrp).toEqual(vrrp);
    const enc = encodeAdvert({ version: 2, vrid: 51, priority: 150, advertIntSec: 1, addresses: ['192.0.2.50'] }, { family: 'ipv4' });
    expect(enc.toString('hex')).toBe(vrrp.toString('hex'));
    expect(buildIpv4Header({ src: '192.0.2.11', dst: '224.0.0.18', ttl: 255, id: 1, payloadLength: 20 }).toString('hex')).toBe(ip.toString('hex'));
  });

  for (const [name, list] of Object.entries(captures)) {
    it(`${name}: every captured advert decodes and re-encodes byte-identically`, () => {
      const prios = new Set<number>();
      for (const c of list) {
        const r = decodeAdvert(rx(c), expectFor(c));
        if (!r.ok) throw new Error(`${name}: ${r.error.check}: ${r.error.detail}`);
        const a = r.advert;
        prios.add(a.priority);
        expect(a.vrid).toBe(51);
        expect(a.type).toBe(1);
        expect(a.src).toBe(c.src);
        expect(a.addresses).toEqual([c.family === 'ipv4' ? '192.0.2.50' : '2001:db8::50']);
        expect(r.switchToOldChecksum).toBe(false);
        const enc = encodeAdvert(
          { version: a.version, vrid: a.vrid, priority: a.priority, advertIntSec: a.advertIntSec, advertIntCs: a.advertIntCs, addresses: a.addresses, authType: a.authType },
          { family: c.family, src: c.src, dst: c.dst },
        );
        expect(enc.toString('hex')).toBe(c.vrrp.toString('hex'));
        if (c.ipHeader) {
          const id = c.ipHeader.readUInt16BE(4);
          expect(buildIpv4Header({ src: c.src, dst: c.dst, ttl: c.ttl, id, payloadLength: c.vrrp.length }).toString('hex')).toBe(c.ipHeader.toString('hex'));
        }
      }
      // each capture holds the master (150), the backup (100, after the takeover) and a priority-0 stop
      expect([...prios].sort((x, y) => x - y)).toEqual([0, 100, 150]);
    });
  }

  it('decodes the intervals as keepalived puts them: v2 seconds, v3 centiseconds', () => {
    const a2 = decodeAdvert(rx(captures.v2mc[0]), expectFor(captures.v2mc[0]));
    const a3 = decodeAdvert(rx(captures.v3mc[0]), expectFor(captures.v3mc[0]));
    const a6 = decodeAdvert(rx(captures.v36[0]), expectFor(captures.v36[0]));
    expect(a2.ok && [a2.advert.advertIntSec, a2.advert.advertIntMs, a2.advert.authType]).toEqual([1, 1000, 0]);
    expect(a3.ok && [a3.advert.advertIntCs, a3.advert.advertIntMs]).toEqual([10, 100]);
    expect(a6.ok && [a6.advert.advertIntCs, a6.advert.advertIntMs, a6.advert.src]).toEqual([100, 1000, 'fe80::ff:fe00:1']);
  });

  it('IPv6: the kernel-computed checksum verifies with the IPv6 pseudo-header', () => {
    for (const c of captures.v36) {
      const r = decodeAdvert(rx(c), expectFor(c, { ipv6Checksum: 'verify' }));
      expect(r.ok).toBe(true);
    }
    const c = captures.v36[0];
    const bad = Buffer.from(c.vrrp);
    bad[2] ^= 1;
    const r = decodeAdvert({ ...rx(c), vrrp: bad }, expectFor(c, { ipv6Checksum: 'verify' }));
    expect(r.ok ? null : r.error.counter).toBe('checksum_err');
    // keepalived leaves IPv6 checksums to the kernel: not checked by default
    expect(decodeAdvert({ ...rx(c), vrrp: bad }, expectFor(c)).ok).toBe(true);
  });

  it('patchPriority (RFC 1624 incremental) turns the captured 150 advert into the captured priority-0 one', () => {
    for (const list of [captures.v2mc, captures.v2uc, captures.v3mc, captures.v36]) {
      const zero = list.find((c) => c.vrrp[2] === 0)!;
      const first = list.find((c) => c.vrrp[2] === 150 && c.src === zero.src && c.dst === zero.dst)!;
      const b = Buffer.from(first.vrrp);
      patchPriority(b, 0);
      expect(b.toString('hex')).toBe(zero.vrrp.toString('hex'));
      patchPriority(b, 150);
      expect(b.toString('hex')).toBe(first.vrrp.toString('hex'));
    }
  });

  it('patchPriority equals a full re-encode for every priority', () => {
    const ctx = { family: 'ipv4' as const, src: '192.0.2.11', dst: '224.0.0.18' };
    const b = encodeAdvert({ version: 3, vrid: 51, priority: 150, advertIntCs: 10, addresses: ['192.0.2.50', '192.0.2.51'] }, ctx);
    for (let p = 0; p <= 255; p++) {
      patchPriority(b, p);
      expect(b).toEqual(encodeAdvert({ version: 3, vrid: 51, priority: p, advertIntCs: 10, addresses: ['192.0.2.50', '192.0.2.51'] }, ctx));
    }
  });

  it('IP IDs count from 1 and skip 0 on wrap (keepalived vrrp_update_pkt)', () => {
    expect(captures.v2mc.filter((c) => c.src === '192.0.2.11').map((c) => c.ipHeader!.readUInt16BE(4)).slice(0, 3)).toEqual([1, 2, 3]);
    expect(nextIpId(0)).toBe(1);
    expect(nextIpId(1)).toBe(2);
    expect(nextIpId(0xffff)).toBe(1);
  });
});

describe('encoding', () => {
  it('VRRPv2 PASS: 8 bytes of password after the addresses, zero padded, in the checksum', () => {
    const b = encodeAdvert({ version: 2, vrid: 7, priority: 100, advertIntSec: 1, addresses: ['192.0.2.50'], authType: 1, authPass: 'secret' }, { family: 'ipv4' });
    expect(b.length).toBe(20);
    expect(b[4]).toBe(1);
    expect(b.subarray(12).toString('hex')).toBe(Buffer.from('secret\0\0').toString('hex'));
    expect(internetChecksum(b)).toBe(0);
    // only the first 8 characters are used (keepalived auth_pass)
    const long = encodeAdvert({ version: 2, vrid: 7, priority: 100, advertIntSec: 1, addresses: ['192.0.2.50'], authType: 1, authPass: 'abcdefghijkl' }, { family: 'ipv4' });
    expect(long.subarray(12).toString()).toBe('abcdefgh');
  });

  it('VRRPv3/IPv4: pseudo-header with the real destination; the old (≤1.3.6) unicast variant uses the group', () => {
    const f = { version: 3 as const, vrid: 51, priority: 150, advertIntCs: 10, addresses: ['192.0.2.50'] };
    const std = encodeAdvert(f, { family: 'ipv4', src: '192.0.2.11', dst: '192.0.2.12' });
    const old = encodeAdvert(f, { family: 'ipv4', src: '192.0.2.11', dst: '192.0.2.12', checksumMode: 'old' });
    const mc = encodeAdvert(f, { family: 'ipv4', src: '192.0.2.11', dst: '224.0.0.18' });
    expect(std.readUInt16BE(6)).not.toBe(old.readUInt16BE(6));
    expect(old).toEqual(mc);
    expect(computeChecksum(std, 3, { family: 'ipv4', src: '192.0.2.11', dst: '192.0.2.12' })).toBe(std.readUInt16BE(6));
    expect(() => encodeAdvert(f, { family: 'ipv4' })).toThrow(/pseudo-header/);
  });

  it('lengths follow keepalived vrrp_pkt_len', () => {
    expect(vrrpMessageLength(2, 'ipv4', 1)).toBe(20);
    expect(vrrpMessageLength(3, 'ipv4', 1)).toBe(12);
    expect(vrrpMessageLength(3, 'ipv6', 1)).toBe(24);
    expect(vrrpMessageLength(2, 'ipv6', 2)).toBe(40);
    expect(encodeAdvert({ version: 3, vrid: 1, priority: 1, advertIntCs: 4095, addresses: [] }, { family: 'ipv6' }).length).toBe(8);
  });

  it('rejects invalid fields', () => {
    expect(() => encodeAdvert({ version: 3, vrid: 0, priority: 1, advertIntCs: 1, addresses: [] }, { family: 'ipv6' })).toThrow();
    expect(() => encodeAdvert({ version: 3, vrid: 1, priority: 256, advertIntCs: 1, addresses: [] }, { family: 'ipv6' })).toThrow();
    expect(() => encodeAdvert({ version: 3, vrid: 1, priority: 1, advertIntCs: 4096, addresses: [] }, { family: 'ipv6' })).toThrow();
    expect(() => encodeAdvert({ version: 2, vrid: 1, priority: 1, advertIntSec: 1, addresses: ['2001:db8::1'] }, { family: 'ipv4' })).toThrow();
  });
});

describe('addresses', () => {
  it('parses and formats IPv4/IPv6 (RFC 5952)', () => {
    expect(formatIp(parseIpv6('2001:DB8:0:0::50')!)).toBe('2001:db8::50');
    expect(formatIp(parseIpv6('fe80::ff:fe00:1%eth0')!)).toBe('fe80::ff:fe00:1');
    expect(formatIp(parseIpv6('::')!)).toBe('::');
    expect(formatIp(parseIpv6('::ffff:192.0.2.1')!)).toBe('::ffff:c000:201');
    expect(formatIp(parseIpv6('2001:db8:0:1:0:0:0:1')!)).toBe('2001:db8:0:1::1');
    expect(formatIp(parseIpv6('2001:db8:1:1:1:1:1:1')!)).toBe('2001:db8:1:1:1:1:1:1');
    expect(parseIpv6('1::2::3')).toBeNull();
    expect(parseIpv6('1:2:3:4:5:6:7:8:9')).toBeNull();
    expect(parseIpv4('192.0.2.256')).toBeNull();
    expect(parseIpv4('192.0.2')).toBeNull();
    expect(canonicalIp('nonsense')).toBeNull();
    // glibc inet_pton() rules, as keepalived parses: no leading zeros, dotted quad only last
    expect(parseIpv4('192.0.2.01')).toBeNull();
    expect(parseIpv6('::ffff:192.0.2.01')).toBeNull();
    expect(parseIpv6('192.0.2.1::')).toBeNull();
    expect(canonicalIp('0:0:0:0:0:FFFF:192.0.2.1%eth0')).toBe('::ffff:c000:201');
    expect(canonicalIp('0.0.0.0')).toBe('0.0.0.0');
  });

  it('compares as unsigned big-endian numbers (keepalived inet_inaddrcmp)', () => {
    expect(compareIp('192.0.2.12', '192.0.2.11')).toBeGreaterThan(0);
    expect(compareIp('10.0.0.1', '192.0.2.1')).toBeLessThan(0);
    expect(compareIp('200.0.0.1', '100.0.0.1')).toBeGreaterThan(0); // unsigned: no sign bit trouble
    expect(compareIp('fe80::2', 'fe80::1')).toBeGreaterThan(0);
    expect(compareIp('192.0.2.1', '192.0.2.1')).toBe(0);
    expect(compareIp('192.0.2.1', 'fe80::1')).toBe(0);
  });
});

// ---------------------------------------------------------------------------
// Validation order (keepalived-features.md §3.4)
// ---------------------------------------------------------------------------

const SRC = '192.0.2.11';
const GROUP = '224.0.0.18';

interface Build {
  version?: 2 | 3;
  vrid?: number;
  priority?: number;
  type?: number;
  addresses?: string[];
  advertIntSec?: number;
  advertIntCs?: number;
  authType?: number;
  authPass?: string;
  ttl?: number;
  dst?: string;
  src?: string;
  protocol?: number;
  totLenDelta?: number;
  truncate?: number;
  corruptChecksum?: boolean;
}

function pkt4(o: Build = {}): RxPacket {
  const version = o.version ?? 2;
  const dst = o.dst ?? GROUP;
  const src = o.src ?? SRC;
  const authType = o.authType ?? 0;
  const v = encodeAdvert(
    { version, vrid: o.vrid ?? 51, priority: o.priority ?? 150, advertIntSec: o.advertIntSec ?? 1, advertIntCs: o.advertIntCs ?? 100, addresses: o.addresses ?? ['192.0.2.50'], authType: authType <= 1 ? authType : 0, authPass: o.authPass },
    { family: 'ipv4', src, dst },
  );
  if (authType > 1) {
    v[4] = authType;
    v.writeUInt16BE(computeChecksum(v, version, { family: 'ipv4', src, dst }), 6);
  }
  if (o.type !== undefined) {
    v[0] = (v[0] & 0xf0) | o.type;
    v.writeUInt16BE(computeChecksum(v, version, { family: 'ipv4', src, dst }), 6);
  }
  let vrrp = v;
  if (o.truncate) vrrp = v.subarray(0, v.length - o.truncate);
  if (o.corruptChecksum) vrrp.writeUInt16BE(vrrp.readUInt16BE(6) ^ 0x5a5a, 6);
  const ip = buildIpv4Header({ src, dst, ttl: o.ttl ?? 255, id: 1, payloadLength: vrrp.length + (o.totLenDelta ?? 0), protocol: o.protocol });
  return { vrrp, ipHeader: ip, src };
}

function exp4(o: Partial<RxExpect> = {}): RxExpect {
  return { family: 'ipv4', version: 2, vrid: 51, authType: 0, vips: ['192.0.2.50'], advertIntMs: 1000, unicast: false, checkVipAddr: true, ...o };
}

function check(p: RxPacket, e: RxExpect): CheckName | 'ok' {
  const r = decodeAdvert(p, e);
  return r.ok ? 'ok' : r.error.check;
}

describe('receive validation, one check at a time', () => {
  it('accepts a good packet', () => {
    const r = decodeAdvert(pkt4(), exp4());
    expect(r.ok).toBe(true);
  });

  const cases: Array<[string, RxPacket, RxExpect, CheckName, string | null, boolean]> = [
    // [name, packet, expect, check, counter, counted]
    ['header shorter than 8 bytes', { vrrp: Buffer.alloc(5), src: SRC }, exp4(), 'too_short', 'packet_len_err', false],
    ['unknown VRID', pkt4({ vrid: 52 }), exp4(), 'vrid', 'vrid_err', false],
    ['AH header but auth type not AH', pkt4({ protocol: 51 }), exp4(), 'ah_mismatch', 'authtype_mismatch', true],
    ['no AH header but auth type AH', pkt4(), exp4({ authType: 2 }), 'ah_mismatch', 'authtype_mismatch', true],
    ['length shorter than naddr implies', pkt4({ truncate: 4 }), exp4(), 'length', 'packet_len_err', true],
    ['TTL 254 on multicast', pkt4({ ttl: 254 }), exp4(), 'ttl', 'ip_ttl_err', true],
    ['version 3 to a v2 instance', pkt4({ version: 3 }), exp4(), 'version', 'version_err', true],
    ['auth type 3', pkt4({ authType: 3 }), exp4(), 'auth_type_invalid', 'invalid_authtype', true],
    ['auth type PASS to a none instance', pkt4({ authType: 1, authPass: 'x' }), exp4(), 'auth_type_mismatch', 'authtype_mismatch', true],
    ['wrong password', pkt4({ authType: 1, authPass: 'wrong' }), exp4({ authType: 1, authPass: 'right' }), 'auth_failure', 'auth_failure', true],
    ['advert interval 2 s vs 1 s (dropped, never counted)', pkt4({ advertIntSec: 2 }), exp4(), 'advert_interval', 'advert_interval_err', false],
    ['type 2', pkt4({ type: 2 }), exp4(), 'type', 'invalid_type_rcvd', true],
    ['two addresses, one VIP configured', pkt4({ addresses: ['192.0.2.50', '192.0.2.51'] }), exp4(), 'naddr', 'addr_list_err', true],
    ['IP total length wrong', pkt4({ totLenDelta: 4 }), exp4(), 'ip_total_length', 'packet_len_err', true],
    ['bad checksum', pkt4({ corruptChecksum: true }), exp4(), 'checksum', 'checksum_err', true],
    ['multicast packet on a unicast instance', pkt4(), exp4({ unicast: true }), 'mcast_mismatch', 'addr_list_err', true],
    ['unicast packet on a multicast instance', pkt4({ dst: '192.0.2.12' }), exp4(), 'mcast_mismatch', 'addr_list_err', true],
    ['VIP missing from the advert', pkt4({ addresses: ['192.0.2.99'] }), exp4(), 'vip_missing', 'addr_list_err', true],
    ['unicast source not a peer (no counter)', pkt4({ dst: '192.0.2.12' }), exp4({ unicast: true, checkUnicastSrc: true, unicastPeers: [{ address: '192.0.2.13' }] }), 'unicast_src', null, false],
    ['TTL outside the peer range', pkt4({ dst: '192.0.2.12', ttl: 64 }), exp4({ unicast: true, checkUnicastSrc: true, unicastPeers: [{ address: SRC, minTtl: 250 }] }), 'peer_ttl', 'ip_ttl_err', true],
  ];
  for (const [name, p, e, chk, counter, counted] of cases) {
    it(`${name} → ${chk} (${counter ?? 'no counter'})`, () => {
      const r = decodeAdvert(p, e);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.error.check).toBe(chk);
      expect(r.error.counter).toBe(counter);
      expect(r.error.counted).toBe(counted);
      expect(r.error.countedAsReceived).toBe(['vip_missing', 'unicast_src', 'peer_ttl'].includes(chk));
      expect(r.error.detail.length).toBeGreaterThan(0);
    });
  }

  it('global counters are scoped global (RFC 2787/6527 router statistics)', () => {
    const r1 = decodeAdvert(pkt4({ corruptChecksum: true }), exp4());
    const r2 = decodeAdvert(pkt4({ version: 3 }), exp4());
    const r3 = decodeAdvert(pkt4({ ttl: 1 }), exp4());
    expect([r1, r2, r3].map((r) => (r.ok ? 'ok' : r.error.scope))).toEqual(['global', 'global', 'instance']);
  });

  it('unicast instances do not check TTL 255 (keepalived), multicast TTL unknown is not checked', () => {
    expect(check(pkt4({ dst: '192.0.2.12', ttl: 64 }), exp4({ unicast: true }))).toBe('ok');
    const p = pkt4();
    expect(check({ vrrp: p.vrrp, src: SRC, dst: GROUP }, exp4())).toBe('ok');
    expect(check({ vrrp: p.vrrp, src: SRC, dst: GROUP, ttl: 1 }, exp4())).toBe('ttl');
  });

  it('skip_check_adv_addr (checkVipAddr false) skips count and content checks', () => {
    expect(check(pkt4({ addresses: ['192.0.2.99', '192.0.2.98'] }), exp4({ checkVipAddr: false }))).toBe('ok');
  });

  it('the right password passes; only its first 8 bytes matter', () => {
    expect(check(pkt4({ authType: 1, authPass: 'right' }), exp4({ authType: 1, authPass: 'right' }))).toBe('ok');
    expect(check(pkt4({ authType: 1, authPass: 'abcdefgh-one' }), exp4({ authType: 1, authPass: 'abcdefgh-two' }))).toBe('ok');
  });

  it('v3 does not check the advert interval (learnt from the master, RFC 5798)', () => {
    expect(check(pkt4({ version: 3, advertIntCs: 37 }), exp4({ version: 3, advertIntMs: 100 }))).toBe('ok');
  });
});

describe('receive validation order (first failing check wins, as in vrrp_check_packet)', () => {
  // each pair: a packet failing check A and a later check B must report A
  const pairs: Array<[string, RxPacket, RxExpect, CheckName]> = [
    ['vrid before everything', pkt4({ vrid: 9, ttl: 1, version: 3 }), exp4(), 'vrid'],
    ['AH before length', pkt4({ protocol: 51, truncate: 4 }), exp4(), 'ah_mismatch'],
    ['length before TTL', pkt4({ truncate: 4, ttl: 1 }), exp4(), 'length'],
    ['TTL before version', pkt4({ ttl: 1, version: 3 }), exp4(), 'ttl'],
    ['version before auth type', pkt4({ version: 3 }), exp4({ authType: 1, authPass: 'x' }), 'version'],
    ['invalid auth type before mismatch', pkt4({ authType: 3 }), exp4({ authType: 1 }), 'auth_type_invalid'],
    ['auth type mismatch before interval', pkt4({ authType: 1, authPass: 'x', advertIntSec: 3 }), exp4(), 'auth_type_mismatch'],
    ['password before interval', pkt4({ authType: 1, authPass: 'bad', advertIntSec: 3 }), exp4({ authType: 1, authPass: 'good' }), 'auth_failure'],
    ['interval before type', pkt4({ advertIntSec: 3, type: 2 }), exp4(), 'advert_interval'],
    ['type before address count', pkt4({ type: 2, addresses: [] }), exp4(), 'type'],
    ['address count before IP total length', pkt4({ addresses: [], totLenDelta: 8 }), exp4(), 'naddr'],
    ['IP total length before checksum', pkt4({ totLenDelta: 8, corruptChecksum: true }), exp4(), 'ip_total_length'],
    ['checksum before multicast check', pkt4({ corruptChecksum: true }), exp4({ unicast: true }), 'checksum'],
    ['multicast check before VIP content', pkt4({ addresses: ['192.0.2.99'] }), exp4({ unicast: true }), 'mcast_mismatch'],
    ['VIP content before unicast source', pkt4({ dst: '192.0.2.12', addresses: ['192.0.2.99'] }), exp4({ unicast: true, checkUnicastSrc: true, unicastPeers: [] }), 'vip_missing'],
    ['unicast source before peer TTL', pkt4({ dst: '192.0.2.12', ttl: 3 }), exp4({ unicast: true, checkUnicastSrc: true, unicastPeers: [{ address: '192.0.2.99', minTtl: 200 }] }), 'unicast_src'],
  ];
  for (const [name, p, e, first] of pairs) {
    it(name, () => expect(check(p, e)).toBe(first));
  }
});

describe('OLD_CHKSUM_COMPAT (old_unicast_checksum)', () => {
  const f = { version: 3 as const, vrid: 51, priority: 150, advertIntCs: 100, addresses: ['192.0.2.50'] };
  const dst = '192.0.2.12';
  const mk = (mode: 'standard' | 'old'): RxPacket => {
    const v = encodeAdvert(f, { family: 'ipv4', src: SRC, dst, checksumMode: mode });
    return { vrrp: v, ipHeader: buildIpv4Header({ src: SRC, dst, ttl: 255, id: 9, payloadLength: v.length }), src: SRC };
  };
  const e = exp4({ version: 3, advertIntMs: 1000, unicast: true });

  it('a ≤1.3.6-style unicast checksum is accepted and asks to switch the instance to the old method', () => {
    const r = decodeAdvert(mk('old'), e);
    expect(r.ok && r.switchToOldChecksum).toBe(true);
    const std = decodeAdvert(mk('standard'), e);
    expect(std.ok && std.switchToOldChecksum).toBe(false);
  });
  it('once switched, the old form verifies directly and the standard one fails', () => {
    const r = decodeAdvert(mk('old'), { ...e, checksumMode: 'old' });
    expect(r.ok && r.switchToOldChecksum).toBe(false);
    expect(check(mk('standard'), { ...e, checksumMode: 'old' })).toBe('checksum');
  });
  it('`old_unicast_checksum never` refuses the switch', () => {
    expect(check(mk('old'), { ...e, checksumNeverOld: true })).toBe('checksum');
  });
  it('a multicast instance never switches', () => {
    const v = encodeAdvert(f, { family: 'ipv4', src: SRC, dst: GROUP });
    v[2] ^= 1;
    const p = { vrrp: v, ipHeader: buildIpv4Header({ src: SRC, dst: GROUP, ttl: 255, id: 1, payloadLength: v.length }), src: SRC };
    expect(check(p, exp4({ version: 3, advertIntMs: 1000 }))).toBe('checksum');
  });
});

describe('peekHeader', () => {
  it('reads the fixed header for VRID demultiplexing, null when short', () => {
    expect(peekHeader(captures.v3mc[0].vrrp)).toEqual({ version: 3, type: 1, vrid: 51, priority: 150, naddr: 1 });
    expect(peekHeader(Buffer.alloc(7))).toBeNull();
  });
});

describe('fuzz: decodeAdvert never throws', () => {
  // deterministic xorshift32 so a failure is reproducible
  let seed = 0x2545f491;
  const rnd = (): number => {
    seed ^= seed << 13;
    seed >>>= 0;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    seed >>>= 0;
    return seed / 0x100000000;
  };
  const bytes = (n: number): Buffer => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
    return b;
  };
  const exps: RxExpect[] = [
    exp4(),
    exp4({ version: 3, unicast: true, checkUnicastSrc: true, unicastPeers: [{ address: SRC, minTtl: 1, maxTtl: 254 }] }),
    exp4({ authType: 1, authPass: 'pw' }),
    { family: 'ipv6', version: 3, vrid: 51, authType: 0, vips: ['2001:db8::50'], advertIntMs: 1000, unicast: false, checkVipAddr: true, ipv6Checksum: 'verify' },
  ];

  it('random buffers (4000) with random IP headers and metadata', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 4000; i++) {
      const vrrp = bytes(Math.floor(rnd() * 90));
      // bias towards our VRID and plausible versions so the deeper checks are reached
      if (vrrp.length > 1 && rnd() < 0.7) vrrp[1] = 51;
      if (vrrp.length > 0 && rnd() < 0.7) vrrp[0] = (rnd() < 0.5 ? 0x21 : 0x31) ^ (rnd() < 0.2 ? 0x02 : 0);
      if (vrrp.length > 3 && rnd() < 0.5) vrrp[3] = Math.floor(rnd() * 3);
      const ipHeader = rnd() < 0.6 ? (rnd() < 0.8 ? buildIpv4Header({ src: SRC, dst: rnd() < 0.5 ? GROUP : '192.0.2.12', ttl: rnd() < 0.7 ? 255 : 1, id: i, payloadLength: vrrp.length + (rnd() < 0.8 ? 0 : 3) }) : bytes(Math.floor(rnd() * 30))) : undefined;
      const p: RxPacket = { vrrp, ipHeader, src: rnd() < 0.9 ? SRC : 'garbage', dst: rnd() < 0.5 ? undefined : rnd() < 0.5 ? 'ff02::12' : 'x', ttl: rnd() < 0.5 ? undefined : Math.floor(rnd() * 300) };
      const e = exps[Math.floor(rnd() * exps.length)];
      let r;
      expect(() => (r = decodeAdvert(p, e))).not.toThrow();
      const res = r as unknown as ReturnType<typeof decodeAdvert>;
      seen.add(res.ok ? 'ok' : res.error.check);
      if (!res.ok) expect(typeof res.error.detail).toBe('string');
    }
    // the fuzzing reached deep into the checks, not only the first one
    expect(seen.size).toBeGreaterThan(8);
  });

  it('every single-bit flip of real captured adverts is caught (by a field check or the checksum)', () => {
    const all = [captures.v2mc[0], captures.v2uc[0], captures.v3mc[0], captures.v36[0]];
    let tried = 0;
    for (const c of all) {
      for (let byte = 0; byte < c.vrrp.length; byte++) {
        for (let bit = 0; bit < 8; bit++) {
          const v = Buffer.from(c.vrrp);
          v[byte] ^= 1 << bit;
          const r = decodeAdvert({ ...rx(c), vrrp: v }, expectFor(c, { ipv6Checksum: 'verify' }));
          expect(r.ok, `${c.family} v${c.vrrp[0] >> 4} byte ${byte} bit ${bit}`).toBe(false);
          tried++;
        }
      }
    }
    expect(tried).toBe((20 + 20 + 12 + 24) * 8);
  });

  it('random multi-bit corruption of captured adverts (2000) never throws', () => {
    const all = [...captures.v2mc, ...captures.v2uc, ...captures.v3mc.slice(0, 10), ...captures.v36];
    for (let i = 0; i < 2000; i++) {
      const c = all[Math.floor(rnd() * all.length)];
      const v = Buffer.from(c.vrrp);
      const flips = 2 + Math.floor(rnd() * 6);
      for (let k = 0; k < flips; k++) v[Math.floor(rnd() * v.length)] ^= 1 << Math.floor(rnd() * 8);
      const cut = rnd() < 0.2 ? v.subarray(0, Math.floor(rnd() * v.length)) : v;
      expect(() => decodeAdvert({ ...rx(c), vrrp: cut }, expectFor(c, { ipv6Checksum: 'verify' }))).not.toThrow();
    }
  });
});
