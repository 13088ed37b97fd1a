/**
 * A pair with every VRID of one interface in use: 255 instances per node, each with its
 * own VIP. Found by bench/agent-scrape.mjs: with more than ~250 instances the start-up
 * address dumps overflowed the netlink request socket (ENOBUFS) and the netlink package's
 * native receive path aborted the process. Netlink requests are now limited in flight
 * (src/net/netlink.ts RtNetlink.call); this starts the real daemon with all 255, checks the
 * election, the VIPs, a scrape of all of them and a clean stop.
 *
 * Lab "vm": a (192.0.2.11, priority 150), b (192.0.2.12, priority 100); VRRPv3, 1 s adverts,
 * VRID k, VIP 198.51.100.k/24 (k = 1..254) and 203.0.113.1/24 (VRID 255).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/netns';
import { instanceBlock, vrrpConf, vrrpLab, type KwNode, type VrrpLab } from '../helpers/agent';

const N = 255;
const vip = (k: number): string => (k <= 254 ? `198.51.100.${k}/24` : `203.0.113.${k - 254}/24`);
const conf = (id: string, priority: number): string =>
  vrrpConf(id, ...Array.from({ length: N }, (_, i) => instanceBlock({ name: `VI_${i + 1}`, vrid: i + 1, priority, advert: 1, vips: [`${vip(i + 1)} dev eth0`] })));

describe('255 instances on one interface', () => {
  let lab: VrrpLab;
  let a: KwNode;
  let b: KwNode;

  beforeAll(async () => {
    lab = vrrpLab('vm', ['a', 'b'], false);
    a = await lab.start('a', conf('a', 150));
  });

  afterAll(async () => {
    await lab?.close();
  });

  const count = async (n: KwNode, state: number): Promise<number> => (await n.json()).filter((i) => i.data.state === state).length;

  it('the daemon starts with all of them and becomes MASTER of all, every VIP installed', async () => {
    await waitFor(async () => (await count(a, 2)) === N, `${N} instances MASTER on a`, 120_000);
    await waitFor(() => Array.from({ length: N }, (_, i) => vip(i + 1)).every((c) => lab.hasAddr('a', c)), `${N} VIPs on a`, 60_000);
    expect(a.running()).toBe(true);
  });

  it('a second node with the same instances becomes BACKUP of all, without taking any VIP', async () => {
    b = await lab.start('b', conf('b', 100));
    await waitFor(async () => (await count(b, 1)) === N, `${N} instances BACKUP on b`, 120_000);
    // the backup hears every master
    await waitFor(async () => (await b.json()).every((i) => i.stats.advert_rcvd >= 2), 'adverts received for every instance on b', 60_000);
    expect(Array.from({ length: N }, (_, i) => vip(i + 1)).some((c) => lab.hasAddr('b', c))).toBe(false);
    expect(await count(a, 2)).toBe(N);
    expect(a.running() && b.running()).toBe(true);
  });

  it('a clean stop of the master removes all its VIPs and b takes every instance over', async () => {
    const r = await a.stop('SIGTERM', 60_000);
    expect(r.code).toBe(0);
    expect(Array.from({ length: N }, (_, i) => vip(i + 1)).some((c) => lab.hasAddr('a', c))).toBe(false);
    await waitFor(async () => (await count(b, 2)) === N, `${N} instances MASTER on b`, 60_000);
    await waitFor(() => Array.from({ length: N }, (_, i) => vip(i + 1)).every((c) => lab.hasAddr('b', c)), `${N} VIPs on b`, 60_000);
    expect(b.running()).toBe(true);
  });
});
