/**
 * Traces from real daemons: two keepwatch agents in lab namespaces export OTLP/HTTP JSON
 * to a real receiver running in the client namespace (test/helpers/otlp-receiver.ts; a
 * server in the root namespace would not be reachable from the agents' namespaces).
 *
 *   kwtcoa 192.0.2.11  priority 150     kwtcob 192.0.2.12  priority 100
 *   kwtcocl 192.0.2.100  OTLP receiver on :19810
 *   VI_1: VRRPv3, VRID 51, 100 ms adverts, VIP 192.0.2.50/24, notify + notify_master/backup
 *
 * Sequence: a starts and becomes MASTER; b starts as BACKUP; a is stopped gracefully (b
 * takes over on a's priority-0 advert); a starts again and preempts b. For each
 * transition we check the `vrrp.transition` span (root span, attributes instance, vrid,
 * from, to, reason, priorities, interface) and its side effects as child spans —
 * vip.add / vip.remove, garp.send, notify.run — in the same trace with parentSpanId =
 * the transition's spanId (observability-anchors.md §7: a transition is a short span
 * whose children are its side effects).
 *
 * Agents are told apart by the resource attribute service.instance.id: a's two runs set
 * it through OTEL_RESOURCE_ATTRIBUTES (a-1, a-2); b keeps the agent's default, a random
 * UUID per process start. Resource process.pid is the daemon's pid.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLab, type Lab } from '../helpers/netns';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver';
import { removeDirs, startLive, type LiveAgent } from './live-lab';

const RX_PORT = 19810;
const PORT_A = 19811;
const PORT_B = 19812;

function config(router: string, prio: number): string {
  return `global_defs {
    router_id ${router}
    script_user root
    enable_script_security
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority ${prio}
    advert_int 0.1
    version 3
    virtual_ipaddress {
        192.0.2.50/24 dev eth0
    }
    notify "/bin/true"
    notify_master "/bin/true"
    notify_backup "/bin/true"
}
`;
}

let lab: Lab;
let rx: OtlpReceiver;
const agents: LiveAgent[] = [];
/** b's default service.instance.id, learnt from its first span */
let bId = '';
const dirs: string[] = [];

/** id: service.instance.id through OTEL_RESOURCE_ATTRIBUTES; undefined = the agent's own default */
const otelEnv = (id: string | undefined): Record<string, string> => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: rx.endpoint,
  OTEL_BSP_SCHEDULE_DELAY: '100',
  ...(id ? { OTEL_RESOURCE_ATTRIBUTES: `service.instance.id=${id}` } : {}),
});

async function start(host: 'a' | 'b', prio: number, id: string | undefined, port: number, dir?: string): Promise<LiveAgent> {
  const ag = await startLive(lab.hosts[host]!, config(host, prio), { port, tag: `otlp-${host}`, dir, env: otelEnv(id) });
  agents.push(ag);
  dirs.push(ag.dir);
  return ag;
}

beforeAll(async () => {
  lab = makeLab('co', [
    { name: 'a', v4: ['192.0.2.11/24'] },
    { name: 'b', v4: ['192.0.2.12/24'] },
    { name: 'cl', v4: ['192.0.2.100/24'] },
  ]);
  rx = await startOtlpReceiver(lab.hosts.cl!, '192.0.2.100', RX_PORT);
});

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop(10_000).catch(() => a.crash())));
  await rx?.stop();
  lab?.destroy();
  removeDirs(dirs);
});

const fromAgent = (id: string) => (s: ReceivedSpan) => s.resource['service.instance.id'] === id;

/** the transition span of `id` with these from/to, once it (and its expected children) arrived */
function transitionOf(spans: ReceivedSpan[], id: string, from: string, to: string): ReceivedSpan | undefined {
  return spans.find((s) => fromAgent(id)(s) && s.name === 'vrrp.transition' && s.attributes['vrrp.state.from'] === from && s.attributes['vrrp.state.to'] === to);
}
const childrenOf = (spans: ReceivedSpan[], t: ReceivedSpan) => spans.filter((s) => s.parentSpanId === t.spanId);
const names = (spans: ReceivedSpan[]) => spans.map((s) => s.name).sort();

/**
 * Wait for the transition span and the children we expect, then check the links:
 * same trace, parent = the transition, child inside the transition's time span
 * (a transition span ends `settleMs` after its last side effect).
 */
async function expectTransition(id: string, remote: string, from: string, to: string, kids: Record<string, number>): Promise<{ t: ReceivedSpan; children: ReceivedSpan[] }> {
  const t = await rx.waitSpans(
    (all) => {
      const tr = transitionOf(all, id, from, to);
      if (!tr) return undefined;
      const c = childrenOf(all, tr);
      return Object.entries(kids).every(([n, k]) => c.filter((x) => x.name === n).length >= k) ? tr : undefined;
    },
    `${id} ${from}→${to} with children ${JSON.stringify(kids)}`,
    30_000,
  );
  expect(t.parentSpanId, 'a transition is a root span').toBeUndefined();
  expect(t.remote).toBe(remote);
  expect(t.resource['service.name']).toBe('keepwatch');
  expect(t.scope).toBe('keepwatch');
  expect(t.traceId).toMatch(/^[0-9a-f]{32}$/);
  expect(t.spanId).toMatch(/^[0-9a-f]{16}$/);
  expect(t.endNs >= t.startNs).toBe(true);
  const children = childrenOf(rx.spans, t);
  for (const c of children) {
    expect(c.traceId, `${c.name} is in the transition's trace`).toBe(t.traceId);
    expect(c.resource['service.instance.id']).toBe(id);
    expect(c.attributes['vrrp.instance'] ?? c.attributes['notify.target']).toBe('VI_1');
    // a side effect starts after the transition (notify.run starts when the script was forked)
    expect(c.startNs >= t.startNs, `${c.name} starts after its transition`).toBe(true);
  }
  // every expected side effect is a child; none is left as a root span in the same agent
  const orphans = rx.spans.filter((s) => fromAgent(id)(s) && s.name !== 'vrrp.transition' && !s.parentSpanId);
  expect(orphans.map((s) => s.name)).toEqual([]);
  return { t, children };
}

describe('OTLP spans of a live failover', () => {
  it('a starts and becomes MASTER: startup and master_timeout transitions with VIP, GARP and notify children', async () => {
    const a = await start('a', 150, 'a-1', PORT_A);
    await a.waitState('MASTER');

    const { t: init, children: initKids } = await expectTransition('a-1', '192.0.2.11', 'INIT', 'BACKUP', { 'notify.run': 2 });
    expect(initKids.map((c) => c.attributes['notify.event']).sort()).toEqual(['notify', 'notify_backup']);
    expect(init.attributes).toMatchObject({ 'vrrp.instance': 'VI_1', 'vrrp.vrid': 51, 'vrrp.reason': 'startup', 'vrrp.priority.effective': 150, 'network.interface.name': 'eth0' });
    expect(init.resource['process.pid']).toBe(a.pid);

    const { t, children } = await expectTransition('a-1', '192.0.2.11', 'BACKUP', 'MASTER', { 'vip.add': 1, 'garp.send': 1, 'notify.run': 2 });
    expect(t.attributes).toMatchObject({
      'vrrp.instance': 'VI_1',
      'vrrp.vrid': 51,
      'vrrp.state.from': 'BACKUP',
      'vrrp.state.to': 'MASTER',
      'vrrp.reason': 'master_timeout',
      'vrrp.priority.effective': 150,
      'vrrp.priority.master': 150,
      'network.interface.name': 'eth0',
    });
    // RFC 5798 §6.4.2: the master down timer (3 × 100 ms + skew) fired
    expect(Number(t.attributes['vrrp.master_down_interval_ms'])).toBeGreaterThan(300);
    expect(init.traceId).not.toBe(t.traceId);
    const vip = children.find((c) => c.name === 'vip.add')!;
    expect(vip.attributes).toMatchObject({ 'vrrp.vip.address': '192.0.2.50', 'network.interface.name': 'eth0' });
    expect(vip.status.code ?? 0).not.toBe(2);
    const garp = children.find((c) => c.name === 'garp.send')!;
    expect(garp.attributes).toMatchObject({ 'network.type': 'ipv4', 'network.interface.name': 'eth0', 'vrrp.vip.address': '192.0.2.50' });
    expect(Number(garp.attributes['garp.count'])).toBeGreaterThan(0);
    const notifies = children.filter((c) => c.name === 'notify.run');
    expect(notifies.map((n) => n.attributes['notify.event']).sort()).toEqual(['notify', 'notify_master']);
    for (const n of notifies) expect(n.attributes).toMatchObject({ 'notify.target': 'VI_1', 'process.exit.code': 0 });
    // VIP installation ends inside the transition span
    expect(vip.endNs <= t.endNs).toBe(true);
  });

  it('graceful stop of a: a MASTER→STOP with vip.remove, b BACKUP→MASTER on the priority-0 advert', async () => {
    const b = await start('b', 100, undefined, PORT_B);
    await b.waitState('BACKUP');
    // b's first span (its INIT→BACKUP) tells its default identity: a UUID, and its pid
    const first = await rx.waitSpans((all) => all.find((s) => s.remote === '192.0.2.12'), 'a span from b');
    bId = String(first.resource['service.instance.id']);
    expect(bId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(first.resource['process.pid']).toBe(b.pid);
    const a = agents[0]!;
    expect((await a.stop()).code).toBe(0);
    await b.waitState('MASTER');

    const { t: stop, children: stopKids } = await expectTransition('a-1', '192.0.2.11', 'MASTER', 'STOP', { 'vip.remove': 1, 'notify.run': 1 });
    expect(stop.attributes).toMatchObject({ 'vrrp.reason': 'shutdown', 'vrrp.priority.effective': 150 });
    expect(stopKids.find((c) => c.name === 'vip.remove')!.attributes).toMatchObject({ 'vrrp.vip.address': '192.0.2.50' });
    expect(stopKids.filter((c) => c.name === 'notify.run').map((c) => c.attributes['notify.event'])).toEqual(['notify']);

    const { t } = await expectTransition(bId, '192.0.2.12', 'BACKUP', 'MASTER', { 'vip.add': 1, 'garp.send': 1, 'notify.run': 2 });
    expect(t.attributes).toMatchObject({ 'vrrp.reason': 'priority_zero_received', 'vrrp.priority.effective': 100, 'vrrp.priority.master': 100 });
    expect(t.traceId).not.toBe(stop.traceId);
  });

  it('a restarts and preempts b: b MASTER→BACKUP (higher_priority_master) with vip.remove and notify children', async () => {
    const a2 = await start('a', 150, 'a-2', PORT_A, dirs[0]);
    await a2.waitState('MASTER');
    await agents[1]!.waitState('BACKUP');

    const { t: pre } = await expectTransition('a-2', '192.0.2.11', 'BACKUP', 'MASTER', { 'vip.add': 1, 'garp.send': 1, 'notify.run': 2 });
    // a BACKUP that discards b's lower-priority adverts takes over when its timer expires
    expect(pre.attributes).toMatchObject({ 'vrrp.reason': 'preempt', 'vrrp.priority.effective': 150 });

    const { t, children } = await expectTransition(bId, '192.0.2.12', 'MASTER', 'BACKUP', { 'vip.remove': 1, 'notify.run': 2 });
    expect(t.attributes).toMatchObject({
      'vrrp.reason': 'higher_priority_master',
      'vrrp.priority.effective': 100,
      'vrrp.priority.master': 150,
      'vrrp.master.address': '192.0.2.11',
    });
    expect(children.filter((c) => c.name === 'notify.run').map((c) => c.attributes['notify.event']).sort()).toEqual(['notify', 'notify_backup']);
    expect(children.some((c) => c.name === 'vip.add' || c.name === 'garp.send')).toBe(false);

    // one process start = one service.instance.id; the two runs of a are distinct resources
    const ids = new Set(rx.spans.filter((s) => s.remote === '192.0.2.11').map((s) => s.resource['service.instance.id']));
    expect([...ids].sort()).toEqual(['a-1', 'a-2']);
    expect(new Set(rx.spans.filter((s) => s.remote === '192.0.2.12').map((s) => s.resource['service.instance.id']))).toEqual(new Set([bId]));
    expect(pre.resource['process.pid']).toBe(a2.pid);
    expect(rx.requests().refused).toBe(0);
  });
});
