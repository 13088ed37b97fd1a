/**
 * static_ipaddress / static_routes / static_rules, as keepalived 2.2.7's VRRP process
 * handles them (vrrp/vrrp_daemon.c start_vrrp / vrrp_terminate_phase1,
 * core/keepalived_netlink.c, vrrp_ipaddress.c / vrrp_iproute.c / vrrp_iprule.c):
 *
 *  - start: addresses, then routes, then rules are added, before any instance runs;
 *    an entry that is already in the kernel (EEXIST) is not ours: not "set", so it is
 *    left in place on stop (keepalived netlink_iplist / netlink_rtlist only delete `set` ones);
 *  - deleted behind our back (RTM_DELADDR / RTM_DELROUTE of a route with protocol
 *    RTPROT_KEEPALIVED / RTM_DELRULE) and not `no_track`: re-added, logged
 *    "Restoring deleted static address|route|rule X";
 *  - reload: entries gone from the configuration are removed (rules, routes, addresses),
 *    kept routes are replaced with their new attributes, new entries are added;
 *  - stop (SIGTERM, also with -V): rules, routes, then addresses we set are removed.
 *
 * Not done: track_group (an unrestorable static entry putting instances in FAULT).
 * Every kernel operation is journalled (vrrp.static) and errors are logged, never thrown.
 */
import type { KeepwatchConfig } from '../config/model';
import type { Journal } from '../journal/journal';
import type { LogLevel } from '../vrrp/fsm';
import type { AddressInfo, AddressSpec, Netlink, RouteInfo, RouteSpec, RuleInfo, RuleSpec } from '../net/types';
import { benignRouteError, errorCode, routeAttrsKey, routeEventMatches, routeKey, ruleEventMatches, ruleKey } from '../net/route-match';
import { canonicalIp } from '../vrrp/packet';
import { addressSpec, routeSpec, ruleSpec, vipText } from './build';

interface Entry<S> {
  key: string;
  spec: S;
  text: string;
  noTrack: boolean;
  set: boolean;
}

type Kind = 'address' | 'route' | 'rule';

function addrKey(a: AddressSpec): string {
  return `${canonicalIp(a.address) ?? a.address}/${a.prefix}%${a.ifname}`;
}

export interface StaticNetDeps {
  netlink: Netlink;
  journal: Journal;
  log(level: LogLevel, message: string): void;
}

export class StaticNet {
  private addrs: Entry<AddressSpec>[] = [];
  private routes: Entry<RouteSpec>[] = [];
  private rules: Entry<RuleSpec>[] = [];
  /** kernel work in order: a restore never overtakes a reload or the stop */
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly deps: StaticNetDeps) {}

  private static entries(cfg: KeepwatchConfig): { addrs: Entry<AddressSpec>[]; routes: Entry<RouteSpec>[]; rules: Entry<RuleSpec>[] } {
    const dev = cfg.global.defaultInterface;
    return {
      addrs: cfg.staticAddresses.map((v) => {
        const spec = addressSpec(v, dev);
        return { key: addrKey(spec), spec, text: vipText(v, dev), noTrack: v.noTrack, set: false };
      }),
      routes: cfg.staticRoutes.map((r) => {
        const spec = routeSpec(r);
        return { key: routeKey(spec), spec, text: spec.text ?? '', noTrack: r.noTrack, set: false };
      }),
      rules: cfg.staticRules.map((r) => {
        const spec = ruleSpec(r);
        return { key: ruleKey(spec), spec, text: spec.text ?? '', noTrack: r.noTrack, set: false };
      }),
    };
  }

  /** Does this configuration need route / rule events (tracked static routes or rules)? */
  static monitorNeeds(cfg: KeepwatchConfig): { ipv4Routes: boolean; ipv6Routes: boolean; ipv4Rules: boolean; ipv6Rules: boolean } {
    const r = cfg.staticRoutes.filter((x) => !x.noTrack);
    const u = cfg.staticRules.filter((x) => !x.noTrack);
    return {
      ipv4Routes: r.some((x) => x.family === 'inet'),
      ipv6Routes: r.some((x) => x.family === 'inet6'),
      ipv4Rules: u.some((x) => x.family === 'inet'),
      ipv6Rules: u.some((x) => x.family === 'inet6'),
    };
  }

  /** What is configured, with whether we installed it (for dumps). */
  snapshot(): { addresses: string[]; routes: string[]; rules: string[] } {
    return { addresses: this.addrs.map((e) => e.text), routes: this.routes.map((e) => e.text), rules: this.rules.map((e) => e.text) };
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(work).catch((e) => this.deps.log('error', `static address/route/rule handling failed: ${e instanceof Error ? e.message : String(e)}`));
    return this.chain;
  }

  private async op(kind: Kind, op: 'add' | 'remove' | 'restore', e: Entry<AddressSpec | RouteSpec | RuleSpec>, replace = false): Promise<void> {
    const nl = this.deps.netlink;
    const add = op !== 'remove';
    try {
      if (kind === 'address') await (add ? nl.addAddress(e.spec as AddressSpec) : nl.delAddress(e.spec as AddressSpec));
      else if (kind === 'route') {
        const f = add ? nl.addRoute : nl.delRoute;
        if (!f) throw Object.assign(new Error('the netlink adapter cannot manage routes'), { code: 'EOPNOTSUPP' });
        await (add ? nl.addRoute!(e.spec as RouteSpec, replace ? { replace } : undefined) : nl.delRoute!(e.spec as RouteSpec));
      } else {
        const f = add ? nl.addRule : nl.delRule;
        if (!f) throw Object.assign(new Error('the netlink adapter cannot manage rules'), { code: 'EOPNOTSUPP' });
        await (add ? nl.addRule!(e.spec as RuleSpec) : nl.delRule!(e.spec as RuleSpec));
      }
      e.set = add;
      this.deps.journal.emit({ type: 'vrrp.static', kind, op, text: e.text, ok: true });
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      const code = errorCode(err);
      // adding what is there already: fine, but not ours (keepalived leaves it `set = false`);
      // deleting what is gone: fine
      const benign = add ? code === 'EEXIST' : benignRouteError('remove', err) || (kind === 'address' && code === 'EADDRNOTAVAIL');
      e.set = false;
      this.deps.journal.emit({ type: 'vrrp.static', kind, op, text: e.text, ok: benign, error: msg });
      if (!benign) this.deps.log('error', `cannot ${op === 'remove' ? 'remove' : 'add'} static ${kind} ${e.text}: ${msg}`);
    }
  }

  /** keepalived start_vrrp: "Set static entries" (addresses, routes, rules). */
  start(cfg: KeepwatchConfig): Promise<void> {
    const n = StaticNet.entries(cfg);
    this.addrs = n.addrs;
    this.routes = n.routes;
    this.rules = n.rules;
    return this.enqueue(async () => {
      for (const e of this.addrs) await this.op('address', 'add', e);
      for (const e of this.routes) await this.op('route', 'add', e);
      for (const e of this.rules) await this.op('rule', 'add', e);
    });
  }

  /**
   * SIGHUP: keepalived clear_diff_static_rules / _routes / _addresses, then "Set static
   * entries" for what is not set. The lists change synchronously, so a deletion event of a
   * removed entry arriving later finds nothing to restore.
   */
  reload(cfg: KeepwatchConfig): Promise<void> {
    const n = StaticNet.entries(cfg);
    const old = { addrs: this.addrs, routes: this.routes, rules: this.rules };
    const carry = <S>(prev: Entry<S>[], next: Entry<S>[]): { gone: Entry<S>[]; kept: Array<[Entry<S>, Entry<S>]> } => {
      const byKey = new Map(next.map((e) => [e.key, e]));
      const gone: Entry<S>[] = [];
      const kept: Array<[Entry<S>, Entry<S>]> = [];
      for (const p of prev) {
        const q = byKey.get(p.key);
        if (!q) gone.push(p);
        else {
          q.set = p.set;
          kept.push([p, q]);
        }
      }
      return { gone, kept };
    };
    const a = carry(old.addrs, n.addrs);
    const r = carry(old.routes, n.routes);
    const u = carry(old.rules, n.rules);
    this.addrs = n.addrs;
    this.routes = n.routes;
    this.rules = n.rules;
    return this.enqueue(async () => {
      for (const e of u.gone) if (e.set) await this.op('rule', 'remove', e);
      for (const e of r.gone) if (e.set) await this.op('route', 'remove', e);
      // keepalived clear_diff_routes: a kept route is replaced with its new attributes
      for (const [p, q] of r.kept) if (q.set && routeAttrsKey(p.spec) !== routeAttrsKey(q.spec)) await this.op('route', 'add', q, true);
      for (const e of a.gone) if (e.set) await this.op('address', 'remove', e);
      if (this.stopped) return;
      for (const e of this.addrs) if (!e.set) await this.op('address', 'add', e);
      for (const e of this.routes) if (!e.set) await this.op('route', 'add', e);
      for (const e of this.rules) if (!e.set) await this.op('rule', 'add', e);
    });
  }

  /** keepalived vrrp_terminate_phase1 "Clear static entries": rules, routes, addresses we set. */
  stop(): Promise<void> {
    this.stopped = true;
    return this.enqueue(async () => {
      for (const e of this.rules) if (e.set) await this.op('rule', 'remove', e);
      for (const e of this.routes) if (e.set) await this.op('route', 'remove', e);
      for (const e of this.addrs) if (e.set) await this.op('address', 'remove', e);
    });
  }

  private restore(kind: Kind, e: Entry<AddressSpec | RouteSpec | RuleSpec>): void {
    if (this.stopped) return;
    void this.enqueue(async () => {
      if (this.stopped) return;
      await this.op(kind, 'restore', e);
      this.deps.log('info', `Restoring deleted static ${kind} ${e.text}`);
    });
  }

  /** RTM_DELADDR (keepalived netlink_if_address_filter: reinstate_static_address). */
  addressDeleted(a: AddressInfo): boolean {
    const k = `${canonicalIp(a.address) ?? a.address}/${a.prefix}%${a.ifname}`;
    const e = this.addrs.find((x) => x.key === k && !x.noTrack);
    if (!e) return false;
    e.set = false;
    this.restore('address', e);
    return true;
  }

  /** RTM_DELROUTE of a RTPROT_KEEPALIVED route (keepalived netlink_route_filter: reinstate_static_route). */
  routeDeleted(info: RouteInfo): boolean {
    const e = this.routes.find((x) => routeEventMatches(info, x.spec, { static: true }));
    if (!e) return false;
    e.set = false;
    if (!e.noTrack) this.restore('route', e);
    return true;
  }

  /** RTM_DELRULE (keepalived netlink_rule_filter: reinstate_static_rule). */
  ruleDeleted(info: RuleInfo): boolean {
    const e = this.rules.find((x) => ruleEventMatches(info, x.spec));
    if (!e) return false;
    e.set = false;
    if (!e.noTrack) this.restore('rule', e);
    return true;
  }
}
