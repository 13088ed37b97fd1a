/**
 * The exposition of a 3-instance agent (every family populated: compat, native, journal-fed
 * histograms/counters, LVS, SNMP, process/nodejs defaults) must pass the real Debian
 * `promtool check metrics` (prometheus 2.42) with no finding.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/journal';
import { createMetrics } from '../../src/observe/metrics';
import { threeInstanceSnapshot } from './fixtures';

function promtool(input: string): { status: number | null; out: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('promtool check metrics', () => {
  it('passes on the full 3-instance exposition (rc 0, no findings)', async () => {
    let mono = 0;
    const journal = new Journal({ mono: () => mono, wall: () => 1795515000000 + mono });
    const m = createMetrics(journal, threeInstanceSnapshot, { version: '0.1.0' });
    for (const [instance, vrid] of [
      ['VI_1', 51],
      ['VI_2', 52],
      ['VI_6', 60],
    ] as const) {
      journal.emit({ type: 'vrrp.transition', instance, vrid, intf: 'eth0', from: 'INIT', to: 'BACKUP', reason: 'startup', priority: 100, masterPriority: 0 });
      journal.emit({ type: 'vrrp.advert.sent', instance, vrid, intf: 'eth0', priority: 100, scheduledMono: mono, lagMs: 0.4 });
      for (let k = 0; k < 3; k++) {
        journal.emit({ type: 'vrrp.advert.received', instance, vrid, intf: 'eth0', src: '192.0.2.12', priority: 150, advertIntCs: 100, inMaster: false });
        mono += 1000;
      }
    }
    journal.emit({ type: 'vrrp.global_error', counter: 'vrid_err', intf: 'eth0' });
    journal.emit({ type: 'track.script', name: 'chk_file', result: 'success', exitCode: 0, durationMs: 2, status: 'good' });
    journal.emit({ type: 'notify.run', event: 'BACKUP', target: 'VI_1', command: '/n.sh', exitCode: 0, durationMs: 3 });
    journal.emit({ type: 'checker.result', virtualServer: '192.0.2.100:80', realServer: '198.51.100.21:80', checker: 'HTTP_GET', result: 'success', durationMs: 4 });
    journal.emit({ type: 'realserver.state', virtualServer: '192.0.2.100:80', realServer: '198.51.100.22:80', up: false, weight: 0, reason: 'x' });
    journal.emit({ type: 'snmp.notification', notification: 'vrrpInstanceStateChange', ok: true });

    const { body, contentType } = await m.render();
    m.close();
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    // every family of the superset is present, so the lint covers all of them
    for (const fam of [
      'keepalived_vrrp_state',
      'keepalived_vrrp_status',
      'keepalived_vrrp_transitions_total',
      'keepalived_vrrp_advert_receive_interval_seconds_bucket',
      'keepalived_vrrp_advert_send_lag_seconds_bucket',
      'keepalived_vrrp_vrid_errors_total',
      'keepalived_vrrp_script_duration_seconds_bucket',
      'keepalived_notify_script_duration_seconds_bucket',
      'keepalived_checker_duration_seconds_bucket',
      'keepalived_checker_checks_total',
      'keepalived_real_server_transitions_total',
      'keepalived_ipvs_real_server_active_connections',
      'keepalived_snmp_notifications_sent_total',
      'keepalived_vrrp_track_process_quorum_met',
      'process_cpu_seconds_total',
      'nodejs_heap_size_total_bytes',
    ])
      expect(body, fam).toContain(`\n${fam}`);
    const r = promtool(body);
    expect(r.out).toBe('');
    expect(r.status).toBe(0);
  });

  it('promtool does flag a lint error (the check is real)', () => {
    const r = promtool('# HELP bad_counter x\n# TYPE bad_counter counter\nbad_counter 1\n');
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/_total/);
  });
});
