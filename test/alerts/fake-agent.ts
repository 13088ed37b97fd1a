// Fake keepwatch agents for the live Prometheus test: one loopback HTTP server per "host",
// each exposing /metrics in the keepwatch format (observability-anchors §8 A + B, text
// exposition 0.0.4) computed from a small model that the test drives: VRRP state per
// instance, with counters and timestamps advancing with wall time the way a running agent's
// would (1 advert per advert interval sent by a MASTER and received by its BACKUPs,
// adverts heard while MASTER when another member is MASTER too, transitions with reasons).
//
// `LiveFleet` is what the live test needs from a fleet; the real-agent variant implements
// it with keepwatch processes in network namespaces.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { METRICS, type MetricType } from './metric-names';

export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP';
const STATES: VrrpState[] = ['INIT', 'BACKUP', 'MASTER', 'FAULT', 'STOP'];
const MEHDY_CODE: Record<VrrpState, number> = { INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3, STOP: 98 };

export interface LiveFleet {
  /** "host:port" of every agent, in a stable order */
  readonly targets: string[];
  /** Prometheus `instance` label of host i */
  instanceOf(host: number): string;
  setState(host: number, iname: string, state: VrrpState, reason: string): void;
  stop(): Promise<void>;
}

export interface FakeInstanceSpec {
  iname: string;
  intf: string;
  vrid: number;
  vrrpDomain: string;
  vips: string[];
  priority: number;
  state: VrrpState;
  advertInterval?: number;
}

export interface FakeHostSpec {
  port: number;
  instances: FakeInstanceSpec[];
  /** IPVS pools on this host: virtual server -> real servers with their check state */
  virtualServers?: Array<{ vs: string; quorum: number; realServers: Array<{ rs: string; up: boolean; weight: number }> }>;
}

interface InstanceModel extends FakeInstanceSpec {
  since: number;               // wall ms of the last transition
  lastUpdate: number;          // wall ms counters were advanced to
  sent: number;
  received: number;
  receivedInMaster: number;
  becomeMaster: number;
  releaseMaster: number;
  garp: number;
  transitions: Map<string, number>;   // "from|to|reason" -> count
  timeInState: Record<VrrpState, number>;
  lastAdvertAt: number;        // wall seconds
  recvIntervalCount: number;
  sendLagCount: number;
}

const RECV_BUCKETS = [0.5, 0.9, 1, 1.1, 1.5, 2, 3];
const LAG_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1];

function esc(v: string): string { return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n'); }
function labels(l: Record<string, string | number>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${esc(String(v))}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

class Exposition {
  private families = new Map<string, { type: MetricType; lines: string[] }>();
  private typeOf = new Map(METRICS.map((m) => [m.name, m.type]));
  add(name: string, l: Record<string, string | number>, value: number, type?: MetricType): void {
    const t = type ?? this.typeOf.get(name);
    if (!t) throw new Error(`fake agent: ${name} is not a §8 metric`);
    let f = this.families.get(name);
    if (!f) { f = { type: t, lines: [] }; this.families.set(name, f); }
    f.lines.push(`${name}${labels(l)} ${Number.isFinite(value) ? value : 0}`);
  }
  histogram(name: string, l: Record<string, string | number>, buckets: number[], count: number, typical: number): void {
    let f = this.families.get(name);
    if (!f) { f = { type: 'histogram', lines: [] }; this.families.set(name, f); }
    for (const le of buckets) f.lines.push(`${name}_bucket${labels({ ...l, le: String(le) })} ${le >= typical ? count : 0}`);
    f.lines.push(`${name}_bucket${labels({ ...l, le: '+Inf' })} ${count}`);
    f.lines.push(`${name}_sum${labels(l)} ${count * typical}`);
    f.lines.push(`${name}_count${labels(l)} ${count}`);
  }
  render(): string {
    const out: string[] = [];
    for (const [name, f] of this.families) {
      out.push(`# HELP ${name} keepwatch fake agent (test)`, `# TYPE ${name} ${f.type}`, ...f.lines);
    }
    return out.join('\n') + '\n';
  }
}

class FakeHost {
  readonly instances: InstanceModel[];
  server?: Server;
  readonly startedAt = Date.now() / 1000;

  constructor(readonly spec: FakeHostSpec, private readonly fleet: FakeFleet) {
    const now = Date.now();
    this.instances = spec.instances.map((s) => ({
      ...s, advertInterval: s.advertInterval ?? 1,
      since: now, lastUpdate: now, sent: 0, received: 0, receivedInMaster: 0,
      becomeMaster: s.state === 'MASTER' ? 1 : 0, releaseMaster: 0, garp: s.state === 'MASTER' ? 5 : 0,
      transitions: new Map([[`INIT|${s.state}|startup`, 1]]),
      timeInState: { INIT: 0, BACKUP: 0, MASTER: 0, FAULT: 0, STOP: 0 },
      lastAdvertAt: now / 1000, recvIntervalCount: 0, sendLagCount: 0,
    }));
  }

  /** Advance counters of every instance to `now` under the current states. */
  advance(now: number): void {
    for (const i of this.instances) {
      const dt = (now - i.lastUpdate) / 1000;
      if (dt <= 0) continue;
      i.timeInState[i.state] += dt;
      const adverts = dt / i.advertInterval!;
      const othersMaster = this.fleet.mastersOf(i.vrrpDomain, i.vrid).filter((x) => x !== i).length;
      if (i.state === 'MASTER') {
        i.sent += adverts;
        i.sendLagCount += adverts;
        i.receivedInMaster += adverts * othersMaster;
      }
      if (i.state === 'BACKUP' && othersMaster > 0) {
        i.received += adverts;
        i.recvIntervalCount += adverts;
        i.lastAdvertAt = now / 1000 - 0.05;
      }
      i.lastUpdate = now;
    }
  }

  render(now: number): string {
    this.advance(now);
    const e = new Exposition();
    const nowS = now / 1000;
    e.add('keepalived_up', {}, 1);
    e.add('keepalived_build_info', { version: '0.1.0', revision: 'fake', node_version: process.version }, 1);
    e.add('keepalived_exporter_build_info', { branch: '', goarch: 'amd64', goos: 'linux', goversion: process.version, revision: 'fake', tags: '', version: '0.1.0' }, 1);
    e.add('process_start_time_seconds', {}, Math.floor(this.startedAt), 'gauge');
    e.add('process_cpu_seconds_total', {}, (nowS - this.startedAt) * 0.01, 'counter');
    e.add('keepalived_config_last_reload_successful', {}, 1);
    e.add('keepalived_config_last_reload_success_timestamp_seconds', {}, Math.floor(this.startedAt));
    e.add('keepalived_config_reloads_total', { result: 'success' }, 0);
    e.add('keepalived_snmp_agentx_connected', {}, 1);
    e.add('keepalived_snmp_agentx_reconnects_total', {}, 0);
    for (const intf of new Set(this.instances.map((i) => i.intf))) {
      for (const n of ['keepalived_vrrp_checksum_errors_total', 'keepalived_vrrp_version_errors_total', 'keepalived_vrrp_vrid_errors_total']) e.add(n, { intf }, 0);
    }
    for (const i of this.instances) {
      const id = { iname: i.iname, intf: i.intf, vrid: i.vrid };
      for (const vip of i.vips) e.add('keepalived_vrrp_state', { ...id, ip_address: vip }, MEHDY_CODE[i.state]);
      e.add('keepalived_vrrp_instance_info', { ...id, vrrp_domain: i.vrrpDomain, version: 3, family: 'inet', vmac_intf: '', unicast: 0, nopreempt: 0, vips_hash: i.vips.join(',').length.toString(16) }, 1);
      for (const s of STATES) e.add('keepalived_vrrp_status', { ...id, vrrp_domain: i.vrrpDomain, state: s }, s === i.state ? 1 : 0);
      e.add('keepalived_vrrp_wanted_state', id, MEHDY_CODE[i.state]);
      for (const [key, n] of i.transitions) {
        const [from, to, reason] = key.split('|') as [string, string, string];
        e.add('keepalived_vrrp_transitions_total', { ...id, from, to, reason }, n);
      }
      e.add('keepalived_vrrp_last_transition_timestamp_seconds', id, i.since / 1000);
      for (const s of STATES) e.add('keepalived_vrrp_time_in_state_seconds_total', { ...id, state: s }, i.timeInState[s]);
      e.add('keepalived_vrrp_priority_base', id, i.priority);
      e.add('keepalived_vrrp_priority_effective', id, i.priority);
      const masters = this.fleet.mastersOf(i.vrrpDomain, i.vrid);
      e.add('keepalived_vrrp_master_priority', id, masters.length ? Math.max(...masters.map((m) => m.priority)) : 0);
      const ai = i.advertInterval!;
      const skew = ((256 - i.priority) * ai) / 256; // RFC 5798 §6.1 Skew_Time
      e.add('keepalived_vrrp_advert_interval_seconds', id, ai);
      e.add('keepalived_vrrp_master_advert_interval_seconds', id, ai);
      e.add('keepalived_vrrp_skew_time_seconds', id, skew);
      e.add('keepalived_vrrp_master_down_interval_seconds', id, 3 * ai + skew);
      e.add('keepalived_vrrp_master_down_timer_remaining_seconds', id, i.state === 'BACKUP' ? Math.max(0, 3 * ai + skew - (nowS - i.lastAdvertAt)) : 0);
      e.add('keepalived_vrrp_last_advert_received_timestamp_seconds', id, i.lastAdvertAt);
      e.histogram('keepalived_vrrp_advert_receive_interval_seconds', id, RECV_BUCKETS.map((b) => b * ai), Math.floor(i.recvIntervalCount), ai);
      e.histogram('keepalived_vrrp_advert_send_lag_seconds', id, LAG_BUCKETS, Math.floor(i.sendLagCount), 0.001);
      e.add('keepalived_vrrp_advertisements_received_in_master_total', id, Math.floor(i.receivedInMaster));
      e.add('keepalived_vrrp_garp_sent_total', id, i.garp);
      e.add('keepalived_vrrp_unsolicited_na_sent_total', id, 0);
      e.add('keepalived_vrrp_authentication_extension_errors_total', { ...id, reason: 'invalid_hmac' }, 0);
      e.add('keepalived_vrrp_vips_configured', id, i.vips.length);
      e.add('keepalived_vrrp_vips_installed', id, i.state === 'MASTER' ? i.vips.length : 0);
      e.add('keepalived_gratuitous_arp_delay_total', id, 5);
      e.add('keepalived_advertisements_received_total', id, Math.floor(i.received + i.receivedInMaster));
      e.add('keepalived_advertisements_sent_total', id, Math.floor(i.sent));
      e.add('keepalived_become_master_total', id, i.becomeMaster);
      e.add('keepalived_release_master_total', id, i.releaseMaster);
      for (const n of [
        'keepalived_packet_length_errors_total', 'keepalived_advertisements_interval_errors_total', 'keepalived_ip_ttl_errors_total',
        'keepalived_invalid_type_received_total', 'keepalived_address_list_errors_total', 'keepalived_authentication_invalid_total',
        'keepalived_authentication_mismatch_total', 'keepalived_authentication_failure_total',
        'keepalived_priority_zero_received_total', 'keepalived_priority_zero_sent_total',
      ]) e.add(n, id, 0);
    }
    for (const v of this.spec.virtualServers ?? []) {
      const vs = { virtual_server: v.vs };
      const up = v.realServers.filter((r) => r.up);
      e.add('keepalived_virtual_server_info', { ...vs, protocol: 'TCP', scheduler: 'wlc', forwarding: 'NAT' }, 1);
      e.add('keepalived_virtual_server_real_servers_configured', vs, v.realServers.length);
      e.add('keepalived_virtual_server_real_servers_up', vs, up.length);
      e.add('keepalived_virtual_server_quorum', vs, v.quorum);
      e.add('keepalived_virtual_server_quorum_met', vs, up.reduce((a, r) => a + r.weight, 0) >= v.quorum ? 1 : 0);
      e.add('keepalived_ipvs_virtual_server_connections_total', vs, Math.floor((nowS - this.startedAt) * 3));
      for (const r of v.realServers) {
        const rs = { ...vs, real_server: r.rs };
        e.add('keepalived_real_server_up', rs, r.up ? 1 : 0);
        e.add('keepalived_real_server_weight', rs, r.up ? r.weight : 0);
        e.add('keepalived_real_server_failed_checks', rs, r.up ? 0 : 3);
      }
    }
    return e.render();
  }

  transition(iname: string, to: VrrpState, reason: string): void {
    const now = Date.now();
    this.fleet.advanceAll(now);
    const i = this.instances.find((x) => x.iname === iname);
    if (!i) throw new Error(`no instance ${iname} on port ${this.spec.port}`);
    if (i.state === to) return;
    const key = `${i.state}|${to}|${reason}`;
    i.transitions.set(key, (i.transitions.get(key) ?? 0) + 1);
    if (to === 'MASTER') { i.becomeMaster++; i.garp += 5; }
    if (i.state === 'MASTER') i.releaseMaster++;
    i.state = to;
    i.since = now;
    if (to === 'BACKUP') i.lastAdvertAt = now / 1000;
  }
}

export class FakeFleet implements LiveFleet {
  private readonly hosts: FakeHost[];
  constructor(specs: FakeHostSpec[]) { this.hosts = specs.map((s) => new FakeHost(s, this)); }

  get targets(): string[] { return this.hosts.map((h) => `127.0.0.1:${h.spec.port}`); }
  instanceOf(host: number): string { return this.targets[host]!; }

  mastersOf(domain: string, vrid: number): InstanceModel[] {
    return this.hosts.flatMap((h) => h.instances.filter((i) => i.vrrpDomain === domain && i.vrid === vrid && i.state === 'MASTER'));
  }
  advanceAll(now: number): void { for (const h of this.hosts) h.advance(now); }

  setState(host: number, iname: string, state: VrrpState, reason: string): void {
    this.hosts[host]!.transition(iname, state, reason);
  }

  async start(): Promise<void> {
    for (const h of this.hosts) {
      const server = createServer((req, res) => {
        if (req.url?.split('?')[0] !== '/metrics') { res.writeHead(404).end(); return; }
        const body = h.render(Date.now());
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(h.spec.port, '127.0.0.1', () => resolve());
      });
      h.server = server;
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.hosts.map((h) => new Promise<void>((resolve) => {
      if (!h.server) { resolve(); return; }
      h.server.closeAllConnections();
      h.server.close(() => resolve());
    })));
  }

  /** Ports actually bound (for assertions). */
  boundPorts(): number[] { return this.hosts.map((h) => (h.server?.address() as AddressInfo | null)?.port ?? -1); }
}
