// The metric names of shared/research/observability-anchors.md §8 (A: drop-in
// keepalived-exporter set, B: keepwatch additions) with type and labels, as the dashboards
// and alert rules may use them. test/unit/dashboards-structure.test.ts checks this list
// against §8 itself, so a rename there fails the build here.
export type MetricType = 'counter' | 'gauge' | 'histogram';
export interface MetricDef { name: string; type: MetricType; set: 'A' | 'B'; labels: string[] }

const INST = ['iname', 'intf', 'vrid'];
const VIP = ['iname', 'intf', 'vrid', 'ip_address'];

function defs(set: 'A' | 'B', type: MetricType, labels: string[], names: string[]): MetricDef[] {
  return names.map((name) => ({ name, type, set, labels }));
}

export const METRICS: MetricDef[] = [
  // ---- A: mehdy/keepalived-exporter v1.7.x
  ...defs('A', 'gauge', [], ['keepalived_up']),
  ...defs('A', 'gauge', ['branch', 'goarch', 'goos', 'goversion', 'revision', 'tags', 'version'], ['keepalived_exporter_build_info']),
  ...defs('A', 'gauge', VIP, ['keepalived_vrrp_state', 'keepalived_vrrp_excluded_state', 'keepalived_exporter_check_script_status']),
  ...defs('A', 'counter', INST, [
    'keepalived_gratuitous_arp_delay_total',
    'keepalived_advertisements_received_total',
    'keepalived_advertisements_sent_total',
    'keepalived_become_master_total',
    'keepalived_release_master_total',
    'keepalived_packet_length_errors_total',
    'keepalived_advertisements_interval_errors_total',
    'keepalived_ip_ttl_errors_total',
    'keepalived_invalid_type_received_total',
    'keepalived_address_list_errors_total',
    'keepalived_authentication_invalid_total',
    'keepalived_authentication_mismatch_total',
    'keepalived_authentication_failure_total',
    'keepalived_priority_zero_received_total',
    'keepalived_priority_zero_sent_total',
  ]),
  ...defs('A', 'gauge', ['name'], ['keepalived_script_status', 'keepalived_script_state']),

  // ---- B: keepwatch additions
  ...defs('B', 'gauge', ['version', 'revision', 'node_version'], ['keepalived_build_info']),
  ...defs('B', 'gauge', [...INST, 'vrrp_domain', 'version', 'family', 'vmac_intf', 'unicast', 'nopreempt', 'vips_hash'], ['keepalived_vrrp_instance_info']),
  ...defs('B', 'gauge', [...INST, 'vrrp_domain', 'state'], ['keepalived_vrrp_status']),
  ...defs('B', 'gauge', INST, [
    'keepalived_vrrp_wanted_state',
    'keepalived_vrrp_last_transition_timestamp_seconds',
    'keepalived_vrrp_priority_base',
    'keepalived_vrrp_priority_effective',
    'keepalived_vrrp_master_priority',
    'keepalived_vrrp_advert_interval_seconds',
    'keepalived_vrrp_master_advert_interval_seconds',
    'keepalived_vrrp_skew_time_seconds',
    'keepalived_vrrp_master_down_interval_seconds',
    'keepalived_vrrp_master_down_timer_remaining_seconds',
    'keepalived_vrrp_last_advert_received_timestamp_seconds',
    'keepalived_vrrp_vips_configured',
    'keepalived_vrrp_vips_installed',
  ]),
  ...defs('B', 'counter', [...INST, 'from', 'to', 'reason'], ['keepalived_vrrp_transitions_total']),
  ...defs('B', 'counter', [...INST, 'state'], ['keepalived_vrrp_time_in_state_seconds_total']),
  ...defs('B', 'histogram', INST, ['keepalived_vrrp_advert_receive_interval_seconds', 'keepalived_vrrp_advert_send_lag_seconds']),
  ...defs('B', 'counter', INST, [
    'keepalived_vrrp_advertisements_received_in_master_total',
    'keepalived_vrrp_garp_sent_total',
    'keepalived_vrrp_unsolicited_na_sent_total',
  ]),
  ...defs('B', 'counter', [...INST, 'reason'], ['keepalived_vrrp_authentication_extension_errors_total']),
  ...defs('B', 'counter', ['intf'], ['keepalived_vrrp_checksum_errors_total', 'keepalived_vrrp_version_errors_total', 'keepalived_vrrp_vrid_errors_total']),
  ...defs('B', 'gauge', ['group', 'state'], ['keepalived_vrrp_sync_group_status']),
  ...defs('B', 'gauge', ['name', 'status'], ['keepalived_vrrp_script_status']),
  ...defs('B', 'histogram', ['name'], ['keepalived_vrrp_script_duration_seconds']),
  ...defs('B', 'counter', ['name', 'result'], ['keepalived_vrrp_script_runs_total']),
  ...defs('B', 'gauge', [...INST, 'tracked_intf'], ['keepalived_vrrp_track_interface_up']),
  ...defs('B', 'gauge', ['name'], ['keepalived_vrrp_track_process_running', 'keepalived_vrrp_track_process_quorum_met']),
  ...defs('B', 'histogram', ['event'], ['keepalived_notify_script_duration_seconds']),
  ...defs('B', 'gauge', ['virtual_server', 'protocol', 'scheduler', 'forwarding'], ['keepalived_virtual_server_info']),
  ...defs('B', 'gauge', ['virtual_server'], [
    'keepalived_virtual_server_real_servers_configured',
    'keepalived_virtual_server_real_servers_up',
    'keepalived_virtual_server_quorum',
    'keepalived_virtual_server_quorum_met',
  ]),
  ...defs('B', 'gauge', ['virtual_server', 'real_server'], ['keepalived_real_server_up', 'keepalived_real_server_weight', 'keepalived_real_server_failed_checks']),
  ...defs('B', 'counter', ['virtual_server', 'real_server', 'to'], ['keepalived_real_server_transitions_total']),
  ...defs('B', 'histogram', ['virtual_server', 'checker'], ['keepalived_checker_duration_seconds']),
  ...defs('B', 'counter', ['virtual_server', 'real_server', 'checker', 'result'], ['keepalived_checker_checks_total']),
  ...defs('B', 'counter', ['virtual_server'], [
    'keepalived_ipvs_virtual_server_connections_total',
    'keepalived_ipvs_virtual_server_incoming_packets_total',
    'keepalived_ipvs_virtual_server_outgoing_packets_total',
    'keepalived_ipvs_virtual_server_incoming_bytes_total',
    'keepalived_ipvs_virtual_server_outgoing_bytes_total',
  ]),
  ...defs('B', 'gauge', ['virtual_server', 'real_server'], ['keepalived_ipvs_real_server_active_connections', 'keepalived_ipvs_real_server_inactive_connections']),
  ...defs('B', 'gauge', [], ['keepalived_config_last_reload_successful', 'keepalived_config_last_reload_success_timestamp_seconds', 'keepalived_snmp_agentx_connected']),
  ...defs('B', 'counter', ['result'], ['keepalived_config_reloads_total']),
  ...defs('B', 'counter', [], ['keepalived_snmp_agentx_reconnects_total']),
  ...defs('B', 'counter', ['notification'], ['keepalived_snmp_notifications_sent_total']),
];

/** Prometheus' own series, not exposed by any target. */
export const PROMETHEUS_SYNTHETIC = ['up', 'ALERTS', 'ALERTS_FOR_STATE', 'scrape_duration_seconds', 'scrape_samples_scraped'];

const byName = new Map(METRICS.map((m) => [m.name, m]));

/**
 * The §8 family a sample name belongs to (histogram series carry _bucket/_sum/_count);
 * `process_*` / `nodejs_*` (prom-client defaults, §8 last row) are checked by the caller
 * against prom-client's real default metrics.
 */
export function familyOf(sample: string): MetricDef | undefined {
  const direct = byName.get(sample);
  if (direct) return direct;
  const m = /^(.*)_(bucket|sum|count)$/.exec(sample);
  if (m) {
    const h = byName.get(m[1]!);
    if (h && h.type === 'histogram') return h;
  }
  return undefined;
}
