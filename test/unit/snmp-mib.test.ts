import { describe, expect, it } from 'vitest';
import { AxError, VT, type Value, type VarBind } from '../../src/snmp/agentx-pdu';
import { parseAgentxSocket } from '../../src/snmp/agentx';
import { snmpModules } from '../../src/snmp';
import { MibView, gauge, int, scalar, str, table, type MibContext, type MibModule } from '../../src/snmp/mib';
import { formatOid, parseOid, type Oid } from '../../src/snmp/oid';
import { upTimeTicks } from '../../src/snmp/vrrp-rfc-mibs';
import type { AgentSnapshot } from '../../src/state/snapshot';
import { referenceInstance, referenceSnapshot } from '../snmp/fixtures';

const O = (s: string): Oid => parseOid(s)!;
const ctxOf = (snap: AgentSnapshot, masterBootWall?: number): MibContext => ({ snap, now: Date.now(), masterBootWall, memo: new Map() });

/** Walk the whole view with GetNext, as snmpwalk does. */
function walk(view: MibView, ctx: MibContext, from: Oid = [], end: Oid = []): VarBind[] {
  const out: VarBind[] = [];
  let start = from;
  for (let i = 0; i < 100000; i++) {
    const vb = view.getNext({ start, include: false, end }, ctx);
    if (vb.value.type === VT.EndOfMibView) return out;
    out.push(vb);
    start = vb.oid;
  }
  throw new Error('walk did not end');
}
const show = (vbs: VarBind[]) => vbs.map((v) => formatOid(v.oid));
const valueOf = (v: Value): unknown => ('value' in v ? (Buffer.isBuffer(v.value) ? [...v.value] : v.value) : v.type);

describe('snmp_socket parsing (keepalived / net-snmp transport syntax)', () => {
  it('accepts unix and tcp spellings and refuses datagram transports', () => {
    const ok = (s: string | undefined) => {
      const r = parseAgentxSocket(s);
      if (!r.ok) throw new Error(r.error);
      return r.address;
    };
    expect(ok(undefined)).toEqual({ kind: 'unix', path: '/var/agentx/master' });
    expect(ok('')).toEqual({ kind: 'unix', path: '/var/agentx/master' });
    expect(ok('unix:/tmp/x/agentx.sock')).toEqual({ kind: 'unix', path: '/tmp/x/agentx.sock' });
    expect(ok('/run/agentx')).toEqual({ kind: 'unix', path: '/run/agentx' });
    expect(ok('tcp:127.0.0.1:705')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 705 });
    expect(ok('tcp:localhost')).toEqual({ kind: 'tcp', host: 'localhost', port: 705 });
    expect(ok('localhost:7050')).toEqual({ kind: 'tcp', host: 'localhost', port: 7050 });
    expect(ok('127.0.0.1:19299')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 19299 });
    expect(ok('tcp6:[::1]:705')).toEqual({ kind: 'tcp', host: '::1', port: 705 });
    expect(ok('tcp6:::1')).toEqual({ kind: 'tcp', host: '::1', port: 705 });
    expect(ok('[::1]:1705')).toEqual({ kind: 'tcp', host: '::1', port: 1705 });
    for (const bad of ['udp:localhost:705', 'udp6:[::1]:705', 'unix:', 'tcp:host:99999', 'tcp:host:abc', 'bogus:thing']) {
      expect(parseAgentxSocket(bad).ok, bad).toBe(false);
    }
  });
});

describe('MibView request semantics (RFC 2741 §7.2.3)', () => {
  type R = { name: string; n?: number };
  const rows: R[] = [{ name: 'b', n: 2 }, { name: 'a' }, { name: 'c', n: 3 }];
  const mod: MibModule = {
    name: 't',
    root: O('1.3.6.1.4.1.99999'),
    descr: 't',
    objects: [
      scalar('s1', O('1.3.6.1.4.1.99999.1'), () => int(7)),
      scalar('s2', O('1.3.6.1.4.1.99999.2'), () => undefined),
      // rows deliberately unsorted: the view must order them (RFC 2578 §7.7)
      table<R>('t', O('1.3.6.1.4.1.99999.3.1'), [
        { sub: 3, name: 'n', get: (r) => (r.n === undefined ? undefined : gauge(r.n)) },
        { sub: 2, name: 'name', get: (r) => str(r.name) },
      ], () => [{ index: [10], row: rows[0] }, { index: [2], row: rows[1] }, { index: [10, 1], row: rows[2] }]),
      table<R>('empty', O('1.3.6.1.4.1.99999.4.1'), [{ sub: 2, name: 'x', get: () => int(1) }], () => []),
      scalar('s5', O('1.3.6.1.4.1.99999.5'), () => int(5)),
    ],
  };
  const view = new MibView([mod]);
  const ctx = ctxOf(referenceSnapshot(2));

  it('GetNext walks in lexicographic order, column by column, skipping absent cells and empty tables', () => {
    expect(show(walk(view, ctx))).toEqual([
      '1.3.6.1.4.1.99999.1.0',
      '1.3.6.1.4.1.99999.3.1.2.2',
      '1.3.6.1.4.1.99999.3.1.2.10',
      '1.3.6.1.4.1.99999.3.1.2.10.1',
      '1.3.6.1.4.1.99999.3.1.3.10',
      '1.3.6.1.4.1.99999.3.1.3.10.1',
      '1.3.6.1.4.1.99999.5.0',
    ]);
  });

  it('honours include and the range end, and names endOfMibView by the range start', () => {
    const inc = view.getNext({ start: O('1.3.6.1.4.1.99999.3.1.2.10'), include: true, end: [] }, ctx);
    expect(formatOid(inc.oid)).toBe('1.3.6.1.4.1.99999.3.1.2.10');
    const exc = view.getNext({ start: O('1.3.6.1.4.1.99999.3.1.2.10'), include: false, end: [] }, ctx);
    expect(formatOid(exc.oid)).toBe('1.3.6.1.4.1.99999.3.1.2.10.1');
    // end is exclusive
    const bounded = view.getNext({ start: O('1.3.6.1.4.1.99999.3.1.3.10.1'), include: false, end: O('1.3.6.1.4.1.99999.5.0') }, ctx);
    expect(bounded.value.type).toBe(VT.EndOfMibView);
    expect(formatOid(bounded.oid)).toBe('1.3.6.1.4.1.99999.3.1.3.10.1');
    const inside = view.getNext({ start: O('1.3.6.1.4.1.99999.2'), include: false, end: O('1.3.6.1.4.1.99999.3.1.2.3') }, ctx);
    expect(formatOid(inside.oid)).toBe('1.3.6.1.4.1.99999.3.1.2.2');
    // a start between instances, and one past everything
    expect(formatOid(view.getNext({ start: O('1.3.6.1.4.1.99999.3.1.2.5.7'), include: false, end: [] }, ctx).oid)).toBe('1.3.6.1.4.1.99999.3.1.2.10');
    expect(view.getNext({ start: O('1.3.6.1.4.1.99999.6'), include: false, end: [] }, ctx).value.type).toBe(VT.EndOfMibView);
  });

  it('Get distinguishes noSuchObject from noSuchInstance', () => {
    expect(view.get(O('1.3.6.1.4.1.99999.1.0'), ctx)).toEqual(int(7));
    expect(view.get(O('1.3.6.1.4.1.99999.1.1'), ctx).type).toBe(VT.NoSuchInstance);
    expect(view.get(O('1.3.6.1.4.1.99999.2.0'), ctx).type).toBe(VT.NoSuchInstance); // unset scalar
    expect(view.get(O('1.3.6.1.4.1.99999.3.1.3.2'), ctx).type).toBe(VT.NoSuchInstance); // absent cell
    expect(view.get(O('1.3.6.1.4.1.99999.3.1.2.99'), ctx).type).toBe(VT.NoSuchInstance);
    expect(view.get(O('1.3.6.1.4.1.99999.3.1.9.2'), ctx).type).toBe(VT.NoSuchObject); // no such column
    expect(view.get(O('1.3.6.1.4.1.99999.7.0'), ctx).type).toBe(VT.NoSuchObject);
  });

  it('GetBulk: non-repeaters, repetitions, endOfMibView padding, early stop', () => {
    const r = view.getBulk(1, 3, [
      { start: O('1.3.6.1.4.1.99999'), include: false, end: [] },
      { start: O('1.3.6.1.4.1.99999.3.1.3'), include: false, end: [] },
      { start: O('1.3.6.1.4.1.99999.5'), include: false, end: [] },
    ], ctx);
    expect(r.map((v) => (v.value.type === VT.EndOfMibView ? `end:${formatOid(v.oid)}` : formatOid(v.oid)))).toEqual([
      '1.3.6.1.4.1.99999.1.0',
      '1.3.6.1.4.1.99999.3.1.3.10',
      '1.3.6.1.4.1.99999.5.0',
      '1.3.6.1.4.1.99999.3.1.3.10.1',
      'end:1.3.6.1.4.1.99999.5.0',
      '1.3.6.1.4.1.99999.5.0',
      'end:1.3.6.1.4.1.99999.5.0',
    ]);
    const all = view.getBulk(0, 1000, [{ start: [], include: false, end: [] }], ctx);
    expect(all.length).toBe(8); // 7 instances + one endOfMibView, then stops
  });
});

describe('MIB providers over snapshots', () => {
  const enable = { vrrp: true, checker: true, rfcv2: true, rfcv3: true };

  it('RFC 2787/6527 rows are indexed by ifIndex/VrId[/type] and ordered numerically, whatever the instance order', () => {
    const snap = referenceSnapshot(2, {
      instances: [
        referenceInstance(3, { iname: 'V3_ON_7', ifindex: 7, vrid: 9, state: 'BACKUP', master_address: '192.0.2.12' }),
        referenceInstance(2, { iname: 'V2_ON_12', ifindex: 12, vrid: 1 }),
        referenceInstance(2, { iname: 'V2_ON_2', ifindex: 2, vrid: 200, vips: [
          { text: '', address: '192.0.2.70', prefix: 24, dev: 'eth0', installed: true, excluded: false },
          { text: '', address: '192.0.2.9', prefix: 24, dev: 'eth0', installed: true, excluded: false },
        ] }),
        referenceInstance(3, { iname: 'V6', ifindex: 2, vrid: 200, family: 'ipv6', src_ip: 'fe80::1', vips: [{ text: '', address: '2001:db8::50', prefix: 64, dev: 'eth0', installed: true, excluded: false }] }),
        referenceInstance(2, { iname: 'NO_VIPS', ifindex: 3, vrid: 5, vips: [] }),
      ],
    });
    const view = new MibView(snmpModules(enable, false));
    const ctx = ctxOf(snap);
    // VRRP-MIB: v2 + IPv4 + has VIPs only
    expect(show(walk(view, ctx, O('1.3.6.1.2.1.68.1.3.1.3'), O('1.3.6.1.2.1.68.1.3.1.4')))).toEqual(['1.3.6.1.2.1.68.1.3.1.3.2.200', '1.3.6.1.2.1.68.1.3.1.3.12.1']);
    expect(show(walk(view, ctx, O('1.3.6.1.2.1.68.1.4'), O('1.3.6.1.2.1.68.1.5')))).toEqual([
      '1.3.6.1.2.1.68.1.4.1.2.2.200.192.0.2.9',
      '1.3.6.1.2.1.68.1.4.1.2.2.200.192.0.2.70',
      '1.3.6.1.2.1.68.1.4.1.2.12.1.192.0.2.50',
    ]);
    // VRRPV3-MIB: every instance with VIPs, v2 ones too, IPv6 with type 2
    expect(show(walk(view, ctx, O('1.3.6.1.2.1.207.1.1.1.1.6'), O('1.3.6.1.2.1.207.1.1.1.1.7')))).toEqual([
      '1.3.6.1.2.1.207.1.1.1.1.6.2.200.1',
      '1.3.6.1.2.1.207.1.1.1.1.6.2.200.2',
      '1.3.6.1.2.1.207.1.1.1.1.6.7.9.1',
      '1.3.6.1.2.1.207.1.1.1.1.6.12.1.1',
    ]);
    const v6 = view.get(O('1.3.6.1.2.1.207.1.1.2.1.2.2.200.2.32.1.13.184.0.0.0.0.0.0.0.0.0.0.0.80'), ctx);
    expect(v6).toEqual(int(1));
    // BACKUP: master address is the advert source; status backup(2); reason notMaster(0)
    expect(valueOf(view.get(O('1.3.6.1.2.1.207.1.1.1.1.3.7.9.1'), ctx))).toEqual([192, 0, 2, 12]);
    expect(view.get(O('1.3.6.1.2.1.207.1.1.1.1.6.7.9.1'), ctx)).toEqual(int(2));
    expect(view.get(O('1.3.6.1.2.1.207.1.2.5.1.2.7.9.1'), ctx)).toEqual(int(0));
    expect(valueOf(view.get(O('1.3.6.1.2.1.207.1.1.1.1.4.2.200.2'), ctx))).toHaveLength(16);
    expect(view.get(O('1.3.6.1.2.1.207.1.2.5.1.13.2.200.2'), ctx)).toEqual(gauge(100));
    // the engine reports a MASTER's own address as master_address: used when src_ip is absent
    const noSrc = ctxOf(referenceSnapshot(2, { instances: [referenceInstance(2, { src_ip: undefined, master_address: '192.0.2.11' })] }));
    expect(valueOf(view.get(O('1.3.6.1.2.1.68.1.3.1.8.2.51'), noSrc))).toEqual([192, 0, 2, 11]);
    expect(valueOf(view.get(O('1.3.6.1.2.1.207.1.1.1.1.3.2.51.1'), noSrc))).toEqual([192, 0, 2, 11]);
    // vmac: RFC 3768 §7.3 virtual MAC
    const vm = ctxOf(referenceSnapshot(2, { instances: [referenceInstance(2, { vmac_ifname: 'vrrp.51' })] }));
    expect(valueOf(view.get(O('1.3.6.1.2.1.68.1.3.1.2.2.51'), vm))).toEqual([0, 0, 0x5e, 0, 1, 51]);
  });

  it('KEEPALIVED-MIB tables: addresses with eVIPs, tracked interfaces by ifIndex, sync groups', () => {
    const snap = referenceSnapshot(2, {
      instances: [
        referenceInstance(2, {
          evips: [{ text: '', address: '198.51.100.7', prefix: 32, dev: 'eth1', installed: false, excluded: true, ifindex: 4, label: 'eth1:x' }],
          track_ifp: [
            { name: 'eth3', ifindex: 9, weight: -20, weight_reverse: false },
            { name: 'eth1', ifindex: 4, weight: 0, weight_reverse: true },
          ],
          sync_group: 'G1',
        }),
        referenceInstance(3, { iname: 'VI_2', vrid: 52, family: 'ipv6', vips: [{ text: '', address: '2001:db8::50', prefix: 64, dev: 'eth0', installed: true, excluded: false, scope: 253 }], unicast: true, sync_group: 'G1' }),
      ],
      syncGroups: [{ name: 'G1', state: 'MASTER', members: ['VI_1', 'VI_2'], script_master: "'/bin/true'", tracking_weight: true }],
    });
    const view = new MibView(snmpModules(enable, true));
    const ctx = ctxOf(snap);
    const get = (o: string) => valueOf(view.get(O(`1.3.6.1.4.1.9586.100.5.${o}`), ctx));
    expect(get('2.6.1.3.1.2')).toEqual([198, 51, 100, 7]);
    expect(get('2.6.1.11.1.2')).toBe(2); // eVIP: notAdvertised
    expect(get('2.6.1.10.1.2')).toBe(2); // not installed
    expect(get('2.6.1.7.1.2')).toBe(4);
    expect(Buffer.from(get('2.6.1.9.1.2') as number[]).toString()).toBe('eth1:x');
    expect(get('2.6.1.2.2.1')).toBe(2); // IPv6
    expect(get('2.6.1.6.2.1')).toBe(2); // link scope
    expect(view.get(O('1.3.6.1.4.1.9586.100.5.2.6.1.4.2.1'), ctx).type).toBe(VT.NoSuchInstance); // no broadcast for IPv6
    expect(show(walk(view, ctx, O('1.3.6.1.4.1.9586.100.5.2.4'), O('1.3.6.1.4.1.9586.100.5.2.5')))).toEqual([
      '1.3.6.1.4.1.9586.100.5.2.4.1.1.1.4',
      '1.3.6.1.4.1.9586.100.5.2.4.1.1.1.9',
      '1.3.6.1.4.1.9586.100.5.2.4.1.2.1.4',
      '1.3.6.1.4.1.9586.100.5.2.4.1.2.1.9',
      '1.3.6.1.4.1.9586.100.5.2.4.1.3.1.4',
      '1.3.6.1.4.1.9586.100.5.2.4.1.3.1.9',
    ]);
    expect(get('2.4.1.2.1.9')).toBe(-20);
    expect(get('2.3.1.11.1')).toBe(1); // has tracked interfaces
    expect(view.get(O('1.3.6.1.4.1.9586.100.5.2.3.1.34.2'), ctx).type).toBe(VT.NoSuchInstance); // unicast: no mcast
    expect(get('2.3.1.27.2')).toBe(1); // v3 accept
    expect(get('2.3.1.12.2')).toBe(10); // v3 centiseconds
    expect(Buffer.from(get('2.3.1.18.1') as number[]).toString()).toBe('G1');
    expect(Buffer.from(get('2.1.1.2.1') as number[]).toString()).toBe('G1');
    expect(get('2.1.1.3.1')).toBe(2);
    expect(get('2.1.1.5.1')).toBe(1);
    expect(get('2.1.1.10.1')).toBe(1);
    expect(Buffer.from(get('2.2.1.2.1.2') as number[]).toString()).toBe('VI_2');
    expect(get('1.4.0')).toBe(1); // trapEnable
  });

  it('vrrpTrackedScriptTable resolves track_script given as names or as command lines (keepalived JSON form)', () => {
    const view = new MibView(snmpModules(enable, false));
    for (const ref of ['chk_file', "'/usr/bin/test' '-e' '/tmp/kalab/obs/kal-h1/healthy'"]) {
      const ctx = ctxOf(referenceSnapshot(2, { instances: [referenceInstance(2, { track_script: [ref] })] }));
      expect(valueOf(view.get(O('1.3.6.1.4.1.9586.100.5.2.5.1.2.1.1'), ctx))).toEqual([...Buffer.from('chk_file')]);
      expect(view.get(O('1.3.6.1.4.1.9586.100.5.2.5.1.3.1.1'), ctx)).toEqual(int(-60));
    }
    const explicit = ctxOf(referenceSnapshot(2, { instances: [referenceInstance(2, { track_script_weights: [{ name: 'chk_file', weight: -20, weight_reverse: true }] })] }));
    expect(view.get(O('1.3.6.1.4.1.9586.100.5.2.5.1.3.1.1'), explicit)).toEqual(int(-20));
    expect(view.get(O('1.3.6.1.4.1.9586.100.5.2.5.1.4.1.1'), explicit)).toEqual(int(1));
  });

  it('check subtree: absent without virtual servers, full rows with them (sorry server first)', () => {
    const view = new MibView(snmpModules(enable, false));
    expect(walk(view, ctxOf(referenceSnapshot(2)), O('1.3.6.1.4.1.9586.100.5.3'), O('1.3.6.1.4.1.9586.100.5.4'))).toEqual([]);
    const snap = referenceSnapshot(2, {
      virtualServers: [
        {
          name: '192.0.2.80:80',
          protocol: 'tcp',
          scheduler: 'wlc',
          forwarding: 'dr',
          quorum: 1,
          quorumMet: true,
          sorryActive: false,
          ipvs: { conns: 5, inPkts: 2 ** 33 + 7, outPkts: 0, inBytes: 2 ** 40, outBytes: 3 },
          sorry_server: { address: '198.51.100.99:80', up: true, weight: 1, configuredWeight: 1, failedChecks: 0, checkers: [] },
          realServers: [
            { address: '198.51.100.1:8080', up: true, weight: 3, configuredWeight: 3, failedChecks: 0, checkers: ['TCP_CHECK'] },
            { address: '198.51.100.2:8080', up: false, weight: 0, configuredWeight: 3, failedChecks: 2, checkers: ['TCP_CHECK'] },
          ],
        },
        { name: 'fwmark:7', protocol: 'tcp', scheduler: 'mh', forwarding: 'nat', quorum: 1, quorumMet: false, sorryActive: false, realServers: [] },
      ],
      globals: { lvsSyncDaemon: { interface: 'eth1', instance: 'VI_1', syncId: 3 } },
    });
    const ctx = ctxOf(snap);
    const get = (o: string) => view.get(O(`1.3.6.1.4.1.9586.100.5.3.${o}`), ctx);
    expect(valueOf(get('3.1.6.1'))).toEqual([192, 0, 2, 80]);
    expect(get('3.1.9.1')).toEqual(int(4)); // wlc
    expect(get('3.1.10.1')).toEqual(int(2)); // dr
    expect(get('3.1.21.1')).toEqual(gauge(1));
    expect(get('3.1.20.1')).toEqual(gauge(2));
    expect(get('3.1.28.1')).toEqual({ type: VT.Counter32, value: 7 }); // 32-bit view wraps
    expect(get('3.1.39.1')).toEqual({ type: VT.Counter64, value: 2n ** 33n + 7n });
    expect(get('3.1.30.1')).toEqual({ type: VT.Counter64, value: 2n ** 40n });
    expect(get('3.1.2.2')).toEqual(int(1)); // fwmark
    expect(get('3.1.4.2')).toEqual(gauge(7));
    expect(get('3.1.6.2').type).toBe(VT.NoSuchInstance);
    expect(get('3.1.8.2').type).toBe(VT.NoSuchInstance);
    expect(get('3.1.9.2')).toEqual(int(13)); // mh
    expect(get('4.1.2.1.1')).toEqual(int(2)); // sorry server first
    expect(get('4.1.6.1.1').type).toBe(VT.NoSuchInstance);
    expect(get('4.1.7.1.1').type).toBe(VT.NoSuchInstance);
    expect(get('4.1.6.1.3')).toEqual(int(2)); // down
    expect(get('4.1.7.1.2')).toEqual(int(3));
    expect(get('4.1.13.1.3')).toEqual(gauge(2));
    expect(valueOf(get('4.1.4.1.2'))).toEqual([198, 51, 100, 1]);
    expect(get('4.1.5.1.2')).toEqual(gauge(8080));
    expect(get('6.1.0')).toEqual(int(1));
    expect(valueOf(get('6.2.0'))).toEqual([...Buffer.from('eth1')]);
  });

  it('writes only through the writable callbacks, with RFC 3416 error precedence and undo', () => {
    const calls: string[] = [];
    const snap = referenceSnapshot(2, {
      virtualServers: [{
        name: '192.0.2.80:80', protocol: 'tcp', scheduler: 'rr', forwarding: 'nat', quorum: 1, quorumMet: true, sorryActive: false,
        sorry_server: { address: '198.51.100.99:80', up: true, weight: 1, configuredWeight: 1, failedChecks: 0, checkers: [] },
        realServers: [{ address: '198.51.100.1:80', up: true, weight: 3, configuredWeight: 3, failedChecks: 0, checkers: [] }],
      }],
    });
    const ro = new MibView(snmpModules(enable, false));
    const rw = new MibView(snmpModules(enable, false, {
      setBasePriority: (i, p) => (calls.push(`prio ${i} ${p}`), p === 222 ? { ok: false, error: 'refused' } : { ok: true }),
      setPreempt: (i, p) => (calls.push(`preempt ${i} ${p}`), { ok: true }),
      setRealServerWeight: (vs, rs, w) => (calls.push(`weight ${vs} ${rs} ${w}`), { ok: true }),
    }));
    const prio = O('1.3.6.1.4.1.9586.100.5.2.3.1.7.1');
    const ctx = ctxOf(snap);
    expect(ro.testSet([{ oid: prio, value: int(100) }], ctx)).toMatchObject({ error: AxError.NotWritable, index: 1 });
    expect(rw.testSet([{ oid: O('1.3.6.1.4.1.9586.100.5.2.3.1.8.1'), value: int(100) }], ctx)).toMatchObject({ error: AxError.NotWritable });
    expect(rw.testSet([{ oid: prio, value: str('x') }], ctx)).toMatchObject({ error: AxError.WrongType });
    expect(rw.testSet([{ oid: prio, value: int(0) }], ctx)).toMatchObject({ error: AxError.WrongValue });
    expect(rw.testSet([{ oid: prio, value: int(255) }], ctx)).toMatchObject({ error: AxError.WrongValue });
    expect(rw.testSet([{ oid: O('1.3.6.1.4.1.9586.100.5.2.3.1.7.9'), value: int(100) }], ctx)).toMatchObject({ error: AxError.NoCreation });
    expect(rw.testSet([{ oid: O('1.3.6.1.4.1.9586.100.5.3.4.1.7.1.1'), value: int(5) }], ctx)).toMatchObject({ error: AxError.NotWritable }); // sorry server
    const t = rw.testSet([
      { oid: prio, value: int(120) },
      { oid: O('1.3.6.1.4.1.9586.100.5.2.3.1.13.1'), value: int(2) },
      { oid: O('1.3.6.1.4.1.9586.100.5.3.4.1.7.1.2'), value: int(9) },
    ], ctx);
    expect(t.error).toBe(AxError.NoError);
    expect(calls).toEqual([]); // nothing happens before CommitSet
    for (const p of t.prepared) expect(p.commit()).toEqual({ ok: true });
    for (const p of [...t.prepared].reverse()) expect(p.undo()).toEqual({ ok: true });
    expect(calls).toEqual([
      'prio VI_1 120', 'preempt VI_1 false', 'weight 192.0.2.80:80 198.51.100.1:80 9',
      'weight 192.0.2.80:80 198.51.100.1:80 3', 'preempt VI_1 true', 'prio VI_1 150',
    ]);
    const bad = rw.testSet([{ oid: prio, value: int(222) }], ctx);
    expect(bad.prepared[0].commit()).toEqual({ ok: false, error: 'refused' });
  });

  it('virtual router up time is sysUpTime at the transition out of initialize', () => {
    const boot = Date.now() - 100_000; // master started 100 s ago
    const i = referenceInstance(2, { up_since: (boot + 42_000) / 1000 });
    expect(upTimeTicks(i, ctxOf(referenceSnapshot(2), boot))).toBe(4200);
    expect(upTimeTicks({ ...i, up_since: (boot - 5000) / 1000 }, ctxOf(referenceSnapshot(2), boot))).toBe(0);
    expect(upTimeTicks({ ...i, state: 'FAULT' }, ctxOf(referenceSnapshot(2), boot))).toBe(0);
    expect(upTimeTicks(i, ctxOf(referenceSnapshot(2)))).toBe(0);
  });
});
