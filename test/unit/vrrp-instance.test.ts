import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import type { JournalEvent } from '../../src/journal/events';
import { Journal } from '../../src/journal/journal';
import type { AddressInfo, AddressSpec, Announcer, Netlink, NetlinkEvent, ReceivedPacket, VrrpSocket } from '../../src/net/types';
import { fsmConfig, type FsmConfig } from '../../src/vrrp/fsm';
import { attachVridDemux, InstanceRunner, realScheduler, SyncGroupRunner, type InstanceOptions, type Scheduler, type TimerHandle } from '../../src/vrrp/instance';
import { buildIpv4Header, decodeAdvert, encodeAdvert, isMulticast } from '../../src/vrrp/packet';

// ---- fakes: they record calls; the kernel-facing tests live in test/netns ----

class FakeScheduler implements Scheduler {
  t = 0;
  private q: Array<{ at: number; cb: () => void; dead: boolean; seq: number }> = [];
  private seq = 0;
  now(): number {
    return this.t;
  }
  at(at: number, cb: () => void): TimerHandle {
    const e = { at, cb, dead: false, seq: this.seq++ };
    this.q.push(e);
    return { cancel: () => (e.dead = true) };
  }
  pending(): number {
    return this.q.filter((e) => !e.dead).length;
  }
  /** run every timer due up to `t`, in deadline order, each at its own deadline */
  advance(t: number): void {
    for (;;) {
      const live = this.q.filter((e) => !e.dead && e.at <= t).sort((a, b) => a.at - b.at || a.seq - b.seq);
      if (!live.length) break;
      const e = live[0];
      e.dead = true;
      this.t = Math.max(this.t, e.at);
      e.cb();
    }
    this.t = Math.max(this.t, t);
    this.q = this.q.filter((e) => !e.dead);
  }
}

class FakeSocket implements VrrpSocket {
  sent: Array<{ vrrp: Buffer; dst: string; at: number }> = [];
  private cbs: Array<(p: ReceivedPacket) => void> = [];
  /** delivery to the other sockets on the LAN */
  peers: FakeSocket[] = [];
  up = true;
  failSends = false;
  constructor(
    readonly src: string,
    private readonly sched: FakeScheduler,
  ) {}
  send(vrrp: Buffer, dst: string): void {
    if (this.failSends) throw new Error('ENETUNREACH');
    this.sent.push({ vrrp: Buffer.from(vrrp), dst, at: this.sched.now() });
    if (!this.up) return;
    if (dst.includes(':')) {
      // IPv6: the kernel gives us src, dst (IPV6_PKTINFO) and the hop limit (IPV6_HOPLIMIT)
      for (const p of this.peers) if (p.up) p.inject({ vrrp: Buffer.from(vrrp), src: this.src, dst, ttl: 255, ifname: 'eth0' });
      return;
    }
    const ip = buildIpv4Header({ src: this.src, dst, ttl: 255, id: this.sent.length, payloadLength: vrrp.length });
    for (const p of this.peers) if (p.up && (isMulticast(dst) || dst === p.src)) p.inject({ vrrp: Buffer.from(vrrp), ipHeader: ip, src: this.src, ifname: 'eth0' });
  }
  inject(p: ReceivedPacket): void {
    for (const cb of this.cbs) cb(p);
  }
  onPacket(cb: (p: ReceivedPacket) => void): void {
    this.cbs.push(cb);
  }
  onError(): void {}
  close(): void {}
}

class FakeNetlink implements Netlink {
  addrs: AddressInfo[] = [];
  calls: string[] = [];
  failAdd: string | null = null;
  async getLinks() {
    return [];
  }
  async getAddresses() {
    return this.addrs;
  }
  async addAddress(a: AddressSpec) {
    this.calls.push(`add ${a.address}`);
    if (this.failAdd) throw new Error(this.failAdd);
    if (this.addrs.some((x) => x.address === a.address)) throw new Error('EEXIST');
    this.addrs.push({ ...a, ifindex: 2 });
  }
  async delAddress(a: AddressSpec) {
    this.calls.push(`del ${a.address}`);
    const i = this.addrs.findIndex((x) => x.address === a.address);
    if (i < 0) throw new Error('EADDRNOTAVAIL');
    this.addrs.splice(i, 1);
  }
  async addMacvlan() {}
  async delLink() {}
  async setLinkUp() {}
  onEvent(_cb: (e: NetlinkEvent) => void) {}
  close() {}
}

class FakeAnnouncer implements Announcer {
  garps: Array<{ ifname: string; addrs: string[]; at: number }> = [];
  nas: Array<{ ifname: string; addrs: string[] }> = [];
  constructor(private readonly sched: FakeScheduler) {}
  async garp(ifname: string, addresses: string[]) {
    this.garps.push({ ifname, addrs: addresses, at: this.sched.now() });
    return addresses.length;
  }
  async unsolicitedNa(ifname: string, addresses: string[]) {
    this.nas.push({ ifname, addrs: addresses });
    return addresses.length;
  }
  close() {}
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));
const VIP: AddressSpec = { family: 'ipv4', address: '192.0.2.50', prefix: 24, ifname: 'eth0' };

interface Node {
  r: InstanceRunner;
  sock: FakeSocket;
  nl: FakeNetlink;
  an: FakeAnnouncer;
  events: JournalEvent[];
  logs: string[];
  notifies: string[];
}

function node(sched: FakeScheduler, name: string, src: string, fsm: Partial<FsmConfig>, extra: Partial<InstanceOptions> = {}): Node {
  const journal = new Journal({ mono: () => sched.now(), wall: () => 1_700_000_000_000 + sched.now() });
  const events: JournalEvent[] = [];
  journal.subscribe((e) => events.push(e));
  const sock = new FakeSocket(src, sched);
  const nl = new FakeNetlink();
  const an = new FakeAnnouncer(sched);
  const logs: string[] = [];
  const notifies: string[] = [];
  const r = new InstanceRunner(
    { name, ifname: 'eth0', fsm: fsmConfig({ vrid: 51, primaryAddress: src, ...fsm }), vips: [VIP], ...extra },
    { socket: sock, netlink: nl, announcer: an, journal, scheduler: sched, hooks: { onLog: (_l, m) => logs.push(m), onNotify: (i, s) => notifies.push(`${i}:${s}`) } },
  );
  sock.onPacket((p) => r.handlePacket(p));
  return { r, sock, nl, an, events, logs, notifies };
}

function lan(sched: FakeScheduler, version: 2 | 3 = 2, advertIntMs = 1000): [Node, Node] {
  const h1 = node(sched, 'VI_1', '192.0.2.11', { version, advertIntMs, priority: 150, initialState: 'MASTER' });
  const h2 = node(sched, 'VI_1', '192.0.2.12', { version, advertIntMs, priority: 100 });
  h1.sock.peers = [h2.sock];
  h2.sock.peers = [h1.sock];
  return [h1, h2];
}

const ofType = <T extends JournalEvent['type']>(evs: JournalEvent[], t: T): Extract<JournalEvent, { type: T }>[] => evs.filter((e): e is Extract<JournalEvent, { type: T }> => e.type === t);

describe('InstanceRunner with fake adapters', () => {
  it('start-up: h1 becomes MASTER at MDI(h1): one advert, then the VIP, then 5 GARPs, all journalled', async () => {
    const sched = new FakeScheduler();
    const [h1, h2] = lan(sched);
    h1.r.start();
    h2.r.start();
    await flush();
    sched.advance(3414.062);
    await flush();
    expect(h1.r.state.state).toBe('MASTER');
    expect(h2.r.state.state).toBe('BACKUP');
    expect(h1.sock.sent.map((s) => s.at)).toEqual([3414.062]);
    expect(h1.nl.calls).toEqual(['add 192.0.2.50']);
    expect(h1.an.garps.length).toBe(5);
    expect(ofType(h1.events, 'vrrp.transition').map((e) => `${e.from}>${e.to}:${e.reason}`)).toEqual(['INIT>BACKUP:startup', 'BACKUP>MASTER:master_timeout']);
    expect(ofType(h1.events, 'vrrp.master_down')).toMatchObject([{ intervalMs: 3414.062 }]);
    expect(ofType(h1.events, 'vrrp.vip')).toMatchObject([{ op: 'add', address: '192.0.2.50', ok: true }]);
    // one journal event per VIP and burst, carrying the 5 frames (keepalived logs once per VIP, then per frame)
    expect(ofType(h1.events, 'vrrp.garp')).toMatchObject([{ family: 'ipv4', count: 5, dev: 'eth0', address: '192.0.2.50' }]);
    expect(h1.notifies).toEqual(['VI_1:BACKUP', 'VI_1:MASTER']);
    expect(h1.logs).toContain('(VI_1) Entering MASTER STATE');
    // the backup received it through the real codec
    expect(h2.r.stats.advert_rcvd).toBe(1);
    expect(ofType(h2.events, 'vrrp.advert.received')).toMatchObject([{ src: '192.0.2.11', priority: 150, advertIntCs: 100, inMaster: false }]);
    // the second GARP burst exactly 5 s after becoming MASTER
    sched.advance(8414.062);
    await flush();
    expect(h1.an.garps.map((g) => g.at)).toEqual([...Array(5).fill(3414.062), ...Array(5).fill(8414.062)]);
    // steady state: one advert per second, lag 0 on the fake clock, h2 never takes over
    sched.advance(3414.062 + 10_000);
    await flush();
    expect(h1.r.stats.advert_sent).toBe(11);
    expect(ofType(h1.events, 'vrrp.advert.sent').every((e) => e.lagMs === 0)).toBe(true);
    expect(h2.r.state.state).toBe('BACKUP');
    expect(h2.r.stats.advert_rcvd).toBe(11);
    expect(h1.an.garps.length).toBe(10);
    // the snapshot view (keepalived JSON units: seconds)
    expect(h1.r.snapshotPart()).toMatchObject({ state: 'MASTER', wantstate: 'MASTER', effective_priority: 150, master_priority: 150, master_address: '192.0.2.11', adver_int: 1, vipset: true, master_down_remaining: null });
    expect(h1.r.snapshotPart().time_in_state.BACKUP).toBeCloseTo(3.414062, 9);
    expect(h1.r.snapshotPart().time_in_state.MASTER).toBeCloseTo(10, 9);
    expect(h2.r.snapshotPart()).toMatchObject({ state: 'BACKUP', master_priority: 150, master_address: '192.0.2.11', skew_time: 0.609375, master_down_interval: 3.609375 });
    // h1 advertised at this very instant, so the full interval remains
    expect(h2.r.snapshotPart().master_down_remaining).toBeCloseTo(3.609375, 6);
  });

  it('stop(): priority 0 and VIP removal; the backup takes over after its Skew_Time', async () => {
    const sched = new FakeScheduler();
    const [h1, h2] = lan(sched);
    h1.r.start();
    h2.r.start();
    sched.advance(5000);
    await flush();
    await h1.r.stop();
    expect(h1.r.state.state).toBe('STOP');
    expect(h1.r.stats.pri_zero_sent).toBe(1);
    expect(decodeAdvert({ vrrp: h1.sock.sent[h1.sock.sent.length - 1].vrrp, src: '192.0.2.11', dst: '224.0.0.18' }, { family: 'ipv4', version: 2, vrid: 51, authType: 0, vips: ['192.0.2.50'], advertIntMs: 1000, unicast: false, checkVipAddr: true })).toMatchObject({ ok: true, advert: { priority: 0 } });
    expect(h1.nl.calls).toEqual(['add 192.0.2.50', 'del 192.0.2.50']);
    expect(h1.notifies.pop()).toBe('VI_1:STOP');
    expect(sched.pending()).toBeGreaterThan(0); // h2's timer
    sched.advance(5000 + 609.375);
    await flush();
    expect(h2.r.state.state).toBe('MASTER');
    expect(h2.r.stats.pri_zero_rcvd).toBe(1);
    expect(ofType(h2.events, 'vrrp.transition').pop()).toMatchObject({ to: 'MASTER', reason: 'priority_zero_received' });
  });

  it('invalid packets are counted under keepalived\'s names and journalled; FAULT ignores packets', () => {
    const sched = new FakeScheduler();
    const n = node(sched, 'VI_1', '192.0.2.12', {});
    n.r.start();
    const mk = (o: { ttl?: number; int?: number; vrid?: number }): ReceivedPacket => {
      const v = encodeAdvert({ version: 2, vrid: o.vrid ?? 51, priority: 150, advertIntSec: o.int ?? 1, addresses: ['192.0.2.50'] }, { family: 'ipv4' });
      return { vrrp: v, ipHeader: buildIpv4Header({ src: '192.0.2.11', dst: '224.0.0.18', ttl: o.ttl ?? 255, id: 1, payloadLength: v.length }), src: '192.0.2.11', ifname: 'eth0' };
    };
    n.sock.inject(mk({ ttl: 64 }));
    n.sock.inject(mk({ int: 2 }));
    n.sock.inject(mk({}));
    expect(n.r.stats.ip_ttl_err).toBe(1);
    expect(n.r.stats.advert_interval_err).toBe(0); // keepalived never counts it
    expect(n.r.stats.advert_rcvd).toBe(1);
    // a VIP missing from the advert fails after keepalived's "count as received" point
    const other = encodeAdvert({ version: 2, vrid: 51, priority: 150, advertIntSec: 1, addresses: ['192.0.2.99'] }, { family: 'ipv4' });
    n.sock.inject({ vrrp: other, ipHeader: buildIpv4Header({ src: '192.0.2.13', dst: '224.0.0.18', ttl: 255, id: 1, payloadLength: other.length }), src: '192.0.2.13', ifname: 'eth0' });
    expect([n.r.stats.addr_list_err, n.r.stats.advert_rcvd]).toEqual([1, 2]);
    expect(ofType(n.events, 'vrrp.error').map((e) => e.counter)).toEqual(['ip_ttl_err', 'advert_interval_err', 'addr_list_err']);
    expect(n.logs).toContain('(VI_1) invalid TTL/HL. Received 64 and expect 255');
    n.r.fault({ source: 'intf:eth0', reason: 'interface_down', down: true });
    n.sock.inject(mk({ ttl: 64 }));
    expect(n.r.stats.ip_ttl_err).toBe(1);
  });

  it('adapter failures become journal events and logs, never exceptions', async () => {
    const sched = new FakeScheduler();
    const n = node(sched, 'VI_1', '192.0.2.12', {});
    n.nl.failAdd = 'EPERM';
    n.sock.failSends = true;
    n.r.start();
    sched.advance(4000);
    await flush();
    expect(n.r.state.state).toBe('MASTER');
    expect(ofType(n.events, 'vrrp.vip')).toMatchObject([{ op: 'add', ok: false, error: 'EPERM' }]);
    expect(n.logs.some((l) => l.includes('send advert error'))).toBe(true);
    expect(n.logs.some((l) => l.includes('cannot add VIP 192.0.2.50'))).toBe(true);
    // an address that is already there is fine
    n.nl.failAdd = null;
    n.r.vipDeleted();
    await flush();
    n.nl.addrs.push({ ...VIP, ifindex: 2 });
    sched.advance(4000 + 609.375);
    await flush();
    expect(ofType(n.events, 'vrrp.vip').pop()).toMatchObject({ op: 'add', ok: true, error: 'EEXIST' });
  });

  it('removes VIPs left on the interface at start (after a crash), only those present', async () => {
    const sched = new FakeScheduler();
    const n = node(sched, 'VI_1', '192.0.2.12', {}, { evips: [{ family: 'ipv4', address: '198.51.100.7', prefix: 32, ifname: 'eth1' }] });
    n.nl.addrs.push({ ...VIP, ifindex: 2 });
    n.r.start();
    await flush();
    expect(n.nl.calls).toEqual(['del 192.0.2.50']);
    expect(ofType(n.events, 'vrrp.vip')).toMatchObject([{ op: 'remove', address: '192.0.2.50', ok: true }]);
  });

  it('unicast: one copy per peer, counted once; the old v3 unicast checksum is detected and adopted', async () => {
    const sched = new FakeScheduler();
    const peers = [{ address: '192.0.2.11' }, { address: '192.0.2.13' }];
    const n = node(sched, 'VI_1', '192.0.2.12', { version: 3, advertIntMs: 100, unicast: true }, { unicastPeers: peers });
    n.r.start();
    // a keepalived ≤1.3.6 peer: pseudo-header destination = 224.0.0.18 although unicast
    const v = encodeAdvert({ version: 3, vrid: 51, priority: 150, advertIntCs: 10, addresses: ['192.0.2.50'] }, { family: 'ipv4', src: '192.0.2.11', dst: '192.0.2.12', checksumMode: 'old' });
    n.sock.inject({ vrrp: v, ipHeader: buildIpv4Header({ src: '192.0.2.11', dst: '192.0.2.12', ttl: 255, id: 1, payloadLength: v.length }), src: '192.0.2.11', ifname: 'eth0' });
    expect(n.r.stats.advert_rcvd).toBe(1);
    expect(n.logs).toContain('(VI_1) Setting unicast VRRPv3 checksum to old version');
    n.r.vipDeleted(); // no-op in BACKUP
    n.r.fault({ source: 'x', reason: 'track_script', down: true });
    n.r.fault({ source: 'x', reason: 'track_script', down: false });
    await flush();
    expect(n.an.garps.map((g) => g.addrs)).toEqual([['192.0.2.12']]); // GARP for our source on leaving FAULT
    sched.advance(361); // v3 100 ms, priority 100: MDI 360.937 ms after leaving FAULT at 0
    expect(n.r.state.state).toBe('MASTER');
    expect(n.sock.sent.map((s) => s.dst)).toEqual(['192.0.2.11', '192.0.2.13']);
    expect(n.r.stats.advert_sent).toBe(1);
    for (const s of n.sock.sent) {
      const r = decodeAdvert({ vrrp: s.vrrp, src: '192.0.2.12', dst: s.dst }, { family: 'ipv4', version: 3, vrid: 51, authType: 0, vips: ['192.0.2.50'], advertIntMs: 100, unicast: true, checkVipAddr: true, checksumMode: 'old' });
      expect(r.ok).toBe(true);
    }
  });

  it('priority changes patch the cached advert (what goes out equals a fresh encode)', () => {
    const sched = new FakeScheduler();
    const n = node(sched, 'VI_1', '192.0.2.12', { version: 3, advertIntMs: 100 });
    n.r.start();
    sched.advance(400);
    n.r.setTrackWeight(-30, 'script chk');
    sched.advance(500);
    const last = n.sock.sent[n.sock.sent.length - 1].vrrp;
    expect(last).toEqual(encodeAdvert({ version: 3, vrid: 51, priority: 70, advertIntCs: 10, addresses: ['192.0.2.50'] }, { family: 'ipv4', src: '192.0.2.12', dst: '224.0.0.18' }));
    expect(ofType(n.events, 'vrrp.priority')).toMatchObject([{ from: 100, to: 70, cause: 'script chk' }]);
  });

  it('reload keeps state and counters; removed VIPs go, new ones come, with one GARP burst', async () => {
    const sched = new FakeScheduler();
    const n = node(sched, 'VI_1', '192.0.2.12', {});
    n.r.start();
    sched.advance(4000);
    await flush();
    const sent = n.r.stats.advert_sent;
    const garps = n.an.garps.length;
    const vip2: AddressSpec = { family: 'ipv4', address: '192.0.2.51', prefix: 24, ifname: 'eth0' };
    n.r.reload({ ...n.r.options, vips: [vip2] });
    sched.advance(4000.5);
    await flush();
    expect(n.r.state.state).toBe('MASTER');
    expect(n.r.stats.advert_sent).toBe(sent + 1); // reload_master: an advert at once
    expect(n.nl.calls.slice(-2)).toEqual(['del 192.0.2.50', 'add 192.0.2.51']);
    expect(n.an.garps.length - garps).toBe(5);
    expect(n.an.garps[n.an.garps.length - 1].addrs).toEqual(['192.0.2.51']);
  });
});

describe('IPv6 (VRRPv3)', () => {
  it('two IPv6 instances elect through the real codec; the master sends unsolicited NAs, not GARPs', async () => {
    const sched = new FakeScheduler();
    const vip6: AddressSpec = { family: 'ipv6', address: '2001:db8::50', prefix: 64, ifname: 'eth0' };
    const mk = (name: string, src: string, priority: number): Node => node(sched, name, src, { version: 3, family: 'ipv6', advertIntMs: 1000, priority }, { vips: [vip6] });
    const h1 = mk('VI_6', 'fe80::ff:fe00:1', 150);
    const h2 = mk('VI_6', 'fe80::ff:fe00:2', 100);
    h1.sock.peers = [h2.sock];
    h2.sock.peers = [h1.sock];
    h1.r.start();
    h2.r.start();
    sched.advance(5000);
    await flush();
    expect([h1.r.state.state, h2.r.state.state]).toEqual(['MASTER', 'BACKUP']);
    expect(h1.an.nas.length).toBe(5);
    expect(h1.an.garps.length).toBe(0);
    expect(h2.r.stats.advert_rcvd).toBe(2);
    // what went on the wire is exactly what keepalived sent in the reference capture (vrrp-v3-ipv6.txt)
    expect(h1.sock.sent[0].vrrp.toString('hex')).toBe('3133960100640d3f20010db8000000000000000000000050');
  });
});

describe('attachVridDemux', () => {
  it('routes by VRID; unknown VRIDs are journalled only with log_unknown_vrids', () => {
    const sched = new FakeScheduler();
    const a = node(sched, 'VI_A', '192.0.2.12', { vrid: 51 });
    const b = node(sched, 'VI_B', '192.0.2.12', { vrid: 52 });
    const shared = new FakeSocket('192.0.2.12', sched);
    const journal = new Journal({ mono: () => 0, wall: () => 0 });
    const evs: JournalEvent[] = [];
    journal.subscribe((e) => evs.push(e));
    attachVridDemux(shared, [a.r, b.r], { journal, ifname: 'eth0', logUnknownVrids: true });
    a.r.start();
    b.r.start();
    for (const vrid of [51, 52, 52, 99]) {
      const v = encodeAdvert({ version: 2, vrid, priority: 150, advertIntSec: 1, addresses: ['192.0.2.50'] }, { family: 'ipv4' });
      shared.inject({ vrrp: v, ipHeader: buildIpv4Header({ src: '192.0.2.11', dst: '224.0.0.18', ttl: 255, id: 1, payloadLength: v.length }), src: '192.0.2.11', ifname: 'eth0' });
    }
    shared.inject({ vrrp: Buffer.alloc(3), src: '192.0.2.11', ifname: 'eth0' });
    expect([a.r.stats.advert_rcvd, b.r.stats.advert_rcvd]).toEqual([1, 2]);
    expect(evs).toMatchObject([{ type: 'vrrp.global_error', counter: 'vrid_err' }]);
  });
});

describe('SyncGroupRunner', () => {
  it('members go MASTER together and leave together; the group transition is journalled', async () => {
    const sched = new FakeScheduler();
    const a = node(sched, 'VI_A', '192.0.2.12', { vrid: 51 });
    const b = node(sched, 'VI_B', '192.0.2.12', { vrid: 52 }, { vips: [{ ...VIP, address: '192.0.2.60' }] });
    const journal = new Journal({ mono: () => sched.now(), wall: () => 0 });
    const gevs: JournalEvent[] = [];
    journal.subscribe((e) => gevs.push(e));
    const notified: string[] = [];
    const g = new SyncGroupRunner('G1', [a.r, b.r], { journal, scheduler: sched, hooks: { onGroupNotify: (n, s) => notified.push(`${n}:${s}`) } });
    g.start();
    sched.advance(4000);
    await flush();
    expect([a.r.state.state, b.r.state.state, g.state]).toEqual(['MASTER', 'MASTER', 'MASTER']);
    expect(notified).toEqual(['G1:BACKUP', 'G1:MASTER']);
    expect(ofType(gevs, 'vrrp.sync_group').map((e) => `${e.from}>${e.to}`)).toEqual(['INIT>BACKUP', 'BACKUP>MASTER']);
    // a fault on one member takes both to FAULT; both VIPs go
    b.r.fault({ source: 'intf:eth1', reason: 'interface_down', down: true });
    await flush();
    expect([a.r.state.state, b.r.state.state, g.state]).toEqual(['FAULT', 'FAULT', 'FAULT']);
    expect([a.nl.calls, b.nl.calls]).toEqual([
      ['add 192.0.2.50', 'del 192.0.2.50'],
      ['add 192.0.2.60', 'del 192.0.2.60'],
    ]);
    await g.stop();
    expect(notified.pop()).toBe('G1:STOP');
  });
});

describe('realScheduler (real timers)', () => {
  it('never fires before its deadline, and a cancelled timer never fires', async () => {
    const fired: Array<{ at: number; now: number }> = [];
    let cancelledFired = false;
    const start = performance.now();
    const deadlines = [start + 3.3, start + 7.7, start + 12.1];
    const c = realScheduler.at(start + 5, () => (cancelledFired = true));
    c.cancel();
    await new Promise<void>((resolve) => {
      let n = 0;
      for (const at of deadlines)
        realScheduler.at(at, () => {
          fired.push({ at, now: performance.now() });
          if (++n === deadlines.length) resolve();
        });
    });
    expect(fired.length).toBe(3);
    for (const f of fired) expect(f.now).toBeGreaterThanOrEqual(f.at);
    expect(fired.map((f) => f.at)).toEqual(deadlines);
    expect(cancelledFired).toBe(false);
  });
});
