/**
 * SNMP SET of realServerWeight, from the MIB row index down to the desired IPVS table:
 *  - the index → (virtual server, real server) mapping of keepalived check_snmp.c
 *    (virtualServerIndex = position, realServerIndex counts the sorry server first) gives
 *    the callback the snapshot names the LVS side looks up, including the protocol that
 *    tells a TCP and a UDP virtual server of the same address apart;
 *  - the real HealthEngine behind the callback behaves like keepalived's update_svr_wgt:
 *    new effective weight, quorum re-evaluated, IPVS only while alive and in the pool,
 *    misc_dynamic results relative to it, and the configured weight back on reload.
 * Fake clock, scripted probes; the kernel side is test/ipvs/snmp-weight.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { HealthEngine } from '../../src/check/engine';
import { Journal } from '../../src/journal/journal';
import type { JournalEvent } from '../../src/journal/events';
import { desiredServices } from '../../src/lvs/desired';
import { miscCheck, realServer, tcpCheck, virtualServer } from '../../src/lvs/spec';
import type { VirtualServerSpec } from '../../src/lvs/types';
import { snmpModules } from '../../src/snmp';
import { AxError, VT, type VarBind } from '../../src/snmp/agentx-pdu';
import { MibView, int, str, type MibContext } from '../../src/snmp/mib';
import { parseOid, type Oid } from '../../src/snmp/oid';
import type { AgentSnapshot } from '../../src/state/snapshot';
import { referenceSnapshot } from '../snmp/fixtures';
import { FakeScheduler, scriptedProbe } from './check-fixtures';

const O = (s: string): Oid => parseOid(s)!;
/** realServerWeight.<vs>.<rs> */
const W = (vs: number, rs: number) => O(`1.3.6.1.4.1.9586.100.5.3.4.1.7.${vs}.${rs}`);
/** realServerAddress.<vs>.<rs> */
const ADDR = (vs: number, rs: number) => O(`1.3.6.1.4.1.9586.100.5.3.4.1.4.${vs}.${rs}`);
const enable = { vrrp: false, checker: true };
const T = { delayLoopMs: 10_000, delayBeforeRetryMs: 1_000, warmupMs: 0, retry: 0 };

function ctxOf(snap: AgentSnapshot): MibContext {
  return { snap, now: Date.now(), memo: new Map() };
}

/** TestSet then CommitSet, as the AgentX session runs them for one SET PDU. */
function snmpSet(view: MibView, snap: AgentSnapshot, vbs: VarBind[]): { error: number; index: number; commits: unknown[] } {
  const t = view.testSet(vbs, ctxOf(snap));
  if (t.error !== AxError.NoError) return { error: t.error, index: t.index, commits: [] };
  return { error: AxError.NoError, index: 0, commits: t.prepared.map((p) => p.commit()) };
}

describe('realServerWeight: MIB index → names', () => {
  const snap = referenceSnapshot(2, {
    virtualServers: [
      {
        name: '192.0.2.10:80', protocol: 'TCP', scheduler: 'wrr', forwarding: 'NAT', quorum: 1, quorumMet: true, sorryActive: false,
        sorry_server: { address: '198.51.100.99:80', up: false, weight: 0, configuredWeight: 1, failedChecks: 0, checkers: [] },
        realServers: [
          { address: '198.51.100.11:8080', up: true, weight: 1, configuredWeight: 1, failedChecks: 0, checkers: [] },
          { address: '198.51.100.12:8080', up: true, weight: 2, configuredWeight: 2, failedChecks: 0, checkers: [] },
        ],
      },
      {
        name: '192.0.2.10:80', protocol: 'UDP', scheduler: 'rr', forwarding: 'NAT', quorum: 1, quorumMet: true, sorryActive: false,
        realServers: [{ address: '[2001:db8::11]:53', up: true, weight: 4, configuredWeight: 4, failedChecks: 0, checkers: [] }],
      },
    ],
  });
  const calls: Array<[string, string, number, string | undefined]> = [];
  const rw = new MibView(snmpModules(enable, false, { setRealServerWeight: (vs, rs, w, p) => (calls.push([vs, rs, w, p]), { ok: true }) }));

  it('realServerIndex counts the sorry server first; the callback gets the snapshot names and the protocol', () => {
    calls.length = 0;
    // the row the index names is the one a GET of the same index shows
    const addr = rw.get(ADDR(1, 3), ctxOf(snap));
    expect(addr.type).toBe(VT.OctetString);
    expect([...(addr as { value: Buffer }).value]).toEqual([198, 51, 100, 12]);
    const r = snmpSet(rw, snap, [
      { oid: W(1, 2), value: int(7) },
      { oid: W(1, 3), value: int(0) },
      { oid: W(2, 1), value: int(2147483647) },
    ]);
    expect(r).toEqual({ error: AxError.NoError, index: 0, commits: [{ ok: true }, { ok: true }, { ok: true }] });
    expect(calls).toEqual([
      ['192.0.2.10:80', '198.51.100.11:8080', 7, 'TCP'],
      ['192.0.2.10:80', '198.51.100.12:8080', 0, 'TCP'],
      ['192.0.2.10:80', '[2001:db8::11]:53', 2147483647, 'UDP'],
    ]);
  });

  it('refuses the sorry server, rows that do not exist, negative weights and non-integers, without calling back', () => {
    calls.length = 0;
    expect(snmpSet(rw, snap, [{ oid: W(1, 1), value: int(3) }]).error).toBe(AxError.NotWritable); // sorry server
    expect(snmpSet(rw, snap, [{ oid: W(1, 4), value: int(3) }]).error).toBe(AxError.NoCreation);
    expect(snmpSet(rw, snap, [{ oid: W(3, 1), value: int(3) }]).error).toBe(AxError.NoCreation);
    expect(snmpSet(rw, snap, [{ oid: W(1, 2), value: int(-1) }]).error).toBe(AxError.WrongValue);
    expect(snmpSet(rw, snap, [{ oid: W(1, 2), value: str('5') }]).error).toBe(AxError.WrongType);
    expect(calls).toEqual([]);
  });

  it('without writable callbacks the column is read-only (notWritable)', () => {
    const ro = new MibView(snmpModules(enable, false));
    expect(snmpSet(ro, snap, [{ oid: W(1, 2), value: int(3) }]).error).toBe(AxError.NotWritable);
    const prioOnly = new MibView(snmpModules(enable, false, { setBasePriority: () => ({ ok: true }) }));
    expect(snmpSet(prioOnly, snap, [{ oid: W(1, 2), value: int(3) }]).error).toBe(AxError.NotWritable);
  });
});

describe('realServerWeight through the real checker engine', () => {
  function setup(vss: VirtualServerSpec[]) {
    const sched = new FakeScheduler();
    const journal = new Journal(sched.clock());
    const events: JournalEvent[] = [];
    journal.subscribe((e) => events.push(e));
    const sp = scriptedProbe(sched);
    const changed: Array<string | undefined> = [];
    const engine = new HealthEngine({ journal, scheduler: sched, probe: sp.probe, notify: () => undefined, onChange: (v) => changed.push(v?.name) });
    engine.load(vss);
    const snapshot = (): AgentSnapshot => referenceSnapshot(2, { virtualServers: engine.snapshot() });
    const view = new MibView(snmpModules(enable, false, { setRealServerWeight: (vs, rs, w, p) => engine.setRealServerWeight(vs, rs, w, p) }));
    const set = (vs: number, rs: number, w: number) => snmpSet(view, snapshot(), [{ oid: W(vs, rs), value: int(w) }]);
    const read = (vs: number, rs: number) => view.get(W(vs, rs), ctxOf(snapshot()));
    const of = <K extends JournalEvent['type']>(t: K) => events.filter((e): e is Extract<JournalEvent, { type: K }> => e.type === t);
    return { sched, engine, events, changed, set, read, of, ...sp };
  }
  const kernelWeights = (vs: VirtualServerSpec, e: HealthEngine) =>
    Object.fromEntries(desiredServices(vs, e.health(vs))[0].dests.map((d) => [`${d.address}:${d.port}`, d.weight]));

  it('the SET lands on the right server of the right virtual server (TCP and UDP share a name)', async () => {
    const tcp = virtualServer({ address: '192.0.2.10', port: 80 }, { scheduler: 'wrr', realServers: [realServer('198.51.100.11', 8080), realServer('198.51.100.12', 8080, { weight: 2 })] });
    const udp = virtualServer({ address: '192.0.2.10', port: 80, protocol: 'UDP' }, { scheduler: 'rr', realServers: [realServer('198.51.100.12', 8080, { weight: 5 })] });
    const s = setup([tcp, udp]);
    s.engine.start();
    expect(s.set(1, 2, 9)).toMatchObject({ error: AxError.NoError, commits: [{ ok: true }] });
    expect(kernelWeights(tcp, s.engine)).toEqual({ '198.51.100.11:8080': 1, '198.51.100.12:8080': 9 });
    expect(kernelWeights(udp, s.engine)).toEqual({ '198.51.100.12:8080': 5 }); // same rs name, other protocol: untouched
    expect(s.read(1, 2)).toEqual(int(9));
    expect(s.of('realserver.weight')).toMatchObject([{ virtualServer: '192.0.2.10:80', realServer: '198.51.100.12:8080', from: 2, to: 9, reason: 'snmp' }]);
    expect(s.changed.at(-1)).toBe('192.0.2.10:80');
    expect(s.set(2, 1, 6).commits).toEqual([{ ok: true }]);
    expect(kernelWeights(udp, s.engine)).toEqual({ '198.51.100.12:8080': 6 });
    // the same name without a protocol is ambiguous, and the callback says so
    expect(s.engine.setRealServerWeight('192.0.2.10:80', '198.51.100.12:8080', 3)).toMatchObject({ ok: false, error: expect.stringMatching(/TCP and UDP/) });
    expect(s.engine.setRealServerWeight('192.0.2.10:80', '198.51.100.13:8080', 3, 'TCP')).toMatchObject({ ok: false });
    expect(s.engine.setRealServerWeight('192.0.2.99:80', '198.51.100.12:8080', 3, 'TCP')).toMatchObject({ ok: false });
    expect(s.engine.setRealServerWeight('192.0.2.10:80', '198.51.100.12:8080', -1, 'TCP')).toMatchObject({ ok: false });
    expect(s.engine.setRealServerWeight('192.0.2.10:80', '198.51.100.12:8080', 1.5, 'TCP')).toMatchObject({ ok: false });
  });

  it('a server that is down keeps the weight for later (inhibited at 0 meanwhile); the quorum counts it', async () => {
    const rs1 = realServer('198.51.100.11', 80, { weight: 1, inhibitOnFailure: true, checkers: [tcpCheck({ address: '198.51.100.11', port: 80 }, T)] });
    const rs2 = realServer('198.51.100.12', 80, { weight: 1, checkers: [tcpCheck({ address: '198.51.100.12', port: 80 }, T)] });
    const vs = virtualServer({ address: '192.0.2.10', port: 80 }, { quorum: 2, scheduler: 'wrr', sorryServer: { address: '198.51.100.99', port: 80, weight: 1, forwarding: 'NAT' }, realServers: [rs1, rs2] });
    const s = setup([vs]);
    s.health.set('198.51.100.11:80', false);
    s.engine.start();
    await s.sched.advance(1_000);
    // rs1 down: quorum 2 lost, sorry server in, rs1 inhibited at 0
    expect(kernelWeights(vs, s.engine)).toEqual({ '198.51.100.11:80': 0, '198.51.100.99:80': 1 });
    // realServerIndex 2 = rs1 (the sorry server is 1): weight 3 while down → still 0 in IPVS
    expect(s.set(1, 2, 3).commits).toEqual([{ ok: true }]);
    expect(kernelWeights(vs, s.engine)).toEqual({ '198.51.100.11:80': 0, '198.51.100.99:80': 1 });
    // rs2's weight 2 alone meets quorum 2 (keepalived update_quorum_state after update_svr_wgt)
    expect(s.set(1, 3, 2).commits).toEqual([{ ok: true }]);
    expect(s.engine.health(vs).quorumUp).toBe(true);
    expect(kernelWeights(vs, s.engine)).toEqual({ '198.51.100.11:80': 0, '198.51.100.12:80': 2 });
    expect(s.of('virtualserver.quorum').at(-1)).toMatchObject({ met: true, weightSum: 2 });
    // rs1 comes back with the weight set over SNMP
    s.health.set('198.51.100.11:80', true);
    await s.sched.advance(10_000);
    expect(kernelWeights(vs, s.engine)).toEqual({ '198.51.100.11:80': 3, '198.51.100.12:80': 2 });
  });

  it('misc_dynamic results apply relative to the SNMP weight; a reload restores the configured weight', async () => {
    const rs = realServer('198.51.100.11', 80, { weight: 5, checkers: [miscCheck('/usr/local/bin/load', { ...T, dynamic: true })] });
    const other = realServer('198.51.100.12', 80, { weight: 4 });
    const vs = virtualServer({ address: '192.0.2.10', port: 80 }, { scheduler: 'wrr', realServers: [rs, other] });
    const s = setup([vs]);
    s.health.set('/usr/local/bin/load', { ok: true, exitCode: 12 }); // keepalived: weight = 12 - 2 = 10
    s.engine.start();
    await s.sched.advance(1_000);
    expect(kernelWeights(vs, s.engine)['198.51.100.11:80']).toBe(10);
    expect(s.set(1, 1, 20).commits).toEqual([{ ok: true }]);
    expect(kernelWeights(vs, s.engine)['198.51.100.11:80']).toBe(20);
    // next result 7 → keepalived: effective 20 - (12-2-5) + (7-2-5) = 15
    s.health.set('/usr/local/bin/load', { ok: true, exitCode: 7 });
    await s.sched.advance(10_000);
    expect(kernelWeights(vs, s.engine)['198.51.100.11:80']).toBe(15);
    expect(s.set(1, 2, 0).commits).toEqual([{ ok: true }]); // weight 0: in the table, no new connections
    expect(kernelWeights(vs, s.engine)).toEqual({ '198.51.100.11:80': 15, '198.51.100.12:80': 0 });
    // reload with the same configuration: keepalived set_effective_weights() → iweight + checker weights
    s.events.length = 0;
    s.engine.reload([vs]);
    expect(kernelWeights(vs, s.engine)).toEqual({ '198.51.100.11:80': 5, '198.51.100.12:80': 4 });
    expect(s.of('realserver.weight').map((e) => [e.realServer, e.from, e.to, e.reason])).toEqual([
      ['198.51.100.11:80', 15, 5, 'reload'],
      ['198.51.100.12:80', 0, 4, 'reload'],
    ]);
    expect(s.read(1, 2)).toEqual(int(4));
  });

  it('setting the weight it already has changes nothing', async () => {
    const vs = virtualServer({ address: '192.0.2.10', port: 80 }, { realServers: [realServer('198.51.100.11', 80, { weight: 3 })] });
    const s = setup([vs]);
    s.engine.start();
    const before = s.changed.length;
    expect(s.set(1, 1, 3).commits).toEqual([{ ok: true }]);
    expect(s.of('realserver.weight')).toEqual([]);
    expect(s.changed.length).toBe(before);
  });
});
