/**
 * `promtool check metrics` (Debian prometheus 2.42, /usr/bin/promtool) on the /metrics of
 * RUNNING agents — not a hand-built snapshot (promtool.test.ts does that): whatever the
 * live daemon really exposes, with real label values (IPv6 VIPs, v2 and v3 instances,
 * script names, notify events) and with counters and histograms that have samples.
 *
 * Two agents in lab namespaces (kwtcp*), each with three VRRP instances:
 *   VI_1  VRRPv2 IPv4, VRID 51, 1 s adverts, tracks vrrp_script chk_ok, notify + notify_master scripts
 *   VI_2  VRRPv3 IPv4, VRID 52, 100 ms adverts
 *   VI_6  VRRPv3 IPv6, VRID 60, 100 ms adverts, VIP 2001:db8::50/64
 * a (priority 150) becomes MASTER of all three, b (100) stays BACKUP and receives adverts.
 * The exposition is linted (1) at start-up, (2) once a is MASTER everywhere and b has
 * advert inter-arrival samples, (3) on b after a's graceful stop made b MASTER.
 *
 * promtool `check metrics` reads only the text format 0.0.4: it rejects OpenMetrics
 * exemplars ("expected integer as timestamp"), so the OpenMetrics negotiation is checked
 * for its own shape here (content type, # EOF) but not linted by promtool.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLab, waitFor, type Lab } from '../helpers/netns';
import { parseProm, promValue, removeDirs, startLive, type LiveAgent, type PromSample } from './live-lab';

const PORT_A = 19800;
const PORT_B = 19801;

function promtool(input: string): { status: number | null; out: string } {
  const r = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function config(router: string, prio: number): string {
  return `global_defs {
    router_id ${router}
    script_user root
    enable_script_security
}
vrrp_script chk_ok {
    script "/bin/true"
    interval 1
    rise 1
    fall 1
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority ${prio}
    advert_int 1
    version 2
    virtual_ipaddress {
        192.0.2.51/24 dev eth0
    }
    track_script {
        chk_ok
    }
    notify "/bin/true"
    notify_master "/bin/true"
}
vrrp_instance VI_2 {
    state BACKUP
    interface eth0
    virtual_router_id 52
    priority ${prio}
    advert_int 0.1
    version 3
    virtual_ipaddress {
        198.51.100.52/24 dev eth0
    }
}
vrrp_instance VI_6 {
    state BACKUP
    interface eth0
    virtual_router_id 60
    priority ${prio}
    advert_int 0.1
    version 3
    virtual_ipaddress {
        2001:db8::50/64 dev eth0
    }
}
`;
}

const INSTANCES = ['VI_1', 'VI_2', 'VI_6'];
let lab: Lab;
const agents: LiveAgent[] = [];

beforeAll(() => {
  lab = makeLab('cp', [
    { name: 'a', v4: ['192.0.2.11/24'], v6: ['2001:db8::11/64'] },
    { name: 'b', v4: ['192.0.2.12/24'], v6: ['2001:db8::12/64'] },
  ]);
});

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop(10_000).catch(() => a.crash())));
  lab?.destroy();
  removeDirs(agents.map((a) => a.dir));
});

/** lint and return the parsed samples */
async function lint(agent: LiveAgent, what: string): Promise<PromSample[]> {
  const body = await agent.metrics();
  const r = promtool(body);
  expect(r.out, `promtool findings on ${what}`).toBe('');
  expect(r.status, what).toBe(0);
  return parseProm(body);
}

const count = (s: PromSample[], name: string, labels: Record<string, string>) => promValue(s, `${name}_count`, labels) ?? 0;

describe('promtool check metrics on live agents', () => {
  it('passes at start-up, with every instance present', async () => {
    const a = await startLive(lab.hosts.a!, config('a', 150), { port: PORT_A, tag: 'prom-a' });
    agents.push(a);
    const s = await lint(a, 'a at start-up');
    expect(promValue(s, 'keepalived_up')).toBe(1);
    for (const iname of INSTANCES) expect(s.some((x) => x.name === 'keepalived_vrrp_instance_info' && x.labels.iname === iname), iname).toBe(true);
    const info = (iname: string) => s.find((x) => x.name === 'keepalived_vrrp_instance_info' && x.labels.iname === iname)!.labels;
    expect(info('VI_1')).toMatchObject({ vrid: '51', version: '2', family: 'ipv4' });
    expect(info('VI_6')).toMatchObject({ vrid: '60', version: '3', family: 'ipv6', vrrp_domain: '2001:db8::/64' });
    // the compat per-VIP state series carries the IPv6 VIP as keepalived prints it
    expect(s.some((x) => x.name === 'keepalived_vrrp_state' && x.labels.iname === 'VI_6' && x.labels.ip_address === '2001:db8::50/64')).toBe(true);
  });

  it('passes with counters and histograms populated (a MASTER, b BACKUP receiving adverts)', async () => {
    const a = agents[0]!;
    for (const i of INSTANCES) await a.waitState('MASTER', i);
    const b = await startLive(lab.hosts.b!, config('b', 100), { port: PORT_B, tag: 'prom-b' });
    agents.push(b);
    for (const i of INSTANCES) await b.waitState('BACKUP', i);
    // wait (on the samples themselves) until b has measured advert inter-arrival times
    // for every instance and a's script / notify histograms have observations
    let sb: PromSample[] = [];
    await waitFor(
      async () => {
        sb = parseProm(await b.metrics());
        return INSTANCES.every((iname) => count(sb, 'keepalived_vrrp_advert_receive_interval_seconds', { iname }) >= 2);
      },
      'advert inter-arrival samples on b for every instance',
      30_000,
      200,
    );
    const sa = await lint(a, 'a as MASTER');
    sb = await lint(b, 'b as BACKUP');

    for (const iname of INSTANCES) {
      expect(promValue(sa, 'keepalived_vrrp_status', { iname, state: 'MASTER' }), iname).toBe(1);
      expect(promValue(sa, 'keepalived_become_master_total', { iname }), iname).toBe(1);
      expect(promValue(sa, 'keepalived_vrrp_transitions_total', { iname, from: 'BACKUP', to: 'MASTER', reason: 'master_timeout' }), iname).toBe(1);
      expect(count(sa, 'keepalived_vrrp_advert_send_lag_seconds', { iname }), iname).toBeGreaterThan(0);
      expect(promValue(sa, 'keepalived_advertisements_sent_total', { iname }), iname).toBeGreaterThan(0);
      expect(promValue(sb, 'keepalived_vrrp_status', { iname, state: 'BACKUP' }), iname).toBe(1);
      expect(promValue(sb, 'keepalived_advertisements_received_total', { iname }), iname).toBeGreaterThan(0);
      expect(promValue(sb, 'keepalived_vrrp_master_priority', { iname }), iname).toBe(150);
    }
    expect(count(sa, 'keepalived_vrrp_script_duration_seconds', { name: 'chk_ok' })).toBeGreaterThan(0);
    expect(promValue(sa, 'keepalived_vrrp_script_runs_total', { name: 'chk_ok', result: 'success' })).toBeGreaterThan(0);
    expect(promValue(sa, 'keepalived_vrrp_script_status', { name: 'chk_ok', status: 'good' })).toBe(1);
    // the generic notify script and notify_master both ran on a's VI_1
    expect(count(sa, 'keepalived_notify_script_duration_seconds', { event: 'notify' })).toBeGreaterThan(0);
    expect(count(sa, 'keepalived_notify_script_duration_seconds', { event: 'notify_master' })).toBe(1);
    // a's IPv6 instance sent unsolicited NAs, the IPv4 ones gratuitous ARPs
    expect(promValue(sa, 'keepalived_vrrp_unsolicited_na_sent_total', { iname: 'VI_6' })).toBeGreaterThan(0);
    expect(promValue(sa, 'keepalived_vrrp_garp_sent_total', { iname: 'VI_2' })).toBeGreaterThan(0);

    // OpenMetrics negotiation works on the live agent (promtool cannot lint it, see header)
    const om = await a.get('/metrics', 'application/openmetrics-text;version=1.0.0');
    expect(om.trimEnd().endsWith('# EOF')).toBe(true);
    expect(om).toMatch(/^keepalived_vrrp_transitions_total\{[^}]*to="MASTER"[^}]*\} 1/m);
  });

  it('passes on the new MASTER after a graceful failover', async () => {
    const [a, b] = agents as [LiveAgent, LiveAgent];
    expect((await a.stop()).code).toBe(0);
    for (const i of INSTANCES) await b.waitState('MASTER', i);
    const sb = await lint(b, 'b after failover');
    for (const iname of INSTANCES) {
      expect(promValue(sb, 'keepalived_become_master_total', { iname }), iname).toBe(1);
      // a sent priority 0 on its way out (RFC 5798 §6.4.3 / keepalived shutdown): b took over at once
      expect(promValue(sb, 'keepalived_vrrp_transitions_total', { iname, from: 'BACKUP', to: 'MASTER', reason: 'priority_zero_received' }), iname).toBe(1);
      expect(promValue(sb, 'keepalived_priority_zero_received_total', { iname }), iname).toBeGreaterThanOrEqual(1);
    }
  });
});
