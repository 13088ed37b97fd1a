/**
 * AgentSnapshots equivalent to the keepalived 2.2.7 reference capture
 * (shared/reference/keepalived-2.2.7: RESULTS.md §8 config "v2-1s"/"v3-100ms" with the
 * -snmp global_defs, master h1 after becoming MASTER; values from the .json/.data dumps
 * and logs/v{2,3}-snmp-master.log).
 */
import * as nodePath from 'node:path';
import type { AgentSnapshot, InstanceSnapshot, InstanceStats } from '../../src/state/snapshot';

// shared/ lies beside the repository (developers and CI alike)
export const REF_DIR = nodePath.resolve(__dirname, '../../../shared/reference/keepalived-2.2.7');

function stats(over: Partial<InstanceStats> = {}): InstanceStats {
  return {
    advert_rcvd: 0,
    advert_sent: 6,
    become_master: 1,
    release_master: 0,
    packet_len_err: 0,
    advert_interval_err: 0,
    ip_ttl_err: 0,
    invalid_type_rcvd: 0,
    addr_list_err: 0,
    invalid_authtype: 0,
    authtype_mismatch: 0,
    auth_failure: 0,
    pri_zero_rcvd: 0,
    pri_zero_sent: 0,
    ...over,
  };
}

export function referenceInstance(version: 2 | 3, over: Partial<InstanceSnapshot> = {}): InstanceSnapshot {
  const now = Date.now() / 1000;
  return {
    iname: 'VI_1',
    vrid: 51,
    version,
    family: 'ipv4',
    ifp_ifname: 'eth0',
    vmac_ifname: '',
    ifindex: 2,
    state: 'MASTER',
    wantstate: 'MASTER',
    initial_state: 'MASTER',
    base_priority: 150,
    effective_priority: 150,
    master_priority: 0,
    master_address: '',
    adver_int: version === 2 ? 1 : 0.1,
    master_adver_int: version === 2 ? 1 : 0.1,
    skew_time: 0,
    master_down_interval: 0,
    master_down_remaining: null,
    last_transition: now - 5,
    up_since: now - 8,
    last_advert_received: 0,
    time_in_state: { INIT: 0, BACKUP: 3, MASTER: 5, FAULT: 0, STOP: 0 },
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
    stats: stats(),
    adverts_received_in_master: 0,
    garp_sent: 10,
    na_sent: 0,
    src_ip: '192.0.2.11',
    hw_addr: '02:00:00:00:00:01',
    master_reason: 3,
    proto_err_reason: 0,
    ...over,
  };
}

export function referenceSnapshot(version: 2 | 3, over: Partial<AgentSnapshot> = {}): AgentSnapshot {
  return {
    takenAt: Date.now(),
    running: true,
    version: 'Keepalived v2.2.7 (01/16,2022)',
    routerId: 'h1',
    instances: [referenceInstance(version)],
    syncGroups: [],
    scripts: [
      {
        name: 'chk_file',
        command: "'/usr/bin/test' '-e' '/tmp/kalab/obs/kal-h1/healthy'",
        status: 'good',
        state: 0,
        interval: 1,
        weight: -60,
        rise: 2,
        fall: 2,
      },
    ],
    trackedInterfaces: [],
    virtualServers: [],
    reload: { lastSuccessful: true, lastSuccessWall: Date.now(), successes: 0, failures: 0 },
    snmp: { connected: false, reconnects: 0 },
    ...over,
  };
}
