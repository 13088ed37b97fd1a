/**
 * Journal events → AgentX Notify → real snmpd → SNMPv2 trap → real snmptrapd. Each
 * notification keepalived sends arrives with its trap OID and varbinds (names, types and
 * values) — the path the two-node failover test will drive once the engine emits the events.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventInput, JournalEvent } from '../../src/journal/events';
import { Journal } from '../../src/journal/journal';
import type { AgentSnapshot } from '../../src/state/snapshot';
import { startSnmp, type SnmpHandle } from '../../src/snmp';
import { waitFor } from '../helpers/netns';
import { startSnmpd, startSnmptrapd, type Snmpd, type Snmptrapd, type Trap } from '../helpers/snmpd';
import { referenceInstance, referenceSnapshot } from './fixtures';

const SNMPD_PORT = 19211;
const TRAP_PORT = 19212;

describe('notifications reach snmptrapd through snmpd', () => {
  let dir: string;
  let snmpd: Snmpd;
  let trapd: Snmptrapd;
  let snmp: SnmpHandle;
  const journal = new Journal();
  const events: JournalEvent[] = [];
  let current: AgentSnapshot;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kw-snmp-trap-'));
    trapd = await startSnmptrapd({ dir, port: TRAP_PORT });
    snmpd = await startSnmpd({ dir, port: SNMPD_PORT, trapPort: TRAP_PORT });
    current = referenceSnapshot(2, {
      instances: [referenceInstance(2), referenceInstance(3, { iname: 'VI_6', vrid: 60, family: 'ipv6', ifindex: 3, ifp_ifname: 'eth1', src_ip: 'fe80::2', vips: [{ text: '', address: '2001:db8::60', prefix: 64, dev: 'eth1', installed: true, excluded: false }] })],
      virtualServers: [{
        name: '192.0.2.80:80', protocol: 'tcp', scheduler: 'wrr', forwarding: 'dr', quorum: 2, quorumMet: true, sorryActive: false,
        realServers: [
          { address: '198.51.100.1:8080', up: false, weight: 0, configuredWeight: 1, failedChecks: 1, checkers: ['TCP_CHECK'] },
          { address: '198.51.100.2:8080', up: true, weight: 1, configuredWeight: 1, failedChecks: 0, checkers: ['TCP_CHECK'] },
        ],
      }],
    });
    journal.subscribe((e) => events.push(e));
    snmp = startSnmp({
      socket: `unix:${snmpd.socket}`,
      journal,
      snapshot: () => current,
      enable: { vrrp: true, checker: true, rfcv2: true, rfcv3: true },
      traps: true,
    });
    await waitFor(() => snmp.status().connected, 'subagent registered', 20_000);
  });

  afterAll(async () => {
    await snmp?.stop();
    await snmpd?.stop();
    await trapd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Emit, then wait for the traps with these OIDs (in order) after what was already received. */
  async function emitAndCollect(e: EventInput, trapOids: string[]): Promise<Trap[]> {
    const before = trapd.traps().length;
    journal.emit(e);
    const got = (await waitFor(() => {
      const fresh = trapd.traps().slice(before).filter((t) => trapOids.includes(t.trapOid ?? ''));
      return fresh.length >= trapOids.length ? fresh : undefined;
    }, `traps ${trapOids.join(', ')}`, 20_000))!;
    expect(got.map((t) => t.trapOid)).toEqual(trapOids);
    return got;
  }

  const vb = (t: Trap) => t.varbinds.slice(2).map((v) => `${v.oid} = ${v.type}: ${v.value}`);

  it('BACKUP→MASTER: vrrpInstanceStateChange, vrrpTrapNewMaster, vrrpv3NewMaster', async () => {
    const traps = await emitAndCollect(
      { type: 'vrrp.transition', instance: 'VI_1', vrid: 51, intf: 'eth0', from: 'BACKUP', to: 'MASTER', reason: 'master_timeout', priority: 150, masterPriority: 0 },
      ['.1.3.6.1.4.1.9586.100.5.2.10.0.2', '.1.3.6.1.2.1.68.0.1', '.1.3.6.1.2.1.207.0.1'],
    );
    for (const t of traps) {
      // the master supplies sysUpTime.0 first and snmpTrapOID.0 second (RFC 3416 §4.2.6)
      expect(t.varbinds[0].oid).toBe('.1.3.6.1.2.1.1.3.0');
      expect(t.varbinds[0].type).toBe('Timeticks');
      expect(t.varbinds[1].oid).toBe('.1.3.6.1.6.3.1.1.4.1.0');
    }
    expect(vb(traps[0])).toEqual([
      '.1.3.6.1.4.1.9586.100.5.2.3.1.2 = STRING: "VI_1"',
      '.1.3.6.1.4.1.9586.100.5.2.3.1.4 = INTEGER: 2',
      '.1.3.6.1.4.1.9586.100.5.2.3.1.5 = INTEGER: 2',
      '.1.3.6.1.4.1.9586.100.5.1.2.0 = STRING: "h1"',
    ]);
    expect(vb(traps[1])).toEqual(['.1.3.6.1.2.1.68.1.3.1.7.2.51 = IpAddress: 192.0.2.11']);
    expect(vb(traps[2])).toEqual(['.1.3.6.1.2.1.207.1.1.1.1.3.2.51.1 = Hex-STRING: C0 00 02 0B', '.1.3.6.1.2.1.207.1.2.5.1.2.2.51.1 = INTEGER: 3']);
    await waitFor(() => events.filter((e) => e.type === 'snmp.notification' && e.ok).length >= 3, 'snmp.notification events');
  });

  it('an IPv6 VRRPv3 instance preempting: vrrpv3NewMaster with reason preempted(2), no RFC 2787 trap', async () => {
    const traps = await emitAndCollect(
      { type: 'vrrp.transition', instance: 'VI_6', vrid: 60, intf: 'eth1', from: 'BACKUP', to: 'MASTER', reason: 'preempt', priority: 150, masterPriority: 100 },
      ['.1.3.6.1.4.1.9586.100.5.2.10.0.2', '.1.3.6.1.2.1.207.0.1'],
    );
    expect(vb(traps[1])).toEqual([
      '.1.3.6.1.2.1.207.1.1.1.1.3.3.60.2 = Hex-STRING: FE 80 00 00 00 00 00 00 00 00 00 00 00 00 00 02',
      '.1.3.6.1.2.1.207.1.2.5.1.2.3.60.2 = INTEGER: 2',
    ]);
  });

  it('sync group, real server, quorum, auth failure and protocol error notifications', async () => {
    const [sg] = await emitAndCollect({ type: 'vrrp.sync_group', group: 'G1', from: 'MASTER', to: 'FAULT', reason: 'interface_down' }, ['.1.3.6.1.4.1.9586.100.5.2.10.0.1']);
    expect(vb(sg)).toEqual(['.1.3.6.1.4.1.9586.100.5.2.1.1.2 = STRING: "G1"', '.1.3.6.1.4.1.9586.100.5.2.1.1.3 = INTEGER: 3', '.1.3.6.1.4.1.9586.100.5.1.2.0 = STRING: "h1"']);
    const [rs] = await emitAndCollect(
      { type: 'realserver.state', virtualServer: '192.0.2.80:80', realServer: '198.51.100.1:8080', up: false, weight: 0, reason: 'TCP_CHECK: connection refused' },
      ['.1.3.6.1.4.1.9586.100.5.3.5.0.1'],
    );
    expect(vb(rs)).toEqual([
      '.1.3.6.1.4.1.9586.100.5.3.4.1.3 = INTEGER: 1',
      '.1.3.6.1.4.1.9586.100.5.3.4.1.4 = Hex-STRING: C6 33 64 01',
      '.1.3.6.1.4.1.9586.100.5.3.4.1.5 = Gauge32: 8080',
      '.1.3.6.1.4.1.9586.100.5.3.4.1.6 = INTEGER: 2',
      '.1.3.6.1.4.1.9586.100.5.3.3.1.2 = INTEGER: 2',
      '.1.3.6.1.4.1.9586.100.5.3.3.1.5 = INTEGER: 1',
      '.1.3.6.1.4.1.9586.100.5.3.3.1.6 = Hex-STRING: C0 00 02 50',
      '.1.3.6.1.4.1.9586.100.5.3.3.1.7 = Gauge32: 80',
      '.1.3.6.1.4.1.9586.100.5.3.3.1.8 = INTEGER: 1',
      '.1.3.6.1.4.1.9586.100.5.3.3.1.21 = Gauge32: 1',
      '.1.3.6.1.4.1.9586.100.5.3.3.1.20 = Gauge32: 2',
      '.1.3.6.1.4.1.9586.100.5.1.2.0 = STRING: "h1"',
    ]);
    const [q] = await emitAndCollect({ type: 'virtualserver.quorum', virtualServer: '192.0.2.80:80', met: false, up: 1, configured: 2, sorry: false }, ['.1.3.6.1.4.1.9586.100.5.3.5.0.2']);
    expect(vb(q).slice(-5)).toEqual([
      '.1.3.6.1.4.1.9586.100.5.3.3.1.23 = INTEGER: 2',
      '.1.3.6.1.4.1.9586.100.5.3.3.1.22 = Gauge32: 2',
      '.1.3.6.1.4.1.9586.100.5.3.3.1.21 = Gauge32: 1',
      '.1.3.6.1.4.1.9586.100.5.3.3.1.20 = Gauge32: 2',
      '.1.3.6.1.4.1.9586.100.5.1.2.0 = STRING: "h1"',
    ]);
    const [auth] = await emitAndCollect({ type: 'vrrp.error', instance: 'VI_1', vrid: 51, intf: 'eth0', counter: 'auth_failure', src: '192.0.2.12' }, ['.1.3.6.1.2.1.68.0.2']);
    expect(vb(auth)).toEqual(['.1.3.6.1.2.1.68.1.5.2.51 = IpAddress: 192.0.2.12', '.1.3.6.1.2.1.68.1.6.2.51 = INTEGER: 3']);
    const [pe] = await emitAndCollect({ type: 'vrrp.error', instance: 'VI_6', vrid: 60, intf: 'eth1', counter: 'ip_ttl_err', src: 'fe80::9' }, ['.1.3.6.1.2.1.207.0.2']);
    expect(vb(pe)).toEqual(['.1.3.6.1.2.1.207.1.2.5.1.6.3.60.2 = INTEGER: 1']);
  });
});
