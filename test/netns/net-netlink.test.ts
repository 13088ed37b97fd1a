/**
 * src/net/netlink.ts (+ sysctl.ts) against the real kernel inside a namespace:
 * addresses, events (new vs del), errno codes, macvlan VMAC, link up/down, carrier.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLab, waitFor, type Lab, type Netns } from '../helpers/netns';
import { startAgent, type Agent, type AgentError, type Handle } from '../helpers/ns-node';

type Ev = { kind: 'link' | 'addr'; op: 'new' | 'del'; link?: any; addr?: any };

function cat(ns: Netns, path: string): string {
  return ns.exec('cat', [path]).trim();
}

describe('rtnetlink adapter in a namespace', () => {
  let lab: Lab;
  let ns: Netns;
  let a: Agent;
  let nl: Handle;
  const evs = (pred: (e: Ev) => boolean) => a.events('ev').map(([e]) => e as Ev).filter(pred);
  const waitEv = (pred: (e: Ev) => boolean, what: string) => a.waitEvent('ev', ([e]) => pred(e as Ev), what);

  beforeAll(async () => {
    lab = makeLab('nl', [{ name: 'a', v4: ['192.0.2.1/24'], v6: ['2001:db8::1/64'] }]);
    ns = lab.hosts.a!;
    a = await startAgent(ns, { mustExist: ['net/netlink.js'] });
    nl = await a.call<Handle>('net/netlink', 'createNetlink');
    await a.invoke(nl, 'onEvent', a.cb('ev'));
    await a.invoke(nl, 'onError', a.cb('nlerr'));
  });

  afterAll(() => {
    a?.kill();
    lab?.destroy();
  });

  it('lists links with index, flags, MAC and MTU', async () => {
    const links = await a.invoke<any[]>(nl, 'getLinks');
    const eth0 = links.find((l) => l.name === 'eth0');
    const ipOut = ns.ip('-o', 'link', 'show', 'dev', 'eth0');
    expect(eth0.index).toBe(Number(/^(\d+):/.exec(ipOut)![1]));
    expect(eth0.mac).toBe(/link\/ether ([0-9a-f:]{17})/.exec(ipOut)![1]);
    expect(eth0).toMatchObject({ up: true, running: true, mtu: 1500, kind: 'veth' });
    expect(links.find((l) => l.name === 'lo')).toMatchObject({ up: true, mac: '00:00:00:00:00:00' });
  });

  it('adds and deletes an IPv4 VIP (label, brd +), seen by `ip addr` and as new/del events', async () => {
    await a.invoke(nl, 'addAddress', { family: 'ipv4', address: '192.0.2.100', prefix: 24, ifname: 'eth0', label: 'eth0:vip', broadcast: '+' });
    expect(ns.ip('-4', 'addr', 'show', 'dev', 'eth0')).toMatch(/inet 192\.0\.2\.100\/24 brd 192\.0\.2\.255 scope global secondary eth0:vip/);
    await waitEv((e) => e.kind === 'addr' && e.op === 'new' && e.addr.address === '192.0.2.100', 'NEWADDR 192.0.2.100');
    const [added] = evs((e) => e.kind === 'addr' && e.addr.address === '192.0.2.100');
    expect(added!.addr).toMatchObject({ family: 'ipv4', prefix: 24, ifname: 'eth0', label: 'eth0:vip', broadcast: '192.0.2.255', scope: 'global' });
    const listed = await a.invoke<any[]>(nl, 'getAddresses');
    expect(listed.find((x) => x.address === '192.0.2.100')).toMatchObject({ ifname: 'eth0', prefix: 24, label: 'eth0:vip' });

    const dup = (await a.invoke(nl, 'addAddress', { family: 'ipv4', address: '192.0.2.100', prefix: 24, ifname: 'eth0' }).catch((e) => e)) as AgentError;
    expect(dup).toBeInstanceOf(Error);
    expect(dup.code).toBe('EEXIST');
    expect(dup.errno).toBe(17);
    expect(dup.message).toContain('EEXIST');

    await a.invoke(nl, 'delAddress', { family: 'ipv4', address: '192.0.2.100', prefix: 24, ifname: 'eth0' });
    expect(ns.ip('-4', 'addr', 'show', 'dev', 'eth0')).not.toContain('192.0.2.100');
    await waitEv((e) => e.kind === 'addr' && e.op === 'del' && e.addr.address === '192.0.2.100', 'DELADDR 192.0.2.100');
    const ops = evs((e) => e.kind === 'addr' && e.addr.address === '192.0.2.100').map((e) => e.op);
    expect(ops).toEqual(['new', 'del']);

    const gone = (await a.invoke(nl, 'delAddress', { family: 'ipv4', address: '192.0.2.100', prefix: 24, ifname: 'eth0' }).catch((e) => e)) as AgentError;
    expect(gone.code).toBe('EADDRNOTAVAIL');
  });

  it('honours the address scope (keepalived "scope link|host|...")', async () => {
    await a.invoke(nl, 'addAddress', { family: 'ipv4', address: '192.0.2.101', prefix: 32, ifname: 'eth0', scope: 'link' });
    expect(ns.ip('-4', 'addr', 'show', 'dev', 'eth0')).toMatch(/inet 192\.0\.2\.101\/32 scope link eth0/);
    const [e] = await waitEv((x) => x.kind === 'addr' && x.op === 'new' && x.addr.address === '192.0.2.101', 'NEWADDR 192.0.2.101');
    expect(e.addr.scope).toBe('link');
    await a.invoke(nl, 'delAddress', { family: 'ipv4', address: '192.0.2.101', prefix: 32, ifname: 'eth0' });
    expect(ns.ip('-4', 'addr', 'show', 'dev', 'eth0')).not.toContain('192.0.2.101');
  });

  it('adds and deletes an IPv6 VIP with nodad and preferred_lft 0', async () => {
    await a.invoke(nl, 'addAddress', { family: 'ipv6', address: '2001:db8::100', prefix: 128, ifname: 'eth0', nodad: true, preferredLft: 0 });
    const shown = ns.ip('-6', 'addr', 'show', 'dev', 'eth0');
    expect(shown).toMatch(/inet6 2001:db8::100\/128 scope global (deprecated )?nodad/);
    expect(shown).toMatch(/2001:db8::100\/128[^\n]*\n\s+valid_lft forever preferred_lft 0sec/);
    const [e] = await waitEv((x) => x.kind === 'addr' && x.op === 'new' && x.addr.address === '2001:db8::100', 'NEWADDR 2001:db8::100');
    expect(e.addr).toMatchObject({ family: 'ipv6', prefix: 128, ifname: 'eth0', nodad: true, preferredLft: 0 });
    await a.invoke(nl, 'delAddress', { family: 'ipv6', address: '2001:db8::100', prefix: 128, ifname: 'eth0' });
    expect(ns.ip('-6', 'addr', 'show', 'dev', 'eth0')).not.toContain('2001:db8::100');
    await waitEv((x) => x.kind === 'addr' && x.op === 'del' && x.addr.address === '2001:db8::100', 'DELADDR 2001:db8::100');
  });

  it('reports ENODEV for an unknown interface and EINVAL for a bad address', async () => {
    const nodev = (await a.invoke(nl, 'addAddress', { family: 'ipv4', address: '192.0.2.9', prefix: 32, ifname: 'nope0' }).catch((e) => e)) as AgentError;
    expect(nodev.code).toBe('ENODEV');
    const bad = (await a.invoke(nl, 'addAddress', { family: 'ipv4', address: '2001:db8::9', prefix: 32, ifname: 'eth0' }).catch((e) => e)) as AgentError;
    expect(bad.code).toBe('EINVAL');
  });

  it('creates a use_vmac macvlan (private mode, 00:00:5e:00:01:VRID), configures sysctls, and removes it', async () => {
    await a.invoke(nl, 'addMacvlan', 'vrrp.51', 'eth0', '00:00:5e:00:01:33');
    const d = ns.ip('-d', 'link', 'show', 'dev', 'vrrp.51');
    expect(d).toMatch(/vrrp\.51@eth0:/);
    expect(d).toContain('link/ether 00:00:5e:00:01:33');
    expect(d).toMatch(/macvlan mode private/);
    const [ev] = await waitEv((e) => e.kind === 'link' && e.op === 'new' && e.link.name === 'vrrp.51', 'NEWLINK vrrp.51');
    const eth0Index = Number(/^(\d+):/.exec(ns.ip('-o', 'link', 'show', 'dev', 'eth0'))![1]);
    expect(ev.link).toMatchObject({ mac: '00:00:5e:00:01:33', kind: 'macvlan', parentIndex: eth0Index, up: false });

    const dupe = (await a.invoke(nl, 'addMacvlan', 'vrrp.51', 'eth0', '00:00:5e:00:01:33').catch((e) => e)) as AgentError;
    expect(dupe.code).toBe('EEXIST');

    // keepalived vrrp_if_config.c values, written through /proc/sys slash paths
    expect(cat(ns, '/proc/sys/net/ipv4/conf/eth0/arp_ignore')).toBe('0');
    const sc = await a.call<Handle>('net/netlink', 'createVmacSysctl');
    expect(await a.invoke(sc, 'setup', 'vrrp.51', 'eth0', { disableIpv6: true })).toEqual([]);
    expect(cat(ns, '/proc/sys/net/ipv4/conf/vrrp.51/arp_ignore')).toBe('1');
    expect(cat(ns, '/proc/sys/net/ipv4/conf/vrrp.51/accept_local')).toBe('1');
    expect(cat(ns, '/proc/sys/net/ipv4/conf/vrrp.51/rp_filter')).toBe('0');
    expect(cat(ns, '/proc/sys/net/ipv4/conf/vrrp.51/promote_secondaries')).toBe('1');
    expect(cat(ns, '/proc/sys/net/ipv6/conf/vrrp.51/disable_ipv6')).toBe('1');
    expect(cat(ns, '/proc/sys/net/ipv4/conf/eth0/arp_ignore')).toBe('1');
    expect(cat(ns, '/proc/sys/net/ipv4/conf/eth0/arp_filter')).toBe('1');

    await a.invoke(nl, 'setLinkUp', 'vrrp.51', true);
    expect(ns.ip('link', 'show', 'dev', 'vrrp.51')).toMatch(/<[^>]*\bUP\b[^>]*>/);
    await waitEv((e) => e.kind === 'link' && e.op === 'new' && e.link.name === 'vrrp.51' && e.link.up && e.link.running, 'vrrp.51 up');

    await a.invoke(nl, 'delLink', 'vrrp.51');
    expect(ns.ip('-o', 'link', 'show')).not.toContain('vrrp.51');
    await waitEv((e) => e.kind === 'link' && e.op === 'del' && e.link.name === 'vrrp.51', 'DELLINK vrrp.51');
    // last VMAC on eth0 gone: the parent's ARP settings are restored
    expect(await a.invoke(sc, 'release', 'eth0')).toEqual([]);
    expect(cat(ns, '/proc/sys/net/ipv4/conf/eth0/arp_ignore')).toBe('0');
    expect(cat(ns, '/proc/sys/net/ipv4/conf/eth0/arp_filter')).toBe('0');
    const nodev = (await a.invoke(nl, 'delLink', 'vrrp.51').catch((e) => e)) as AgentError;
    expect(nodev.code).toBe('ENODEV');
  });

  it('IPv6 VMAC with addrgenmode none gets no auto link-local', async () => {
    await a.invoke(nl, 'addMacvlan', 'vrrp6.52', 'eth0', '00:00:5e:00:02:34');
    await a.invoke(nl, 'setIpv6AddrGenMode', 'vrrp6.52', 'none');
    await a.invoke(nl, 'setLinkUp', 'vrrp6.52', true);
    // control: the same thing without addrgenmode none does get one
    await a.invoke(nl, 'addMacvlan', 'vrrp6.53', 'eth0', '00:00:5e:00:02:35');
    await a.invoke(nl, 'setLinkUp', 'vrrp6.53', true);
    await waitFor(() => /inet6 fe80::/.test(ns.ip('-6', 'addr', 'show', 'dev', 'vrrp6.53')), 'auto link-local on control VMAC');
    expect(ns.ip('-d', 'link', 'show', 'dev', 'vrrp6.52')).toContain('addrgenmode none');
    expect(ns.ip('-6', 'addr', 'show', 'dev', 'vrrp6.52')).not.toContain('fe80::');
    await a.invoke(nl, 'delLink', 'vrrp6.52');
    await a.invoke(nl, 'delLink', 'vrrp6.53');
  });

  it('delivers link down/up events: admin (ours and `ip link`) and carrier loss', async () => {
    const eth0 = (e: Ev) => e.kind === 'link' && e.op === 'new' && e.link.name === 'eth0';
    const mark = a.events('ev').length;
    const since = (pred: (e: Ev) => boolean) => a.events('ev').slice(mark).map(([e]) => e as Ev).some(pred);

    await a.invoke(nl, 'setLinkUp', 'eth0', false);
    await waitFor(() => since((e) => eth0(e) && !e.link.up && !e.link.running), 'eth0 admin down event');
    expect(ns.ip('link', 'show', 'dev', 'eth0')).not.toMatch(/<[^>]*\bUP\b/);
    await a.invoke(nl, 'setLinkUp', 'eth0', true);
    await waitFor(() => since((e) => eth0(e) && e.link.up && e.link.running), 'eth0 admin up event');

    // carrier loss: the switch port goes down, eth0 stays admin-up but not running
    const m2 = a.events('ev').length;
    lab.sw.ip('link', 'set', lab.port('a'), 'down');
    await waitFor(
      () => a.events('ev').slice(m2).map(([e]) => e as Ev).some((e) => eth0(e) && e.link.up && !e.link.running),
      'eth0 carrier-loss event',
    );
    lab.sw.ip('link', 'set', lab.port('a'), 'up');
    await waitFor(
      () => a.events('ev').slice(m2).map(([e]) => e as Ev).some((e) => eth0(e) && e.link.up && e.link.running),
      'eth0 carrier back event',
    );

    // someone else's change (ip link) is seen too
    const m3 = a.events('ev').length;
    ns.ip('link', 'set', 'eth0', 'mtu', '1400');
    await waitFor(() => a.events('ev').slice(m3).map(([e]) => e as Ev).some((e) => eth0(e) && e.link.mtu === 1400), 'mtu change event');
    expect(a.events('nlerr')).toHaveLength(0);
  });

  it('close() releases both netlink sockets: the process exits on its own', async () => {
    await a.invoke(nl, 'close');
    expect(await a.end()).toBe('exited');
  });
});
