import { describe, expect, it } from 'vitest';
import type { EventInput, JournalEvent } from '../../src/journal/events';
import { VT, type VarBind } from '../../src/snmp/agentx-pdu';
import { newMasterReason } from '../../src/snmp/convert';
import { TRAP, notificationsFor } from '../../src/snmp/traps';
import { formatOid } from '../../src/snmp/oid';
import { referenceInstance, referenceSnapshot } from '../snmp/fixtures';

const t = { mono: 1, wall: 2 };
const ev = (e: EventInput): JournalEvent => ({ ...t, ...e }) as JournalEvent;
const all = { vrrp: true, checker: true, rfcv2: true, rfcv3: true };
const show = (vbs: VarBind[]) =>
  vbs.map((v) => {
    const val = 'value' in v.value ? v.value.value : null;
    return `${formatOid(v.oid)}=${v.value.type}:${Buffer.isBuffer(val) ? (v.value.type === VT.OctetString && /^[\x20-\x7e]*$/.test(val.toString()) ? val.toString() : [...val].join('.')) : String(val)}`;
  });

const toMaster = ev({ type: 'vrrp.transition', instance: 'VI_1', vrid: 51, intf: 'eth0', from: 'BACKUP', to: 'MASTER', reason: 'master_timeout', priority: 150, masterPriority: 0 });

describe('journal events → notifications (keepalived 2.2.7 vrrp_snmp.c / check_snmp.c)', () => {
  it('a transition to MASTER sends vrrpInstanceStateChange, vrrpTrapNewMaster and vrrpv3NewMaster', () => {
    const n = notificationsFor(toMaster, referenceSnapshot(2), all, true);
    expect(n.map((x) => x.name)).toEqual(['vrrpInstanceStateChange', 'vrrpTrapNewMaster', 'vrrpv3NewMaster']);
    expect(formatOid(n[0].trapOid)).toBe('1.3.6.1.4.1.9586.100.5.2.10.0.2');
    expect(show(n[0].varbinds)).toEqual([
      '1.3.6.1.4.1.9586.100.5.2.3.1.2=4:VI_1',
      '1.3.6.1.4.1.9586.100.5.2.3.1.4=2:2',
      '1.3.6.1.4.1.9586.100.5.2.3.1.5=2:2',
      '1.3.6.1.4.1.9586.100.5.1.2.0=4:h1',
    ]);
    expect(formatOid(n[1].trapOid)).toBe('1.3.6.1.2.1.68.0.1');
    expect(show(n[1].varbinds)).toEqual(['1.3.6.1.2.1.68.1.3.1.7.2.51=64:192.0.2.11']);
    expect(formatOid(n[2].trapOid)).toBe('1.3.6.1.2.1.207.0.1');
    expect(show(n[2].varbinds)).toEqual(['1.3.6.1.2.1.207.1.1.1.1.3.2.51.1=4:192.0.2.11', '1.3.6.1.2.1.207.1.2.5.1.2.2.51.1=2:3']);
  });

  it('vrrpInstanceInitialState is the configured state, not the current one', () => {
    const snap = referenceSnapshot(2, { instances: [referenceInstance(2, { initial_state: 'BACKUP', wantstate: 'MASTER' })] });
    expect(show(notificationsFor(toMaster, snap, { vrrp: true }, true)[0].varbinds)[2]).toBe('1.3.6.1.4.1.9586.100.5.2.3.1.5=2:1');
  });

  it('without src_ip in the snapshot, the new master address comes from the transition event', () => {
    const snap = referenceSnapshot(2, { instances: [referenceInstance(2, { src_ip: undefined, state: 'BACKUP', master_address: '192.0.2.12' })] });
    const e = ev({ type: 'vrrp.transition', instance: 'VI_1', vrid: 51, intf: 'eth0', from: 'BACKUP', to: 'MASTER', reason: 'master_timeout', priority: 150, masterPriority: 0, masterAddress: '192.0.2.11' });
    const n = notificationsFor(e, snap, all, true);
    expect(show(n[1].varbinds)).toEqual(['1.3.6.1.2.1.68.1.3.1.7.2.51=64:192.0.2.11']);
    expect(show(n[2].varbinds)[0]).toBe('1.3.6.1.2.1.207.1.1.1.1.3.2.51.1=4:192.0.2.11');
  });

  it('gates on enable_traps and each enable_snmp_* like keepalived; RFC 2787 only for v2 IPv4', () => {
    expect(notificationsFor(toMaster, referenceSnapshot(2), all, false)).toEqual([]);
    expect(notificationsFor(toMaster, referenceSnapshot(2), { rfcv3: true }, true).map((x) => x.name)).toEqual(['vrrpv3NewMaster']);
    expect(notificationsFor(toMaster, referenceSnapshot(3), all, true).map((x) => x.name)).toEqual(['vrrpInstanceStateChange', 'vrrpv3NewMaster']);
    const toBackup = ev({ type: 'vrrp.transition', instance: 'VI_1', vrid: 51, intf: 'eth0', from: 'MASTER', to: 'BACKUP', reason: 'higher_priority_master', priority: 150, masterPriority: 200 });
    expect(notificationsFor(toBackup, referenceSnapshot(2), all, true).map((x) => x.name)).toEqual(['vrrpInstanceStateChange']);
    const stop = ev({ type: 'vrrp.transition', instance: 'VI_1', vrid: 51, intf: 'eth0', from: 'MASTER', to: 'STOP', reason: 'shutdown', priority: 150, masterPriority: 0 });
    expect(show(notificationsFor(stop, referenceSnapshot(2), all, true)[0].varbinds)[1]).toBe('1.3.6.1.4.1.9586.100.5.2.3.1.4=2:5'); // shutdown(5)
  });

  it('NewMasterReason follows keepalived: priority / preempted / masterNoResponse', () => {
    expect(newMasterReason('priority_zero_received')).toBe(1);
    expect(newMasterReason('address_owner')).toBe(1);
    expect(newMasterReason('preempt')).toBe(2);
    expect(newMasterReason('master_timeout')).toBe(3);
    expect(newMasterReason('startup')).toBe(3);
    const pz = ev({ type: 'vrrp.transition', instance: 'VI_1', vrid: 51, intf: 'eth0', from: 'BACKUP', to: 'MASTER', reason: 'priority_zero_received', priority: 150, masterPriority: 0 });
    expect(show(notificationsFor(pz, referenceSnapshot(3), { rfcv3: true }, true)[0].varbinds)[1]).toBe('1.3.6.1.2.1.207.1.2.5.1.2.2.51.1=2:1');
  });

  it('sync group, auth failure and protocol error notifications', () => {
    const sg = notificationsFor(ev({ type: 'vrrp.sync_group', group: 'G1', from: 'BACKUP', to: 'FAULT', reason: 'interface_down' }), referenceSnapshot(2), all, true);
    expect(sg.map((x) => x.name)).toEqual(['vrrpSyncGroupStateChange']);
    expect(show(sg[0].varbinds)).toEqual(['1.3.6.1.4.1.9586.100.5.2.1.1.2=4:G1', '1.3.6.1.4.1.9586.100.5.2.1.1.3=2:3', '1.3.6.1.4.1.9586.100.5.1.2.0=4:h1']);
    const auth = notificationsFor(ev({ type: 'vrrp.error', instance: 'VI_1', vrid: 51, intf: 'eth0', counter: 'authtype_mismatch', src: '192.0.2.12' }), referenceSnapshot(2), all, true);
    expect(auth.map((x) => formatOid(x.trapOid))).toEqual([formatOid(TRAP.vrrpTrapAuthFailure)]);
    expect(show(auth[0].varbinds)).toEqual(['1.3.6.1.2.1.68.1.5.2.51=64:192.0.2.12', '1.3.6.1.2.1.68.1.6.2.51=2:2']);
    const ttl = notificationsFor(ev({ type: 'vrrp.error', instance: 'VI_1', vrid: 51, intf: 'eth0', counter: 'ip_ttl_err', src: '192.0.2.12' }), referenceSnapshot(3), all, true);
    expect(ttl.map((x) => x.name)).toEqual(['vrrpv3ProtoError']);
    expect(show(ttl[0].varbinds)).toEqual(['1.3.6.1.2.1.207.1.2.5.1.6.2.51.1=2:1']);
    const glob = notificationsFor(ev({ type: 'vrrp.global_error', counter: 'checksum_err', intf: 'eth0' }), referenceSnapshot(3, { instances: [referenceInstance(3), referenceInstance(3, { iname: 'other', ifp_ifname: 'eth9', ifindex: 9 })] }), all, true);
    expect(glob.map((x) => show(x.varbinds)[0])).toEqual(['1.3.6.1.2.1.207.1.2.5.1.6.2.51.1=2:3']);
    expect(notificationsFor(ev({ type: 'vrrp.error', instance: 'VI_1', vrid: 51, intf: 'eth0', counter: 'packet_len_err' }), referenceSnapshot(3), all, true)).toEqual([]);
  });

  it('real server and quorum notifications carry the VS identity and counts', () => {
    const snap = referenceSnapshot(2, {
      virtualServers: [{
        name: '192.0.2.80:80', protocol: 'tcp', scheduler: 'rr', forwarding: 'nat', quorum: 2, quorumMet: false, sorryActive: true,
        realServers: [
          { address: '198.51.100.1:8080', up: false, weight: 1, configuredWeight: 1, failedChecks: 1, checkers: [] },
          { address: '198.51.100.2:8080', up: true, weight: 1, configuredWeight: 1, failedChecks: 0, checkers: [] },
        ],
      }],
    });
    const rs = notificationsFor(ev({ type: 'realserver.state', virtualServer: '192.0.2.80:80', realServer: '198.51.100.1:8080', up: false, weight: 0, reason: 'TCP_CHECK failed' }), snap, all, true);
    expect(rs.map((x) => formatOid(x.trapOid))).toEqual(['1.3.6.1.4.1.9586.100.5.3.5.0.1']);
    expect(show(rs[0].varbinds)).toEqual([
      '1.3.6.1.4.1.9586.100.5.3.4.1.3=2:1',
      '1.3.6.1.4.1.9586.100.5.3.4.1.4=4:198.51.100.1',
      '1.3.6.1.4.1.9586.100.5.3.4.1.5=66:8080',
      '1.3.6.1.4.1.9586.100.5.3.4.1.6=2:2',
      '1.3.6.1.4.1.9586.100.5.3.3.1.2=2:2',
      '1.3.6.1.4.1.9586.100.5.3.3.1.5=2:1',
      '1.3.6.1.4.1.9586.100.5.3.3.1.6=4:192.0.2.80',
      '1.3.6.1.4.1.9586.100.5.3.3.1.7=66:80',
      '1.3.6.1.4.1.9586.100.5.3.3.1.8=2:1',
      '1.3.6.1.4.1.9586.100.5.3.3.1.21=66:1',
      '1.3.6.1.4.1.9586.100.5.3.3.1.20=66:2',
      '1.3.6.1.4.1.9586.100.5.1.2.0=4:h1',
    ]);
    const q = notificationsFor(ev({ type: 'virtualserver.quorum', virtualServer: '192.0.2.80:80', met: false, up: 1, configured: 2, sorry: true }), snap, all, true);
    expect(show(q[0].varbinds).slice(-5)).toEqual([
      '1.3.6.1.4.1.9586.100.5.3.3.1.23=2:2',
      '1.3.6.1.4.1.9586.100.5.3.3.1.22=66:2',
      '1.3.6.1.4.1.9586.100.5.3.3.1.21=66:1',
      '1.3.6.1.4.1.9586.100.5.3.3.1.20=66:2',
      '1.3.6.1.4.1.9586.100.5.1.2.0=4:h1',
    ]);
    expect(notificationsFor(ev({ type: 'virtualserver.quorum', virtualServer: '192.0.2.80:80', met: true, up: 2, configured: 2, sorry: false }), snap, { vrrp: true }, true)).toEqual([]);
  });
});
