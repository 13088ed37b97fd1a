/**
 * The VRRP engine: instance runners + their sockets, tracking and sync groups, wired
 * from one configuration. Owns no observers (those attach to the journal and read
 * snapshot()); daemon.ts owns the process lifecycle around it.
 *
 * keepalived 2.2.7 behaviours reproduced here (shared/research/keepalived-features.md §3):
 * - one raw socket per interface/family, demultiplexed by VRID (vrrp_dispatcher_read);
 * - an interface going down (IFF_UP or carrier) puts its instances in FAULT unless
 *   dont_track_primary ("Netlink reports eth0 down"), tracked interfaces/scripts/files/
 *   processes move the effective priority or force FAULT (vrrp_track.c);
 * - a VIP deleted behind a MASTER's back makes it fall back (set_vrrp_backup) unless no_track;
 * - SIGHUP keeps matching instances (name + interface + VRID + family: vrrp_exist) with
 *   their state, VIPs and counters; added ones start, removed ones stop.
 */
import type { KeepwatchConfig, VrrpInstance, VrrpScript } from '../config/model';
import type { Journal } from '../journal/journal';
import type { AddressInfo, Announcer, LinkInfo, Netlink, NetlinkEvent, VrrpSocket, VrrpSocketOptions } from '../net/types';
import { attachVridDemux, InstanceRunner, SyncGroupRunner, type InstanceOptions, type VridDemux } from '../vrrp/instance';
import type { FaultEntry, LogLevel } from '../vrrp/fsm';
import type { MemberStart } from '../vrrp/sync-group';
import { canonicalIp } from '../vrrp/packet';
import { ScriptTracker } from '../track/script';
import { FileTracker } from '../track/file';
import { ProcessTracker } from '../track/process';
import { contribution, isFaulting, type TrackerStatus } from '../track/priority';
import type { TransitionReason } from '../journal/events';
import { commandLine, commandText, deletedNotifyState, fam, instanceKey, instanceOptions, primaryAddressOf, trackRefs, vmacMac, vmacName, vipText } from './build';
import type { InstanceSnapshot, ScriptSnapshot, SyncGroupSnapshot } from '../state/snapshot';
import { StaticNet } from './static-net';
import { routeEventMatches, ruleEventMatches } from '../net/route-match';

export interface EngineDeps {
  journal: Journal;
  netlink: Netlink;
  announcer: Announcer;
  createSocket(opts: VrrpSocketOptions): VrrpSocket;
  /** sysctl setup for VMAC interfaces (arp_ignore, accept_local…); optional */
  vmacSysctl?: { setup(vmac: string, parent: string, opts?: { disableIpv6?: boolean }): unknown; release?(parent: string): unknown };
}

interface SocketEntry {
  key: string;
  ifname: string;
  socket: VrrpSocket;
  demux: VridDemux;
  runners: Set<InstanceRunner>;
}

interface InstanceEntry {
  key: string;
  inst: VrrpInstance;
  runner: InstanceRunner;
  /** interface adverts go out on (the VMAC unless vmac_xmit_base) */
  txIf: string;
  vmac?: string;
  socket?: SocketEntry;
  faults: Set<string>;
  weightSum: number;
  started: boolean;
  /** set while a reload removes the instance: its STOP notify becomes FAULT/DELETED */
  deleting?: { prevState: string };
}

const IF_SOURCE = 'interface:';

export class Engine {
  cfg!: KeepwatchConfig;
  private links = new Map<string, LinkInfo>();
  private addrs: AddressInfo[] = [];
  private instances = new Map<string, InstanceEntry>();
  private sockets = new Map<string, SocketEntry>();
  private groups = new Map<string, SyncGroupRunner>();
  private scripts = new Map<string, { def: VrrpScript; sig: string; tracker: ScriptTracker }>();
  private files = new Map<string, FileTracker>();
  private processes = new Map<string, ProcessTracker>();
  private stopping = false;
  /** static_ipaddress / static_routes / static_rules (src/daemon/static-net.ts) */
  private statics: StaticNet | null = null;
  running = false;

  constructor(private readonly deps: EngineDeps) {}

  private log(level: LogLevel, message: string): void {
    this.deps.journal.emit({ type: 'vrrp.log', level, message });
  }

  // ------------------------------------------------------------------ start

  async start(cfg: KeepwatchConfig): Promise<void> {
    this.cfg = cfg;
    this.deps.netlink.onEvent((e) => this.onNetlink(e));
    await this.refreshInterfaces();
    this.monitorRoutes(cfg);
    // keepalived start_vrrp: static addresses, routes and rules are set before the instances run
    this.statics = new StaticNet({ netlink: this.deps.netlink, journal: this.deps.journal, log: (l, m) => this.log(l, m) });
    await this.statics.start(cfg);
    this.syncTrackers(cfg);
    const entries: InstanceEntry[] = [];
    for (const inst of cfg.instances) {
      const e = await this.createInstance(inst);
      if (e) entries.push(e);
    }
    this.startEntries(entries);
    this.running = true;
  }

  private async refreshInterfaces(): Promise<void> {
    try {
      this.links = new Map((await this.deps.netlink.getLinks()).map((l) => [l.name, l]));
      this.addrs = await this.deps.netlink.getAddresses();
    } catch (e) {
      this.log('error', `Netlink: cannot read interfaces: ${(e as Error).message}`);
    }
  }

  /**
   * keepalived set_extra_netlink_monitoring: route / rule events only for the families that
   * tracked (not no_track) virtual or static routes / rules need.
   */
  private monitorRoutes(cfg: KeepwatchConfig): void {
    const need = StaticNet.monitorNeeds(cfg);
    for (const i of cfg.instances) {
      for (const r of i.virtualRoutes) if (!r.noTrack) need[r.family === 'inet6' ? 'ipv6Routes' : 'ipv4Routes'] = true;
      for (const r of i.virtualRules) if (!r.noTrack) need[r.family === 'inet6' ? 'ipv6Rules' : 'ipv4Rules'] = true;
    }
    if (need.ipv4Routes || need.ipv6Routes || need.ipv4Rules || need.ipv6Rules) this.deps.netlink.monitorRoutes?.(need);
  }

  private vipAddressSet(): Set<string> {
    const s = new Set<string>();
    for (const i of this.cfg.instances) for (const v of [...i.virtualIpaddresses, ...i.virtualIpaddressesExcluded]) s.add(v.address);
    return s;
  }

  private async createInstance(inst: VrrpInstance): Promise<InstanceEntry | null> {
    const parent = inst.interface ?? this.cfg.global.defaultInterface;
    let txIf = parent;
    let vmac: string | undefined;
    if (inst.useVmac) {
      vmac = vmacName(inst, this.cfg);
      // keepalived link_set_ipv6(ifp, false): an IPv4 VMAC without IPv6 addresses gets no IPv6
      // (every node's VMAC has the same MAC, so the same EUI-64 link-local: DAD would fail)
      const v6 = [...inst.virtualIpaddresses, ...inst.virtualIpaddressesExcluded].some((v) => v.family === 'inet6');
      await this.ensureVmac(vmac, parent, inst.useVmac.mac ?? vmacMac(fam(inst.family), inst.vrid), inst.family === 'inet' && !v6);
      if (!inst.vmacXmitBase) txIf = vmac;
    }
    const primary = primaryAddressOf(inst, this.addrs, this.vipAddressSet()) ?? (inst.family === 'inet6' ? '::' : '0.0.0.0');
    const opts = instanceOptions(inst, this.cfg, primary);
    if (vmac) {
      opts.ifname = txIf;
      // VIPs without an explicit dev live on the VMAC (keepalived vrrp_vmac.c)
      opts.vips = opts.vips.map((v, i) => (inst.virtualIpaddresses[i].dev ? v : { ...v, ifname: vmac! }));
    }
    const runner = new InstanceRunner(opts, {
      socket: this.lazySocket(() => this.instances.get(instanceKey(inst))?.socket?.socket),
      netlink: this.deps.netlink,
      announcer: this.deps.announcer,
      journal: this.deps.journal,
      hooks: {
        onLog: (level, message) => this.log(level, message),
        onNotify: (instance, state, priority) => {
          const del = this.instances.get(instanceKey(inst))?.deleting;
          if (del && state === 'STOP') {
            const e = this.instances.get(instanceKey(inst))!;
            const st = deletedNotifyState(del.prevState, !!e.inst.notify.deleted);
            if (st) this.deps.journal.emit({ type: 'vrrp.notify', instance, vrid: inst.vrid, intf: txIf, state: st, priority });
            return;
          }
          this.deps.journal.emit({ type: 'vrrp.notify', instance, vrid: inst.vrid, intf: txIf, state, priority });
        },
        onNotifyEvent: (instance, event) => this.deps.journal.emit({ type: 'vrrp.notify', instance, vrid: inst.vrid, intf: txIf, state: event, priority: runner.state.effectivePriority }),
        onPriority: (instance, state, priority) => {
          if (inst.notifyPriorityChanges && (state === 'MASTER' || state === 'BACKUP'))
            this.deps.journal.emit({ type: 'vrrp.notify', instance, vrid: inst.vrid, intf: txIf, state: state === 'MASTER' ? 'MASTER_PRIORITY' : 'BACKUP_PRIORITY', priority });
        },
      },
    });
    const entry: InstanceEntry = { key: instanceKey(inst), inst, runner, txIf, vmac, faults: new Set(), weightSum: 0, started: false };
    this.instances.set(entry.key, entry);
    this.attachSocket(entry);
    return entry;
  }

  /** The runner gets a stable socket facade; the real socket can be (re)created under it. */
  private lazySocket(get: () => VrrpSocket | undefined): VrrpSocket {
    return {
      send: (buf, dst) => {
        const s = get();
        if (s) s.send(buf, dst);
      },
      onPacket: () => {},
      onError: () => {},
      close: () => {},
    };
  }

  private socketOptions(e: InstanceEntry): VrrpSocketOptions {
    const f = fam(e.inst.family);
    const ttl = e.inst.unicast ? (e.inst.unicastTtl ?? (f === 'ipv4' ? 255 : -1)) : 255;
    const o: VrrpSocketOptions = { family: f, ifname: e.txIf, multicast: !e.inst.unicast, ttl };
    const src = e.runner.options.fsm.primaryAddress;
    if (f === 'ipv4' && src && src !== '0.0.0.0') o.srcAddress = src;
    if (f === 'ipv6' && e.inst.srcIp) o.srcAddress = e.inst.srcIp;
    return o;
  }

  private attachSocket(e: InstanceEntry): void {
    const o = this.socketOptions(e);
    const key = `${o.ifname}|${o.family}|${o.multicast}|${o.srcAddress ?? ''}|${o.ttl}`;
    let s = this.sockets.get(key);
    if (!s) {
      try {
        const socket = this.deps.createSocket(o);
        const entry: SocketEntry = { key, ifname: o.ifname, socket, runners: new Set(), demux: undefined as unknown as VridDemux };
        // Only one socket per interface/family delivers packets (each raw socket sees
        // every VRRP packet on the interface); the others only send.
        const receiver = [...this.sockets.values()].find((x) => x.ifname === o.ifname && x.key.split('|')[1] === o.family);
        // (a send-only view for the others: class instances lose their methods when spread)
        const sendOnly: VrrpSocket = { send: (b, d) => socket.send(b, d), onPacket: () => {}, onError: (cb) => socket.onError(cb), close: () => socket.close() };
        entry.demux = attachVridDemux(receiver ? sendOnly : socket, [], {
          journal: this.deps.journal,
          ifname: o.ifname,
          logUnknownVrids: this.cfg.global.logUnknownVrids,
          onLog: (l, m) => this.log(l, m),
        });
        socket.onError((err) => this.log('error', `(${o.ifname}) VRRP socket error: ${err.message}`));
        s = entry;
        this.sockets.set(key, s);
      } catch (err) {
        this.log('error', `(${e.inst.name}) cannot open VRRP socket on ${o.ifname}: ${(err as Error).message}`);
        return;
      }
    }
    e.socket = s;
    s.runners.add(e.runner);
    this.refreshDemux(o.ifname, o.family);
  }

  /** The receiving socket of an interface/family demultiplexes to every instance on it. */
  private refreshDemux(ifname: string, family: string): void {
    const group = [...this.sockets.values()].filter((x) => x.ifname === ifname && x.key.split('|')[1] === family);
    if (!group.length) return;
    const all = group.flatMap((g) => [...g.runners]);
    group[0].demux.setRunners(all);
  }

  private detachSocket(e: InstanceEntry): void {
    const s = e.socket;
    if (!s) return;
    s.runners.delete(e.runner);
    e.socket = undefined;
    const family = s.key.split('|')[1];
    if (s.runners.size === 0) {
      this.sockets.delete(s.key);
      try {
        s.socket.close();
      } catch {
        /* closing a dead socket */
      }
    }
    this.refreshDemux(s.ifname, family);
  }

  private async ensureVmac(name: string, parent: string, mac: string, disableIpv6 = false): Promise<void> {
    if (!this.links.has(name)) {
      try {
        await this.deps.netlink.addMacvlan(name, parent, mac, 'private');
      } catch (e) {
        this.log('error', `cannot create VMAC ${name} on ${parent}: ${(e as Error).message}`);
        return;
      }
    }
    try {
      this.deps.vmacSysctl?.setup(name, parent, { disableIpv6 });
      await this.deps.netlink.setLinkUp(name, true);
    } catch (e) {
      this.log('error', `cannot bring VMAC ${name} up: ${(e as Error).message}`);
    }
    await this.refreshInterfaces();
  }

  private startEntries(entries: InstanceEntry[]): void {
    const starts = new Map<string, MemberStart>();
    for (const e of entries) {
      const { faults, pending, sum } = this.trackingOf(e);
      e.faults = new Set(faults.map((f) => f.source));
      e.weightSum = sum;
      // before start the FSM (INIT) only records the weight (fsm.ts trackWeight)
      if (sum !== 0) e.runner.setTrackWeight(sum, 'startup');
      starts.set(e.inst.name, { faults, pending });
    }
    // sync groups start together; lone instances start on their own
    const grouped = new Set<string>();
    for (const g of this.cfg.syncGroups) {
      const members = g.members.map((m) => entries.find((e) => e.inst.name === m)).filter((x): x is InstanceEntry => !!x);
      if (!members.length) continue;
      const old = this.groups.get(g.name);
      if (old) continue;
      const sg = new SyncGroupRunner(g.name, members.map((m) => m.runner), {
        journal: this.deps.journal,
        hooks: { onGroupNotify: (group, state) => this.deps.journal.emit({ type: 'vrrp.group_notify', group, state }) },
      });
      this.groups.set(g.name, sg);
      const st: Record<string, MemberStart> = {};
      for (const m of members) {
        st[m.inst.name] = starts.get(m.inst.name) ?? {};
        grouped.add(m.inst.name);
        m.started = true;
      }
      sg.start(st);
    }
    for (const e of entries) {
      if (grouped.has(e.inst.name)) continue;
      e.runner.start(starts.get(e.inst.name));
      e.started = true;
    }
  }

  // --------------------------------------------------------------- tracking

  /** Create/keep/remove tracker processes so they match the config (kept ones keep their state). */
  private syncTrackers(cfg: KeepwatchConfig): void {
    const used = { scripts: new Set<string>(), files: new Set<string>(), processes: new Set<string>() };
    for (const i of cfg.instances) {
      const r = trackRefs(i, cfg);
      r.scripts.forEach((t) => used.scripts.add(t.name));
      r.files.forEach((t) => used.files.add(t.name));
      r.processes.forEach((t) => used.processes.add(t.name));
    }
    for (const def of cfg.scripts) {
      if (!used.scripts.has(def.name)) continue;
      const sig = JSON.stringify([def.script.argv, def.intervalS, def.timeoutS, def.rise, def.fall, def.initFail, def.script.uid, def.script.gid]);
      const old = this.scripts.get(def.name);
      if (old && old.sig === sig) {
        old.def = def;
        continue;
      }
      old?.tracker.stop();
      if (def.script.disabled) {
        this.log('warning', `VRRP_Script(${def.name}) is disabled (${def.script.disabled})`);
        continue;
      }
      const tracker = new ScriptTracker(
        {
          name: def.name,
          command: commandLine(def.script),
          intervalMs: def.intervalS * 1000,
          timeoutMs: def.timeoutS * 1000,
          rise: def.rise,
          fall: def.fall,
          initFail: def.initFail,
          user: { uid: def.script.uid, gid: def.script.gid },
        },
        this.deps.journal,
        (name, ok) => {
          this.log('info', `VRRP_Script(${name}) ${ok ? 'succeeded' : 'failed'}`);
          this.retrack((e) => trackRefs(e.inst, this.cfg).scripts.some((t) => t.name === name), 'track_script');
        },
      );
      this.scripts.set(def.name, { def, sig, tracker });
      tracker.start();
    }
    for (const [name, s] of this.scripts) {
      if (!used.scripts.has(name) || !cfg.scripts.some((d) => d.name === name)) {
        s.tracker.stop();
        this.scripts.delete(name);
      }
    }
    for (const def of cfg.trackFiles) {
      if (!used.files.has(def.name) || this.files.has(def.name)) continue;
      const t = new FileTracker({ name: def.name, file: def.path, init: def.initFile }, (name, value) => {
        this.deps.journal.emit({ type: 'track.file', name, value });
        this.retrack((e) => trackRefs(e.inst, this.cfg).files.some((x) => x.name === name), 'track_file');
      });
      this.files.set(def.name, t);
      t.start();
    }
    for (const [name, t] of this.files) if (!used.files.has(name)) (t.stop(), this.files.delete(name));
    for (const def of cfg.trackProcesses) {
      if (!used.processes.has(def.name) || this.processes.has(def.name)) continue;
      const t = new ProcessTracker(
        {
          name: def.name,
          process: def.process,
          params: def.params,
          paramMatch: def.paramMatch === 'none' ? undefined : def.paramMatch,
          fullCommand: def.fullCommand,
          quorum: def.quorum,
          quorumMax: def.quorumMax,
        },
        (name, running, quorumMet) => {
          this.deps.journal.emit({ type: 'track.process', name, running, quorumMet });
          this.retrack((e) => trackRefs(e.inst, this.cfg).processes.some((x) => x.name === name), 'track_process');
        },
      );
      this.processes.set(def.name, t);
      t.start();
    }
    for (const [name, t] of this.processes) if (!used.processes.has(name)) (t.stop(), this.processes.delete(name));
  }

  private linkUp(name: string): boolean {
    const l = this.links.get(name);
    return !!l && l.up && l.running;
  }

  /** Current tracker statuses of an instance, keepalived weights resolved (tracking-object weight overrides the script's). */
  private statusesOf(e: InstanceEntry): TrackerStatus[] {
    const out: TrackerStatus[] = [];
    const refs = trackRefs(e.inst, this.cfg);
    for (const t of refs.interfaces) out.push({ kind: 'interface', name: t.name, weight: t.weight, reverse: t.reverse, ok: this.linkUp(t.name) });
    for (const t of refs.scripts) {
      const s = this.scripts.get(t.name);
      out.push({ kind: 'script', name: t.name, weight: t.weight, reverse: t.reverse, ok: s ? s.tracker.ok : false });
    }
    for (const t of refs.files) {
      const f = this.files.get(t.name);
      out.push({ kind: 'file', name: t.name, weight: t.weight, reverse: t.reverse, ok: null, value: f?.value ?? 0 });
    }
    for (const t of refs.processes) {
      const p = this.processes.get(t.name);
      out.push({ kind: 'process', name: t.name, weight: t.weight, reverse: t.reverse, ok: p ? p.quorumMet : false });
    }
    return out;
  }

  private trackingOf(e: InstanceEntry): { faults: FaultEntry[]; pending: string[]; sum: number } {
    const st = this.statusesOf(e);
    const faults: FaultEntry[] = [];
    const reasonOf: Record<TrackerStatus['kind'], TransitionReason> = { interface: 'interface_down', script: 'track_script', file: 'track_file', process: 'track_process', bfd: 'track_script' };
    for (const t of st) if (isFaulting(t)) faults.push({ source: `${t.kind}:${t.name}`, reason: reasonOf[t.kind] });
    // own interface (and the VMAC's parent) unless dont_track_primary
    const own = e.inst.interface ?? this.cfg.global.defaultInterface;
    if (!e.inst.dontTrackPrimary) {
      if (!this.linkUp(own)) faults.push({ source: `${IF_SOURCE}${own}`, reason: 'interface_down' });
      if (e.txIf !== own && !this.linkUp(e.txIf)) faults.push({ source: `${IF_SOURCE}${e.txIf}`, reason: 'interface_down' });
    } else if (!this.links.has(own)) {
      faults.push({ source: `${IF_SOURCE}${own}`, reason: 'interface_down' });
    }
    if (!e.socket) faults.push({ source: 'socket', reason: 'interface_down' });
    if (e.inst.configFault) faults.push({ source: 'config', reason: 'admin' });
    const pending = st.filter((t) => t.kind === 'script' && t.weight === 0 && t.ok === null).map((t) => `script:${t.name}`);
    const sum = st.filter((t) => !isFaulting(t)).reduce((a, t) => a + contribution(t), 0);
    return { faults, pending, sum };
  }

  /** Re-evaluate tracking for the instances `which` selects and feed differences to their FSMs. */
  private retrack(which: (e: InstanceEntry) => boolean, cause: string): void {
    if (this.stopping) return;
    for (const e of this.instances.values()) {
      if (!e.started || !which(e)) continue;
      const { faults, pending, sum } = this.trackingOf(e);
      const now = new Set(faults.map((f) => f.source));
      for (const f of faults) if (!e.faults.has(f.source)) e.runner.fault({ source: f.source, reason: f.reason, down: true });
      for (const src of e.faults) {
        if (now.has(src)) continue;
        const reason: TransitionReason = src.startsWith(IF_SOURCE) || src === 'socket' ? 'interface_up' : (src.split(':')[0] === 'script' ? 'track_script' : (`track_${src.split(':')[0]}` as TransitionReason));
        e.runner.fault({ source: src, reason, down: false });
      }
      e.faults = now;
      // a weight-0 script's first good result releases the instance from init
      // (keepalived num_script_init): the FSM keys pending scripts by the same source id
      for (const p of e.runner.state.pending) if (!pending.includes(p) && !now.has(p)) e.runner.fault({ source: p, reason: 'track_script', down: false });
      if (sum !== e.weightSum) {
        e.weightSum = sum;
        e.runner.setTrackWeight(sum, cause);
      }
    }
  }

  // ---------------------------------------------------------------- netlink

  private onNetlink(ev: NetlinkEvent): void {
    if (this.stopping) return;
    try {
      if (ev.kind === 'link') {
        const prev = this.links.get(ev.link.name);
        if (ev.op === 'del') this.links.delete(ev.link.name);
        else this.links.set(ev.link.name, ev.link);
        const wasUp = !!prev && prev.up && prev.running;
        const isUp = ev.op === 'new' && ev.link.up && ev.link.running;
        if (wasUp !== isUp) {
          this.log('info', `Netlink reports ${ev.link.name} ${isUp ? 'up' : 'down'}`);
          this.deps.journal.emit({ type: 'track.interface', intf: ev.link.name, up: isUp });
          // an interface that appears late gets its socket now
          if (isUp) for (const e of this.instances.values()) if (!e.socket && (e.txIf === ev.link.name || e.inst.interface === ev.link.name)) this.attachSocket(e);
          this.retrack((e) => e.txIf === ev.link.name || e.inst.interface === ev.link.name || trackRefs(e.inst, this.cfg).interfaces.some((t) => t.name === ev.link.name), 'track_interface');
        }
      } else if (ev.kind === 'route') {
        // RTM_DELROUTE of a route of ours (keepalived netlink_route_filter / route_is_ours)
        if (ev.op !== 'del') return;
        for (const e of this.instances.values()) {
          const r = e.runner.options.routes?.find((x) => routeEventMatches(ev.route, x));
          if (r) {
            e.runner.routeDeleted(r);
            return;
          }
        }
        this.statics?.routeDeleted(ev.route);
      } else if (ev.kind === 'rule') {
        if (ev.op !== 'del') return;
        for (const e of this.instances.values()) {
          const r = e.runner.options.rules?.find((x) => ruleEventMatches(ev.rule, x));
          if (r) {
            e.runner.ruleDeleted(r);
            return;
          }
        }
        this.statics?.ruleDeleted(ev.rule);
      } else {
        const a = ev.addr;
        if (ev.op === 'new') {
          if (!this.addrs.some((x) => x.address === a.address && x.ifname === a.ifname)) this.addrs.push(a);
          return;
        }
        this.addrs = this.addrs.filter((x) => !(x.address === a.address && x.ifname === a.ifname));
        // RTM_DELADDR of one of our VIPs while MASTER (keepalived: set_vrrp_backup)
        const ca = canonicalIp(a.address) ?? a.address;
        for (const e of this.instances.values()) {
          if (e.runner.state.state !== 'MASTER' || !e.runner.state.vipSet) continue;
          const hit = e.inst.virtualIpaddresses.find((v, i) => !v.noTrack && (canonicalIp(v.address) ?? v.address) === ca && e.runner.options.vips[i]?.ifname === a.ifname);
          if (hit) e.runner.vipDeleted();
        }
        // a deleted static_ipaddress is re-added (keepalived reinstate_static_address)
        this.statics?.addressDeleted(a);
      }
    } catch (err) {
      this.log('error', `netlink event handling failed: ${(err as Error).message}`);
    }
  }

  // ----------------------------------------------------------------- reload

  /** SIGHUP: apply a new, already validated config. Returns what changed. */
  async reload(cfg: KeepwatchConfig): Promise<{ added: string[]; removed: string[]; changed: string[] }> {
    const old = this.cfg;
    this.cfg = cfg;
    await this.refreshInterfaces();
    this.monitorRoutes(cfg);
    // keepalived start_vrrp (reload): clear_diff_static_* first; the additions follow on the same chain
    const staticsDone = this.statics?.reload(cfg);
    this.syncTrackers(cfg);
    const newKeys = new Map(cfg.instances.map((i) => [instanceKey(i), i]));
    const removed: string[] = [];
    const changed: string[] = [];
    const added: string[] = [];
    // sync-group membership changes: restart the affected instances
    const groupSig = (c: KeepwatchConfig, name?: string) => (name ? JSON.stringify(c.syncGroups.find((g) => g.name === name)?.members ?? []) : '');
    for (const [key, e] of this.instances) {
      const next = newKeys.get(key);
      if (!next || next.syncGroup !== e.inst.syncGroup || groupSig(old, e.inst.syncGroup) !== groupSig(cfg, next.syncGroup) || !!next.useVmac !== !!e.inst.useVmac) {
        removed.push(e.inst.name);
        // gone from the config (not restarted with changed membership): keepalived's deleted-instance notify
        if (!next) e.deleting = { prevState: e.runner.state.state };
        await this.stopEntry(e);
        this.instances.delete(key);
      }
    }
    for (const name of [...this.groups.keys()]) {
      const members = [...this.instances.values()].filter((e) => e.inst.syncGroup === name);
      if (!members.length) this.groups.delete(name);
    }
    const fresh: InstanceEntry[] = [];
    for (const inst of cfg.instances) {
      const key = instanceKey(inst);
      const e = this.instances.get(key);
      if (e) {
        const before = JSON.stringify(e.inst);
        e.inst = inst;
        const primary = primaryAddressOf(inst, this.addrs, this.vipAddressSet()) ?? e.runner.options.fsm.primaryAddress;
        const opts: InstanceOptions = instanceOptions(inst, cfg, primary);
        if (e.vmac) {
          opts.ifname = e.txIf;
          opts.vips = opts.vips.map((v, i) => (inst.virtualIpaddresses[i].dev ? v : { ...v, ifname: e.vmac! }));
        }
        const sockBefore = JSON.stringify(this.socketOptions(e));
        e.runner.reload(opts);
        if (JSON.stringify(this.socketOptions(e)) !== sockBefore) {
          this.detachSocket(e);
          this.attachSocket(e);
        }
        if (JSON.stringify(inst) !== before) changed.push(inst.name);
      } else {
        const ne = await this.createInstance(inst);
        if (ne) {
          fresh.push(ne);
          added.push(inst.name);
        }
      }
    }
    this.startEntries(fresh);
    this.retrack(() => true, 'reload');
    await staticsDone;
    return { added, removed: removed.filter((n) => !added.includes(n)), changed };
  }

  private async stopEntry(e: InstanceEntry): Promise<void> {
    const g = e.inst.syncGroup ? this.groups.get(e.inst.syncGroup) : undefined;
    if (g) {
      this.groups.delete(e.inst.syncGroup!);
      await g.stop();
    } else {
      await e.runner.stop();
    }
    this.detachSocket(e);
    await this.dropVmac(e);
  }

  /**
   * Delete the VMAC an instance created and give the parent its ARP sysctls back when its
   * last VMAC goes (keepalived restore_vrrp_interfaces / reset_interface_parameters).
   */
  private async dropVmac(e: InstanceEntry): Promise<void> {
    if (!e.vmac) return;
    await this.deps.netlink.delLink(e.vmac).catch(() => undefined);
    try {
      this.deps.vmacSysctl?.release?.(e.inst.interface ?? this.cfg.global.defaultInterface);
    } catch {
      /* sysctl restore is best effort */
    }
  }

  // ------------------------------------------------------------------- stop

  /** Clean stop: priority-0 adverts, VIPs removed, STOP notifies; trackers stopped. */
  async stop(): Promise<void> {
    this.stopping = true;
    const done: Promise<void>[] = [];
    for (const g of this.groups.values()) done.push(g.stop());
    for (const e of this.instances.values()) if (!e.inst.syncGroup || !this.groups.has(e.inst.syncGroup)) done.push(e.runner.stop());
    await Promise.all(done.map((p) => p.catch(() => undefined)));
    for (const s of this.scripts.values()) s.tracker.stop();
    for (const f of this.files.values()) f.stop();
    for (const p of this.processes.values()) p.stop();
    for (const e of this.instances.values()) {
      this.detachSocket(e);
      await this.dropVmac(e);
    }
    // keepalived vrrp_terminate_phase1 "Clear static entries" (after the instances, also with -V)
    await this.statics?.stop();
    this.running = false;
  }

  /**
   * SNMP SET of vrrpInstanceBasePriority / vrrpInstancePreempt (keepalived
   * vrrp_snmp_instance_priority / _preempt): applied like a reload of that one
   * instance, so state, VIPs and counters are kept. Only reachable when the operator
   * enabled writable SNMP (--snmp.writable).
   */
  setBasePriority(name: string, priority: number): { ok: true } | { ok: false; error: string } {
    const e = [...this.instances.values()].find((x) => x.inst.name === name);
    if (!e) return { ok: false, error: `no instance ${name}` };
    if (!Number.isInteger(priority) || priority < 1 || priority > 254) return { ok: false, error: 'priority must be 1..254' };
    if (e.inst.priority === 255) return { ok: false, error: 'an address owner keeps priority 255' };
    e.inst = { ...e.inst, priority };
    e.runner.reload({ ...e.runner.options, fsm: { ...e.runner.options.fsm, priority } });
    return { ok: true };
  }

  setPreempt(name: string, preempt: boolean): { ok: true } | { ok: false; error: string } {
    const e = [...this.instances.values()].find((x) => x.inst.name === name);
    if (!e) return { ok: false, error: `no instance ${name}` };
    e.inst = { ...e.inst, nopreempt: !preempt };
    e.runner.reload({ ...e.runner.options, fsm: { ...e.runner.options.fsm, nopreempt: !preempt } });
    return { ok: true };
  }

  /** STATS_CLEAR: zero every instance's counters (keepalived vrrp_print_stats(true)). */
  clearStats(): void {
    for (const e of this.instances.values()) {
      for (const k of Object.keys(e.runner.stats) as (keyof typeof e.runner.stats)[]) e.runner.stats[k] = 0;
      this.deps.journal.emit({ type: 'vrrp.stats_cleared', instance: e.inst.name, vrid: e.inst.vrid, intf: e.txIf });
    }
  }

  // --------------------------------------------------------------- snapshot

  instanceSnapshots(vrrpDomain?: string): InstanceSnapshot[] {
    const out: InstanceSnapshot[] = [];
    for (const e of this.instances.values()) {
      const p = e.runner.snapshotPart();
      const inst = e.inst;
      const dev = e.runner.options.ifname;
      const installed = e.runner.state.vipSet;
      const link = this.links.get(e.txIf);
      const refs = trackRefs(inst, this.cfg);
      // Every field written out, no `...p` spread: V8 turns a spread followed by ~40 more
      // properties into a dictionary-mode object, 12 KB per instance instead of 1.1 KB
      // (measured), and snapshots are taken for every scrape, dump and SNMP walk.
      out.push({
        iname: p.iname,
        vrid: p.vrid,
        version: p.version,
        family: p.family,
        state: p.state,
        wantstate: p.wantstate,
        base_priority: p.base_priority,
        effective_priority: p.effective_priority,
        master_priority: p.master_priority,
        master_address: p.master_address,
        adver_int: p.adver_int,
        master_adver_int: p.master_adver_int,
        skew_time: p.skew_time,
        master_down_interval: p.master_down_interval,
        master_down_remaining: p.master_down_remaining,
        last_transition: p.last_transition,
        last_advert_received: p.last_advert_received,
        time_in_state: p.time_in_state,
        vipset: p.vipset,
        stats: p.stats,
        adverts_received_in_master: p.adverts_received_in_master,
        garp_sent: p.garp_sent,
        na_sent: p.na_sent,
        unicast: p.unicast,
        ifp_ifname: inst.interface ?? '',
        ifindex: link?.index ?? 0,
        vmac_ifname: e.vmac ?? '',
        accept: inst.accept,
        nopreempt: inst.nopreempt,
        preempt_delay: inst.preemptDelayMs / 1000,
        unicast_peers: inst.unicastPeers.map((u) => u.address),
        dont_track_primary: inst.dontTrackPrimary,
        skip_check_adv_addr: inst.skipCheckAdvAddr,
        strict_mode: inst.strictMode,
        garp_delay: inst.garpMasterDelayS,
        garp_refresh: inst.garpMasterRefreshS,
        garp_rep: inst.garpMasterRepeat,
        garp_refresh_rep: inst.garpMasterRefreshRepeat,
        garp_lower_prio_delay: inst.garpLowerPrioDelayS,
        garp_lower_prio_rep: inst.garpLowerPrioRepeat,
        lower_prio_no_advert: inst.lowerPrioNoAdvert,
        higher_prio_send_advert: inst.higherPrioSendAdvert,
        promote_secondaries: inst.promoteSecondaries,
        smtp_alert: inst.smtpAlert,
        notify_deleted: !!inst.notify.deleted,
        script: inst.notify.generic ? commandText(inst.notify.generic) : '',
        vips: inst.virtualIpaddresses.map((v, i) => ({
          text: vipText(v, e.runner.options.vips[i]?.ifname ?? dev) + (installed ? ' set' : ''),
          address: v.address,
          prefix: v.prefixLen,
          dev: e.runner.options.vips[i]?.ifname ?? dev,
          installed,
          excluded: false,
        })),
        evips: inst.virtualIpaddressesExcluded.map((v, i) => ({
          text: vipText(v, e.runner.options.evips?.[i]?.ifname ?? dev) + (installed ? ' set' : ''),
          address: v.address,
          prefix: v.prefixLen,
          dev: e.runner.options.evips?.[i]?.ifname ?? dev,
          installed,
          excluded: true,
        })),
        // keepalived vrrp_json.c: vroutes / vrules in format_iproute / format_iprule text
        vroutes: (e.runner.options.routes ?? []).map((r) => r.text ?? ''),
        vrules: (e.runner.options.rules ?? []).map((r) => r.text ?? ''),
        track_script: refs.scripts.map((t) => {
          const s = this.scripts.get(t.name);
          return s ? commandText(s.def.script) : t.name;
        }),
        track_interface: refs.interfaces.map((t) => t.name),
        // vrrpTrackedInterfaceTable is indexed by ifIndex (KEEPALIVED-MIB)
        track_ifp: refs.interfaces.map((t) => ({ name: t.name, ifindex: this.links.get(t.name)?.index ?? 0, weight: t.weight, weight_reverse: t.reverse })),
        // KEEPALIVED-MIB vrrpTrackedScriptTable: the weight THIS instance applies — a
        // track_script "weight" overrides the script's own (keepalived alloc_track_script)
        track_script_weights: refs.scripts.map((t) => ({ name: t.name, weight: t.weight, weight_reverse: t.reverse })),
        // vrrpInstanceInitialState is the configured `state` (keepalived configured_state), not wantstate
        initial_state: inst.state,
        auth_type: inst.authentication?.type === 'PASS' ? 1 : inst.authentication?.type === 'AH' ? 2 : 0,
        vrrp_domain: vrrpDomain ?? '',
        sync_group: inst.syncGroup ?? '',
      } satisfies InstanceSnapshot);
    }
    return out;
  }

  syncGroupSnapshots(): SyncGroupSnapshot[] {
    return [...this.groups.entries()].map(([name, g]) => ({ name, state: g.state, members: this.cfg.syncGroups.find((x) => x.name === name)?.members ?? [] }));
  }

  scriptSnapshots(): ScriptSnapshot[] {
    return [...this.scripts.values()].map(({ def, tracker }) => ({
      name: def.name,
      command: commandText(def.script),
      status: tracker.counter.status,
      state: tracker.state,
      interval: def.intervalS,
      weight: def.weight,
      rise: def.rise,
      fall: def.fall,
    }));
  }

  trackedInterfaceSnapshots(): { name: string; up: boolean }[] {
    if (!this.cfg) return []; // -C: the VRRP engine never started
    const names = new Set<string>();
    for (const i of this.cfg.instances) for (const t of trackRefs(i, this.cfg).interfaces) names.add(t.name);
    return [...names].map((name) => ({ name, up: this.linkUp(name) }));
  }

  globalErrors(): { checksum_err: number; version_err: number; vrid_err: number } {
    const g = { checksum_err: 0, version_err: 0, vrid_err: 0 };
    for (const e of this.instances.values()) {
      g.checksum_err += e.runner.globalErrors.checksum_err;
      g.version_err += e.runner.globalErrors.version_err;
      g.vrid_err += e.runner.globalErrors.vrid_err;
    }
    return g;
  }
}
