/**
 * virtual_routes / virtual_rules and static_ipaddress / static_routes / static_rules with
 * the real keepwatch daemon in namespaces (lab "ur": nodes a 192.0.2.11 and b 192.0.2.12,
 * VRRPv3 at 100 ms), checked with `ip route` / `ip rule` inside each namespace.
 *
 * keepalived 2.2.7 behaviour reproduced (vrrp.c vrrp_state_become_master /
 * vrrp_restore_interface / clear_diff_vrrp, vrrp_daemon.c start_vrrp /
 * vrrp_terminate_phase1, keepalived_netlink.c netlink_route_filter):
 *  - routes and rules go in after the VIPs on MASTER, come out before them on leaving it
 *    and on SIGTERM; the new master installs them;
 *  - a tracked route deleted behind a MASTER's back makes it fall back and retake at
 *    once (re-adding it); a no_track route does not;
 *  - a reload while MASTER removes what went away and adds what is new, without a transition;
 *  - static entries are set at start, restored when deleted, removed on stop.
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLab, waitFor, type Lab } from '../helpers/netns';
import { startKeepwatch, type KwNode } from '../helpers/agent';

const PORT = 19950;
const P18 = '(?:18|keepalived)';

function conf(node: 'a' | 'b', o: { priority: number; state?: 'MASTER' | 'BACKUP'; routes?: string[]; rules?: string[] }): string {
  const n = node === 'a' ? 201 : 202;
  const routes = o.routes ?? ['198.51.100.0/24 via 192.0.2.1 dev eth0', '203.0.113.0/24 dev eth0 table 100', '2001:db8:1::/64 via 2001:db8::1 dev eth0', '198.51.100.192/26 dev eth0 table 101 no_track'];
  const rules = o.rules ?? ['from 192.0.2.50 table 100'];
  return [
    'global_defs {',
    `    router_id ${node}`,
    '}',
    'static_ipaddress {',
    `    192.0.2.${n}/32 dev eth0`,
    '}',
    'static_routes {',
    `    203.0.113.${n} via 192.0.2.1 dev eth0 table 200`,
    '}',
    'static_rules {',
    `    from 192.0.2.${n} table 200 priority 200`,
    '}',
    'vrrp_instance VI_1 {',
    `    state ${o.state ?? 'BACKUP'}`,
    '    interface eth0',
    '    virtual_router_id 51',
    `    priority ${o.priority}`,
    '    advert_int 0.1',
    '    version 3',
    '    virtual_ipaddress {',
    '        192.0.2.50/24 dev eth0',
    '    }',
    '    virtual_routes {',
    ...routes.map((r) => `        ${r}`),
    '    }',
    '    virtual_rules {',
    ...rules.map((r) => `        ${r}`),
    '    }',
    '}',
    '',
  ].join('\n');
}

describe('virtual and static routes/rules with the real daemon', () => {
  let lab: Lab;
  let a: KwNode;
  let b: KwNode;
  const dirs: string[] = [];
  const ip = (h: 'a' | 'b', ...args: string[]): string => lab.hosts[h]!.ip(...args);
  /** `ip … show`: a routing table nobody has used yet does not exist ("FIB table does not exist") = empty */
  const show = (h: 'a' | 'b', ...args: string[]): string => lab.hosts[h]!.exec('ip', args, { allowFail: true });
  /** the instance's routes and rule, as `ip` shows them, present (true) or absent (false) on a host */
  const vrrpRoutes = (h: 'a' | 'b'): Record<string, boolean> => {
    const main = show(h, 'route', 'show');
    return {
      gw: new RegExp(`^198\\.51\\.100\\.0/24 via 192\\.0\\.2\\.1 dev eth0 proto ${P18} `, 'm').test(main),
      t100: new RegExp(`^203\\.0\\.113\\.0/24 dev eth0 proto ${P18} `, 'm').test(show(h, 'route', 'show', 'table', '100')),
      v6: new RegExp(`^2001:db8:1::/64 via 2001:db8::1 dev eth0 proto ${P18} `, 'm').test(show(h, '-6', 'route', 'show')),
      noTrack: /^198\.51\.100\.192\/26 dev eth0 /m.test(show(h, 'route', 'show', 'table', '101')),
      rule: new RegExp(`^\\d+:\\s+from 192\\.0\\.2\\.50 lookup 100 proto ${P18}$`, 'm').test(show(h, 'rule', 'show')),
    };
  };
  const all = (v: boolean) => ({ gw: v, t100: v, v6: v, noTrack: v, rule: v });
  const hasAll = (h: 'a' | 'b') => Object.values(vrrpRoutes(h)).every(Boolean);
  const hasNone = (h: 'a' | 'b') => Object.values(vrrpRoutes(h)).every((x) => !x);
  const statics = (h: 'a' | 'b') => {
    const n = h === 'a' ? 201 : 202;
    return {
      addr: ip(h, '-o', 'addr', 'show', 'dev', 'eth0').includes(`inet 192.0.2.${n}/32 `),
      route: new RegExp(`^203\\.0\\.113\\.${n} via 192\\.0\\.2\\.1 dev eth0 proto ${P18}`, 'm').test(show(h, 'route', 'show', 'table', '200')),
      rule: new RegExp(`^200:\\s+from 192\\.0\\.2\\.${n} lookup 200 proto ${P18}$`, 'm').test(show(h, 'rule', 'show')),
    };
  };
  const start = async (h: 'a' | 'b', text: string, dir?: string): Promise<KwNode> => {
    const n = await startKeepwatch(lab.hosts[h]!, text, { port: PORT, dir });
    dirs.push(n.dir);
    return n;
  };

  beforeAll(async () => {
    lab = makeLab('ur', [
      { name: 'a', v4: ['192.0.2.11/24'], v6: ['2001:db8::11/64'] },
      { name: 'b', v4: ['192.0.2.12/24'], v6: ['2001:db8::12/64'] },
    ]);
    [a, b] = await Promise.all([start('a', conf('a', { priority: 150, state: 'MASTER' })), start('b', conf('b', { priority: 100 }))]);
  }, 60_000);

  afterAll(async () => {
    for (const n of [a, b]) await n?.stop('SIGTERM', 10_000).catch(() => n.crash());
    lab?.destroy();
    for (const d of new Set(dirs)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('the MASTER installs its virtual routes (main, table 100, IPv6) and rule; the BACKUP has none; /json lists them', async () => {
    await a.waitState('MASTER');
    await b.waitState('BACKUP');
    await waitFor(() => hasAll('a'), 'routes and rule on a');
    expect(vrrpRoutes('b')).toEqual(all(false));
    const d = (await a.instance())!.data;
    expect(d.vroutes).toEqual([
      'prepend 198.51.100.0/24 via inet 192.0.2.1 dev eth0 proto 18',
      'prepend 203.0.113.0/24 dev eth0 table 100 proto 18',
      'prepend 2001:db8:1::/64 via inet6 2001:db8::1 dev eth0 proto 18',
      'prepend 198.51.100.192/26 dev eth0 table 101 no_track',
    ]);
    expect(d.vrules).toEqual(['from 192.0.2.50 priority 16384 tos 0x0 protocol 18 lookup 100']);
  });

  it('static_ipaddress / static_routes / static_rules are set at start on both nodes, whatever their state', async () => {
    await waitFor(() => Object.values(statics('a')).every(Boolean) && Object.values(statics('b')).every(Boolean), 'static entries on a and b');
  });

  it('a deleted static address, route and rule are restored', async () => {
    const mark = a.mark();
    ip('a', 'addr', 'del', '192.0.2.201/32', 'dev', 'eth0');
    ip('a', 'route', 'del', '203.0.113.201', 'table', '200');
    ip('a', 'rule', 'del', 'priority', '200');
    await a.waitLog(/^Restoring deleted static address 192\.0\.2\.201\/32 dev eth0 scope global$/, mark);
    await a.waitLog(/^Restoring deleted static route prepend 203\.0\.113\.201 via inet 192\.0\.2\.1 dev eth0 table 200 proto 18$/, mark);
    await a.waitLog(/^Restoring deleted static rule from 192\.0\.2\.201 priority 200 tos 0x0 protocol 18 lookup 200$/, mark);
    await waitFor(() => Object.values(statics('a')).every(Boolean), 'static entries back on a');
  });

  it('a tracked virtual route deleted behind the MASTER: it falls back and retakes, re-adding it; a no_track one does not', async () => {
    const before = (await a.instance())!.stats;
    // no_track first: the kernel reports deletions in order, so a second release would show
    ip('a', 'route', 'del', '198.51.100.192/26', 'table', '101');
    ip('a', 'route', 'del', '198.51.100.0/24', 'via', '192.0.2.1', 'dev', 'eth0');
    await waitFor(async () => (await a.instance())!.stats.become_master === before.become_master + 1, 'a MASTER again');
    await a.waitState('MASTER');
    await waitFor(() => hasAll('a'), 'routes back on a');
    const now = (await a.instance())!.stats;
    expect(now.release_master).toBe(before.release_master + 1);
    expect(now.pri_zero_sent).toBe(before.pri_zero_sent + 1);
    expect(a.lines().some((l) => l === '(VI_1) virtual route prepend 198.51.100.0/24 via inet 192.0.2.1 dev eth0 proto 18 deleted externally - leaving MASTER')).toBe(true);
    await b.waitState('BACKUP');
    await waitFor(() => hasNone('b'), 'nothing on b');
  });

  it('failover: the old MASTER removes them, the new MASTER installs them', async () => {
    const mb = b.mark();
    b.writeConfig(conf('b', { priority: 200 }));
    b.hup();
    await b.waitLog(/^Reload finished/, mb);
    await b.waitState('MASTER');
    await a.waitState('BACKUP');
    await waitFor(() => hasAll('b'), 'routes and rule on b');
    await waitFor(() => hasNone('a'), 'routes and rule gone from a');
    // static entries do not move with the VRRP state
    expect(statics('a')).toEqual({ addr: true, route: true, rule: true });
  });

  it('a reload while MASTER removes what went away and adds what is new, without a transition', async () => {
    const before = (await b.instance())!.stats;
    const mb = b.mark();
    b.writeConfig(conf('b', { priority: 200, routes: ['198.51.100.0/24 via 192.0.2.1 dev eth0', '198.51.100.128/26 dev eth0 table 102'], rules: ['from 192.0.2.60 table 102 priority 300'] }));
    b.hup();
    await b.waitLog(/^Reload finished/, mb);
    await waitFor(() => /^198\.51\.100\.128\/26 dev eth0 /m.test(show('b', 'route', 'show', 'table', '102')) && /^300:\s+from 192\.0\.2\.60 lookup 102/m.test(show('b', 'rule', 'show')), 'new route and rule on b');
    await waitFor(() => {
      const r = vrrpRoutes('b');
      return r.gw && !r.t100 && !r.v6 && !r.noTrack && !r.rule;
    }, 'old ones gone from b, the kept one still there');
    const after = (await b.instance())!;
    expect(after.data.state).toBe(2);
    expect(after.stats.become_master).toBe(before.become_master);
    expect(after.stats.release_master).toBe(before.release_master);
    expect(after.data.vroutes).toEqual(['prepend 198.51.100.0/24 via inet 192.0.2.1 dev eth0 proto 18', 'prepend 198.51.100.128/26 dev eth0 table 102 proto 18']);
    // back to the common configuration for the rest
    const m2 = b.mark();
    b.writeConfig(conf('b', { priority: 200 }));
    b.hup();
    await b.waitLog(/^Reload finished/, m2);
    await waitFor(() => hasAll('b') && !show('b', 'route', 'show', 'table', '102').includes('198.51.100.128/26'), 'common routes on b again');
  });

  it('SIGTERM removes routes, rules, VIP and static entries; the peer installs the routes', async () => {
    const r = await b.stop('SIGTERM');
    expect(r.code).toBe(0);
    expect(vrrpRoutes('b')).toEqual(all(false));
    expect(ip('b', '-o', 'addr', 'show', 'dev', 'eth0')).not.toContain('192.0.2.50/24');
    expect(statics('b')).toEqual({ addr: false, route: false, rule: false });
    await a.waitState('MASTER');
    await waitFor(() => hasAll('a'), 'routes and rule on a');
    const r2 = await a.stop('SIGTERM');
    expect(r2.code).toBe(0);
    expect(vrrpRoutes('a')).toEqual(all(false));
    expect(statics('a')).toEqual({ addr: false, route: false, rule: false });
  });

  it('a configuration with static entries only still runs the VRRP side (keepalived have_vrrp_config)', async () => {
    const only = conf('a', { priority: 150 }).replace(/vrrp_instance VI_1 \{[\s\S]*$/, '');
    expect(only).not.toContain('vrrp_instance');
    a = await start('a', only, a.dir);
    await waitFor(() => Object.values(statics('a')).every(Boolean), 'static entries on a');
    expect(await a.json()).toEqual([]);
    expect((await a.stop('SIGTERM')).code).toBe(0);
    expect(statics('a')).toEqual({ addr: false, route: false, rule: false });
  });
});
