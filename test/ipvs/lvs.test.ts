/**
 * End to end in a real IPVS kernel (UML guest): the LVS manager programs IPVS, a client in
 * its own namespace reaches real servers in theirs through the virtual addresses (NAT and
 * DR), health checks take servers out and back, and the sorry server stands in when the
 * quorum is lost.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/journal';
import type { JournalEvent } from '../../src/journal/events';
import { LvsManager } from '../../src/lvs/manager';
import { realServer, tcpCheck, virtualServer } from '../../src/lvs/spec';
import type { RealServerSpec } from '../../src/lvs/types';
import { waitFor } from '../helpers/netns';
import { ipvsadm } from './helpers';
import { buildLvsLab, RS, VIPS, type LvsLab, type RsName } from './topology';

const TIMING = { delayLoopMs: 250, delayBeforeRetryMs: 250, warmupMs: 0, retry: 0, connectTimeoutMs: 1000 };

function checked(name: RsName, port: number, o: Partial<RealServerSpec> = {}): RealServerSpec {
  return realServer(RS[name], port, { checkers: [tcpCheck({ address: RS[name], port }, TIMING)], ...o });
}

/** The destinations ipvsadm shows for one service: "198.51.100.11:8080 Masq 1". */
function destLines(svc: string): string[] {
  const out = ipvsadm('-Ln', ...svc.split(' '));
  return out
    .split('\n')
    .filter((l) => l.startsWith('  -> ') && !l.includes('RemoteAddress'))
    .map((l) => l.slice(5).trim().split(/\s+/).slice(0, 3).join(' '))
    .sort();
}

describe('LVS forwarding and health in a real kernel', () => {
  let lab: LvsLab;
  let m: LvsManager | null = null;
  const journal = new Journal();
  const events: JournalEvent[] = [];
  journal.subscribe((e) => events.push(e));

  beforeAll(async () => {
    lab = await buildLvsLab();
    ipvsadm('-C');
    for (const n of ['rs1', 'rs2', 'rs3'] as const) {
      await lab.rs[n].listen(8080, n);
      await lab.rs[n].listen(80, n);
    }
  });
  afterEach(async () => {
    await m?.stop();
    m = null;
    events.length = 0;
    for (const n of ['rs1', 'rs2', 'rs3'] as const) {
      await lab.rs[n].listen(8080, n);
      await lab.rs[n].listen(80, n);
    }
  });
  afterAll(() => {
    lab?.destroy();
    ipvsadm('-C');
  });

  it('NAT, round robin: a client namespace reaches the real servers in turn; stop removes the service', async () => {
    const vs = virtualServer({ address: VIPS[0], port: 80 }, { scheduler: 'rr', realServers: [realServer(RS.rs1, 8080), realServer(RS.rs2, 8080)] });
    m = await LvsManager.start([vs], { journal, statsIntervalMs: 0 });
    expect(m.ipvsError).toBeNull();
    expect(destLines(`-t ${VIPS[0]}:80`)).toEqual(['198.51.100.11:8080 Masq 1', '198.51.100.12:8080 Masq 1']);
    const got = await lab.client.get(VIPS[0], 80, 4);
    expect([...got].sort()).toEqual(['rs1:8080', 'rs1:8080', 'rs2:8080', 'rs2:8080']);
    expect(got[0]).not.toBe(got[1]);
    expect(got[0]).toBe(got[2]);
    expect(events.filter((e) => e.type === 'ipvs.apply').map((e) => (e as { op: string; ok: boolean }).ok)).not.toContain(false);
    await m.stop();
    m = null;
    expect(ipvsadm('-Ln')).not.toContain(VIPS[0]);
  });

  it('DR, round robin: real servers answer from the VIP on their lo', async () => {
    const vs = virtualServer({ address: VIPS[1], port: 80 }, { scheduler: 'rr', forwarding: 'DR', realServers: [realServer(RS.rs1, 80, { forwarding: 'DR' }), realServer(RS.rs2, 80, { forwarding: 'DR' })] });
    m = await LvsManager.start([vs], { journal, statsIntervalMs: 0 });
    expect(destLines(`-t ${VIPS[1]}:80`)).toEqual(['198.51.100.11:80 Route 1', '198.51.100.12:80 Route 1']);
    const got = await lab.client.get(VIPS[1], 80, 4);
    expect([...got].sort()).toEqual(['rs1:80', 'rs1:80', 'rs2:80', 'rs2:80']);
    expect(got[0]).not.toBe(got[1]);
  });

  it('a server failing its check is removed (or set to weight 0 with inhibit_on_failure) and returns when healthy', async () => {
    const vs = virtualServer({ address: VIPS[2], port: 80 }, { scheduler: 'rr', realServers: [checked('rs1', 8080), checked('rs2', 8080, { inhibitOnFailure: true })] });
    m = await LvsManager.start([vs], { journal, statsIntervalMs: 0 });
    const svc = `-t ${VIPS[2]}:80`;
    expect(destLines(svc)).toEqual(['198.51.100.11:8080 Masq 1', '198.51.100.12:8080 Masq 1']);

    await lab.rs.rs1.close(8080);
    await waitFor(() => destLines(svc).length === 1, 'rs1 to be removed from the service');
    expect(destLines(svc)).toEqual(['198.51.100.12:8080 Masq 1']);
    expect(await lab.client.get(VIPS[2], 80, 3)).toEqual(['rs2:8080', 'rs2:8080', 'rs2:8080']);
    expect(events.find((e) => e.type === 'realserver.state')).toMatchObject({ realServer: '198.51.100.11:8080', up: false });

    await lab.rs.rs2.close(8080);
    await waitFor(() => destLines(svc).includes('198.51.100.12:8080 Masq 0'), 'rs2 to be inhibited (weight 0)');
    expect(destLines(svc)).toEqual(['198.51.100.12:8080 Masq 0']);

    await lab.rs.rs1.listen(8080, 'rs1');
    await lab.rs.rs2.listen(8080, 'rs2');
    await waitFor(() => destLines(svc).join() === '198.51.100.11:8080 Masq 1,198.51.100.12:8080 Masq 1', 'both servers back at weight 1');
    const got = await lab.client.get(VIPS[2], 80, 4);
    expect([...got].sort()).toEqual(['rs1:8080', 'rs1:8080', 'rs2:8080', 'rs2:8080']);
    const states = events.filter((e) => e.type === 'realserver.state').map((e) => `${(e as { realServer: string }).realServer} ${(e as { up: boolean }).up}`);
    expect(states).toEqual(expect.arrayContaining(['198.51.100.11:8080 false', '198.51.100.12:8080 false', '198.51.100.11:8080 true', '198.51.100.12:8080 true']));
  });

  it('the sorry server replaces the pool while the quorum is lost', async () => {
    const vs = virtualServer(
      { address: VIPS[3], port: 80 },
      { scheduler: 'rr', quorum: 2, sorryServer: { address: RS.rs3, port: 8080, weight: 1, forwarding: 'NAT' }, realServers: [checked('rs1', 8080), checked('rs2', 8080)] },
    );
    m = await LvsManager.start([vs], { journal, statsIntervalMs: 0 });
    const svc = `-t ${VIPS[3]}:80`;
    expect(destLines(svc)).toEqual(['198.51.100.11:8080 Masq 1', '198.51.100.12:8080 Masq 1']);
    await lab.rs.rs1.close(8080);
    await waitFor(() => destLines(svc).join() === '198.51.100.13:8080 Masq 1', 'only the sorry server');
    expect(await lab.client.get(VIPS[3], 80, 2)).toEqual(['rs3:8080', 'rs3:8080']);
    expect(events.find((e) => e.type === 'virtualserver.quorum' && !e.met)).toMatchObject({ sorry: true, weightSum: 1, quorum: 2 });
    expect(m.snapshot()[0]).toMatchObject({ quorumMet: false, sorryActive: true });

    await lab.rs.rs1.listen(8080, 'rs1');
    await waitFor(() => destLines(svc).join() === '198.51.100.11:8080 Masq 1,198.51.100.12:8080 Masq 1', 'the pool back, sorry server gone');
    const got = await lab.client.get(VIPS[3], 80, 2);
    expect([...got].sort()).toEqual(['rs1:8080', 'rs2:8080']);
  });
});
