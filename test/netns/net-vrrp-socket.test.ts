/**
 * src/net/vrrp-socket.ts on real raw sockets between real namespaces.
 * Code runs inside the namespaces through the ns-agent (test/helpers/ns-node.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLab, type Lab } from '../helpers/netns';
import { join } from 'node:path';
import { DIST, runNode, startAgent, type Agent, type AgentError, type Handle } from '../helpers/ns-node';
import { waitFor } from '../helpers/netns';

const FIXTURE = join(__dirname, 'fixtures/net-socket-lifecycle.cjs');
import { internetChecksum } from '../../src/vrrp/packet';
import { parseIpv4, parseIpv6 } from '../../src/net/addr';

/** A VRRPv2 advertisement (RFC 3768 §5.1): vrid, prio, one VIP, auth none, interval 1 s. */
function advertV2(vrid: number, prio: number, vip: string): Buffer {
  const b = Buffer.alloc(8 + 4 + 8);
  b[0] = 0x21;
  b[1] = vrid;
  b[2] = prio;
  b[3] = 1;
  b[4] = 0;
  b[5] = 1;
  parseIpv4(vip)!.copy(b, 8);
  b.writeUInt16BE(internetChecksum(b), 6);
  return b;
}

/** A VRRPv3 IPv6 advertisement (RFC 5798 §5.1) with a zero checksum: the kernel fills it. */
function advertV3v6(vrid: number, prio: number, vip: string): Buffer {
  const b = Buffer.alloc(8 + 16);
  b[0] = 0x31;
  b[1] = vrid;
  b[2] = prio;
  b[3] = 1;
  b.writeUInt16BE(100, 4); // 100 cs
  parseIpv6(vip)!.copy(b, 8);
  return b;
}

/** RFC 5798 §5.2.8 checksum over the IPv6 pseudo-header must verify. */
function v6ChecksumOk(src: string, dst: string, vrrp: Buffer): boolean {
  const pseudo = Buffer.alloc(40);
  parseIpv6(src)!.copy(pseudo, 0);
  parseIpv6(dst)!.copy(pseudo, 16);
  pseudo.writeUInt32BE(vrrp.length, 32);
  pseudo[39] = 112;
  return internetChecksum(Buffer.concat([pseudo, vrrp])) === 0;
}

function linkLocalOf(lab: Lab, host: string): string {
  const out = lab.hosts[host]!.ip('-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'link');
  const m = /inet6 (fe80::[0-9a-f:]+)\//.exec(out);
  if (!m) throw new Error(`no link-local on ${host}: ${out}`);
  return m[1]!;
}

function ifindexOf(lab: Lab, host: string): number {
  return Number(/^(\d+):/.exec(lab.hosts[host]!.ip('-o', 'link', 'show', 'dev', 'eth0'))![1]);
}

describe('VRRP raw sockets between namespaces', () => {
  let lab: Lab;
  let a: Agent;
  let b: Agent;

  beforeAll(async () => {
    lab = makeLab('nv', [
      { name: 'a', v4: ['192.0.2.1/24'], v6: ['2001:db8::1/64'] },
      { name: 'b', v4: ['192.0.2.2/24'], v6: ['2001:db8::2/64'] },
    ]);
    // a second IPv4 address on a: the kernel would pick 192.0.2.1 as source, so seeing
    // 192.0.2.11 on the wire proves the IP_HDRINCL header is ours
    lab.hosts.a!.ip('addr', 'add', '192.0.2.11/24', 'dev', 'eth0');
    a = await startAgent(lab.hosts.a!, { mustExist: ['net/vrrp-socket.js'] });
    b = await startAgent(lab.hosts.b!);
  });

  afterAll(() => {
    a?.kill();
    b?.kill();
    lab?.destroy();
  });

  it('IPv4 multicast: advert reaches the peer with TTL 255, TOS 0xc0, and is not looped back', async () => {
    const rx = await b.call<Handle>('net/vrrp-socket', 'createVrrpSocket', { family: 'ipv4', ifname: 'eth0', multicast: true, ttl: 255 });
    await b.invoke(rx, 'onPacket', b.cb('v4m'));
    await b.invoke(rx, 'onError', b.cb('err'));
    const tx = await a.call<Handle>('net/vrrp-socket', 'createVrrpSocket', { family: 'ipv4', ifname: 'eth0', multicast: true, ttl: 255 });
    await a.invoke(tx, 'onPacket', a.cb('v4m-self'));
    const adv = advertV2(51, 150, '192.0.2.50');
    await a.invoke(tx, 'send', adv, '224.0.0.18');
    const [p] = await b.waitEvent('v4m', ([x]) => x.vrrp.equals(adv), 'IPv4 multicast advert at b');
    expect(p.src).toBe('192.0.2.1');
    expect(p.dst).toBe('224.0.0.18');
    expect(p.ttl).toBe(255);
    expect(p.ifname).toBe('eth0');
    expect(p.ifindex).toBe(ifindexOf(lab, 'b'));
    expect(p.ipHeader.length).toBe(20);
    expect(p.ipHeader[1]).toBe(0xc0); // IP_TOS = IPTOS_PREC_INTERNETCONTROL
    expect(p.ipHeader[9]).toBe(112);
    // IP_MULTICAST_LOOP off: a looped copy would be delivered during a's own sendto, i.e.
    // before a can receive anything b sends afterwards
    const back = advertV2(52, 100, '192.0.2.60');
    await b.invoke(rx, 'send', back, '224.0.0.18');
    await a.waitEvent('v4m-self', ([x]) => x.vrrp.equals(back), 'b advert at a');
    expect(a.events('v4m-self').filter(([x]) => x.vrrp.equals(adv))).toHaveLength(0);
    expect(b.events('err')).toHaveLength(0);
    await a.invoke(tx, 'close');
    await b.invoke(rx, 'close');
  });

  it('IPv4 unicast with IP_HDRINCL: our source address, configured TTL, incrementing IP ID', async () => {
    const rx = await b.call<Handle>('net/vrrp-socket', 'createVrrpSocket', { family: 'ipv4', ifname: 'eth0', multicast: false, ttl: 255 });
    await b.invoke(rx, 'onPacket', b.cb('v4u'));
    const tx = await a.call<Handle>('net/vrrp-socket', 'createVrrpSocket', {
      family: 'ipv4',
      ifname: 'eth0',
      multicast: false,
      ttl: 200,
      srcAddress: '192.0.2.11',
    });
    await a.invoke(tx, 'onError', a.cb('u-err'));
    const adv = advertV2(61, 120, '192.0.2.70');
    await a.invoke(tx, 'send', adv, '192.0.2.2');
    await a.invoke(tx, 'send', adv, '192.0.2.2');
    await b.waitEvent('v4u', () => b.events('v4u').filter(([x]) => x.vrrp.equals(adv)).length >= 2, 'two unicast adverts at b');
    const got = b.events('v4u').filter(([x]) => x.vrrp.equals(adv)).map(([x]) => x);
    for (const p of got) {
      expect(p.src).toBe('192.0.2.11');
      expect(p.dst).toBe('192.0.2.2');
      expect(p.ttl).toBe(200);
      expect(p.ipHeader[1]).toBe(0xc0);
      expect(p.ipHeader.readUInt16BE(6) & 0x4000).toBe(0); // DF clear, as keepalived
    }
    expect(got.map((p) => p.ipHeader.readUInt16BE(4))).toEqual([1, 2]);
    expect(a.events('u-err')).toHaveLength(0);
    // a bad destination is an error value on onError, not a throw
    await a.invoke(tx, 'send', adv, 'not-an-ip');
    const [e] = await a.waitEvent('u-err', () => true, 'EINVAL for bad destination');
    expect((e as AgentError).code).toBe('EINVAL');
    await a.invoke(tx, 'close');
    await b.invoke(rx, 'close');
  });

  it('IPv6 multicast: kernel checksum, link-local source, hop limit 255 and pktinfo reported', async () => {
    const rx = await b.call<Handle>('net/vrrp-socket', 'createVrrpSocket', { family: 'ipv6', ifname: 'eth0', multicast: true, ttl: 255 });
    await b.invoke(rx, 'onPacket', b.cb('v6m'));
    await b.invoke(rx, 'onError', b.cb('v6err'));
    const tx = await a.call<Handle>('net/vrrp-socket', 'createVrrpSocket', { family: 'ipv6', ifname: 'eth0', multicast: true, ttl: 255 });
    await a.invoke(tx, 'onPacket', a.cb('v6m-self'));
    const adv = advertV3v6(51, 150, '2001:db8::50');
    await a.invoke(tx, 'send', adv, 'ff02::12');
    const [p] = await b.waitEvent('v6m', ([x]) => x.vrrp.subarray(8).equals(adv.subarray(8)) && x.vrrp[1] === 51, 'IPv6 multicast advert at b');
    const ll = linkLocalOf(lab, 'a');
    expect(p.src).toBe(ll); // RFC 5798 §5.1.2.1: link-local source
    expect(p.dst).toBe('ff02::12');
    expect(p.ttl).toBe(255);
    expect(p.ifindex).toBe(ifindexOf(lab, 'b'));
    expect(p.ifname).toBe('eth0');
    expect(p.ipHeader).toBeUndefined();
    expect(p.vrrp.readUInt16BE(6)).not.toBe(0);
    expect(v6ChecksumOk(p.src, 'ff02::12', p.vrrp)).toBe(true);
    expect(b.events('v6err')).toHaveLength(0);

    // another socket with hop limit 64: reported as such, so the engine can count ip_ttl_err
    const low = await a.call<Handle>('net/vrrp-socket', 'createVrrpSocket', { family: 'ipv6', ifname: 'eth0', multicast: false, ttl: 64 });
    const adv64 = advertV3v6(53, 100, '2001:db8::53');
    await a.invoke(low, 'send', adv64, 'ff02::12');
    const [q] = await b.waitEvent('v6m', ([x]) => x.vrrp[1] === 53, 'hop-limit-64 advert at b');
    expect(q.ttl).toBe(64);

    // no loopback of a's own multicast (IPV6_MULTICAST_LOOP 0), by the same ordering argument
    const back = advertV3v6(54, 100, '2001:db8::54');
    await b.invoke(rx, 'send', back, 'ff02::12');
    await a.waitEvent('v6m-self', ([x]) => x.vrrp[1] === 54, 'b advert at a');
    expect(a.events('v6m-self').filter(([x]) => x.vrrp[1] === 51)).toHaveLength(0);
    await a.invoke(low, 'close');
    await a.invoke(tx, 'close');
    await b.invoke(rx, 'close');
  });

  it('IPv6 unicast with a configured (global) source address', async () => {
    const rx = await b.call<Handle>('net/vrrp-socket', 'createVrrpSocket', { family: 'ipv6', ifname: 'eth0', multicast: false, ttl: 255 });
    await b.invoke(rx, 'onPacket', b.cb('v6u'));
    const tx = await a.call<Handle>('net/vrrp-socket', 'createVrrpSocket', {
      family: 'ipv6',
      ifname: 'eth0',
      multicast: false,
      ttl: 255,
      srcAddress: '2001:db8::1',
    });
    const adv = advertV3v6(71, 110, '2001:db8::71');
    await a.invoke(tx, 'send', adv, '2001:db8::2');
    const [p] = await b.waitEvent('v6u', ([x]) => x.vrrp[1] === 71, 'IPv6 unicast advert at b');
    expect(p.src).toBe('2001:db8::1');
    expect(p.dst).toBe('2001:db8::2');
    expect(p.ttl).toBe(255);
    expect(v6ChecksumOk('2001:db8::1', '2001:db8::2', p.vrrp)).toBe(true);
    // ttl -1: the kernel's default hop limit (keepalived without unicast_ttl)
    const dflt = await a.call<Handle>('net/vrrp-socket', 'createVrrpSocket', { family: 'ipv6', ifname: 'eth0', multicast: false, ttl: -1 });
    await a.invoke(dflt, 'send', advertV3v6(72, 110, '2001:db8::72'), '2001:db8::2');
    const [q] = await b.waitEvent('v6u', ([x]) => x.vrrp[1] === 72, 'IPv6 unicast advert with default hop limit');
    expect(q.ttl).toBe(Number(lab.hosts.a!.exec('sysctl', ['-n', 'net.ipv6.conf.eth0.hop_limit']).trim()));
    await a.invoke(dflt, 'close');
    await a.invoke(tx, 'close');
    await b.invoke(rx, 'close');
  });

  it('IPv6 sockets of one process share the receive thread: each gets the advert, closing one spares the other', async () => {
    const r1 = await b.call<Handle>('net/vrrp-socket', 'createVrrpSocket', { family: 'ipv6', ifname: 'eth0', multicast: true, ttl: 255 });
    const r2 = await b.call<Handle>('net/vrrp-socket', 'createVrrpSocket', { family: 'ipv6', ifname: 'eth0', multicast: true, ttl: 255 });
    await b.invoke(r1, 'onPacket', b.cb('s1'));
    await b.invoke(r2, 'onPacket', b.cb('s2'));
    await b.invoke(r2, 'onError', b.cb('s2err'));
    const tx = await a.call<Handle>('net/vrrp-socket', 'createVrrpSocket', { family: 'ipv6', ifname: 'eth0', multicast: true, ttl: 255 });
    await a.invoke(tx, 'send', advertV3v6(81, 100, '2001:db8::81'), 'ff02::12');
    await b.waitEvent('s1', ([x]) => x.vrrp[1] === 81, 'advert 81 on socket 1');
    await b.waitEvent('s2', ([x]) => x.vrrp[1] === 81, 'advert 81 on socket 2');
    await b.invoke(r1, 'close');
    await a.invoke(tx, 'send', advertV3v6(82, 100, '2001:db8::82'), 'ff02::12');
    await b.waitEvent('s2', ([x]) => x.vrrp[1] === 82, 'advert 82 on socket 2 after socket 1 closed');
    expect(b.events('s1').filter(([x]) => x.vrrp[1] === 82)).toHaveLength(0);
    expect(b.events('s2err')).toHaveLength(0);
    await b.invoke(r2, 'close');
    await a.invoke(tx, 'close');
  });

  it('sockets referenced only by their listeners survive garbage collection and keep receiving', async () => {
    const proc = runNode(lab.hosts.b!, FIXTURE, [DIST, 'gc'], { nodeArgs: ['--expose-gc'] });
    try {
      await waitFor(() => proc.lines.includes('ready') || proc.child.exitCode !== null, 'gc fixture ready');
      expect(proc.child.exitCode).toBeNull();
      const tx4 = await a.call<Handle>('net/vrrp-socket', 'createVrrpSocket', { family: 'ipv4', ifname: 'eth0', multicast: true, ttl: 255 });
      const tx6 = await a.call<Handle>('net/vrrp-socket', 'createVrrpSocket', { family: 'ipv6', ifname: 'eth0', multicast: true, ttl: 255 });
      // keep sending (bounded) while the fixture collects garbage; each family must get through
      const seen = () => new Set(proc.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l).family as string));
      for (let i = 0; i < 100 && seen().size < 2; i++) {
        await a.invoke(tx4, 'send', advertV2(95, 100, '192.0.2.95'), '224.0.0.18');
        await a.invoke(tx6, 'send', advertV3v6(96, 100, '2001:db8::96'), 'ff02::12');
        await new Promise((r) => setTimeout(r, 20)); // pacing of a bounded send loop, not a synchronisation
      }
      await waitFor(() => seen().size === 2, 'both families received after forced GCs', 20_000);
      await a.invoke(tx4, 'close');
      await a.invoke(tx6, 'close');
    } finally {
      proc.kill();
    }
  });

  it('send() then close() in the same tick still puts the advert on the wire, then lets the process exit', async () => {
    const rx4 = await b.call<Handle>('net/vrrp-socket', 'createVrrpSocket', { family: 'ipv4', ifname: 'eth0', multicast: true, ttl: 255 });
    const rx6 = await b.call<Handle>('net/vrrp-socket', 'createVrrpSocket', { family: 'ipv6', ifname: 'eth0', multicast: true, ttl: 255 });
    await b.invoke(rx4, 'onPacket', b.cb('last4'));
    await b.invoke(rx6, 'onPacket', b.cb('last6'));
    const proc = runNode(lab.hosts.a!, FIXTURE, [DIST, 'send-close']);
    try {
      const { code } = await proc.exited;
      expect(code).toBe(0);
      await b.waitEvent('last4', ([x]) => x.vrrp[1] === 91 && x.vrrp[2] === 0, 'priority-0 IPv4 advert sent just before close');
      await b.waitEvent('last6', ([x]) => x.vrrp[1] === 92 && x.vrrp[2] === 0, 'priority-0 IPv6 advert sent just before close');
    } finally {
      proc.kill();
    }
    await b.invoke(rx4, 'close');
    await b.invoke(rx6, 'close');
  });

  it('an unknown interface is a synchronous ENODEV at creation', async () => {
    for (const family of ['ipv4', 'ipv6']) {
      const err = (await a.call('net/vrrp-socket', 'createVrrpSocket', { family, ifname: 'nope0', multicast: true, ttl: 255 }).catch((e) => e)) as AgentError;
      expect(err).toBeInstanceOf(Error);
      expect(err.code).toBe('ENODEV');
    }
  });

  it('close() releases sockets and the receive thread: the process exits on its own', async () => {
    // everything opened above was closed; a left-over worker or socket would keep it alive
    expect(await a.end()).toBe('exited');
    expect(await b.end()).toBe('exited');
  });
});
