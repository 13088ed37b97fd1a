/**
 * The checker engine on a fake clock with scripted probe results: scheduling (bootstrap,
 * warmup, delay_loop, delay_before_retry), real-server transitions, alpha, quorum with
 * hysteresis, the sorry server in the desired IPVS table, ha_suspend, reload migration.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { HealthEngine, type LvsNotification } from '../../src/check/engine';
import { Journal } from '../../src/journal/journal';
import type { JournalEvent } from '../../src/journal/events';
import { desiredServices } from '../../src/lvs/desired';
import { miscCheck, realServer, tcpCheck, virtualServer } from '../../src/lvs/spec';
import type { RealServerSpec, VirtualServerSpec } from '../../src/lvs/types';
import { FakeScheduler, scriptedProbe } from './check-fixtures';

const T: { delayLoopMs: number; delayBeforeRetryMs: number; warmupMs: number; retry?: number; alpha?: boolean } = { delayLoopMs: 10_000, delayBeforeRetryMs: 2_000, warmupMs: 0 };
/** no retries: a failure is final at once (keeps the quorum scenarios short) */
const T0 = { ...T, retry: 0 };

function rsTcp(addr: string, port = 80, o: Partial<RealServerSpec> = {}, timing = T): RealServerSpec {
  return realServer(addr, port, { checkers: [tcpCheck({ address: addr, port }, timing)], ...o });
}

function setup(vss: VirtualServerSpec[]) {
  const sched = new FakeScheduler();
  const journal = new Journal(sched.clock());
  const events: JournalEvent[] = [];
  journal.subscribe((e) => events.push(e));
  const notes: LvsNotification[] = [];
  let changes = 0;
  const sp = scriptedProbe(sched);
  const engine = new HealthEngine({ journal, scheduler: sched, probe: sp.probe, notify: (n) => notes.push(n), onChange: () => changes++ });
  const warnings = engine.load(vss);
  const of = <T extends JournalEvent['type']>(t: T) => events.filter((e): e is Extract<JournalEvent, { type: T }> => e.type === t);
  return { sched, journal, events, notes, engine, warnings, ...sp, of, changes: () => changes };
}

const weights = (vs: VirtualServerSpec, e: HealthEngine) =>
  Object.fromEntries(desiredServices(vs, e.health(vs))[0].dests.map((d) => [`${d.address}:${d.port}`, d.weight]));

describe('checker engine scheduling', () => {
  it('first check after 1 s + random(0..warmup), then every delay_loop', async () => {
    const vs = virtualServer({ address: '192.0.2.10', port: 80 }, { realServers: [rsTcp('198.51.100.11', 80, {}, { ...T, warmupMs: 10_000 })] });
    const s = setup([vs]);
    s.sched.randomValue = 0.25;
    s.engine.start();
    await s.sched.advance(3_499);
    expect(s.calls).toEqual([]);
    await s.sched.advance(1); // 1000 + 0.25 * 10000
    expect(s.calls.map((c) => c.t)).toEqual([3_500]);
    await s.sched.advance(20_000);
    expect(s.calls.map((c) => c.t)).toEqual([3_500, 13_500, 23_500]);
  });

  it('a failure after success is retried every delay_before_retry, then the server goes down; recovery brings it back', async () => {
    const vs = virtualServer({ address: '192.0.2.10', port: 80 }, { realServers: [rsTcp('198.51.100.11', 80, { notifyDown: { command: '/bin/down' }, notifyUp: { command: '/bin/up' } }, { ...T, retry: 2 })] });
    const s = setup([vs]);
    s.engine.start();
    await s.sched.advance(1_000); // ok at t=1000
    s.health.set('198.51.100.11:80', false);
    await s.sched.advance(10_000); // fail at 11000 (retry 1)
    await s.sched.advance(2_000); // fail at 13000 (retry 2)
    expect(s.engine.health(vs).realServers.get('198.51.100.11:80')?.alive).toBe(true);
    expect(s.of('checker.result').map((e) => [e.result, e.checkerUp])).toEqual([
      ['success', true],
      ['failure', true],
      ['failure', true],
    ]);
    await s.sched.advance(2_000); // fail at 15000 -> down
    expect(s.engine.health(vs).realServers.get('198.51.100.11:80')?.alive).toBe(false);
    const down = s.of('realserver.state');
    expect(down).toHaveLength(1);
    expect(down[0]).toMatchObject({ virtualServer: '192.0.2.10:80', realServer: '198.51.100.11:80', up: false, kaVirtualServer: '[192.0.2.10]:tcp:80', kaRealServer: '[198.51.100.11]:tcp:80', failedCheckers: 1 });
    expect(s.notes.map((n) => [n.kind, n.command.command])).toEqual([['notify_down', '/bin/down']]);
    expect(s.calls.map((c) => c.t)).toEqual([1_000, 11_000, 13_000, 15_000]);
    // quorum 1 with the only server gone: lost
    expect(s.of('virtualserver.quorum').at(-1)).toMatchObject({ met: false, up: 0, configured: 1, weightSum: 0 });
    s.health.set('198.51.100.11:80', true);
    await s.sched.advance(10_000);
    expect(s.of('realserver.state').at(-1)).toMatchObject({ up: true, weight: 1 });
    expect(s.notes.map((n) => n.kind)).toEqual(['notify_down', 'notify_up']);
    expect(s.changes()).toBeGreaterThanOrEqual(3); // start, down, up
  });

  it('the first failure after start takes the server down at once', async () => {
    const vs = virtualServer({ address: '192.0.2.10', port: 80 }, { realServers: [rsTcp('198.51.100.11', 80, {}, { ...T, retry: 3 })] });
    const s = setup([vs]);
    s.health.set('198.51.100.11:80', false);
    s.engine.start();
    await s.sched.advance(1_000);
    expect(s.of('realserver.state')).toHaveLength(1);
    expect(s.engine.health(vs).realServers.get('198.51.100.11:80')?.alive).toBe(false);
  });

  it('alpha: servers start down and join on their first success; a first failure notifies down', async () => {
    const a = { ...T, alpha: true };
    const vs = virtualServer(
      { address: '192.0.2.10', port: 80 },
      { realServers: [rsTcp('198.51.100.11', 80, { notifyDown: { command: '/bin/d' } }, a), rsTcp('198.51.100.12', 80, { notifyDown: { command: '/bin/d' } }, a)] },
    );
    const s = setup([vs]);
    expect(weights(vs, s.engine)).toEqual({});
    s.health.set('198.51.100.12:80', false);
    s.engine.start();
    await s.sched.advance(1_000);
    expect(weights(vs, s.engine)).toEqual({ '198.51.100.11:80': 1 });
    expect(s.of('realserver.state').map((e) => [e.realServer, e.up])).toEqual([
      ['198.51.100.11:80', true],
      ['198.51.100.12:80', false],
    ]);
    expect(s.notes.map((n) => [n.kind, n.realServer])).toEqual([['notify_down', '198.51.100.12:80']]);
  });

  it('all checkers must be up: one failing checker takes the server out', async () => {
    const rs = realServer('198.51.100.11', 80, { checkers: [tcpCheck({ address: '198.51.100.11', port: 80 }, T), tcpCheck({ address: '198.51.100.11', port: 80 }, { ...T, connectPort: 8080 })] });
    const vs = virtualServer({ address: '192.0.2.10', port: 80 }, { realServers: [rs] });
    const s = setup([vs]);
    s.engine.start();
    s.health.set('198.51.100.11:8080', false);
    await s.sched.advance(1_000);
    expect(s.engine.health(vs).realServers.get('198.51.100.11:80')?.alive).toBe(false);
    expect(s.engine.snapshot()[0].realServers[0]).toMatchObject({ up: false, failedChecks: 1, checkers: ['TCP_CHECK 198.51.100.11:80', 'TCP_CHECK 198.51.100.11:8080'] });
    s.health.set('198.51.100.11:8080', true);
    await s.sched.advance(10_000);
    expect(s.engine.health(vs).realServers.get('198.51.100.11:80')?.alive).toBe(true);
  });

  it('MISC_CHECK misc_dynamic changes the weight in the desired table', async () => {
    const rs = realServer('198.51.100.11', 80, { weight: 5, checkers: [miscCheck('/usr/local/bin/load', { ...T, dynamic: true })] });
    const vs = virtualServer({ address: '192.0.2.10', port: 80 }, { scheduler: 'wrr', realServers: [rs] });
    const s = setup([vs]);
    s.health.set('/usr/local/bin/load', { ok: true, exitCode: 42 });
    s.engine.start();
    await s.sched.advance(1_000);
    expect(weights(vs, s.engine)).toEqual({ '198.51.100.11:80': 40 });
    expect(s.of('realserver.weight')).toMatchObject([{ from: 5, to: 40 }]);
    expect(s.of('realserver.state')).toEqual([]); // a weight change is not an up/down transition
  });
});

describe('quorum, hysteresis and the sorry server', () => {
  let s: ReturnType<typeof setup>;
  let vs: VirtualServerSpec;
  beforeEach(() => {
    vs = virtualServer(
      { address: '192.0.2.10', port: 80 },
      {
        quorum: 2,
        hysteresis: 0,
        sorryServer: { address: '198.51.100.99', port: 80, weight: 1, forwarding: 'NAT' },
        quorumUp: { command: '/bin/qup' },
        quorumDown: { command: '/bin/qdown' },
        realServers: [rsTcp('198.51.100.11', 80, {}, T0), rsTcp('198.51.100.12', 80, {}, T0), rsTcp('198.51.100.13', 80, { inhibitOnFailure: true }, T0)],
      },
    );
    s = setup([vs]);
    s.engine.start();
  });

  it('loses the quorum below the threshold: only the sorry server (and inhibited servers at 0) remain', async () => {
    expect(s.of('virtualserver.quorum')).toMatchObject([{ met: true, up: 3, configured: 3, sorry: false, weightSum: 3, quorum: 2 }]);
    expect(weights(vs, s.engine)).toEqual({ '198.51.100.11:80': 1, '198.51.100.12:80': 1, '198.51.100.13:80': 1 });
    s.health.set('198.51.100.11:80', false);
    await s.sched.advance(1_000);
    expect(weights(vs, s.engine)).toEqual({ '198.51.100.12:80': 1, '198.51.100.13:80': 1 });
    s.health.set('198.51.100.13:80', false);
    await s.sched.advance(10_000);
    // sum 1 < quorum 2: lost
    expect(s.of('virtualserver.quorum').at(-1)).toMatchObject({ met: false, sorry: true, weightSum: 1, up: 1 });
    expect(s.notes.filter((n) => n.kind.startsWith('quorum')).map((n) => n.kind)).toEqual(['quorum_down']);
    expect(weights(vs, s.engine)).toEqual({ '198.51.100.99:80': 1, '198.51.100.13:80': 0 });
    expect(s.engine.snapshot()[0]).toMatchObject({ quorumMet: false, sorryActive: true });
    s.health.set('198.51.100.11:80', true);
    await s.sched.advance(10_000);
    expect(s.of('virtualserver.quorum').at(-1)).toMatchObject({ met: true, sorry: false, weightSum: 2 });
    expect(weights(vs, s.engine)).toEqual({ '198.51.100.11:80': 1, '198.51.100.12:80': 1, '198.51.100.13:80': 0 });
    expect(s.notes.filter((n) => n.kind.startsWith('quorum')).map((n) => n.kind)).toEqual(['quorum_down', 'quorum_up']);
  });

  it('hysteresis keeps the state until the sum crosses quorum -/+ hysteresis', async () => {
    const rss = ['11', '12', '13', '14', '15'].map((x) => rsTcp(`198.51.100.${x}`, 80, {}, T0));
    const v = virtualServer({ address: '192.0.2.20', port: 80 }, { quorum: 3, hysteresis: 1, realServers: rss });
    const h = setup([v]);
    h.engine.start();
    const met = () => h.engine.health(v).quorumUp;
    const setUp = async (n: number) => {
      rss.forEach((r, i) => h.health.set(`${r.address}:80`, i < n));
      await h.sched.advance(10_000);
    };
    await h.sched.advance(1_000);
    expect(met()).toBe(true); // 5 >= 3 + 1
    await setUp(3);
    expect(met()).toBe(true);
    await setUp(2); // 2 >= 3 - 1: still met
    expect(met()).toBe(true);
    await setUp(1); // 1 < 2: lost
    expect(met()).toBe(false);
    await setUp(3); // 3 < 4: not yet
    expect(met()).toBe(false);
    await setUp(4); // 4 >= 4: gained
    expect(met()).toBe(true);
    expect(h.of('virtualserver.quorum').map((e) => e.met)).toEqual([true, false, true]);
  });

  it('sorry_server_inhibit keeps the sorry server at weight 0 while the quorum holds', () => {
    const v = { ...vs, sorryServerInhibit: true };
    const h = setup([v]);
    expect(weights(v, h.engine)).toEqual({ '198.51.100.11:80': 1, '198.51.100.12:80': 1, '198.51.100.13:80': 1, '198.51.100.99:80': 0 });
  });

  it('starting without quorum and with a sorry server runs quorum_down at once (keepalived init)', async () => {
    const v = { ...vs, realServers: vs.realServers.map((r) => ({ ...r, checkers: r.checkers.map((c) => ({ ...c, alpha: true })) })) };
    const h = setup([v]);
    h.engine.start();
    expect(h.notes.map((n) => n.kind)).toEqual(['quorum_down']);
    expect(weights(v, h.engine)).toEqual({ '198.51.100.99:80': 1, '198.51.100.13:80': 0 });
  });
});

describe('ha_suspend and reload', () => {
  it('ha_suspend: no probes while the virtual address is not local', async () => {
    const vs = virtualServer({ address: '192.0.2.10', port: 80 }, { haSuspend: true, realServers: [rsTcp('198.51.100.11')] });
    const s = setup([vs]);
    s.engine.start();
    await s.sched.advance(30_000);
    expect(s.calls).toEqual([]);
    s.engine.setAddressPresent('192.0.2.10', true);
    await s.sched.advance(10_000);
    expect(s.calls.length).toBe(1);
  });

  it('reload keeps state of unchanged servers, applies new weights, adds and removes servers', async () => {
    const rss = [rsTcp('198.51.100.11', 80, { notifyDown: { command: '/bin/d' } }), rsTcp('198.51.100.12'), rsTcp('198.51.100.13')];
    const vs = virtualServer({ address: '192.0.2.10', port: 80 }, { scheduler: 'wrr', realServers: rss });
    const other = virtualServer({ address: '192.0.2.11', port: 80 }, { realServers: [rsTcp('198.51.100.21')] });
    const s = setup([vs, other]);
    s.engine.start();
    s.health.set('198.51.100.12:80', false);
    await s.sched.advance(1_000);
    const callsBefore = s.calls.length;
    const vs2 = { ...vs, realServers: [{ ...rss[0], weight: 5 }, rss[1], rsTcp('198.51.100.14')] };
    const sum = s.engine.reload([vs2]);
    expect(sum).toMatchObject({ added: [], removed: ['192.0.2.11:80'], changed: ['192.0.2.10:80'] });
    // .12 stays down without a new probe; .13 is gone; .14 is new and up (not alpha)
    expect(weights(vs2, s.engine)).toEqual({ '198.51.100.11:80': 5, '198.51.100.14:80': 1 });
    expect(s.calls.length).toBe(callsBefore);
    expect(s.of('realserver.state').filter((e) => e.reason.includes('removed')).map((e) => e.realServer).sort()).toEqual(['198.51.100.13:80', '198.51.100.21:80']);
    expect(s.of('realserver.weight')).toMatchObject([{ realServer: '198.51.100.11:80', from: 1, to: 5, reason: 'reload' }]);
    // the migrated checker of .11 keeps its schedule (next at 11000), .14 bootstraps at +1 s
    await s.sched.advance(1_000);
    expect(s.calls.slice(callsBefore).map((c) => c.target)).toEqual(['198.51.100.14:80']);
    await s.sched.advance(9_000);
    expect(s.calls.slice(callsBefore).map((c) => c.target).sort()).toEqual(['198.51.100.11:80', '198.51.100.12:80', '198.51.100.14:80']);
  });

  it('omega: shutting down runs notify_down for live servers and quorum_down; without omega nothing runs', async () => {
    const mk = (omega: boolean) =>
      virtualServer(
        { address: '192.0.2.10', port: 80 },
        { omega, quorumDown: { command: '/bin/qd' }, realServers: [rsTcp('198.51.100.11', 80, { notifyDown: { command: '/bin/d' } }), rsTcp('198.51.100.12', 80, { notifyDown: { command: '/bin/d' } })] },
      );
    const a = setup([mk(true)]);
    a.engine.start();
    a.health.set('198.51.100.12:80', false);
    await a.sched.advance(1_000);
    a.notes.length = 0;
    a.engine.stop({ shutdown: true });
    expect(a.notes.map((n) => `${n.kind} ${n.realServer ?? n.virtualServer}`)).toEqual(['notify_down 198.51.100.11:80', 'quorum_down 192.0.2.10:80']);
    expect(a.sched.pending).toBe(0);
    const b = setup([mk(false)]);
    b.engine.start();
    b.engine.stop({ shutdown: true });
    expect(b.notes).toEqual([]);
  });

  it('warns about duplicate real servers and an unreachable quorum', () => {
    const vs = virtualServer({ address: '192.0.2.10', port: 80 }, { quorum: 9, realServers: [rsTcp('198.51.100.11'), rsTcp('198.51.100.11')] });
    const s = setup([vs]);
    expect(s.warnings.join('\n')).toMatch(/198\.51\.100\.11:80 is duplicated/);
    expect(s.warnings.join('\n')).toMatch(/reducing quorum to 1/);
  });
});
