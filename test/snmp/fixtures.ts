/**
 * AgentSnapshots equivalent to the keepalived 2.2.7 reference capture
 * (shared/reference/keepalived-2.2.7: RESULTS.md §8 config "v2-1s"/"v3-100ms" with the
 * -snmp global_defs, master h1 after becoming MASTER; values from the .json/.data dumps
 * and logs/v{2,3}-snmp-master.log).
 */
import type { AgentSnapshot, InstanceSnapshot } from '../../src/state/snapshot';
import { makeInstance, makeScript, makeSnapshot, zeroStats } from '../obs/fixtures';

export { REF_DIR } from '../obs/fixtures';

/**
 * The reference master h1 (test/obs/fixtures.ts makeInstance) as the SNMP capture saw it:
 * the interval of the chosen run, times relative to now (sysUpTime-based columns), and
 * the fields only the MIB reads. Derived timers are given outright so `over` changes
 * exactly the fields it names.
 */
export function referenceInstance(version: 2 | 3, over: Partial<InstanceSnapshot> = {}): InstanceSnapshot {
  const now = Date.now() / 1000;
  const adv = version === 2 ? 1 : 0.1;
  return makeInstance({
    version,
    initial_state: 'MASTER',
    base_priority: 150,
    effective_priority: 150,
    adver_int: adv,
    master_adver_int: adv,
    skew_time: 0,
    master_down_interval: 0,
    last_transition: now - 5,
    up_since: now - 8,
    time_in_state: { INIT: 0, BACKUP: 3, MASTER: 5, FAULT: 0, STOP: 0 },
    stats: zeroStats({ advert_sent: 6, become_master: 1 }),
    garp_sent: 10,
    hw_addr: '02:00:00:00:00:01',
    master_reason: 3,
    proto_err_reason: 0,
    ...over,
  });
}

export function referenceSnapshot(version: 2 | 3, over: Partial<AgentSnapshot> = {}): AgentSnapshot {
  return makeSnapshot({
    takenAt: Date.now(),
    version: 'Keepalived v2.2.7 (01/16,2022)',
    instances: [referenceInstance(version)],
    scripts: [makeScript()],
    reload: { lastSuccessful: true, lastSuccessWall: Date.now(), successes: 0, failures: 0 },
    ...over,
  });
}
