/**
 * virtual_routes / virtual_rules / static_*: the config → netlink spec mapping
 * (src/daemon/build.ts), keepalived's route/rule text (format_iproute / format_iprule),
 * event matching (src/net/route-match.ts), and the runner's ordering on its netlink chain
 * (src/vrrp/instance.ts) with a recording fake adapter. The kernel side is in
 * test/netns/vrrp-routes.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_INTERFACES, instance, load } from './config-model-host';
import { instanceOptions, routeSpec, routeText, ruleSpec, ruleText } from '../../src/daemon/build';
import { benignRouteError, routeAttrsKey, routeEventMatches, routeKey, ruleEventMatches, ruleKey } from '../../src/net/route-match';
import type { JournalEvent } from '../../src/journal/events';
import { Journal } from '../../src/journal/journal';
import type { AddressSpec, Netlink, NetlinkEvent, RouteInfo, RouteSpec, RuleInfo, RuleSpec, VrrpSocket } from '../../src/net/types';
import { fsmConfig } from '../../src/vrrp/fsm';
import { InstanceRunner, type InstanceOptions, type Scheduler, type TimerHandle } from '../../src/vrrp/instance';
import { buildIpv4Header, encodeAdvert } from '../../src/vrrp/packet';

function cfgWith(extra: string, opts: Parameters<typeof load>[1] = {}) {
  const r = load(instance(extra), opts);
  expect(r.config, r.diagnostics.map((d) => d.message).join('\n')).not.toBeNull();
  return r.config!;
}

describe('virtual_routes → RouteSpec and keepalived format_iproute text', () => {
  const cfg = cfgWith(
    [
      '    virtual_routes {',
      '        198.51.100.0/24 via 192.0.2.1 dev eth0',
      '        203.0.113.0/24 dev eth0 table 100',
      '        blackhole 198.51.100.128/25 no_track',
      '        203.0.113.7 via 192.0.2.1 dev eth0 metric 7 src 192.0.2.2 onlink mtu lock 1400 advmss 1360',
      '        2001:db8:1::/64 via 2001:db8::1 dev eth0',
      '        default via 192.0.2.254 dev eth0 protocol 18 scope 0',
      '        198.51.100.64/26 dev eth0 nexthop via 192.0.2.1 weight 2 nexthop via 192.0.2.3',
      '    }',
    ].join('\n'),
  );
  const routes = cfg.instances[0].virtualRoutes;

  it('maps destination, gateway, device, table, protocol and type', () => {
    const specs = routes.map(routeSpec);
    expect(specs[0]).toMatchObject({ family: 'ipv4', dst: '198.51.100.0', prefix: 24, via: '192.0.2.1', dev: 'eth0', table: 254, protocol: 18, mode: 'prepend', noTrack: false });
    expect(specs[0].type).toBeUndefined();
    expect(specs[1]).toMatchObject({ dst: '203.0.113.0', prefix: 24, dev: 'eth0', table: 100, protocol: 18 });
    // an untracked route keeps the kernel's default protocol choice (keepalived: RTPROT_KEEPALIVED when sent)
    expect(specs[2]).toMatchObject({ type: 'blackhole', dst: '198.51.100.128', prefix: 25, noTrack: true });
    expect(specs[2].protocol).toBeUndefined();
    expect(specs[3]).toMatchObject({ dst: '203.0.113.7', prefix: 32, metric: 7, src: '192.0.2.2', onlink: true, metrics: { mtu: 1400, advmss: 1360, lock: 1 << 2 } });
    expect(specs[4]).toMatchObject({ family: 'ipv6', dst: '2001:db8:1::', prefix: 64, via: '2001:db8::1', dev: 'eth0' });
    expect(specs[5]).toMatchObject({ dst: '0.0.0.0', prefix: 0, via: '192.0.2.254', scope: 0 });
    expect(specs[6].nexthops).toEqual([{ via: '192.0.2.1', weight: 2 }, { via: '192.0.2.3' }]);
    expect(specs.every((s) => s.unsupported === undefined)).toBe(true);
  });

  it('prints routes the way keepalived 2.2.7 does (/json vroutes, logs)', () => {
    expect(routes.map(routeText)).toEqual([
      'prepend 198.51.100.0/24 via inet 192.0.2.1 dev eth0 proto 18',
      'prepend 203.0.113.0/24 dev eth0 table 100 proto 18',
      'prepend blackhole 198.51.100.128/25 no_track',
      'prepend 203.0.113.7 src 192.0.2.2 via inet 192.0.2.1 dev eth0 proto 18 metric 7 onlink mtu lock 1400 advmss 1360',
      'prepend 2001:db8:1::/64 via inet6 2001:db8::1 dev eth0 proto 18',
      'prepend 0.0.0.0/0 via inet 192.0.2.254 dev eth0 proto 18 scope 0',
      'prepend 198.51.100.64/26 dev eth0 proto 18 nexthop via inet 192.0.2.1 weight 2 nexthop via inet 192.0.2.3',
    ]);
  });

  it('the instance options carry the routes and rules (runner input)', () => {
    const c = cfgWith('    virtual_routes {\n        198.51.100.0/24 via 192.0.2.1 dev eth0\n    }\n    virtual_rules {\n        from 192.0.2.50 table 100 priority 100\n    }');
    const o = instanceOptions(c.instances[0], c, '192.0.2.2');
    expect(o.routes).toEqual([routeSpec(c.instances[0].virtualRoutes[0])]);
    expect(o.rules).toEqual([ruleSpec(c.instances[0].virtualRules[0])]);
    expect(o.routes![0].text).toBe('prepend 198.51.100.0/24 via inet 192.0.2.1 dev eth0 proto 18');
  });

  it('options the adapter cannot express are marked unsupported (encap, vrf), not silently dropped', () => {
    const c = cfgWith('    virtual_routes {\n        198.51.100.0/24 encap mpls 100 via 192.0.2.1 dev eth0\n        203.0.113.0/24 dev eth0 vrf blue\n    }', {
      interfaces: [...DEFAULT_INTERFACES, { name: 'blue', ifindex: 9, flags: 1, hwType: 1, mtu: 1500, kind: 'vrf' }],
    });
    const specs = c.instances[0].virtualRoutes.map(routeSpec);
    expect(specs[0].unsupported).toEqual(['encap mpls']);
    expect(specs[1].unsupported).toEqual(['vrf blue']);
  });
});

describe('virtual_rules → RuleSpec and keepalived format_iprule text', () => {
  const cfg = cfgWith(
    [
      '    virtual_rules {',
      '        from 192.0.2.50 table 100',
      '        from 192.0.2.0/24 to 198.51.100.0/24 priority 200 fwmark 0x10/0xff iif eth0 lookup 101',
      '        not from 192.0.2.9 priority 300 prohibit no_track',
      '        to 198.51.100.0/24 priority 150 goto 200',
      '        inet6 priority 400 table 102',
      '    }',
    ].join('\n'),
  );
  const rules = cfg.instances[0].virtualRules;

  it('maps selectors and actions', () => {
    const s = rules.map(ruleSpec);
    expect(s[0]).toMatchObject({ family: 'ipv4', from: '192.0.2.50', fromPrefix: 32, action: 'table', table: 100, priority: 16384, protocol: 18 });
    expect(s[1]).toMatchObject({ from: '192.0.2.0', fromPrefix: 24, to: '198.51.100.0', toPrefix: 24, fwmark: 0x10, fwmask: 0xff, iif: 'eth0', table: 101, priority: 200 });
    expect(s[2]).toMatchObject({ not: true, action: 'prohibit', noTrack: true });
    expect(s[3]).toMatchObject({ action: 'goto', goto: 200, priority: 150 });
    expect(s[4]).toMatchObject({ family: 'ipv6', table: 102, priority: 400 });
  });

  it('prints rules the way keepalived 2.2.7 does', () => {
    expect(rules.map(ruleText)).toEqual([
      'from 192.0.2.50 priority 16384 tos 0x0 protocol 18 lookup 100',
      'from 192.0.2.0/24 to 198.51.100.0/24 priority 200 tos 0x0 fwmark 0x10/0xff iif eth0 protocol 18 lookup 101',
      'not from 192.0.2.9 priority 300 tos 0x0 type prohibit no_track',
      'from all to 198.51.100.0/24 priority 150 tos 0x0 protocol 18 goto 200',
      'inet6 from all priority 400 tos 0x0 protocol 18 lookup 102',
    ]);
  });
});

describe('route identity and kernel event matching (keepalived route_exist / route_is_ours / compare_rule)', () => {
  const base: RouteSpec = { family: 'ipv4', dst: '198.51.100.0', prefix: 24, via: '192.0.2.1', dev: 'eth0', table: 254, protocol: 18 };
  const ev = (o: Partial<RouteInfo> = {}): RouteInfo => ({ family: 'ipv4', dst: '198.51.100.0', prefix: 24, table: 254, metric: 0, tos: 0, protocol: 18, type: 1, scope: 0, oif: 2, ifname: 'eth0', via: '192.0.2.1', ...o });

  it('keys: same route whatever the address spelling; attributes outside the identity only change the attrs key', () => {
    const v6a: RouteSpec = { family: 'ipv6', dst: '2001:db8:1:0::', prefix: 64, via: '2001:DB8::1', table: 254 };
    const v6b: RouteSpec = { family: 'ipv6', dst: '2001:db8:1::', prefix: 64, via: '2001:db8::1', table: 254 };
    expect(routeKey(v6a)).toBe(routeKey(v6b));
    expect(routeKey(base)).not.toBe(routeKey({ ...base, table: 100 }));
    expect(routeKey(base)).not.toBe(routeKey({ ...base, via: '192.0.2.3' }));
    expect(routeKey(base)).toBe(routeKey({ ...base, metrics: { mtu: 1400 } }));
    expect(routeAttrsKey(base)).not.toBe(routeAttrsKey({ ...base, metrics: { mtu: 1400 } }));
    expect(routeAttrsKey(base)).toBe(routeAttrsKey({ ...base, text: 'x', noTrack: true }));
    const rule: RuleSpec = { family: 'ipv4', from: '192.0.2.50', fromPrefix: 32, action: 'table', table: 100, priority: 100 };
    expect(ruleKey(rule)).toBe(ruleKey({ ...rule, text: 'y' }));
    expect(ruleKey(rule)).not.toBe(ruleKey({ ...rule, table: 101 }));
  });

  it('a deletion matches on protocol 18, table, prefix, metric, tos, device and destination', () => {
    expect(routeEventMatches(ev(), base)).toBe(true);
    expect(routeEventMatches(ev({ protocol: 4 }), base)).toBe(false); // "proto static": not ours
    expect(routeEventMatches(ev({ table: 100 }), base)).toBe(false);
    expect(routeEventMatches(ev({ metric: 5 }), base)).toBe(false);
    expect(routeEventMatches(ev({ ifname: 'eth1', oif: 3 }), base)).toBe(false);
    expect(routeEventMatches(ev({ dst: '198.51.101.0' }), base)).toBe(false);
    // the via is not part of keepalived's match
    expect(routeEventMatches(ev({ via: '192.0.2.9' }), base)).toBe(true);
    // static routes: metric and device are not compared
    expect(routeEventMatches(ev({ metric: 5, ifname: 'eth1' }), base, { static: true })).toBe(true);
  });

  it('an IPv6 route without metric matches the kernel default 1024', () => {
    const r6: RouteSpec = { family: 'ipv6', dst: '2001:db8:1::', prefix: 64, via: '2001:db8::1', dev: 'eth0', table: 254 };
    const e6 = ev({ family: 'ipv6', dst: '2001:db8:1::', prefix: 64, via: '2001:db8::1', metric: 1024 });
    expect(routeEventMatches(e6, r6)).toBe(true);
    expect(routeEventMatches({ ...e6, metric: 0 }, r6)).toBe(false);
  });

  it('rules match on every selector keepalived compares', () => {
    const r: RuleSpec = { family: 'ipv4', from: '192.0.2.50', fromPrefix: 32, action: 'table', table: 100, priority: 16384, protocol: 18 };
    const e: RuleInfo = { family: 'ipv4', priority: 16384, action: 1, table: 100, from: '192.0.2.50', fromPrefix: 32, toPrefix: 0, not: false, tos: 0, protocol: 18 };
    expect(ruleEventMatches(e, r)).toBe(true);
    expect(ruleEventMatches({ ...e, priority: 1 }, r)).toBe(false);
    expect(ruleEventMatches({ ...e, table: 101 }, r)).toBe(false);
    expect(ruleEventMatches({ ...e, from: '192.0.2.51' }, r)).toBe(false);
    expect(ruleEventMatches({ ...e, protocol: 0 }, r)).toBe(false);
    expect(ruleEventMatches({ ...e, not: true }, r)).toBe(false);
    expect(ruleEventMatches({ ...e, iif: 'eth0' }, r)).toBe(false);
  });

  it('benign errors: EEXIST on add, ESRCH/ENOENT on delete', () => {
    const err = (code: string) => Object.assign(new Error(`add route x: ${code}`), { code });
    expect(benignRouteError('add', err('EEXIST'))).toBe(true);
    expect(benignRouteError('add', err('ENETUNREACH'))).toBe(false);
    expect(benignRouteError('remove', err('ESRCH'))).toBe(true);
    expect(benignRouteError('remove', err('ENOENT'))).toBe(true);
    expect(benignRouteError('remove', new Error('delete route x: ESRCH'))).toBe(true);
    expect(benignRouteError('remove', err('EPERM'))).toBe(false);
  });
});

// ---------------------------------------------------------------- runner

class FakeScheduler implements Scheduler {
  t = 0;
  private q: Array<{ at: number; cb: () => void; dead: boolean }> = [];
  now(): number {
    return this.t;
  }
  at(at: number, cb: () => void): TimerHandle {
    const e = { at, cb, dead: false };
    this.q.push(e);
    return { cancel: () => (e.dead = true) };
  }
  advance(t: number): void {
    for (;;) {
      const e = this.q.filter((x) => !x.dead && x.at <= t).sort((a, b) => a.at - b.at)[0];
      if (!e) break;
      e.dead = true;
      this.t = Math.max(this.t, e.at);
      e.cb();
    }
    this.t = Math.max(this.t, t);
  }
}

/** Records every kernel call in order; `fail` makes matching calls reject with an errno code. */
class RecordingNetlink implements Netlink {
  calls: string[] = [];
  fail = new Map<string, string>();
  private async rec(what: string): Promise<void> {
    this.calls.push(what);
    const code = [...this.fail].find(([k]) => what.startsWith(k))?.[1];
    if (code) throw Object.assign(new Error(`${what}: ${code}`), { code });
  }
  async getLinks() {
    return [];
  }
  async getAddresses() {
    return [];
  }
  addAddress(a: AddressSpec) {
    return this.rec(`addr+ ${a.address}`);
  }
  delAddress(a: AddressSpec) {
    return this.rec(`addr- ${a.address}`);
  }
  addRoute(r: RouteSpec, o?: { replace?: boolean }) {
    return this.rec(`${o?.replace ? 'route~' : 'route+'} ${r.dst}/${r.prefix}${r.metrics?.mtu ? ` mtu ${r.metrics.mtu}` : ''}`);
  }
  delRoute(r: RouteSpec) {
    return this.rec(`route- ${r.dst}/${r.prefix}`);
  }
  addRule(r: RuleSpec) {
    return this.rec(`rule+ ${r.from} ${r.table}`);
  }
  delRule(r: RuleSpec) {
    return this.rec(`rule- ${r.from} ${r.table}`);
  }
  async addMacvlan() {}
  async delLink() {}
  async setLinkUp() {}
  onEvent(_cb: (e: NetlinkEvent) => void) {}
  close() {}
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

const R1: RouteSpec = { family: 'ipv4', dst: '198.51.100.0', prefix: 24, via: '192.0.2.1', dev: 'eth0', table: 254, protocol: 18, text: 'prepend 198.51.100.0/24 via inet 192.0.2.1 dev eth0 proto 18' };
const R2: RouteSpec = { family: 'ipv4', dst: '203.0.113.0', prefix: 24, dev: 'eth0', table: 100, protocol: 18, text: 'prepend 203.0.113.0/24 dev eth0 table 100 proto 18' };
const U1: RuleSpec = { family: 'ipv4', from: '192.0.2.50', fromPrefix: 32, action: 'table', table: 100, priority: 100, protocol: 18, text: 'from 192.0.2.50 priority 100 tos 0x0 protocol 18 lookup 100' };

function runner(extra: Partial<InstanceOptions> = {}) {
  const sched = new FakeScheduler();
  const journal = new Journal({ mono: () => sched.now(), wall: () => 1_700_000_000_000 + sched.now() });
  const events: JournalEvent[] = [];
  journal.subscribe((e) => events.push(e));
  const nl = new RecordingNetlink();
  const logs: string[] = [];
  const sent: Buffer[] = [];
  const socket: VrrpSocket = { send: (b) => sent.push(Buffer.from(b)), onPacket: () => {}, onError: () => {}, close: () => {} };
  const r = new InstanceRunner(
    {
      name: 'VI_1',
      ifname: 'eth0',
      fsm: fsmConfig({ vrid: 51, primaryAddress: '192.0.2.11', priority: 100, advertIntMs: 1000, version: 2 }),
      vips: [{ family: 'ipv4', address: '192.0.2.50', prefix: 24, ifname: 'eth0' }],
      routes: [R1, R2],
      rules: [U1],
      removeResidualVips: false,
      ...extra,
    },
    { socket, netlink: nl, announcer: { garp: async (_i, a) => a.length, unsolicitedNa: async (_i, a) => a.length, close: () => {} }, journal, scheduler: sched, hooks: { onLog: (_l, m) => logs.push(m) } },
  );
  const becomeMaster = async (): Promise<void> => {
    r.start();
    sched.advance(10_000);
    await flush();
    expect(r.state.state).toBe('MASTER');
  };
  /** an advert from a higher-priority router: the MASTER steps down to BACKUP */
  const preempted = async (): Promise<void> => {
    const vrrp = encodeAdvert({ version: 2, vrid: 51, priority: 200, advertIntSec: 1, addresses: ['192.0.2.50'] }, { family: 'ipv4', src: '192.0.2.12', dst: '224.0.0.18' });
    const ipHeader = buildIpv4Header({ src: '192.0.2.12', dst: '224.0.0.18', ttl: 255, id: 1, payloadLength: vrrp.length });
    r.handlePacket({ vrrp, ipHeader, src: '192.0.2.12', ifname: 'eth0' });
    await flush();
    expect(r.state.state).toBe('BACKUP');
  };
  const routeEvents = () => events.filter((e): e is Extract<JournalEvent, { type: 'vrrp.route' }> => e.type === 'vrrp.route');
  return { r, sched, nl, events, logs, becomeMaster, preempted, routeEvents };
}

describe('InstanceRunner: virtual routes and rules next to the VIPs', () => {
  it('MASTER: VIPs, then routes, then rules; leaving MASTER: rules, routes, then VIPs; journalled with keepalived text', async () => {
    const t = runner();
    await t.becomeMaster();
    expect(t.nl.calls).toEqual(['addr+ 192.0.2.50', 'route+ 198.51.100.0/24', 'route+ 203.0.113.0/24', 'rule+ 192.0.2.50 100']);
    expect(t.routeEvents().map((e) => [e.op, e.route, e.ok, e.kind ?? 'route'])).toEqual([
      ['add', R1.text, true, 'route'],
      ['add', R2.text, true, 'route'],
      ['add', U1.text, true, 'rule'],
    ]);
    expect(t.r.installedRoutes()).toEqual({ routes: [R1.text, R2.text], rules: [U1.text] });
    t.nl.calls = [];
    await t.preempted();
    expect(t.nl.calls).toEqual(['rule- 192.0.2.50 100', 'route- 198.51.100.0/24', 'route- 203.0.113.0/24', 'addr- 192.0.2.50']);
    expect(t.r.installedRoutes()).toEqual({ routes: [], rules: [] });
  });

  it('shutdown removes them too (priority 0 advert, then rules, routes, VIPs)', async () => {
    const t = runner();
    await t.becomeMaster();
    t.nl.calls = [];
    await t.r.stop();
    expect(t.nl.calls).toEqual(['rule- 192.0.2.50 100', 'route- 198.51.100.0/24', 'route- 203.0.113.0/24', 'addr- 192.0.2.50']);
  });

  it('a failing route is journalled and logged, never thrown; the others still go in; EEXIST counts as installed', async () => {
    const t = runner();
    t.nl.fail.set('route+ 198.51.100.0/24', 'ENETUNREACH');
    t.nl.fail.set('route+ 203.0.113.0/24', 'EEXIST');
    await t.becomeMaster();
    expect(t.nl.calls).toEqual(['addr+ 192.0.2.50', 'route+ 198.51.100.0/24', 'route+ 203.0.113.0/24', 'rule+ 192.0.2.50 100']);
    expect(t.routeEvents().slice(0, 2)).toMatchObject([
      { op: 'add', route: R1.text, ok: false, error: 'route+ 198.51.100.0/24: ENETUNREACH' },
      { op: 'add', route: R2.text, ok: true, error: 'route+ 203.0.113.0/24: EEXIST' },
    ]);
    expect(t.logs).toContain(`(VI_1) cannot add route ${R1.text}: route+ 198.51.100.0/24: ENETUNREACH`);
    // only what is installed is removed when leaving MASTER
    t.nl.calls = [];
    t.nl.fail.clear();
    t.nl.fail.set('route- 203.0.113.0/24', 'ESRCH');
    await t.preempted();
    expect(t.nl.calls).toEqual(['rule- 192.0.2.50 100', 'route- 203.0.113.0/24', 'addr- 192.0.2.50']);
    expect(t.routeEvents().filter((e) => e.op === 'remove').every((e) => e.ok)).toBe(true);
  });

  it('an adapter without route support: refused with a clear error, the VIPs still work', async () => {
    const t = runner();
    (t.nl as { addRoute?: unknown }).addRoute = undefined;
    await t.becomeMaster();
    expect(t.nl.calls).toEqual(['addr+ 192.0.2.50', 'rule+ 192.0.2.50 100']);
    expect(t.routeEvents().filter((e) => !e.ok).map((e) => e.error)).toEqual(['the netlink adapter cannot manage routes', 'the netlink adapter cannot manage routes']);
  });

  it('reload while MASTER: removed ones go, changed ones are replaced, new ones are added, kept ones stay (quietly re-added)', async () => {
    const t = runner();
    await t.becomeMaster();
    t.nl.calls = [];
    const n = t.events.length;
    const R2mtu: RouteSpec = { ...R2, metrics: { mtu: 1400 } };
    const R3: RouteSpec = { family: 'ipv6', dst: '2001:db8:1::', prefix: 64, via: '2001:db8::1', dev: 'eth0', table: 254, protocol: 18, text: 'prepend 2001:db8:1::/64 via inet6 2001:db8::1 dev eth0 proto 18' };
    t.nl.fail.set('route+ 203.0.113.0/24', 'EEXIST');
    t.r.reload({ ...t.r.options, routes: [R2mtu, R3], rules: [] });
    await t.sched.advance(t.sched.t);
    await flush();
    expect(t.nl.calls).toEqual(['rule- 192.0.2.50 100', 'route- 198.51.100.0/24', 'route~ 203.0.113.0/24 mtu 1400', 'route+ 2001:db8:1::/64']);
    expect(t.events.slice(n).filter((e) => e.type === 'vrrp.route').map((e) => (e as { op: string; route: string }).op + ' ' + (e as { route: string }).route)).toEqual([
      `remove ${U1.text}`,
      `remove ${R1.text}`,
      `add ${R2.text}`,
      `add ${R3.text}`,
    ]);
    expect(t.r.state.state).toBe('MASTER');
    // an unchanged reload re-adds the routes without journalling the EEXIST answers
    t.nl.calls = [];
    const m = t.events.length;
    t.nl.fail.set('route+ 2001:db8:1::/64', 'EEXIST');
    t.r.reload({ ...t.r.options });
    await flush();
    expect(t.nl.calls).toEqual(['route+ 203.0.113.0/24 mtu 1400', 'route+ 2001:db8:1::/64']);
    expect(t.events.slice(m).filter((e) => e.type === 'vrrp.route')).toEqual([]);
  });

  it('reload while BACKUP changes nothing in the kernel; the new routes go in at the next MASTER', async () => {
    const t = runner();
    t.r.start();
    await flush();
    expect(t.r.state.state).toBe('BACKUP');
    t.r.reload({ ...t.r.options, routes: [R2] });
    await flush();
    expect(t.nl.calls).toEqual([]);
    t.sched.advance(10_000);
    await flush();
    expect(t.nl.calls).toEqual(['addr+ 192.0.2.50', 'route+ 203.0.113.0/24', 'rule+ 192.0.2.50 100']);
  });

  it('an external route deletion makes a MASTER fall back and retake (set_vrrp_backup); no_track does not', async () => {
    const t = runner({ routes: [R1, { ...R2, noTrack: true }] });
    await t.becomeMaster();
    const before = t.r.stats.release_master;
    t.r.routeDeleted({ ...R2, noTrack: true });
    await flush();
    expect(t.r.state.state).toBe('MASTER');
    expect(t.r.stats.release_master).toBe(before);
    t.nl.calls = [];
    t.r.routeDeleted(R1);
    await flush();
    expect(t.r.state.state).toBe('BACKUP');
    expect(t.r.stats.release_master).toBe(before + 1);
    expect(t.logs).toContain(`(VI_1) virtual route ${R1.text} deleted externally - leaving MASTER`);
    // both deletions marked the routes as no longer set (keepalived: route->set = false before
    // looking at dont_track), so neither is deleted again
    expect(t.nl.calls).toEqual(['rule- 192.0.2.50 100', 'addr- 192.0.2.50']);
    // skew-time down timer: MASTER again, everything re-added
    t.nl.calls = [];
    t.sched.advance(t.sched.t + 1000);
    await flush();
    expect(t.r.state.state).toBe('MASTER');
    expect(t.nl.calls).toEqual(['addr+ 192.0.2.50', 'route+ 198.51.100.0/24', 'route+ 203.0.113.0/24', 'rule+ 192.0.2.50 100']);
    // a deletion event for a route we removed ourselves (arriving late) changes nothing
    await t.preempted();
    t.r.routeDeleted(R1);
    t.r.ruleDeleted(U1);
    expect(t.r.state.state).toBe('BACKUP');
  });
});
