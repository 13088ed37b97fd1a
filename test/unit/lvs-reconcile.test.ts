/** Desired table (config x health) and the pure kernel diff (src/lvs/desired.ts, reconcile.ts). */
import { describe, expect, it } from 'vitest';
import { bytesToIp, canonicalIp, expandRange, ipToBytes } from '../../src/lvs/addr';
import { desiredServices, desiredTable } from '../../src/lvs/desired';
import { diff, emptyMemory, type IpvsOp } from '../../src/lvs/reconcile';
import { realServer, virtualServer } from '../../src/lvs/spec';
import type { DesiredService, IpvsStats, KernelService, VirtualServerSpec, VsHealth } from '../../src/lvs/types';

const Z: IpvsStats = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 };

function allUp(vs: VirtualServerSpec, weights: Record<string, number> = {}): VsHealth {
  return { quorumUp: true, realServers: new Map(vs.realServers.map((r) => [`${r.address}:${r.port}`, { alive: true, weight: weights[`${r.address}:${r.port}`] ?? r.weight }])) };
}

/** What the kernel would hold after applying `desired` (stats zero). */
function asKernel(desired: DesiredService[]): KernelService[] {
  return desired.map(({ owner: _o, managed: _m, dests, ...s }) => ({
    ...s,
    stats: Z,
    dests: dests.map((d) => ({ ...d, activeConns: 0, inactConns: 0, persistConns: 0, stats: Z })),
  }));
}

const kinds = (ops: IpvsOp[]) => ops.map((o) => `${o.kind} ${'dest' in o ? `${o.dest.address}:${o.dest.port}` : ''}`.trim());

const web = virtualServer(
  { address: '192.0.2.10', port: 80 },
  { scheduler: 'wrr', realServers: [realServer('198.51.100.11', 8080, { weight: 2 }), realServer('198.51.100.12', 8080)] },
);

describe('desired table', () => {
  it('address service: NAT keeps the real-server port, DR/TUN use the service port', () => {
    const vs = virtualServer(
      { address: '192.0.2.10', port: 443 },
      { realServers: [realServer('198.51.100.11', 8443), realServer('198.51.100.12', 8443, { forwarding: 'DR' }), realServer('198.51.100.13', 0, { forwarding: 'TUN', tunnel: { type: 'gue', port: 6080 } })] },
    );
    const [s] = desiredServices(vs, allUp(vs));
    expect(s).toMatchObject({ protocol: 'TCP', address: '192.0.2.10', port: 443, scheduler: 'wlc', flags: 0, timeout: 0, netmask: 32, peName: '' });
    expect(s.dests.map((d) => [d.address, d.port, d.forwarding, d.tunnelType, d.tunnelPort])).toEqual([
      ['198.51.100.11', 8443, 'NAT', undefined, undefined],
      ['198.51.100.12', 443, 'DR', undefined, undefined],
      ['198.51.100.13', 443, 'TUN', 'gue', 6080],
    ]);
  });

  it('fwmark service: DR destinations get port 0, persistence sets flags/timeout/netmask', () => {
    const vs = virtualServer(
      { fwmark: 7 },
      { scheduler: 'sh', flags: 0x10, persistenceTimeout: 300, persistenceGranularity: 24, realServers: [realServer('198.51.100.11', 80, { forwarding: 'DR' }), realServer('198.51.100.12', 8080)] },
    );
    const [s] = desiredServices(vs, allUp(vs));
    expect(s).toMatchObject({ fwmark: 7, protocol: null, address: '', port: 0, flags: 0x11, timeout: 300, netmask: 24 });
    expect(s.dests.map((d) => d.port)).toEqual([0, 8080]);
  });

  it('virtual_server_group: one service per member, ranges expanded', () => {
    const eps = [
      ...expandRange('192.0.2.20-22')!.map((a) => ({ family: 'inet' as const, fwmark: 0, protocol: 'TCP' as const, address: a, port: 80 })),
      { family: 'inet' as const, fwmark: 9, protocol: null, address: '', port: 0 },
    ];
    const vs = virtualServer({ group: 'G', endpoints: eps }, { realServers: [realServer('198.51.100.11', 80, { forwarding: 'DR' })] });
    const ds = desiredServices(vs, allUp(vs));
    expect(ds.map((d) => (d.fwmark ? `FWM ${d.fwmark}` : `${d.address}:${d.port}`))).toEqual(['192.0.2.20:80', '192.0.2.21:80', '192.0.2.22:80', 'FWM 9']);
    expect(ds.map((d) => d.dests[0].port)).toEqual([80, 80, 80, 0]);
    expect(ds.every((d) => d.owner === 'group:G')).toBe(true);
  });

  it('address helpers: ranges, CIDR, IPv6 canonical form', () => {
    expect(expandRange('192.0.2.1-3')).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3']);
    expect(expandRange('192.0.2.4/30')).toEqual(['192.0.2.4', '192.0.2.5', '192.0.2.6', '192.0.2.7']);
    expect(expandRange('2001:db8::a-c')).toEqual(['2001:db8::a', '2001:db8::b', '2001:db8::c']);
    expect(expandRange('192.0.2.9-2')).toBeNull();
    expect(canonicalIp('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(canonicalIp('2001:db8:0:1:0:0:0:1')).toBe('2001:db8:0:1::1');
    // IPVS keys keep every IPv6 group in hex; a zone must be one node's isIPv6 accepts
    expect(canonicalIp('::ffff:192.0.2.1')).toBe('::ffff:c000:201');
    expect(canonicalIp('fe80::1%eth0')).toBe('fe80::1');
    expect(canonicalIp('fe80::1%')).toBe('fe80::1%');
    expect(canonicalIp('192.0.2.01')).toBe('192.0.2.01');
    expect(bytesToIp('inet6', ipToBytes('2001:db8::1:0:0:1'))).toBe('2001:db8::1:0:0:1');
    expect(() => ipToBytes('192.0.2.01')).toThrow(/not an IP address/);
  });

  it('down servers are absent, inhibited ones at weight 0; effective weights are used', () => {
    const vs = { ...web, realServers: [...web.realServers, realServer('198.51.100.13', 8080, { inhibitOnFailure: true })] };
    const h = allUp(vs, { '198.51.100.11:8080': 7 });
    h.realServers.set('198.51.100.12:8080', { alive: false, weight: 1 });
    h.realServers.set('198.51.100.13:8080', { alive: false, weight: 1 });
    const [s] = desiredServices(vs, h);
    expect(s.dests.map((d) => `${d.address}:${d.weight}`)).toEqual(['198.51.100.11:7', '198.51.100.13:0']);
    expect(s.managed.length).toBe(3);
  });

  it('a sorry server that is also a real server takes over its entry while active', () => {
    const vs = { ...web, sorryServer: { address: '198.51.100.12', port: 8080, weight: 9, forwarding: 'NAT' as const } };
    const h = allUp(vs);
    expect(desiredServices(vs, h)[0].dests.map((d) => d.weight)).toEqual([2, 1]);
    h.quorumUp = false;
    expect(desiredServices(vs, h)[0].dests.map((d) => `${d.address}:${d.weight}`)).toEqual(['198.51.100.12:9']);
  });
});

describe('kernel diff', () => {
  const want = () => desiredTable([web], (v) => allUp(v));

  it('creates a missing service with its destinations', () => {
    const { ops, memory } = diff(want(), [], emptyMemory());
    expect(kinds(ops)).toEqual(['add-service', 'add-dest 198.51.100.11:8080', 'add-dest 198.51.100.12:8080']);
    expect([...memory.keys()]).toEqual(['TCP 192.0.2.10:80']);
  });

  it('nothing to do when the kernel already matches', () => {
    const d = want();
    expect(diff(d, asKernel(d), emptyMemory()).ops).toEqual([]);
  });

  it('adopts an existing service, fixing only what differs', () => {
    const d = want();
    const k = asKernel(d);
    k[0].scheduler = 'rr';
    k[0].dests[0].weight = 1;
    const { ops } = diff(d, k, emptyMemory());
    expect(ops).toMatchObject([
      { kind: 'edit-service', service: { scheduler: 'wrr' }, from: { scheduler: 'rr' } },
      { kind: 'edit-dest', dest: { address: '198.51.100.11', weight: 2 }, from: { weight: 1 } },
    ]);
  });

  it('leaves services and destinations that are not ours alone', () => {
    const d = want();
    const k = asKernel(d);
    k[0].dests.push({ ...k[0].dests[0], address: '203.0.113.50', port: 8080 });
    k.push({ ...k[0], address: '203.0.113.1', dests: [] });
    expect(diff(d, k, emptyMemory()).ops).toEqual([]);
  });

  it('removes a managed destination that should not be there, after the additions', () => {
    const h = allUp(web);
    h.realServers.set('198.51.100.11:8080', { alive: false, weight: 2 });
    const before = want();
    const after = desiredTable([web], () => h);
    // kernel holds only .11: .12 is added first, then .11 removed
    const { ops } = diff(after, asKernel(before).map((s) => ({ ...s, dests: s.dests.slice(0, 1) })), emptyMemory());
    expect(kinds(ops)).toEqual(['add-dest 198.51.100.12:8080', 'del-dest 198.51.100.11:8080']);
    const { ops: ops2 } = diff(after, asKernel(before), emptyMemory());
    expect(kinds(ops2)).toEqual(['del-dest 198.51.100.11:8080']);
  });

  it('reload: a virtual server removed from the configuration is deleted, one changed is edited', () => {
    const other = virtualServer({ address: '192.0.2.11', port: 53, protocol: 'UDP' }, { realServers: [realServer('198.51.100.21', 53)] });
    const d1 = desiredTable([web, other], (v) => allUp(v));
    const { memory } = diff(d1, [], emptyMemory());
    const web2 = { ...web, realServers: [web.realServers[0]] }; // .12 removed from config
    const d2 = desiredTable([web2], (v) => allUp(v));
    const { ops, memory: m2 } = diff(d2, asKernel(d1), memory);
    expect(kinds(ops)).toEqual(['del-dest 198.51.100.12:8080', 'del-service']);
    expect(ops[1]).toMatchObject({ service: { protocol: 'UDP', address: '192.0.2.11', port: 53 }, owner: '192.0.2.11:53' });
    expect([...m2.keys()]).toEqual(['TCP 192.0.2.10:80']);
  });

  it('a protocol change is a different service: add the new one, delete the old one', () => {
    const d1 = want();
    const { memory } = diff(d1, [], emptyMemory());
    const udp = virtualServer({ address: '192.0.2.10', port: 80, protocol: 'UDP' }, { scheduler: 'wrr', realServers: web.realServers });
    const d2 = desiredTable([udp], (v) => allUp(v));
    const { ops } = diff(d2, asKernel(d1), memory);
    expect(kinds(ops)).toEqual(['add-service', 'add-dest 198.51.100.11:8080', 'add-dest 198.51.100.12:8080', 'del-service']);
    expect(ops[0]).toMatchObject({ service: { protocol: 'UDP' } });
    expect(ops[3]).toMatchObject({ service: { protocol: 'TCP' } });
  });

  it('quorum loss: the sorry server is added before the real servers are removed', () => {
    const vs = { ...web, quorum: 2, sorryServer: { address: '198.51.100.99', port: 8080, weight: 1, forwarding: 'NAT' as const } };
    const up = desiredTable([vs], (v) => allUp(v));
    const h = allUp(vs);
    h.quorumUp = false;
    const lost = desiredTable([vs], () => h);
    expect(kinds(diff(lost, asKernel(up), emptyMemory()).ops)).toEqual(['add-dest 198.51.100.99:8080', 'del-dest 198.51.100.11:8080', 'del-dest 198.51.100.12:8080']);
  });
});
