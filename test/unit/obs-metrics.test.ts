import { describe, expect, it } from 'vitest';
import type { JournalEvent } from '../../src/journal/events';
import { Journal } from '../../src/journal/journal';
import { negotiate, OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE } from '../../src/observe/exposition';
import { compatVipLabels, createMetrics, deriveVrrpDomain, networkOf, type MetricsOptions } from '../../src/observe/metrics';
import type { AgentSnapshot } from '../../src/state/snapshot';
import { makeInstance, makeSnapshot, threeInstanceSnapshot, zeroStats } from '../obs/fixtures';

interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
  exemplar?: string;
}

/** minimal exposition parser for assertions (label values here never contain ',' or '"') */
function parse(body: string): { series: Series[]; types: Map<string, string>; help: Map<string, string> } {
  const series: Series[] = [];
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  for (const line of body.split('\n')) {
    if (!line) continue;
    let m = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (m) {
      types.set(m[1], m[2]);
      continue;
    }
    m = /^# HELP (\S+) (.*)$/.exec(line);
    if (m) {
      help.set(m[1], m[2]);
      continue;
    }
    if (line.startsWith('#')) continue;
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)(?: # (.*))?$/.exec(line);
    if (!m) throw new Error(`bad line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) for (const kv of m[2].match(/[a-z_]+="[^"]*"/g) ?? []) labels[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('"') + 1, -1);
    series.push({ name: m[1], labels, value: m[3] === '+Inf' ? Infinity : Number(m[3]), exemplar: m[4] });
  }
  return { series, types, help };
}

const pick = (s: Series[], name: string, where: Record<string, string> = {}) =>
  s.filter((x) => x.name === name && Object.entries(where).every(([k, v]) => x.labels[k] === v));

function setup(snapFn: () => AgentSnapshot, opts: MetricsOptions = {}) {
  let mono = 1000;
  let wall = 1795515000000;
  const journal = new Journal({ mono: () => mono, wall: () => wall });
  const m = createMetrics(journal, snapFn, { defaultMetrics: false, version: '0.1.0', ...opts });
  return {
    journal,
    m,
    advance(ms: number) {
      mono += ms;
      wall += ms;
    },
    async scrape(accept?: string) {
      const r = await m.render(accept);
      return { ...r, ...parse(r.body) };
    },
  };
}

describe('compatibility set (mehdy/keepalived-exporter v1.7)', () => {
  it('per-VIP keepalived_vrrp_state, excluded VIPs, types and HELP texts exactly', async () => {
    const t = setup(threeInstanceSnapshot);
    const { series, types, help, contentType } = await t.scrape();
    expect(contentType).toBe(TEXT_CONTENT_TYPE);
    expect(pick(series, 'keepalived_up')).toEqual([{ name: 'keepalived_up', labels: {}, value: 1, exemplar: undefined }]);
    expect(pick(series, 'keepalived_vrrp_state').map((s) => [s.labels, s.value])).toEqual([
      [{ iname: 'VI_1', intf: 'eth0', vrid: '51', ip_address: '192.0.2.50/24' }, 2],
      [{ iname: 'VI_2', intf: 'eth0', vrid: '52', ip_address: '198.51.100.10/24' }, 1],
      [{ iname: 'VI_2', intf: 'eth0', vrid: '52', ip_address: '198.51.100.11/24' }, 1],
      [{ iname: 'VI_6', intf: 'eth0', vrid: '60', ip_address: '2001:db8::50/64' }, 3],
    ]);
    expect(pick(series, 'keepalived_vrrp_excluded_state').map((s) => [s.labels, s.value])).toEqual([[{ iname: 'VI_2', intf: 'eth0', vrid: '52', ip_address: '203.0.113.9' }, 1]]);
    expect(types.get('keepalived_vrrp_state')).toBe('gauge');
    expect(help.get('keepalived_vrrp_state')).toBe('State of vrrp');
    const counters: Record<string, string> = {
      keepalived_gratuitous_arp_delay_total: 'Gratuitous ARP delay',
      keepalived_advertisements_received_total: 'Advertisements received',
      keepalived_advertisements_sent_total: 'Advertisements sent',
      keepalived_become_master_total: 'Became master',
      keepalived_release_master_total: 'Released master',
      keepalived_packet_length_errors_total: 'Packet length errors',
      keepalived_advertisements_interval_errors_total: 'Advertisement interval errors',
      keepalived_ip_ttl_errors_total: 'TTL errors',
      keepalived_invalid_type_received_total: 'Invalid type errors',
      keepalived_address_list_errors_total: 'Address list errors',
      keepalived_authentication_invalid_total: 'Authentication invalid',
      keepalived_authentication_mismatch_total: 'Authentication mismatch',
      keepalived_authentication_failure_total: 'Authentication failure',
      keepalived_priority_zero_received_total: 'Priority zero received',
      keepalived_priority_zero_sent_total: 'Priority zero sent',
    };
    for (const [name, h] of Object.entries(counters)) {
      expect(types.get(name), name).toBe('counter');
      expect(help.get(name), name).toBe(h);
      expect(pick(series, name).map((s) => s.labels)).toEqual([
        { iname: 'VI_1', intf: 'eth0', vrid: '51' },
        { iname: 'VI_2', intf: 'eth0', vrid: '52' },
        { iname: 'VI_6', intf: 'eth0', vrid: '60' },
      ]);
    }
    expect(pick(series, 'keepalived_advertisements_received_total', { iname: 'VI_2' })[0].value).toBe(1234);
    expect(pick(series, 'keepalived_ip_ttl_errors_total', { iname: 'VI_2' })[0].value).toBe(2);
    expect(pick(series, 'keepalived_advertisements_sent_total', { iname: 'VI_1' })[0].value).toBe(6);
    expect(pick(series, 'keepalived_gratuitous_arp_delay_total', { iname: 'VI_1' })[0].value).toBe(5);
    expect(pick(series, 'keepalived_script_status').map((s) => [s.labels.name, s.value])).toEqual([
      ['chk_file', 1],
      ['chk_bad', 0],
    ]);
    expect(pick(series, 'keepalived_script_state').map((s) => s.value)).toEqual([0, 0]);
    expect(pick(series, 'keepalived_exporter_build_info')[0].labels).toEqual({
      branch: '',
      goarch: process.arch === 'x64' ? 'amd64' : process.arch,
      goos: 'linux',
      goversion: process.version,
      revision: '',
      tags: '',
      version: '0.1.0',
    });
  });

  it('an instance without VIPs still has one keepalived_vrrp_state series with ip_address=""', async () => {
    const t = setup(() => makeSnapshot({ instances: [makeInstance({ vips: [], state: 'BACKUP' })] }));
    const { series } = await t.scrape();
    expect(pick(series, 'keepalived_vrrp_state').map((s) => [s.labels, s.value])).toEqual([[{ iname: 'VI_1', intf: 'eth0', vrid: '51', ip_address: '' }, 1]]);
  });

  it('ParseVIP semantics: first and third word of keepalived VIP text', () => {
    expect(compatVipLabels({ text: '192.168.2.2 dev ens192 scope global set', address: '', prefix: 32, dev: '' })).toEqual({ ip: '192.168.2.2', dev: 'ens192' });
    expect(compatVipLabels({ text: '192.168.2.2 dev', address: '', prefix: 32, dev: '' })).toBeUndefined();
    expect(compatVipLabels({ text: '', address: '2001:db8::1', prefix: 128, dev: 'eth1' })).toEqual({ ip: '2001:db8::1', dev: 'eth1' });
  });

  it("counters are keepalived's numbers: a STATS_CLEAR shows as a reset, like the exporter", async () => {
    let stats = zeroStats({ advert_rcvd: 500, pri_zero_rcvd: 2 });
    const t = setup(() => makeSnapshot({ instances: [makeInstance({ stats })] }));
    expect(pick((await t.scrape()).series, 'keepalived_advertisements_received_total')[0].value).toBe(500);
    stats = zeroStats({ advert_rcvd: 3 });
    const after = (await t.scrape()).series;
    expect(pick(after, 'keepalived_advertisements_received_total')[0].value).toBe(3);
    expect(pick(after, 'keepalived_priority_zero_received_total')[0].value).toBe(0);
  });

  it('engine not running: keepalived_up 0 and no instance data at all', async () => {
    let running = true;
    const t = setup(() => ({ ...threeInstanceSnapshot(), running }));
    t.journal.emit({ type: 'vrrp.transition', instance: 'VI_1', vrid: 51, intf: 'eth0', from: 'BACKUP', to: 'MASTER', reason: 'master_timeout', priority: 150, masterPriority: 0 });
    expect(pick((await t.scrape()).series, 'keepalived_vrrp_transitions_total')).toHaveLength(1);
    running = false;
    const { series } = await t.scrape();
    expect(pick(series, 'keepalived_up')[0].value).toBe(0);
    const leaked = series.filter((s) => /^keepalived_(vrrp|advert|become|release|script|real|virtual|checker|ipvs|priority|packet|ip_ttl|invalid|address|authentication|gratuitous)/.test(s.name));
    expect(leaked).toEqual([]);
  });
});

describe('native set', () => {
  it('stateset keepalived_vrrp_status with explicit zeros and vrrp_domain', async () => {
    const t = setup(threeInstanceSnapshot);
    const { series } = await t.scrape();
    const st = pick(series, 'keepalived_vrrp_status');
    expect(st).toHaveLength(15);
    const one = (iname: string) =>
      pick(st, 'keepalived_vrrp_status', { iname })
        .filter((s) => s.value === 1)
        .map((s) => s.labels.state);
    expect(one('VI_1')).toEqual(['MASTER']);
    expect(one('VI_2')).toEqual(['BACKUP']);
    expect(one('VI_6')).toEqual(['FAULT']);
    expect(pick(st, 'keepalived_vrrp_status', { iname: 'VI_1', state: 'BACKUP' })[0]).toMatchObject({ value: 0, labels: { intf: 'eth0', vrid: '51', vrrp_domain: '192.0.2.0/24' } });
    expect(pick(st, 'keepalived_vrrp_status', { iname: 'VI_2' })[0].labels.vrrp_domain).toBe('198.51.100.0/24');
    // explicit per-instance domain wins over the derived one
    expect(pick(st, 'keepalived_vrrp_status', { iname: 'VI_6' })[0].labels.vrrp_domain).toBe('dc1-v6');
    // split-brain maths: sum by (vrrp_domain, vrid) of MASTER
    expect(pick(st, 'keepalived_vrrp_status', { state: 'MASTER' }).reduce((a, s) => a + s.value, 0)).toBe(1);
  });

  it('operator vrrpDomain overrides every instance', async () => {
    const t = setup(threeInstanceSnapshot, { vrrpDomain: 'site-a' });
    const { series } = await t.scrape();
    expect(new Set(pick(series, 'keepalived_vrrp_status').map((s) => s.labels.vrrp_domain))).toEqual(new Set(['site-a']));
  });

  it('derives the domain from the first VIP network', () => {
    expect(networkOf('192.0.2.50', 24)).toBe('192.0.2.0/24');
    expect(networkOf('198.51.100.77', 32)).toBe('198.51.100.77/32');
    expect(networkOf('10.1.2.3', 0)).toBe('0.0.0.0/0');
    expect(networkOf('2001:db8:0:1::50', 64)).toBe('2001:db8:0:1::/64');
    expect(networkOf('2001:db8::1', 128)).toBe('2001:db8::1/128');
    expect(networkOf('fe80::1:2:3:4', 10)).toBe('fe80::/10');
    expect(networkOf('999.1.1.1', 24)).toBeUndefined();
    expect(deriveVrrpDomain(makeInstance({ vips: [] }))).toBe('');
  });

  it('timers, priorities, info, VIP counts, tracked interfaces, sync groups, scripts', async () => {
    const t = setup(threeInstanceSnapshot);
    const { series, types } = await t.scrape();
    const v = (name: string, iname: string) => pick(series, name, { iname })[0]?.value;
    expect(v('keepalived_vrrp_priority_base', 'VI_2')).toBe(100);
    expect(v('keepalived_vrrp_priority_effective', 'VI_1')).toBe(150);
    expect(v('keepalived_vrrp_master_priority', 'VI_2')).toBe(150);
    expect(v('keepalived_vrrp_wanted_state', 'VI_6')).toBe(1);
    expect(v('keepalived_vrrp_advert_interval_seconds', 'VI_6')).toBe(0.1);
    expect(v('keepalived_vrrp_skew_time_seconds', 'VI_2')).toBe(156 / 256);
    expect(v('keepalived_vrrp_master_down_interval_seconds', 'VI_2')).toBe(3 + 156 / 256);
    expect(v('keepalived_vrrp_master_down_timer_remaining_seconds', 'VI_2')).toBe(2.1);
    expect(v('keepalived_vrrp_master_down_timer_remaining_seconds', 'VI_1')).toBeUndefined(); // MASTER: no down timer
    expect(v('keepalived_vrrp_last_transition_timestamp_seconds', 'VI_1')).toBe(1795515063.893748);
    expect(v('keepalived_vrrp_last_advert_received_timestamp_seconds', 'VI_2')).toBe(1795515067.5);
    expect(v('keepalived_vrrp_vips_configured', 'VI_2')).toBe(2);
    expect(v('keepalived_vrrp_vips_installed', 'VI_2')).toBe(0);
    expect(v('keepalived_vrrp_vips_installed', 'VI_1')).toBe(1);
    expect(v('keepalived_vrrp_garp_sent_total', 'VI_1')).toBe(5);
    expect(types.get('keepalived_vrrp_garp_sent_total')).toBe('counter');
    expect(pick(series, 'keepalived_vrrp_time_in_state_seconds_total', { iname: 'VI_1', state: 'MASTER' })[0].value).toBe(120.5);
    expect(pick(series, 'keepalived_vrrp_time_in_state_seconds_total', { iname: 'VI_1' })).toHaveLength(5);
    const info = pick(series, 'keepalived_vrrp_instance_info');
    expect(info.map((s) => s.labels.iname)).toEqual(['VI_1', 'VI_2', 'VI_6']);
    expect(info[2].labels).toMatchObject({ version: '3', family: 'ipv6', unicast: 'false', nopreempt: 'false', vmac_intf: '' });
    // the VIP-set hash ignores device names and order, and differs for different sets
    const other = makeInstance({ vips: [{ text: 'x', address: '192.0.2.50', prefix: 24, dev: 'ens3', installed: false, excluded: false }] });
    const t2 = setup(() => makeSnapshot({ instances: [other] }));
    expect(pick((await t2.scrape()).series, 'keepalived_vrrp_instance_info')[0].labels.vips_hash).toBe(info[0].labels.vips_hash);
    expect(info[1].labels.vips_hash).not.toBe(info[0].labels.vips_hash);
    expect(pick(series, 'keepalived_vrrp_track_interface_up')).toEqual([
      { name: 'keepalived_vrrp_track_interface_up', labels: { iname: 'VI_1', intf: 'eth0', vrid: '51', vrrp_domain: '192.0.2.0/24', tracked_intf: 'eth1' }, value: 1, exemplar: undefined },
    ]);
    expect(pick(series, 'keepalived_vrrp_sync_group_status', { group: 'G1' }).map((s) => [s.labels.state, s.value])).toEqual([
      ['INIT', 0],
      ['BACKUP', 0],
      ['MASTER', 1],
      ['FAULT', 0],
      ['STOP', 0],
    ]);
    expect(pick(series, 'keepalived_vrrp_script_status', { name: 'chk_bad' }).map((s) => [s.labels.status, s.value])).toEqual([
      ['init', 0],
      ['good', 0],
      ['bad', 1],
      ['init_failed', 0],
    ]);
    expect(pick(series, 'keepalived_vrrp_track_process_running')[0]).toMatchObject({ labels: { name: 'haproxy' }, value: 2 });
    expect(pick(series, 'keepalived_config_reloads_total').map((s) => [s.labels.result, s.value])).toEqual([
      ['success', 2],
      ['failure', 1],
    ]);
    expect(pick(series, 'keepalived_config_last_reload_success_timestamp_seconds')[0].value).toBe(1795515060);
    expect(pick(series, 'keepalived_snmp_agentx_connected')[0].value).toBe(1);
    expect(pick(series, 'keepalived_snmp_agentx_reconnects_total')[0].value).toBe(1);
    expect(pick(series, 'keepalived_build_info')[0].labels).toEqual({ version: '0.1.0', revision: '', node_version: process.version });
  });

  it('no AgentX series when SNMP is not in use (no false KeepalivedAgentxDisconnected)', async () => {
    const t = setup(() => makeSnapshot());
    const { series } = await t.scrape();
    expect(pick(series, 'keepalived_snmp_agentx_connected')).toEqual([]);
  });

  it('LVS families from the snapshot', async () => {
    const t = setup(threeInstanceSnapshot);
    const { series, types } = await t.scrape();
    const vs = { virtual_server: '192.0.2.100:80' };
    expect(pick(series, 'keepalived_virtual_server_info')[0].labels).toEqual({ ...vs, protocol: 'TCP', scheduler: 'rr', forwarding: 'NAT' });
    expect(pick(series, 'keepalived_virtual_server_real_servers_configured')[0].value).toBe(2);
    expect(pick(series, 'keepalived_virtual_server_real_servers_up')[0].value).toBe(1);
    expect(pick(series, 'keepalived_virtual_server_quorum_met')[0].value).toBe(1);
    expect(pick(series, 'keepalived_real_server_up').map((s) => [s.labels.real_server, s.value])).toEqual([
      ['198.51.100.21:80', 1],
      ['198.51.100.22:80', 0],
    ]);
    expect(pick(series, 'keepalived_real_server_failed_checks', { real_server: '198.51.100.22:80' })[0].value).toBe(1);
    expect(pick(series, 'keepalived_ipvs_virtual_server_outgoing_bytes_total')[0]).toMatchObject({ labels: vs, value: 128000 });
    expect(types.get('keepalived_ipvs_virtual_server_connections_total')).toBe('counter');
    // a destination without kernel stats has no IPVS series
    expect(pick(series, 'keepalived_ipvs_real_server_active_connections').map((s) => [s.labels.real_server, s.value])).toEqual([['198.51.100.21:80', 3]]);
  });
});

describe('journal-fed families', () => {
  it('transitions with from/to/reason; exemplar trace_id only in OpenMetrics', async () => {
    const seen: JournalEvent[] = [];
    const t = setup(threeInstanceSnapshot, { tracingExemplars: { traceIdFor: (e) => (seen.push(e), '4bf92f3577b34da6a3ce929d0e0e4736') } });
    const tr = (to: 'MASTER' | 'BACKUP', reason: 'master_timeout' | 'higher_priority_master') =>
      t.journal.emit({ type: 'vrrp.transition', instance: 'VI_2', vrid: 52, intf: 'eth0', from: to === 'MASTER' ? 'BACKUP' : 'MASTER', to, reason, priority: 100, masterPriority: 150 });
    tr('MASTER', 'master_timeout');
    t.advance(5000);
    tr('BACKUP', 'higher_priority_master');
    t.advance(5000);
    tr('MASTER', 'master_timeout');
    expect(seen).toHaveLength(3);
    const text = await t.scrape();
    expect(text.types.get('keepalived_vrrp_transitions_total')).toBe('counter');
    expect(pick(text.series, 'keepalived_vrrp_transitions_total').map((s) => [s.labels, s.value, s.exemplar])).toEqual([
      [{ iname: 'VI_2', intf: 'eth0', vrid: '52', vrrp_domain: '198.51.100.0/24', from: 'BACKUP', to: 'MASTER', reason: 'master_timeout' }, 2, undefined],
      [{ iname: 'VI_2', intf: 'eth0', vrid: '52', vrrp_domain: '198.51.100.0/24', from: 'MASTER', to: 'BACKUP', reason: 'higher_priority_master' }, 1, undefined],
    ]);
    const om = await t.scrape('application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5');
    expect(om.contentType).toBe(OPENMETRICS_CONTENT_TYPE);
    expect(om.body.endsWith('# EOF\n')).toBe(true);
    expect(om.types.get('keepalived_vrrp_transitions')).toBe('counter');
    const ex = pick(om.series, 'keepalived_vrrp_transitions_total', { to: 'MASTER' })[0].exemplar;
    expect(ex).toBe('{trace_id="4bf92f3577b34da6a3ce929d0e0e4736"} 1 1795515010.000');
    // the text exposition must not be damaged by an OpenMetrics render (prom-client renames in place)
    expect((await t.scrape()).types.get('keepalived_vrrp_transitions_total')).toBe('counter');
  });

  it("advert inter-arrival histogram in multiples of the master's interval", async () => {
    const t = setup(threeInstanceSnapshot);
    const adv = (src = '192.0.2.12', cs = 100) => t.journal.emit({ type: 'vrrp.advert.received', instance: 'VI_2', vrid: 52, intf: 'eth0', src, priority: 150, advertIntCs: cs, inMaster: false });
    adv();
    t.advance(1000);
    adv();
    t.advance(1050);
    adv();
    t.advance(2500);
    adv();
    t.advance(1000);
    t.journal.emit({ type: 'vrrp.advert.received', instance: 'VI_2', vrid: 52, intf: 'eth0', src: '192.0.2.99', priority: 90, advertIntCs: 100, inMaster: false, discarded: 'lower_priority' });
    const { series } = await t.scrape();
    const b = pick(series, 'keepalived_vrrp_advert_receive_interval_seconds_bucket', { iname: 'VI_2' }).map((s) => [s.labels.le, s.value]);
    expect(b).toEqual([
      ['0.5', 0],
      ['0.9', 0],
      ['1', 1],
      ['1.1', 2],
      ['1.5', 2],
      ['2', 2],
      ['3', 3],
      ['+Inf', 3],
    ]);
    expect(pick(series, 'keepalived_vrrp_advert_receive_interval_seconds_count')[0].value).toBe(3);
    expect(pick(series, 'keepalived_vrrp_advert_receive_interval_seconds_sum')[0].value).toBeCloseTo(4.55, 9);
    // 100 ms adverts: bounds scale with the interval
    const t3 = setup(threeInstanceSnapshot);
    t3.journal.emit({ type: 'vrrp.advert.received', instance: 'VI_6', vrid: 60, intf: 'eth0', src: 'fe80::1', priority: 150, advertIntCs: 10, inMaster: false });
    t3.advance(95);
    t3.journal.emit({ type: 'vrrp.advert.received', instance: 'VI_6', vrid: 60, intf: 'eth0', src: 'fe80::1', priority: 150, advertIntCs: 10, inMaster: false });
    const b3 = pick((await t3.scrape()).series, 'keepalived_vrrp_advert_receive_interval_seconds_bucket').map((s) => [s.labels.le, s.value]);
    expect(b3.map((x) => x[0])).toEqual(['0.05', '0.09', '0.1', '0.11', '0.15', '0.2', '0.3', '+Inf']);
    expect(b3[2][1]).toBe(1);
    expect(b3[1][1]).toBe(0);
  });

  it('a transition restarts inter-arrival measurement (no gap sample across a failover)', async () => {
    const t = setup(threeInstanceSnapshot);
    const adv = () => t.journal.emit({ type: 'vrrp.advert.received', instance: 'VI_2', vrid: 52, intf: 'eth0', src: '192.0.2.12', priority: 150, advertIntCs: 100, inMaster: false });
    adv();
    t.journal.emit({ type: 'vrrp.transition', instance: 'VI_2', vrid: 52, intf: 'eth0', from: 'BACKUP', to: 'BACKUP', reason: 'reload', priority: 100, masterPriority: 150 });
    t.advance(30000);
    adv();
    expect(pick((await t.scrape()).series, 'keepalived_vrrp_advert_receive_interval_seconds_count')).toEqual([]);
  });

  it('send lag, scripts, notify, checkers, real servers, global errors, SNMP notifications', async () => {
    const t = setup(threeInstanceSnapshot);
    const j = t.journal;
    j.emit({ type: 'vrrp.advert.sent', instance: 'VI_1', vrid: 51, intf: 'eth0', priority: 150, scheduledMono: 0, lagMs: 0.3 });
    j.emit({ type: 'vrrp.advert.sent', instance: 'VI_1', vrid: 51, intf: 'eth0', priority: 150, scheduledMono: 0, lagMs: 70 });
    j.emit({ type: 'track.script', name: 'chk_file', result: 'success', exitCode: 0, durationMs: 3, status: 'good' });
    j.emit({ type: 'track.script', name: 'chk_file', result: 'timeout', exitCode: null, durationMs: 2000, status: 'bad' });
    j.emit({ type: 'notify.run', event: 'MASTER', target: 'VI_1', command: '/n.sh', exitCode: 0, durationMs: 4 });
    j.emit({ type: 'checker.result', virtualServer: '192.0.2.100:80', realServer: '198.51.100.22:80', checker: 'HTTP_GET', result: 'failure', durationMs: 12 });
    j.emit({ type: 'realserver.state', virtualServer: '192.0.2.100:80', realServer: '198.51.100.22:80', up: false, weight: 0, reason: 'HTTP_GET failed' });
    j.emit({ type: 'vrrp.global_error', counter: 'checksum_err', intf: 'eth0' });
    j.emit({ type: 'vrrp.error', instance: 'VI_1', vrid: 51, intf: 'eth0', counter: 'version_err' });
    j.emit({ type: 'vrrp.error', instance: 'VI_1', vrid: 51, intf: 'eth0', counter: 'ip_ttl_err' });
    j.emit({ type: 'snmp.notification', notification: 'vrrpInstanceStateChange', ok: true });
    j.emit({ type: 'snmp.notification', notification: 'vrrpInstanceStateChange', ok: false });
    const { series } = await t.scrape();
    const lag = pick(series, 'keepalived_vrrp_advert_send_lag_seconds_bucket', { iname: 'VI_1' });
    expect(lag.find((s) => s.labels.le === '0.0005')?.value).toBe(1);
    expect(lag.find((s) => s.labels.le === '0.05')?.value).toBe(1);
    expect(lag.find((s) => s.labels.le === '0.1')?.value).toBe(2);
    expect(pick(series, 'keepalived_vrrp_script_runs_total').map((s) => [s.labels.result, s.value])).toEqual([
      ['success', 1],
      ['timeout', 1],
    ]);
    expect(pick(series, 'keepalived_vrrp_script_duration_seconds_sum')[0].value).toBeCloseTo(2.003, 9);
    expect(pick(series, 'keepalived_notify_script_duration_seconds_count', { event: 'MASTER' })[0].value).toBe(1);
    expect(pick(series, 'keepalived_checker_checks_total')[0]).toMatchObject({ labels: { virtual_server: '192.0.2.100:80', real_server: '198.51.100.22:80', checker: 'HTTP_GET', result: 'failure' }, value: 1 });
    expect(pick(series, 'keepalived_checker_duration_seconds_count')[0].labels).toEqual({ virtual_server: '192.0.2.100:80', checker: 'HTTP_GET' });
    expect(pick(series, 'keepalived_real_server_transitions_total')[0]).toMatchObject({ labels: { to: 'down' }, value: 1 });
    expect(pick(series, 'keepalived_vrrp_checksum_errors_total')).toMatchObject([{ labels: { intf: 'eth0' }, value: 1 }]);
    expect(pick(series, 'keepalived_vrrp_version_errors_total')).toMatchObject([{ labels: { intf: 'eth0' }, value: 1 }]);
    expect(pick(series, 'keepalived_snmp_notifications_sent_total')).toMatchObject([{ labels: { notification: 'vrrpInstanceStateChange' }, value: 1 }]);
  });

  it('series of an instance removed by a reload disappear', async () => {
    let snap = threeInstanceSnapshot();
    const t = setup(() => snap);
    t.journal.emit({ type: 'vrrp.transition', instance: 'VI_6', vrid: 60, intf: 'eth0', from: 'INIT', to: 'FAULT', reason: 'startup', priority: 90, masterPriority: 0 });
    t.journal.emit({ type: 'vrrp.transition', instance: 'VI_1', vrid: 51, intf: 'eth0', from: 'BACKUP', to: 'MASTER', reason: 'master_timeout', priority: 150, masterPriority: 0 });
    expect(pick((await t.scrape()).series, 'keepalived_vrrp_transitions_total')).toHaveLength(2);
    snap = { ...snap, instances: snap.instances.filter((i) => i.iname !== 'VI_6') };
    const { series } = await t.scrape();
    expect(pick(series, 'keepalived_vrrp_transitions_total').map((s) => s.labels.iname)).toEqual(['VI_1']);
    expect(pick(series, 'keepalived_vrrp_status', { iname: 'VI_6' })).toEqual([]);
  });
});

describe('scrape mechanics', () => {
  it('one snapshot per scrape (a consistent instant)', async () => {
    let calls = 0;
    const t = setup(() => (calls++, threeInstanceSnapshot()));
    await t.scrape();
    expect(calls).toBe(1);
    await Promise.all([t.scrape(), t.scrape()]);
    expect(calls).toBe(3);
  });

  it('default process/nodejs metrics, minus the three promtool rejects', async () => {
    const journal = new Journal();
    const m = createMetrics(journal, threeInstanceSnapshot);
    const { body } = await m.render();
    expect(body).toMatch(/^process_cpu_seconds_total \d/m);
    expect(body).toMatch(/^nodejs_version_info\{/m);
    expect(body).toMatch(/^nodejs_active_handles\{/m);
    expect(body).not.toMatch(/nodejs_active_(handles|requests|resources)_total/);
    m.close();
  });

  it("prom-client's own registry.metrics() renders the same series", async () => {
    const t = setup(threeInstanceSnapshot);
    t.journal.emit({ type: 'vrrp.transition', instance: 'VI_1', vrid: 51, intf: 'eth0', from: 'BACKUP', to: 'MASTER', reason: 'master_timeout', priority: 150, masterPriority: 0 });
    const ours = (await t.scrape()).series;
    const theirs = parse(await t.m.registry.metrics()).series;
    const key = (s: Series) => `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}=${s.value}`;
    expect(theirs.map(key).sort()).toEqual(ours.map(key).sort());
    expect(pick(theirs, 'keepalived_vrrp_status', { iname: 'VI_2', state: 'BACKUP' })[0].value).toBe(1);
  });

  it('content negotiation', () => {
    expect(negotiate(undefined)).toBe('text');
    expect(negotiate('*/*')).toBe('text');
    expect(negotiate('text/plain;version=0.0.4')).toBe('text');
    expect(negotiate('application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1')).toBe('openmetrics');
    expect(negotiate('application/openmetrics-text; version=0.0.1')).toBe('openmetrics');
    expect(negotiate('application/openmetrics-text;version=2.0.0')).toBe('text');
    expect(negotiate('application/openmetrics-text;q=0.2,text/plain;q=0.9')).toBe('text');
    expect(negotiate('application/openmetrics-text;q=0')).toBe('text');
    expect(negotiate(';;;,,,garbage=1;q=x')).toBe('text');
  });

  it('label values are escaped', async () => {
    const t = setup(() => makeSnapshot({ scripts: [{ name: 'we"ird\\na\nme', command: 'x', status: 'good', state: 0, interval: 1, weight: 0, rise: 1, fall: 1 }] }));
    const { body } = await t.m.render();
    expect(body).toContain('keepalived_script_status{name="we\\"ird\\\\na\\nme"} 1\n');
  });
});
