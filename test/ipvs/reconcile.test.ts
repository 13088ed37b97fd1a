/**
 * The reconciler against the real kernel: what we program is exactly what ipvsadm lists;
 * a reload changes only what changed (untouched services keep their counters, i.e. they
 * were not recreated); services we did not create are left alone unless lvs_flush; the
 * lvs_timeouts are applied and restored.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/journal';
import type { JournalEvent } from '../../src/journal/events';
import { desiredTable } from '../../src/lvs/desired';
import { IpvsClient } from '../../src/lvs/ipvs';
import { serviceKeyString } from '../../src/lvs/keys';
import { LvsManager } from '../../src/lvs/manager';
import { startLvs } from '../../src/lvs/service';
import { loadConfigText } from '../../src/config/load';
import { opTarget } from '../../src/lvs/reconcile';
import { realServer, virtualServer } from '../../src/lvs/spec';
import type { KernelService, VirtualServerSpec } from '../../src/lvs/types';
import { waitFor } from '../helpers/netns';
import { assertGuest, ipvsadm, renderIpvsadm } from './helpers';
import { buildLvsLab, RS, VIPS, type LvsLab } from './topology';

const Z = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 };

/** The kernel table the desired state describes, with zero counters (for ipvsadm -Ln). */
function expectedKernel(vss: VirtualServerSpec[], m: LvsManager): KernelService[] {
  return desiredTable(vss, (vs) => m.engine.health(vs)).map(({ owner: _o, managed: _m, dests, ...s }) => ({
    ...s,
    stats: Z,
    dests: dests.map((d) => ({ ...d, activeConns: 0, inactConns: 0, persistConns: 0, stats: Z })),
  }));
}

const X = virtualServer({ address: VIPS[4], port: 80 }, { scheduler: 'rr', realServers: [realServer(RS.rs1, 8080), realServer(RS.rs2, 8080)] });
const Y = virtualServer({ address: VIPS[5], port: 80 }, { scheduler: 'wrr', realServers: [realServer(RS.rs1, 8080), realServer(RS.rs2, 8080, { weight: 3 })] });
const W = virtualServer({ address: VIPS[6], port: 53, protocol: 'UDP' }, { scheduler: 'wlc', persistenceTimeout: 600, persistenceGranularity: 24, realServers: [realServer(RS.rs1, 53, { forwarding: 'DR' })] });
const F = virtualServer({ fwmark: 7 }, { scheduler: 'sh', flags: 0x18, forwarding: 'DR', realServers: [realServer(RS.rs2, 0, { forwarding: 'DR' }), realServer(RS.rs3, 0, { forwarding: 'TUN', upperThreshold: 50 })] });
const V6 = virtualServer({ address: '2001:db8::10', port: 443 }, { scheduler: 'mh', realServers: [realServer('2001:db8:1::11', 443, { weight: 2 })] });
const S = virtualServer({ address: VIPS[8], port: 25 }, { protocol: 'SCTP', scheduler: 'lc', realServers: [realServer(RS.rs3, 2525)] });

describe('reconciling the kernel IPVS table', () => {
  let lab: LvsLab;
  let c: IpvsClient;
  let m: LvsManager | null = null;
  const journal = new Journal();
  const events: JournalEvent[] = [];
  journal.subscribe((e) => events.push(e));

  beforeAll(async () => {
    assertGuest();
    lab = await buildLvsLab();
    for (const n of ['rs1', 'rs2', 'rs3'] as const) await lab.rs[n].listen(8080, n);
    c = await IpvsClient.open();
  });
  afterEach(async () => {
    await m?.stop();
    m = null;
    events.length = 0;
    ipvsadm('-C');
  });
  afterAll(() => {
    c?.close();
    lab?.destroy();
  });

  it('programs exactly what ipvsadm -Ln then lists, and leaves a foreign service alone', async () => {
    ipvsadm('-A', '-t', `${VIPS[9]}:80`, '-s', 'rr');
    ipvsadm('-a', '-t', `${VIPS[9]}:80`, '-r', `${RS.rs3}:8080`, '-m');
    const vss = [X, Y, W, F, V6, S];
    m = await LvsManager.start(vss, { journal, statsIntervalMs: 0 });
    const foreign = (await c.table()).filter((s) => s.address === VIPS[9]);
    expect(foreign).toHaveLength(1);
    const info = await c.info();
    // what we meant + the foreign service = what the kernel holds, as ipvsadm prints it
    expect(ipvsadm('-Ln')).toBe(renderIpvsadm([...expectedKernel(vss, m), ...foreign], info.connTableSize));
    // and our own dump of it agrees with ipvsadm too
    expect(ipvsadm('-Ln')).toBe(renderIpvsadm(await c.table(), info.connTableSize));
    expect(ipvsadm('-Ln', '--thresholds')).toMatch(/198\.51\.100\.13:0\s+50\s+0\s/);
    await m.stop();
    m = null;
    // stop removes ours only
    expect(ipvsadm('-Ln').split('\n').filter((l) => /^(TCP|UDP|SCTP|FWM)/.test(l))).toEqual([`TCP  ${VIPS[9]}:80 rr`]);
  });

  it('a reload changes only what changed; untouched services keep their counters', async () => {
    ipvsadm('-A', '-t', `${VIPS[9]}:80`, '-s', 'rr');
    m = await LvsManager.start([X, Y, W], { journal, statsIntervalMs: 0 });
    const xKey = serviceKeyString(X.endpoints[0]);
    // traffic through X so that it has counters to lose if it were recreated
    const got = await lab.client.get(VIPS[4], 80, 4);
    expect([...got].sort()).toEqual(['rs1:8080', 'rs1:8080', 'rs2:8080', 'rs2:8080']);
    // the kernel's estimator publishes counters every ~2 s: wait for them
    const xBefore = (await waitFor(async () => {
      const s = (await c.table()).find((t) => serviceKeyString(t) === xKey);
      return s && s.stats.conns >= 4 && s.dests.every((d) => d.stats.conns >= 2) ? s : undefined;
    }, 'X counters to show 4 connections'))!;
    const xLinesBefore = ipvsadm('-Ln', '-t', `${VIPS[4]}:80`, '--stats');

    const Y2 = { ...Y, realServers: [{ ...Y.realServers[0], weight: 5 }, Y.realServers[1]] };
    const Z2 = virtualServer({ address: VIPS[7], port: 80 }, { scheduler: 'rr', realServers: [realServer(RS.rs3, 8080)] });
    events.length = 0;
    const r = await m.reload([X, Y2, Z2]);
    expect(r.engine).toMatchObject({ added: [`${VIPS[7]}:80`], removed: [`${VIPS[6]}:53`], changed: [`${VIPS[5]}:80`] });
    expect(r.sync?.ops.map((o) => `${o.kind} ${opTarget(o)}`)).toEqual([
      `add-service TCP ${VIPS[7]}:80`,
      `add-dest 198.51.100.13:8080 in TCP ${VIPS[7]}:80`,
      `edit-dest 198.51.100.11:8080 in TCP ${VIPS[5]}:80`,
      `del-service UDP ${VIPS[6]}:53`,
    ]);
    expect(r.sync?.results.every((x) => x.ok)).toBe(true);
    const after = await c.table();
    const xAfter = after.find((t) => serviceKeyString(t) === xKey)!;
    // same kernel object: counters kept (a recreated service would start from 0)
    expect(xAfter.stats.conns).toBeGreaterThanOrEqual(xBefore.stats.conns);
    expect(xAfter.dests.map((d) => d.stats.conns)).toEqual(xBefore.dests.map((d) => d.stats.conns));
    expect(ipvsadm('-Ln', '-t', `${VIPS[4]}:80`, '--stats')).toBe(xLinesBefore);
    expect(after.find((t) => t.address === VIPS[5])!.dests.map((d) => `${d.address}:${d.weight}`).sort()).toEqual(['198.51.100.11:5', '198.51.100.12:3']);
    expect(after.some((t) => t.address === VIPS[6])).toBe(false);
    expect(after.some((t) => t.address === VIPS[9])).toBe(true); // never ours
    // journal: one ipvs.apply per operation, all ok
    expect(events.filter((e) => e.type === 'ipvs.apply').map((e) => (e as { op: string }).op)).toEqual(['add-service', 'add-dest', 'edit-dest', 'del-service']);
  });

  it('lvs_flush empties the table at start; lvs_timeouts are set and restored', async () => {
    ipvsadm('-A', '-t', `${VIPS[9]}:80`, '-s', 'rr');
    const before = await c.getTimeouts();
    m = await LvsManager.start([X], { journal, flushOnStart: true, timeouts: { tcp: 1234, udp: 77 }, statsIntervalMs: 0 });
    expect(ipvsadm('-Ln')).not.toContain(VIPS[9]);
    expect(ipvsadm('-Ln')).toContain(`${VIPS[4]}:80`);
    expect(ipvsadm('-Ln', '--timeout').trim()).toBe(`Timeout (tcp tcpfin udp): 1234 ${before.tcpFin} 77`);
    await m.stop();
    m = null;
    expect(await c.getTimeouts()).toEqual(before);
  });

  it('keepalived.conf in, IPVS table out (the daemon entry point)', async () => {
    const conf = `
global_defs {
  lvs_timeouts tcp 901
}
virtual_server ${VIPS[4]} 80 {
  delay_loop 1
  lb_algo wrr
  lb_kind NAT
  protocol TCP
  persistence_timeout 120
  real_server ${RS.rs1} 8080 {
    weight 4
    TCP_CHECK {
      connect_timeout 1
    }
  }
  real_server ${RS.rs2} 8081 {
    inhibit_on_failure
    TCP_CHECK {
      connect_timeout 1
    }
  }
}
`;
    const loaded = loadConfigText(conf);
    expect(loaded.config).not.toBeNull();
    const svc = await startLvs({ config: loaded.config!, journal, dontReleaseIpvs: false });
    try {
      const svcArg = ['-t', `${VIPS[4]}:80`];
      expect(ipvsadm('-Ln', ...svcArg)).toContain(`TCP  ${VIPS[4]}:80 wrr persistent 120`);
      // nothing listens on rs2:8081: its first check fails and, inhibited, it stays at weight 0
      await waitFor(() => / 198\.51\.100\.12:8081 +Masq +0 /.test(ipvsadm('-Ln', ...svcArg)), 'rs2 inhibited at weight 0');
      expect(ipvsadm('-Ln', ...svcArg)).toMatch(/ 198\.51\.100\.11:8080 +Masq +4 /);
      expect(ipvsadm('-Ln', '--timeout')).toContain('Timeout (tcp tcpfin udp): 901 ');
      expect(svc.snapshot()[0]).toMatchObject({ name: `${VIPS[4]}:80`, realServers: [{ up: true, weight: 4 }, { up: false, inhibit: true }] });
    } finally {
      await svc.stop();
    }
    expect(ipvsadm('-Ln')).not.toContain(`${VIPS[4]}:80`);
  });

  it('snapshots carry the kernel counters of our services', async () => {
    m = await LvsManager.start([X], { journal, statsIntervalMs: 0 });
    await lab.client.get(VIPS[4], 80, 2);
    await waitFor(async () => {
      await m!.refreshStats();
      return (m!.snapshot()[0].ipvs?.conns ?? 0) >= 2;
    }, 'counters in the snapshot');
    const snap = m.snapshot()[0];
    expect(snap.realServers.map((r) => r.ipvs?.conns)).toEqual([1, 1]);
    expect(snap.realServers[0].rates).toBeDefined();
  });
});
