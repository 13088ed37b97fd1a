import { describe, expect, it } from 'vitest';
import { AgentxFramer, Flag, PduType, VT, decodePdu, encodePdu, readHeader, type Pdu } from '../../src/snmp/agentx-pdu';
import { addressOctets, compareOid, parseOid } from '../../src/snmp/oid';

const base = { sessionId: 7, transactionId: 9, packetId: 11 };

const samples: Pdu[] = [
  { ...base, type: PduType.Open, timeout: 5, id: [1, 3, 6, 1, 4, 1, 9586, 100, 5], descr: Buffer.from('keepwatch') },
  { ...base, type: PduType.Close, reason: 5 },
  { ...base, type: PduType.Register, timeout: 0, priority: 127, rangeSubid: 0, subtree: [1, 3, 6, 1, 2, 1, 68] },
  { ...base, type: PduType.Register, timeout: 3, priority: 100, rangeSubid: 9, subtree: [1, 3, 6, 1, 2, 1, 2, 2, 1, 1], upperBound: 22 },
  { ...base, type: PduType.Unregister, priority: 127, rangeSubid: 0, subtree: [1, 3, 6, 1, 4, 1, 9586, 100, 5, 2] },
  { ...base, type: PduType.Get, ranges: [{ start: [1, 3, 6, 1, 2, 1, 68, 1, 1, 0], include: false, end: [] }] },
  {
    ...base,
    type: PduType.GetNext,
    ranges: [
      { start: [1, 3, 6, 1, 4, 1, 9586, 100, 5], include: true, end: [1, 3, 6, 1, 4, 1, 9586, 100, 6] },
      { start: [], include: false, end: [] },
    ],
  },
  { ...base, type: PduType.GetBulk, nonRepeaters: 1, maxRepetitions: 25, ranges: [{ start: [1, 3, 6, 1, 2, 1, 207], include: false, end: [1, 3, 6, 1, 2, 1, 208] }] },
  {
    ...base,
    type: PduType.TestSet,
    varbinds: [
      { oid: [1, 3, 6, 1, 4, 1, 9586, 100, 5, 2, 3, 1, 7, 1], value: { type: VT.Integer, value: -60 } },
      { oid: [1, 3, 6, 1, 4, 1, 9586, 100, 5, 1, 1, 0], value: { type: VT.OctetString, value: Buffer.from('odd') } },
    ],
  },
  { ...base, type: PduType.CommitSet },
  { ...base, type: PduType.UndoSet },
  { ...base, type: PduType.CleanupSet },
  { ...base, type: PduType.Ping },
  {
    ...base,
    type: PduType.Notify,
    varbinds: [
      { oid: [1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0], value: { type: VT.ObjectIdentifier, value: [1, 3, 6, 1, 4, 1, 9586, 100, 5, 2, 10, 0, 2] } },
      { oid: [1, 3, 6, 1, 2, 1, 68, 1, 3, 1, 7, 2, 51], value: { type: VT.IpAddress, value: Buffer.from([192, 0, 2, 11]) } },
      { oid: [1, 3, 6, 1, 2, 1, 207, 1, 2, 1, 0], value: { type: VT.Counter64, value: 0xfedcba9876543210n } },
      { oid: [1, 3, 6, 1, 2, 1, 1, 3, 0], value: { type: VT.TimeTicks, value: 0xffffffff } },
      { oid: [1, 3, 6, 1, 4, 1, 9586, 100, 5, 2, 3, 1, 3, 1], value: { type: VT.Gauge32, value: 51 } },
      { oid: [1, 3, 6, 1, 2, 1, 68, 2, 1, 0], value: { type: VT.Counter32, value: 3 } },
      { oid: [1, 3, 6, 1, 4, 1, 9586, 100, 5, 1, 8, 0], value: { type: VT.OctetString, value: Buffer.alloc(0) } },
      { oid: [1, 3, 6, 1, 4, 1, 9586, 100, 5, 1, 9, 0], value: { type: VT.Null } },
      { oid: [1, 3, 6, 1, 4, 1, 9586, 100, 5, 1, 10, 0], value: { type: VT.Opaque, value: Buffer.from([1, 2, 3, 4, 5]) } },
      { oid: [1, 3, 6, 1, 4, 1, 9586, 100, 5, 1, 11, 0], value: { type: VT.NoSuchObject } },
      { oid: [1, 3, 6, 1, 4, 1, 9586, 100, 5, 1, 12, 0], value: { type: VT.NoSuchInstance } },
      { oid: [1, 3, 6, 1, 4, 1, 9586, 100, 5, 1, 13, 0], value: { type: VT.EndOfMibView } },
    ],
  },
  { ...base, type: PduType.AddAgentCaps, id: [1, 3, 6, 1, 2, 1, 68], descr: Buffer.from('The MIB module for VRRP') },
  { ...base, type: PduType.RemoveAgentCaps, id: [1, 3, 6, 1, 2, 1, 68] },
  { ...base, type: PduType.Response, sysUpTime: 12345, error: 263, index: 2, varbinds: [{ oid: [2, 5], value: { type: VT.Integer, value: 2147483647 } }] },
  { ...base, type: PduType.Get, context: Buffer.from('vrf-blue'), ranges: [{ start: [1, 3, 6, 1], include: false, end: [] }] },
];

describe('AgentX codec (RFC 2741 §5, §6)', () => {
  for (const be of [true, false]) {
    it(`round-trips every PDU type (${be ? 'network' : 'little-endian'} byte order)`, () => {
      for (const p of samples) {
        const buf = encodePdu(p, be);
        expect(buf.length % 4).toBe(0);
        const h = readHeader(buf)!;
        expect(h.payloadLength).toBe(buf.length - 20);
        expect(Boolean(h.flags & Flag.NetworkByteOrder)).toBe(be);
        const d = decodePdu(buf);
        expect(d.ok, d.ok ? '' : d.error).toBe(true);
        if (!d.ok) continue;
        const { flags: _f, ...got } = d.pdu;
        const { flags: _g, ...want } = p;
        expect(got).toEqual(want);
      }
    });
  }

  it('uses the 1.3.6.1.<prefix> compression of §5.1 and pads octet strings to 4 octets', () => {
    const buf = encodePdu({ ...base, type: PduType.RemoveAgentCaps, id: [1, 3, 6, 1, 2, 1, 68] });
    // n_subid 2, prefix 2, include 0 → 1.3.6.1.2.(1.68)
    expect([...buf.subarray(20, 24)]).toEqual([2, 2, 0, 0]);
    expect(buf.readUInt32BE(24)).toBe(1);
    expect(buf.readUInt32BE(28)).toBe(68);
    const open = encodePdu({ ...base, type: PduType.Open, timeout: 0, id: [], descr: Buffer.from('abcde') });
    // timeout(4) + null OID(4) + length(4) + 5 octets padded to 8
    expect(open.length).toBe(20 + 4 + 4 + 4 + 8);
  });

  it('rejects malformed PDUs with an error value, never an exception', () => {
    const good = encodePdu(samples.find((p) => p.type === PduType.Notify)!);
    const cases: [string, Buffer][] = [
      ['short', good.subarray(0, 10)],
      ['bad version', Buffer.concat([Buffer.from([2]), good.subarray(1)])],
      ['unknown type', Buffer.concat([Buffer.from([1, 99]), good.subarray(2)])],
      ['truncated payload', (() => {
        const b = Buffer.from(good.subarray(0, good.length - 8));
        b.writeUInt32BE(b.length - 20, 16);
        return b;
      })()],
      ['n_subid > 128', (() => {
        const b = Buffer.from(encodePdu(samples[5]));
        b[20] = 200;
        return b;
      })()],
      ['unknown value type', (() => {
        const b = Buffer.from(encodePdu({ ...base, type: PduType.TestSet, varbinds: [{ oid: [1, 3], value: { type: VT.Integer, value: 1 } }] }));
        b.writeUInt16BE(77, 20);
        return b;
      })()],
      ['octet string overrun', (() => {
        const b = Buffer.from(encodePdu(samples[0]));
        // timeout(4) + OID header(4) + 4 sub-ids after the 1.3.6.1.4 prefix
        b.writeUInt32BE(0x7fffffff, 20 + 4 + 4 + 4 * 4);
        return b;
      })()],
      ['IpAddress of 5 octets', (() => {
        const b = Buffer.from(encodePdu({ ...base, type: PduType.TestSet, varbinds: [{ oid: [1, 3], value: { type: VT.OctetString, value: Buffer.from([1, 2, 3, 4, 5]) } }] }));
        b.writeUInt16BE(VT.IpAddress, 20);
        return b;
      })()],
      ['payload_length mismatch', (() => {
        const b = Buffer.from(good);
        b.writeUInt32BE(b.length, 16);
        return b;
      })()],
    ];
    for (const [what, buf] of cases) {
      const d = decodePdu(buf);
      expect(d.ok, what).toBe(false);
    }
  });

  it('survives 20 000 random mutations of valid PDUs without throwing', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const encoded = samples.map((p) => encodePdu(p, rnd() < 0.5));
    for (let i = 0; i < 20000; i++) {
      const src = encoded[Math.floor(rnd() * encoded.length)];
      const b = Buffer.from(src);
      const flips = 1 + Math.floor(rnd() * 6);
      for (let k = 0; k < flips; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      const cut = rnd() < 0.2 ? b.subarray(0, Math.floor(rnd() * b.length)) : b;
      expect(() => decodePdu(cut)).not.toThrow();
    }
  });
});

describe('AgentX stream framing', () => {
  const stream = Buffer.concat(samples.map((p, i) => encodePdu(p, i % 2 === 0)));

  it('yields every PDU whether reads coalesce several PDUs or split one at any octet', () => {
    for (const chunk of [1, 2, 3, 7, 19, 20, 21, 64, 1000, stream.length]) {
      const f = new AgentxFramer();
      const frames: Buffer[] = [];
      for (let i = 0; i < stream.length; i += chunk) {
        for (const ev of f.push(stream.subarray(i, i + chunk))) {
          expect('frame' in ev).toBe(true);
          if ('frame' in ev) frames.push(ev.frame);
        }
      }
      expect(f.pending()).toBe(0);
      expect(frames.length).toBe(samples.length);
      frames.forEach((fr, i) => {
        const d = decodePdu(fr);
        expect(d.ok && d.pdu.type).toBe(samples[i].type);
      });
    }
  });

  it('reports a lost frame boundary as fatal and then ignores the stream', () => {
    const f = new AgentxFramer(4096);
    const bad = Buffer.from(encodePdu(samples[12]));
    bad.writeUInt32BE(6, 16); // not a multiple of 4
    const ev = f.push(Buffer.concat([encodePdu(samples[0]), bad, encodePdu(samples[1])]));
    expect(ev.length).toBe(2);
    expect('frame' in ev[0]).toBe(true);
    expect('fatal' in ev[1]).toBe(true);
    expect(f.push(encodePdu(samples[1]))).toEqual([]);
    const huge = new AgentxFramer(4096);
    const h = Buffer.from(encodePdu(samples[12]));
    h.writeUInt32BE(1 << 20, 16);
    expect('fatal' in huge.push(h)[0]).toBe(true);
  });
});

describe('OID helpers', () => {
  it('parses, orders and converts addresses', () => {
    expect(parseOid('.1.3.6.1')).toEqual([1, 3, 6, 1]);
    expect(parseOid('1.3.x')).toBeUndefined();
    expect(parseOid('1.4294967296')).toBeUndefined();
    expect(compareOid([1, 3, 6], [1, 3, 6, 0])).toBe(-1);
    expect(compareOid([1, 3, 7], [1, 3, 6, 0])).toBe(1);
    expect(compareOid([1, 3], [1, 3])).toBe(0);
    expect(addressOctets('192.0.2.50')).toEqual([192, 0, 2, 50]);
    expect(addressOctets('192.0.2.256')).toBeUndefined();
    expect(addressOctets('2001:db8::50')).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x50]);
    expect(addressOctets('ff02::12')).toEqual([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12]);
    expect(addressOctets('::ffff:192.0.2.1')).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1]);
    expect(addressOctets('fe80::1%eth0')?.[0]).toBe(0xfe);
    expect(addressOctets('1:2:3')).toBeUndefined();
  });
});
