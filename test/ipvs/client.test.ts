/**
 * The IPVS generic-netlink client against the real kernel IPVS of the UML guest, with
 * ipvsadm as the independent witness.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IpvsClient, IpvsError } from '../../src/lvs/ipvs';
import type { IpvsDest, IpvsService, ServiceKey } from '../../src/lvs/types';
import { assertGuest, ipvsadm, renderIpvsadm } from './helpers';

const web: IpvsService = { family: 'inet', fwmark: 0, protocol: 'TCP', address: '192.0.2.10', port: 80, scheduler: 'wrr', flags: 0, timeout: 0, netmask: 32, peName: '' };
const rs = (address: string, port: number, weight = 1, forwarding: IpvsDest['forwarding'] = 'NAT'): IpvsDest => ({
  family: address.includes(':') ? 'inet6' : 'inet',
  address,
  port,
  forwarding,
  weight,
  upperThreshold: 0,
  lowerThreshold: 0,
});

describe('IPVS client (real kernel)', () => {
  let c: IpvsClient;
  beforeAll(async () => {
    assertGuest();
    c = await IpvsClient.open();
  });
  afterAll(async () => {
    await c?.flush();
    c?.close();
  });
  beforeEach(async () => {
    await c.flush();
  });

  it('GET_INFO reports the IPVS version and connection table size', async () => {
    const info = await c.info();
    expect(info.version).toBe('1.2.1');
    expect(info.versionCode).toBe(0x010201);
    expect(ipvsadm('-Ln').split('\n')[0]).toBe(`IP Virtual Server version 1.2.1 (size=${info.connTableSize})`);
  });

  it('programs services and destinations that ipvsadm -Ln shows exactly as dumped', async () => {
    await c.addService(web);
    await c.addDest(web, rs('198.51.100.11', 8080, 3));
    await c.addDest(web, rs('198.51.100.2', 8080, 0));
    const dns: IpvsService = { ...web, protocol: 'UDP', port: 53, scheduler: 'wlc', flags: 0x1, timeout: 300, netmask: 24 };
    await c.addService(dns);
    await c.addDest(dns, rs('198.51.100.11', 53, 1, 'DR'));
    const fwm: IpvsService = { ...web, fwmark: 5, protocol: null, address: '', port: 0, scheduler: 'sh', flags: 0x08 | 0x10 };
    await c.addService(fwm);
    await c.addDest(fwm, { ...rs('198.51.100.12', 0, 1, 'TUN'), upperThreshold: 100, lowerThreshold: 10 });
    const v6: IpvsService = { ...web, family: 'inet6', address: '2001:db8::10', port: 443, scheduler: 'mh' };
    await c.addService(v6);
    await c.addDest(v6, rs('2001:db8:1::1', 443, 2));
    const sctp: IpvsService = { ...web, protocol: 'SCTP', port: 9, scheduler: 'nq' };
    await c.addService(sctp);
    const info = await c.info();
    const table = await c.table();
    expect(table).toHaveLength(5);
    const listed = ipvsadm('-Ln');
    expect(listed).toBe(renderIpvsadm(table, info.connTableSize));
    // and the parsed fields are the ones we programmed
    const d = table.find((s) => s.port === 53)!;
    expect(d).toMatchObject({ protocol: 'UDP', scheduler: 'wlc', flags: 1, timeout: 300, netmask: 24 });
    expect(d.dests[0]).toMatchObject({ address: '198.51.100.11', port: 53, forwarding: 'DR', weight: 1 });
    const f = table.find((s) => s.fwmark === 5)!;
    expect(f.dests[0]).toMatchObject({ forwarding: 'TUN', upperThreshold: 100, lowerThreshold: 10, tunnelType: 'ipip' });
    expect(ipvsadm('-Ln', '--thresholds')).toMatch(/198\.51\.100\.12:0\s+100\s+10\s/);
  });

  it('edits a service and a destination in place and deletes them', async () => {
    await c.addService(web);
    await c.addDest(web, rs('198.51.100.11', 8080, 1));
    await c.editService({ ...web, scheduler: 'lc', flags: 1, timeout: 60, netmask: 32 });
    await c.editDest(web, rs('198.51.100.11', 8080, 7, 'NAT'));
    expect(ipvsadm('-Ln')).toMatch(/TCP {2}192\.0\.2\.10:80 lc persistent 60\n {2}-> 198\.51\.100\.11:8080 +Masq +7 /);
    await c.delDest(web, { address: '198.51.100.11', port: 8080 });
    expect((await c.dests(web)).length).toBe(0);
    await c.delService(web);
    expect(await c.services()).toEqual([]);
  });

  it('reports kernel refusals as IpvsError with the errno name', async () => {
    await c.addService(web);
    const dup = await c.addService(web).catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(IpvsError);
    expect((dup as IpvsError).errno).toBe('EEXIST');
    const missing: ServiceKey = { family: 'inet', fwmark: 0, protocol: 'TCP', address: '192.0.2.99', port: 1 };
    const gone = await c.delService(missing).catch((e: unknown) => e);
    expect((gone as IpvsError).errno).toBe('ESRCH');
    // twos only exists from Linux 6.2; this guest runs 6.1, so the kernel refuses it
    const twos = await c.addService({ ...web, port: 81, scheduler: 'twos' }).catch((e: unknown) => e);
    expect(twos).toBeInstanceOf(IpvsError);
    expect((twos as IpvsError).errno).toBe('ENOENT');
  });

  it('accepts every scheduler the kernel has', async () => {
    const scheds = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'];
    for (const [i, s] of scheds.entries()) await c.addService({ ...web, port: 1000 + i, scheduler: s });
    const got = (await c.services()).map((s) => `${s.port}:${s.scheduler}`).sort();
    expect(got).toEqual(scheds.map((s, i) => `${1000 + i}:${s}`).sort());
  });

  it('reads and sets the connection timeouts', async () => {
    const before = await c.getTimeouts();
    expect(ipvsadm('-Ln', '--timeout').trim()).toBe(`Timeout (tcp tcpfin udp): ${before.tcp} ${before.tcpFin} ${before.udp}`);
    await c.setTimeouts({ tcp: 7200, udp: 60 });
    expect(await c.getTimeouts()).toEqual({ tcp: 7200, tcpFin: before.tcpFin, udp: 60 });
    await c.setTimeouts(before);
    expect(await c.getTimeouts()).toEqual(before);
  });

  it('flush removes everything', async () => {
    await c.addService(web);
    ipvsadm('-A', '-u', '192.0.2.20:53', '-s', 'rr');
    expect((await c.services()).length).toBe(2);
    await c.flush();
    expect(ipvsadm('-Ln').split('\n').filter((l) => /^(TCP|UDP)/.test(l))).toEqual([]);
  });
});
