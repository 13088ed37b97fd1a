/**
 * src/net/netlink.ts routes and rules against the real kernel inside a namespace
 * (lab "un"): what `ip route` / `ip rule` then show, errno codes, and the route/rule
 * events monitorRoutes() turns on. keepalived 2.2.7 sends the same requests
 * (vrrp_iproute.c netlink_route, vrrp_iprule.c netlink_rule).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLab, type Lab, type Netns } from '../helpers/netns';
import { startAgent, type Agent, type AgentError, type Handle } from '../helpers/ns-node';

type Ev = { kind: string; op: 'new' | 'del'; route?: any; rule?: any };
/** iproute2 prints protocol 18 by name when its rt_protos knows it */
const P18 = 'proto (?:18|keepalived)';

describe('rtnetlink routes and rules in a namespace', () => {
  let lab: Lab;
  let ns: Netns;
  let a: Agent;
  let nl: Handle;
  const routes = (...args: string[]) => ns.ip('route', 'show', ...args);
  const err = (p: Promise<unknown>) => p.then(() => null, (e: AgentError) => e);

  beforeAll(async () => {
    lab = makeLab('un', [{ name: 'a', v4: ['192.0.2.11/24'], v6: ['2001:db8::11/64'] }]);
    ns = lab.hosts.a!;
    a = await startAgent(ns, { mustExist: ['net/netlink.js'] });
    nl = await a.call<Handle>('net/netlink', 'createNetlink');
    await a.invoke(nl, 'onEvent', a.cb('ev'));
    await a.invoke(nl, 'monitorRoutes', { ipv4Routes: true, ipv6Routes: true, ipv4Rules: true, ipv6Rules: true });
  }, 60_000);

  afterAll(() => {
    a?.kill();
    lab?.destroy();
  });

  it('IPv4: gateway route in main, device route in table 100, proto 18; delete; ESRCH when gone', async () => {
    await a.invoke(nl, 'addRoute', { family: 'ipv4', dst: '198.51.100.0', prefix: 24, via: '192.0.2.1', dev: 'eth0', table: 254, protocol: 18 });
    await a.invoke(nl, 'addRoute', { family: 'ipv4', dst: '203.0.113.0', prefix: 24, dev: 'eth0', table: 100 });
    expect(routes()).toMatch(new RegExp(`^198\\.51\\.100\\.0/24 via 192\\.0\\.2\\.1 dev eth0 ${P18} $`, 'm'));
    // keepalived sends RT_SCOPE_UNIVERSE unless "scope" is configured (iproute2 would pick link)
    expect(routes('table', '100')).toMatch(new RegExp(`^203\\.0\\.113\\.0/24 dev eth0 ${P18} $`, 'm'));
    // the kernel told us, with the type of message
    const ev = await a.waitEvent('ev', ([e]) => (e as Ev).kind === 'route' && (e as Ev).op === 'new' && (e as Ev).route.dst === '203.0.113.0', 'RTM_NEWROUTE 203.0.113.0/24');
    expect(ev[0].route).toMatchObject({ family: 'ipv4', prefix: 24, table: 100, protocol: 18, ifname: 'eth0', metric: 0, type: 1 });

    await a.invoke(nl, 'delRoute', { family: 'ipv4', dst: '203.0.113.0', prefix: 24, dev: 'eth0', table: 100 });
    expect(routes('table', '100')).not.toContain('203.0.113.0/24');
    await a.waitEvent('ev', ([e]) => (e as Ev).kind === 'route' && (e as Ev).op === 'del' && (e as Ev).route.dst === '203.0.113.0', 'RTM_DELROUTE 203.0.113.0/24');
    const gone = await err(a.invoke(nl, 'delRoute', { family: 'ipv4', dst: '203.0.113.0', prefix: 24, dev: 'eth0', table: 100 }));
    expect(gone?.code).toBe('ESRCH');
    // a route of another protocol is not deleted by ours (keepalived's protocol match)
    ns.ip('route', 'add', '203.0.113.64/26', 'dev', 'eth0', 'proto', 'static');
    expect((await err(a.invoke(nl, 'delRoute', { family: 'ipv4', dst: '203.0.113.64', prefix: 26, dev: 'eth0', table: 254 })))?.code).toBe('ESRCH');
    expect(routes()).toContain('203.0.113.64/26 dev eth0 proto static');
    await a.invoke(nl, 'delRoute', { family: 'ipv4', dst: '198.51.100.0', prefix: 24, via: '192.0.2.1', dev: 'eth0', table: 254 });
    expect(routes()).not.toContain('198.51.100.0/24');
  });

  it('prepend (default) adds next to an existing route; "add" is EEXIST; replace changes it in place', async () => {
    const r = { family: 'ipv4', dst: '198.51.100.0', prefix: 25, via: '192.0.2.1', dev: 'eth0', table: 254, metric: 5 };
    await a.invoke(nl, 'addRoute', r);
    const dup = await err(a.invoke(nl, 'addRoute', { ...r, mode: 'add' }));
    expect(dup?.code).toBe('EEXIST');
    expect(dup?.message).toContain('EEXIST');
    await a.invoke(nl, 'addRoute', { ...r, metrics: { mtu: 1400, lock: 1 << 2 } }, { replace: true });
    expect(routes('198.51.100.0/25')).toMatch(new RegExp(`via 192\\.0\\.2\\.1 dev eth0 ${P18} metric 5 mtu lock 1400`));
    await a.invoke(nl, 'delRoute', r);
    expect(routes('198.51.100.0/25')).toBe('');
  });

  it('types, src, onlink, table > 255, multipath', async () => {
    await a.invoke(nl, 'addRoute', { family: 'ipv4', dst: '198.51.100.128', prefix: 25, type: 'blackhole', table: 254 });
    await a.invoke(nl, 'addRoute', { family: 'ipv4', dst: '203.0.113.7', prefix: 32, via: '198.51.100.1', dev: 'eth0', onlink: true, src: '192.0.2.11', table: 1000 });
    await a.invoke(nl, 'addRoute', {
      family: 'ipv4',
      dst: '203.0.113.128',
      prefix: 25,
      table: 254,
      nexthops: [
        { via: '192.0.2.1', dev: 'eth0', weight: 2 },
        { via: '192.0.2.3', dev: 'eth0' },
      ],
    });
    expect(routes()).toMatch(new RegExp(`^blackhole 198\\.51\\.100\\.128/25 ${P18} $`, 'm'));
    expect(routes('table', '1000')).toMatch(new RegExp(`^203\\.0\\.113\\.7 via 198\\.51\\.100\\.1 dev eth0 ${P18} src 192\\.0\\.2\\.11 onlink $`, 'm'));
    const mp = routes('203.0.113.128/25');
    expect(mp).toMatch(/nexthop via 192\.0\.2\.1 dev eth0 weight 2/);
    expect(mp).toMatch(/nexthop via 192\.0\.2\.3 dev eth0 weight 1/);
    // delete with the type only when one was configured (keepalived): both forms find them
    await a.invoke(nl, 'delRoute', { family: 'ipv4', dst: '198.51.100.128', prefix: 25, type: 'blackhole', table: 254 });
    await a.invoke(nl, 'delRoute', { family: 'ipv4', dst: '203.0.113.7', prefix: 32, table: 1000 });
    await a.invoke(nl, 'delRoute', { family: 'ipv4', dst: '203.0.113.128', prefix: 25, table: 254 });
    expect(routes()).not.toMatch(/198\.51\.100\.128|203\.0\.113\.128/);
    expect(routes('table', '1000')).toBe('');
  });

  it('IPv6 gateway route (metric 1024 in events), then deleted', async () => {
    await a.invoke(nl, 'addRoute', { family: 'ipv6', dst: '2001:db8:1::', prefix: 64, via: '2001:db8::1', dev: 'eth0', table: 254 });
    expect(ns.ip('-6', 'route', 'show')).toMatch(new RegExp(`^2001:db8:1::/64 via 2001:db8::1 dev eth0 ${P18} metric 1024 `, 'm'));
    const ev = await a.waitEvent('ev', ([e]) => (e as Ev).kind === 'route' && (e as Ev).op === 'new' && (e as Ev).route.dst === '2001:db8:1::', 'RTM_NEWROUTE 2001:db8:1::/64');
    expect(ev[0].route).toMatchObject({ family: 'ipv6', prefix: 64, metric: 1024, protocol: 18, via: '2001:db8::1', ifname: 'eth0' });
    await a.invoke(nl, 'delRoute', { family: 'ipv6', dst: '2001:db8:1::', prefix: 64, via: '2001:db8::1', dev: 'eth0', table: 254 });
    expect(ns.ip('-6', 'route', 'show')).not.toContain('2001:db8:1::/64');
  });

  it('refuses what it cannot express, and bad input, with a clear error', async () => {
    const e1 = await err(a.invoke(nl, 'addRoute', { family: 'ipv4', dst: '198.51.100.0', prefix: 24, dev: 'eth0', table: 254, unsupported: ['encap mpls'], text: 'prepend 198.51.100.0/24 encap mpls 100 dev eth0' }));
    expect(e1?.code).toBe('EOPNOTSUPP');
    expect(e1?.message).toContain('encap mpls');
    expect(e1?.message).toContain('prepend 198.51.100.0/24 encap mpls 100 dev eth0');
    expect((await err(a.invoke(nl, 'addRoute', { family: 'ipv4', dst: '198.51.100.0', prefix: 33, table: 254 })))?.code).toBe('EINVAL');
    expect((await err(a.invoke(nl, 'addRoute', { family: 'ipv4', dst: 'nonsense', prefix: 24, table: 254 })))?.code).toBe('EINVAL');
    expect((await err(a.invoke(nl, 'addRoute', { family: 'ipv4', dst: '198.51.100.0', prefix: 24, dev: 'nosuch0', table: 254 })))?.code).toBe('ENODEV');
    // unreachable gateway: the kernel's answer comes back as the errno
    expect((await err(a.invoke(nl, 'addRoute', { family: 'ipv4', dst: '198.51.100.0', prefix: 24, via: '203.0.113.1', dev: 'eth0', table: 254 })))?.code).toBe('ENETUNREACH');
  });

  it('rules: from/table with preference and protocol 18, fwmark, IPv6, goto; EEXIST; ENOENT when gone; events', async () => {
    const r1 = { family: 'ipv4', from: '192.0.2.50', fromPrefix: 32, action: 'table', table: 100, priority: 100, protocol: 18 };
    const r2 = { family: 'ipv4', to: '198.51.100.0', toPrefix: 24, fwmark: 0x10, fwmask: 0xff, iif: 'eth0', action: 'table', table: 1000, priority: 110 };
    const r3 = { family: 'ipv6', from: '2001:db8::50', fromPrefix: 128, action: 'table', table: 100, priority: 100, protocol: 18 };
    const r4 = { family: 'ipv4', from: '192.0.2.9', fromPrefix: 32, not: true, action: 'prohibit', priority: 120 };
    const r5 = { family: 'ipv4', to: '203.0.113.0', toPrefix: 24, action: 'goto', goto: 200, priority: 130 };
    for (const r of [r1, r2, r3, r4, r5]) await a.invoke(nl, 'addRule', r);
    const v4 = ns.ip('rule', 'show');
    expect(v4).toMatch(new RegExp(`^100:\\s+from 192\\.0\\.2\\.50 lookup 100 ${P18}$`, 'm'));
    expect(v4).toMatch(/^110:\s+from all to 198\.51\.100\.0\/24 fwmark 0x10\/0xff iif eth0 lookup 1000$/m);
    expect(v4).toMatch(/^120:\s+not from 192\.0\.2\.9 prohibit$/m);
    // (no rule 200 exists yet: iproute2 marks the goto [unresolved])
    expect(v4).toMatch(/^130:\s+from all to 203\.0\.113\.0\/24 goto 200\b/m);
    expect(ns.ip('-6', 'rule', 'show')).toMatch(new RegExp(`^100:\\s+from 2001:db8::50 lookup 100 ${P18}$`, 'm'));
    expect((await err(a.invoke(nl, 'addRule', r1)))?.code).toBe('EEXIST');

    await a.invoke(nl, 'delRule', r1);
    expect(ns.ip('rule', 'show')).not.toContain('192.0.2.50');
    const ev = await a.waitEvent('ev', ([e]) => (e as Ev).kind === 'rule' && (e as Ev).op === 'del' && (e as Ev).rule.from === '192.0.2.50', 'RTM_DELRULE 192.0.2.50');
    expect(ev[0].rule).toMatchObject({ family: 'ipv4', priority: 100, action: 1, table: 100, fromPrefix: 32, protocol: 18, not: false });
    expect((await err(a.invoke(nl, 'delRule', r1)))?.code).toBe('ENOENT');
    for (const r of [r2, r3, r4, r5]) await a.invoke(nl, 'delRule', r);
    expect(ns.ip('rule', 'show')).not.toMatch(/^1[1-3]0:/m);
    expect(ns.ip('-6', 'rule', 'show')).not.toContain('2001:db8::50');
  });
});
