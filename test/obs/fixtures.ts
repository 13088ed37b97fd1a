/**
 * Hand-built AgentSnapshots for the observer tests. The base values are those of the
 * real keepalived 2.2.7 run in shared/reference/keepalived-2.2.7 (v2 master h1:
 * VI_1, VRID 51, priority 150, VIP 192.0.2.50/24 on eth0, script chk_file).
 */
import * as nodePath from 'node:path';
import type { AgentSnapshot, InstanceSnapshot, InstanceStats, ScriptSnapshot } from '../../src/state/snapshot';
import { emptyStats } from '../../src/vrrp/instance';

// shared/ lies beside the repository (developers and CI alike)
export const REF_DIR = nodePath.resolve(__dirname, '../../../shared/reference/keepalived-2.2.7');

/** The agent's own emptyStats() with some counters set. */
export function zeroStats(over: Partial<InstanceStats> = {}): InstanceStats {
  return { ...emptyStats(), ...over };
}

/** keepalived skew: v2 (256-p)/256 s; v3 ((256-p)×MAI)/256. */
function skew(version: 2 | 3, prio: number, mai: number): number {
  return version === 2 ? (256 - prio) / 256 : ((256 - prio) * mai) / 256;
}

export function makeInstance(over: Partial<InstanceSnapshot> = {}): InstanceSnapshot {
  const version = over.version ?? 2;
  const prio = over.base_priority ?? 150;
  const adv = over.adver_int ?? 1;
  const mai = over.master_adver_int ?? adv;
  const sk = skew(version, over.effective_priority ?? prio, mai);
  const base: InstanceSnapshot = {
    iname: 'VI_1',
    vrid: 51,
    ifindex: 2,
    version,
    family: 'ipv4',
    ifp_ifname: 'eth0',
    vmac_ifname: '',
    state: 'MASTER',
    wantstate: 'MASTER',
    base_priority: prio,
    effective_priority: prio,
    master_priority: 0,
    master_address: '',
    adver_int: adv,
    master_adver_int: mai,
    skew_time: sk,
    master_down_interval: 3 * mai + sk,
    master_down_remaining: null,
    last_transition: 1795515063.893748,
    last_advert_received: 0,
    time_in_state: { INIT: 0, BACKUP: 3.41, MASTER: 120.5, FAULT: 0, STOP: 0 },
    nopreempt: false,
    preempt_delay: 0,
    accept: true,
    unicast: false,
    unicast_peers: [],
    dont_track_primary: false,
    skip_check_adv_addr: false,
    strict_mode: false,
    garp_delay: 5,
    garp_refresh: 0,
    garp_rep: 5,
    garp_refresh_rep: 1,
    garp_lower_prio_delay: 5,
    garp_lower_prio_rep: 5,
    lower_prio_no_advert: false,
    higher_prio_send_advert: false,
    promote_secondaries: false,
    smtp_alert: false,
    notify_deleted: false,
    script: "'/opt/lab/notify.sh' '/tmp/kalab/obs/kal-h1'",
    vipset: true,
    vips: [{ text: '192.0.2.50/24 dev eth0 scope global set', address: '192.0.2.50', prefix: 24, dev: 'eth0', installed: true, excluded: false }],
    evips: [],
    track_script: ['chk_file'],
    track_interface: [],
    auth_type: 0,
    vrrp_domain: '',
    sync_group: '',
    stats: zeroStats({ advert_sent: 6, become_master: 1 }),
    adverts_received_in_master: 0,
    garp_sent: 5,
    na_sent: 0,
    src_ip: '192.0.2.11',
  };
  return { ...base, ...over };
}

export function makeScript(over: Partial<ScriptSnapshot> = {}): ScriptSnapshot {
  return {
    name: 'chk_file',
    command: "'/usr/bin/test' '-e' '/tmp/kalab/obs/kal-h1/healthy'",
    status: 'good',
    state: 0,
    interval: 1,
    weight: -60,
    rise: 2,
    fall: 2,
    ...over,
  };
}

export function makeSnapshot(over: Partial<AgentSnapshot> = {}): AgentSnapshot {
  return {
    takenAt: 1795515068016,
    running: true,
    version: '0.1.0',
    routerId: 'h1',
    instances: [makeInstance()],
    syncGroups: [],
    scripts: [makeScript()],
    trackedInterfaces: [],
    virtualServers: [],
    reload: { lastSuccessful: true, lastSuccessWall: 1795515060000, successes: 0, failures: 0 },
    snmp: { connected: false, reconnects: 0 },
    ...over,
  };
}

/** The reference h2 (backup) of the v3 / 100 ms run. */
export function v3Backup(): InstanceSnapshot {
  return makeInstance({
    version: 3,
    state: 'BACKUP',
    wantstate: 'BACKUP',
    base_priority: 100,
    effective_priority: 100,
    master_priority: 150,
    master_address: '192.0.2.11',
    adver_int: 0.1,
    master_adver_int: 0.1,
    last_transition: 1795515077.696154,
    vipset: false,
    vips: [{ text: '192.0.2.50/24 dev eth0 scope global', address: '192.0.2.50', prefix: 24, dev: 'eth0', installed: false, excluded: false }],
    script: "'/opt/lab/notify.sh' '/tmp/kalab/obs/kal-h2'",
    stats: zeroStats({ advert_rcvd: 82 }),
    src_ip: '192.0.2.12',
    master_down_remaining: 0.25,
    last_advert_received: 1795515085.04,
  });
}

/** A 3-instance agent with a sync group, scripts, tracked interface and an LVS pool. */
export function threeInstanceSnapshot(): AgentSnapshot {
  const a = makeInstance({ iname: 'VI_1', vrid: 51, sync_group: 'G1', track_interface: ['eth1'] });
  const b = makeInstance({
    iname: 'VI_2',
    vrid: 52,
    state: 'BACKUP',
    wantstate: 'BACKUP',
    base_priority: 100,
    effective_priority: 100,
    master_priority: 150,
    master_address: '192.0.2.12',
    master_down_remaining: 2.1,
    last_advert_received: 1795515067.5,
    vips: [
      { text: '198.51.100.10/24 dev eth0 scope global', address: '198.51.100.10', prefix: 24, dev: 'eth0', installed: false, excluded: false },
      { text: '198.51.100.11/24 dev eth0 scope global', address: '198.51.100.11', prefix: 24, dev: 'eth0', installed: false, excluded: false },
    ],
    evips: [{ text: '203.0.113.9 dev eth0 scope global', address: '203.0.113.9', prefix: 32, dev: 'eth0', installed: false, excluded: true }],
    sync_group: 'G1',
    stats: zeroStats({ advert_rcvd: 1234, ip_ttl_err: 2 }),
  });
  const c = makeInstance({
    iname: 'VI_6',
    vrid: 60,
    version: 3,
    family: 'ipv6',
    state: 'FAULT',
    wantstate: 'BACKUP',
    base_priority: 90,
    effective_priority: 90,
    adver_int: 0.1,
    master_adver_int: 0.1,
    vips: [{ text: '2001:db8::50/64 dev eth0 scope global', address: '2001:db8::50', prefix: 64, dev: 'eth0', installed: false, excluded: false }],
    track_script: [],
    vrrp_domain: 'dc1-v6',
    stats: zeroStats(),
  });
  return makeSnapshot({
    instances: [a, b, c],
    syncGroups: [{ name: 'G1', state: 'MASTER', members: ['VI_1', 'VI_2'] }],
    scripts: [makeScript(), makeScript({ name: 'chk_bad', command: "'/bin/false'", status: 'bad', weight: -20 })],
    trackedInterfaces: [{ name: 'eth1', up: true }],
    virtualServers: [
      {
        name: '192.0.2.100:80',
        protocol: 'TCP',
        scheduler: 'rr',
        forwarding: 'NAT',
        quorum: 1,
        quorumMet: true,
        sorryActive: false,
        ipvs: { conns: 10, inPkts: 100, outPkts: 90, inBytes: 6400, outBytes: 128000 },
        realServers: [
          { address: '198.51.100.21:80', up: true, weight: 1, configuredWeight: 1, failedChecks: 0, checkers: ['HTTP_GET'], ipvs: { conns: 6, inPkts: 60, outPkts: 50, inBytes: 1, outBytes: 2, activeConns: 3, inactiveConns: 1 } },
          { address: '198.51.100.22:80', up: false, weight: 0, configuredWeight: 1, failedChecks: 1, checkers: ['HTTP_GET'] },
        ],
      },
    ],
    reload: { lastSuccessful: true, lastSuccessWall: 1795515060000, successes: 2, failures: 1 },
    snmp: { connected: true, reconnects: 1, enabled: true },
    trackProcesses: [{ name: 'haproxy', running: 2, quorumMet: true }],
  });
}
