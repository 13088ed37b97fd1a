/**
 * The real keepwatch daemon in namespaces: election and every way a master can go away,
 * compared with what keepalived 2.2.7 does (shared/reference/keepalived-2.2.7/RESULTS.md
 * §4, §6): crash (kill -9 of the process group), SIGTERM (priority 0), own link down,
 * carrier loss, and preemption back when the higher-priority node returns.
 *
 * Lab "va": nodes a (192.0.2.11, priority 150) and b (192.0.2.12, priority 100), client cl
 * (192.0.2.100); VRRPv3 at 100 ms, VRID 51, VIP 192.0.2.50/24 (RESULTS.md §8 v3-100ms).
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/netns';
import { startCapture } from '../helpers/ns-node';
import { instanceBlock, vrrpConf, vrrpLab, type KwNode, type VrrpLab } from '../helpers/agent';

const VIP = '192.0.2.50';
const VIP_CIDR = `${VIP}/24`;
const confA = vrrpConf('a', instanceBlock({ state: 'MASTER', priority: 150 }));
const confB = vrrpConf('b', instanceBlock({ priority: 100 }));

describe('keepwatch failover in namespaces (VRRPv3, 100 ms)', () => {
  let lab: VrrpLab;
  let a: KwNode;
  let b: KwNode;
  let macA: string;
  let macB: string;

  /** a MASTER with the VIP, b BACKUP without it (RESULTS.md §2 "settled steady state") */
  async function steady(): Promise<void> {
    await a.waitState('MASTER');
    await b.waitState('BACKUP');
    await waitFor(() => lab.hasAddr('a', VIP_CIDR) && !lab.hasAddr('b', VIP_CIDR), 'VIP on a only');
  }

  /** restart a (same directory) and wait for it to preempt b back */
  async function restartA(): Promise<void> {
    a = await lab.start('a', confA, { dir: a.dir });
    await a.waitLog(/\(VI_1\) Entering BACKUP STATE \(init\)/);
    await a.waitLog(/\(VI_1\) Entering MASTER STATE/);
    await steady();
  }

  beforeAll(async () => {
    lab = vrrpLab('va', ['a', 'b']);
    macA = lab.mac('a');
    macB = lab.mac('b');
    [a, b] = await Promise.all([lab.start('a', confA), lab.start('b', confB)]);
  });

  afterAll(async () => {
    await lab?.close();
  });

  it('elects the higher priority as MASTER; the VIP is only on the master', async () => {
    await steady();
    const ia = (await a.instance())!;
    const ib = (await b.instance())!;
    expect(ia.data).toMatchObject({ iname: 'VI_1', vrid: 51, state: 2, base_priority: 150, effective_priority: 150, vipset: true, version: 3 });
    expect(ia.data.vips).toEqual(['192.0.2.50/24 dev eth0 scope global set']);
    expect(ib.data).toMatchObject({ state: 1, effective_priority: 100, vipset: false });
    expect(ia.stats.become_master).toBeGreaterThanOrEqual(1);
    // keepalived's console at -D (ref logs/v3-backup.log): one queueing line, then one line per frame
    const log = a.lines();
    const q = log.indexOf(`(VI_1) Sending/queueing gratuitous ARPs on eth0 for ${VIP}`);
    expect(q).toBeGreaterThan(log.lastIndexOf('(VI_1) setting VIPs.'));
    let run = 0;
    while (log[q + 1 + run] === `Sending gratuitous ARP on eth0 for ${VIP}`) run++;
    expect(run).toBe(5);
    // the backup hears the master
    const before = ib.stats.advert_rcvd;
    await waitFor(async () => (await b.instance())!.stats.advert_rcvd > before + 3, 'b receiving adverts');
    // the client reaches the VIP, resolved to a's MAC
    await waitFor(() => lab.ping('cl', VIP), 'client ping VIP');
    expect(lab.neighMac('cl', VIP)).toBe(macA);
  });

  it('kill -9 of the master process group: backup takes over, client sees its GARP and reaches the VIP on it', async () => {
    await steady();
    await waitFor(() => lab.ping('cl', VIP), 'client ping VIP');
    expect(lab.neighMac('cl', VIP)).toBe(macA);
    const garps = await startCapture(lab.hosts.cl!, ['-i', 'eth0', '-n', '-e', 'arp']);
    const mark = b.mark();
    await a.crash();
    await b.waitState('MASTER');
    await b.waitLog(/\(VI_1\) Receive advertisement timeout/, mark);
    await waitFor(() => lab.hasAddr('b', VIP_CIDR), 'VIP on b');
    // GARP = broadcast ARP request, sender and target the VIP, from b's MAC (RESULTS.md §6.7)
    const re = new RegExp(`^\\S+ ${macB} > ff:ff:ff:ff:ff:ff, ethertype ARP.*Request who-has ${VIP.replace(/\./g, '\\.')} \\(ff:ff:ff:ff:ff:ff\\) tell ${VIP.replace(/\./g, '\\.')},`);
    await waitFor(() => garps.lines.some((l) => re.test(l)), `GARP from ${macB} in ${garps.lines.join('\n')}`);
    garps.stop();
    await waitFor(() => lab.neighMac('cl', VIP) === macB, "client's neighbour entry for the VIP moved to b");
    // the client's traffic for the VIP now arrives at b
    const icmp = await startCapture(lab.hosts.b!, ['-i', 'eth0', '-n', '-c', '1', `icmp and dst host ${VIP}`]);
    await waitFor(() => lab.ping('cl', VIP), 'client ping VIP via b');
    await icmp.done;
    // keepalived 2.2.7 (RESULTS.md §6.1): a crash leaves the VIP on the dead node
    expect(lab.hasAddr('a', VIP_CIDR)).toBe(true);
  });

  it('the restarted higher-priority node removes its residual VIP, starts BACKUP and preempts back', async () => {
    expect(a.running()).toBe(false);
    const mark = b.mark();
    await restartA();
    await b.waitLog(/\(VI_1\) Master received advert from 192\.0\.2\.11 with higher priority 150, ours 100/, mark);
    expect(lab.hasAddr('b', VIP_CIDR)).toBe(false);
    // exactly one copy of the VIP on a (the residual one was removed, then re-added)
    expect(lab.addrs('a').filter((x) => x === VIP_CIDR)).toHaveLength(1);
    await waitFor(() => lab.ping('cl', VIP) && lab.neighMac('cl', VIP) === macA, 'client back on a');
  });

  it('SIGTERM: priority-0 advert, fast takeover, VIP removed from the stopped node, pid files removed', async () => {
    await steady();
    expect(fs.existsSync(a.pidFile) && fs.existsSync(a.vrrpPidFile)).toBe(true);
    expect(Number(fs.readFileSync(a.pidFile, 'utf8').trim())).toBe(a.pid);
    const cap = await startCapture(lab.hosts.b!, ['-i', 'eth0', '-n', '-c', '1', 'ip proto 112 and src host 192.0.2.11 and ip[22] = 0']);
    const mark = b.mark();
    const r = await a.stop('SIGTERM');
    expect(r).toEqual({ code: 0, signal: null });
    const pkt = await cap.done;
    expect(pkt.join('\n')).toMatch(/VRRPv3, Advertisement, vrid 51, prio 0/);
    expect(a.lines()).toContain('(VI_1) sent 0 priority');
    expect(a.lines()).toContain('(VI_1) removing VIPs.');
    expect(lab.hasAddr('a', VIP_CIDR)).toBe(false);
    for (const f of [a.pidFile, a.vrrpPidFile]) expect(fs.existsSync(f)).toBe(false);
    await b.waitState('MASTER');
    // fast path: the priority-0 advert set the down timer to Skew_Time (RFC 5798 §6.4.2)
    const lines = b.lines().slice(mark);
    const p0 = lines.indexOf('(VI_1) Backup received priority 0 advertisement');
    const master = lines.indexOf('(VI_1) Entering MASTER STATE');
    expect(p0).toBeGreaterThanOrEqual(0);
    expect(master).toBeGreaterThan(p0);
    expect((await b.instance())!.stats.pri_zero_rcvd).toBeGreaterThanOrEqual(1);
    await waitFor(() => lab.hasAddr('b', VIP_CIDR), 'VIP on b');
    await restartA();
  });

  it('VIP deleted behind the master\'s back: it leaves MASTER with priority 0 and takes the VIP back', async () => {
    await steady();
    const before = (await a.instance())!.stats;
    const ma = a.mark();
    const mb = b.mark();
    lab.hosts.a!.ip('addr', 'del', VIP_CIDR, 'dev', 'eth0');
    // keepalived_netlink.c set_vrrp_backup: BACKUP, priority 0 sent, down timer = skew, MASTER again
    await a.waitLog(/\(VI_1\) Entering BACKUP STATE/, ma);
    await a.waitLog(/\(VI_1\) Entering MASTER STATE/, ma);
    await b.waitLog(/\(VI_1\) Backup received priority 0 advertisement/, mb);
    await steady();
    const after = (await a.instance())!.stats;
    expect(after.pri_zero_sent).toBe(before.pri_zero_sent + 1);
    expect(after.release_master).toBe(before.release_master + 1);
    expect(after.become_master).toBe(before.become_master + 1);
  });

  it('own link down: FAULT, VIP removed, backup takes over; link up: BACKUP, then preempts back', async () => {
    await steady();
    const ma = a.mark();
    const mb = b.mark();
    lab.hosts.a!.ip('link', 'set', 'eth0', 'down');
    await a.waitState('FAULT');
    await a.waitLog(/Netlink reports eth0 down/, ma);
    await waitFor(() => !lab.hasAddr('a', VIP_CIDR), 'VIP removed from a');
    await b.waitState('MASTER');
    await b.waitLog(/\(VI_1\) Receive advertisement timeout/, mb);
    await waitFor(() => lab.hasAddr('b', VIP_CIDR), 'VIP on b');
    expect((await a.instance())!.stats.release_master).toBeGreaterThanOrEqual(1);

    const ma2 = a.mark();
    lab.hosts.a!.ip('link', 'set', 'eth0', 'up');
    await a.waitLog(/\(VI_1\) Entering BACKUP STATE/, ma2);
    await a.waitLog(/\(VI_1\) Entering MASTER STATE/, ma2);
    const after = a.lines().slice(ma2);
    expect(after.findIndex((l) => /Entering BACKUP STATE/.test(l))).toBeLessThan(after.findIndex((l) => /Entering MASTER STATE/.test(l)));
    await steady();
  });

  it('carrier loss (switch-side port down): FAULT, backup takes over; port up: preempts back', async () => {
    await steady();
    const ma = a.mark();
    lab.sw.ip('link', 'set', lab.port('a'), 'down');
    await a.waitState('FAULT');
    await a.waitLog(/Netlink reports eth0 down/, ma);
    await waitFor(() => !lab.hasAddr('a', VIP_CIDR), 'VIP removed from a');
    await b.waitState('MASTER');
    await waitFor(() => lab.hasAddr('b', VIP_CIDR), 'VIP on b');

    const ma2 = a.mark();
    lab.sw.ip('link', 'set', lab.port('a'), 'up');
    await a.waitLog(/Netlink reports eth0 up/, ma2);
    await a.waitLog(/\(VI_1\) Entering BACKUP STATE/, ma2);
    await a.waitLog(/\(VI_1\) Entering MASTER STATE/, ma2);
    await steady();
    await waitFor(() => lab.ping('cl', VIP) && lab.neighMac('cl', VIP) === macA, 'client back on a');
  });
});
