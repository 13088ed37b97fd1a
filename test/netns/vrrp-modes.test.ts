/**
 * Transport variants of the real keepwatch daemon in namespaces, against keepalived
 * 2.2.7's behaviour (shared/research/keepalived-features.md §3.2, §3.11, §3.12;
 * RESULTS.md §6.7, §6.10):
 *  - unicast (unicast_src_ip / unicast_peer): adverts go to the peer only, failover works;
 *  - IPv6 (VRRPv3, VIP 2001:db8::50/64): adverts from the link-local address to ff02::12,
 *    the new master's unsolicited NA reaches the client;
 *  - VMAC (use_vmac): macvlan vrrp.51 with 00:00:5e:00:01:33 carries the VIP, GARPs come
 *    from the virtual MAC, the client's neighbour entry never changes on failover.
 *
 * Lab "vc": a (192.0.2.11 / 2001:db8::11), b (.12 / ::12), client cl (.100 / ::100).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/netns';
import { startCapture } from '../helpers/ns-node';
import { instanceBlock, vrrpConf, vrrpLab, type KwNode, type VrrpLab } from '../helpers/agent';

describe('keepwatch transport variants in namespaces', () => {
  let lab: VrrpLab;
  let macA: string;
  let macB: string;

  beforeAll(() => {
    lab = vrrpLab('vc', ['a', 'b']);
    macA = lab.mac('a');
    macB = lab.mac('b');
  });

  afterEach(async () => {
    await lab.stopAll();
  });

  afterAll(async () => {
    await lab?.close();
  });

  it('unicast: adverts go only to the peer; SIGTERM fails over; the restarted node preempts back', async () => {
    const uc = (self: string, peer: string) => ['unicast_src_ip ' + self, 'unicast_peer {', `    ${peer}`, '}'];
    const confA = vrrpConf('a', instanceBlock({ priority: 150, extra: uc('192.0.2.11', '192.0.2.12') }));
    const confB = vrrpConf('b', instanceBlock({ priority: 100, extra: uc('192.0.2.12', '192.0.2.11') }));
    const clientView = await startCapture(lab.hosts.cl!, ['-i', 'eth0', '-n', 'ip proto 112']);
    let a: KwNode = await lab.start('a', confA);
    const b = await lab.start('b', confB);
    await a.waitState('MASTER');
    await b.waitState('BACKUP');
    await waitFor(() => lab.hasAddr('a', '192.0.2.50/24') && !lab.hasAddr('b', '192.0.2.50/24'), 'VIP on a only');
    // a's adverts are addressed to b (RESULTS.md ref vrrp-v3-unicast: one copy per peer)
    const atB = await startCapture(lab.hosts.b!, ['-i', 'eth0', '-n', '-c', '10', 'ip proto 112 and src host 192.0.2.11']);
    const got = await atB.done;
    expect(got.filter((l) => /192\.0\.2\.11 > 192\.0\.2\.12: VRRPv3, Advertisement, vrid 51, prio 150/.test(l))).toHaveLength(10);
    clientView.stop();
    const seen = await clientView.done;
    expect(seen.filter((l) => /> 224\.0\.0\.18/.test(l))).toEqual([]);

    // graceful stop: the priority-0 advert goes to the peer too
    const mb = b.mark();
    await a.stop();
    await b.waitState('MASTER');
    const lines = b.lines().slice(mb);
    expect(lines.indexOf('(VI_1) Backup received priority 0 advertisement')).toBeGreaterThanOrEqual(0);
    await waitFor(() => lab.hasAddr('b', '192.0.2.50/24') && !lab.hasAddr('a', '192.0.2.50/24'), 'VIP on b only');
    await waitFor(() => lab.ping('cl', '192.0.2.50') && lab.neighMac('cl', '192.0.2.50') === macB, 'client reaches the VIP on b');

    a = await lab.start('a', confA, { dir: a.dir });
    await a.waitState('MASTER');
    await b.waitState('BACKUP');
    await waitFor(() => lab.hasAddr('a', '192.0.2.50/24') && !lab.hasAddr('b', '192.0.2.50/24'), 'VIP back on a');
  });

  it('VRRPv2 at 1 s with PASS authentication: keepalived-format adverts, election, SIGTERM failover', async () => {
    const v2 = (prio: number) =>
      instanceBlock({ priority: prio, version: 2, advert: 1, extra: ['authentication {', '    auth_type PASS', '    auth_pass kw2pass', '}'] });
    const a = await lab.start('a', vrrpConf('a', v2(150)));
    const b = await lab.start('b', vrrpConf('b', v2(100)));
    // Master_Down_Interval v2 = 3 s + (256 - 150)/256 s for a (RESULTS.md §3)
    await a.waitState('MASTER');
    await b.waitState('BACKUP');
    expect((await a.instance())!.data).toMatchObject({ version: 2, adver_int: 1, auth_type: 1 });
    // RESULTS.md §6.10: 0x21, auth type 1 carrying the password, interval in seconds
    const adv = await startCapture(lab.hosts.cl!, ['-i', 'eth0', '-n', '-v', '-c', '1', 'ip proto 112']);
    const text = (await adv.done).join(' ');
    expect(text).toMatch(/tos 0xc0, ttl 255, .*flags \[none\], proto VRRP \(112\).*192\.0\.2\.11 > 224\.0\.0\.18: VRRPv2, Advertisement, vrid 51, prio 150, authtype simple, intvl 1s, length 20, addrs: 192\.0\.2\.50 auth "kw2pass"/);
    const mb = b.mark();
    await a.stop();
    await b.waitState('MASTER');
    const lines = b.lines().slice(mb);
    expect(lines.indexOf('(VI_1) Backup received priority 0 advertisement')).toBeGreaterThanOrEqual(0);
    expect(lines.indexOf('(VI_1) Entering MASTER STATE')).toBeGreaterThan(lines.indexOf('(VI_1) Backup received priority 0 advertisement'));
    await waitFor(() => lab.hasAddr('b', '192.0.2.50/24') && !lab.hasAddr('a', '192.0.2.50/24'), 'VIP on b only');
    // a wrong password is an authentication failure, not a master (RFC 3768 §7.1)
    const c = await lab.start('a', vrrpConf('a', v2(150).replace('kw2pass', 'wrong123')));
    await waitFor(async () => (await b.instance())!.stats.auth_failure >= 1, "b counting a's bad password", 30_000);
    expect((await b.instance())!.data.state).toBe(2);
    await c.stop();
  });

  it('IPv6 (VRRPv3): adverts from the link-local address to ff02::12; the new master sends an unsolicited NA the client follows', async () => {
    const v6 = (prio: number) => instanceBlock({ priority: prio, vips: ['2001:db8::50/64 dev eth0'] });
    const a = await lab.start('a', vrrpConf('a', v6(150)));
    const b = await lab.start('b', vrrpConf('b', v6(100)));
    await a.waitState('MASTER');
    await b.waitState('BACKUP');
    await waitFor(() => lab.hasAddr('a', '2001:db8::50/64') && !lab.hasAddr('b', '2001:db8::50/64'), 'IPv6 VIP on a only');
    const ia = (await a.instance())!;
    expect(ia.data).toMatchObject({ version: 3, state: 2, vips: ['2001:db8::50/64 dev eth0 scope global set'] });

    const adv = await startCapture(lab.hosts.cl!, ['-i', 'eth0', '-n', '-c', '3', 'ip6 and ip6[6] == 112']);
    const advLines = await adv.done;
    expect(advLines.every((l) => /IP6 fe80::[0-9a-f:]+ > ff02::12: VRRPv3, Advertisement, vrid 51, prio 150/.test(l))).toBe(true);

    await waitFor(() => lab.ping('cl', '2001:db8::50'), 'client ping6 VIP');
    expect(lab.neighMac('cl', '2001:db8::50')).toBe(macA);

    // NA = ICMPv6 type 136 to ff02::1 (RESULTS.md §6.7)
    const na = await startCapture(lab.hosts.cl!, ['-i', 'eth0', '-n', '-e', 'icmp6 and ip6[40] == 136']);
    await a.stop();
    await b.waitState('MASTER');
    await waitFor(() => lab.hasAddr('b', '2001:db8::50/64') && !lab.hasAddr('a', '2001:db8::50/64'), 'IPv6 VIP on b only');
    const re = new RegExp(`^\\S+ ${macB} > 33:33:00:00:00:01, .* > ff02::1: ICMP6, neighbor advertisement, tgt is 2001:db8::50`);
    await waitFor(() => na.lines.some((l) => re.test(l)), `unsolicited NA from ${macB}`);
    na.stop();
    await waitFor(() => lab.neighMac('cl', '2001:db8::50') === macB, "client's neighbour entry moved to b");
    await waitFor(() => lab.ping('cl', '2001:db8::50'), 'client ping6 VIP on b');
  });

  it('use_vmac: vrrp.51 with 00:00:5e:00:01:33 carries the VIP; ARP answers and GARPs come from the VMAC, across failover', async () => {
    const VMAC = '00:00:5e:00:01:33';
    const sysctl = (h: string, path: string) => lab.hosts[h]!.exec('cat', [`/proc/sys/net/${path}`]).trim();
    const arpIgnoreBefore = sysctl('a', 'ipv4/conf/eth0/arp_ignore');
    const vm = (prio: number) => instanceBlock({ priority: prio, vips: ['192.0.2.50/24'], extra: ['use_vmac'] });
    const a = await lab.start('a', vrrpConf('a', vm(150)));
    const b = await lab.start('b', vrrpConf('b', vm(100)));
    await a.waitState('MASTER');
    await b.waitState('BACKUP');
    for (const h of ['a', 'b']) {
      const link = lab.hosts[h]!.ip('-d', 'link', 'show', 'dev', 'vrrp.51');
      expect(link).toContain(`link/ether ${VMAC}`);
      expect(link).toMatch(/macvlan mode private/);
      expect(link).toMatch(/vrrp\.51@eth0/);
      // keepalived vrrp_if_config.c: the parent stops answering ARP for addresses it does not hold,
      // and an IPv4 VMAC gets no IPv6 (the same EUI-64 link-local on every node would fail DAD)
      expect(sysctl(h, 'ipv4/conf/eth0/arp_ignore')).toBe('1');
      expect(sysctl(h, 'ipv4/conf/vrrp.51/arp_ignore')).toBe('1');
      expect(sysctl(h, 'ipv6/conf/vrrp.51/disable_ipv6')).toBe('1');
      expect(lab.addrs(h, 'vrrp.51').filter((x) => x.includes(':'))).toEqual([]);
    }
    await waitFor(() => lab.hasAddr('a', '192.0.2.50/24', 'vrrp.51') && !lab.hasAddr('b', '192.0.2.50/24', 'vrrp.51'), 'VIP on a:vrrp.51 only');
    expect(lab.hasAddr('a', '192.0.2.50/24', 'eth0')).toBe(false);
    expect((await a.instance())!.data.vmac_ifname).toBe('vrrp.51');
    // adverts leave from the virtual MAC (RFC 5798 §7.3)
    const adv = await startCapture(lab.hosts.cl!, ['-i', 'eth0', '-n', '-e', '-c', '2', 'ip proto 112']);
    expect((await adv.done).every((l) => l.includes(`${VMAC} > 01:00:5e:00:00:12`))).toBe(true);
    // a fresh ARP resolution of the VIP is answered by the VMAC only
    const arp = await startCapture(lab.hosts.cl!, ['-i', 'eth0', '-n', '-e', 'arp']);
    lab.hosts.cl!.exec('ip', ['neigh', 'flush', 'dev', 'eth0']);
    await waitFor(() => lab.ping('cl', '192.0.2.50'), 'client ping VIP');
    await waitFor(() => arp.lines.some((l) => l.includes(`Reply 192.0.2.50 is-at ${VMAC}`)), 'ARP reply from the VMAC');
    arp.stop();
    expect((await arp.done).filter((l) => /Reply 192\.0\.2\.50 is-at/.test(l) && !l.includes(VMAC))).toEqual([]);

    const garps = await startCapture(lab.hosts.cl!, ['-i', 'eth0', '-n', '-e', 'arp']);
    await a.stop();
    // keepalived deletes the VMAC interfaces it created on shutdown and restores the parent
    expect(lab.hosts.a!.exec('ip', ['link', 'show', 'dev', 'vrrp.51'], { allowFail: true })).toBe('');
    expect(sysctl('a', 'ipv4/conf/eth0/arp_ignore')).toBe(arpIgnoreBefore);
    await b.waitState('MASTER');
    await waitFor(() => lab.hasAddr('b', '192.0.2.50/24', 'vrrp.51'), 'VIP on b:vrrp.51');
    const re = new RegExp(`^\\S+ ${VMAC} > ff:ff:ff:ff:ff:ff, ethertype ARP.*Request who-has 192\\.0\\.2\\.50 \\(ff:ff:ff:ff:ff:ff\\) tell 192\\.0\\.2\\.50,`);
    await waitFor(() => garps.lines.some((l) => re.test(l)), `GARP from the VMAC in\n${garps.lines.join('\n')}`);
    garps.stop();
    // the client's entry is the same virtual MAC, now behind b's switch port
    await waitFor(() => lab.neighMac('cl', '192.0.2.50') === VMAC, 'client neighbour entry = VMAC');
    const icmp = await startCapture(lab.hosts.b!, ['-i', 'eth0', '-n', '-c', '1', 'icmp and dst host 192.0.2.50']);
    await waitFor(() => lab.ping('cl', '192.0.2.50'), 'client ping VIP via b');
    await icmp.done;
  });
});
