/**
 * SNMP values agree with /metrics and /json at the same instant.
 *
 * One real keepwatch agent (bin/keepwatch -n -x, in namespace kwtqa) with three VRRP
 * instances — VI_V2 (VRRPv2, MASTER), VI_V3 (VRRPv3 at 0.5 s, BACKUP under a real peer
 * keepwatch in kwtqb, so it counts received adverts) and VI_S (VRRPv2 with two
 * vrrp_scripts, one good with weight +10 and one bad whose track_script overrides its
 * weight −5 with −7) — and a real snmpd in the same namespace, configured with the very
 * snmpd.conf text of README "## SNMP" (only the AgentX socket path and the listen address
 * substituted). For every instance the three channels must say the same thing: state,
 * configured and wanted state, base and effective priority, VRID, advert interval, VIPs,
 * the become_master / advert_sent / advert_rcvd counters and the vrrp_script results and
 * tracked weights, read through KEEPALIVED-MIB, VRRP-MIB (RFC 2787) and VRRPV3-MIB
 * (RFC 6527). After a SIGHUP that adds an instance, the same snmpd (not restarted) serves
 * its row and all four instances agree again.
 *
 * Counters that move while we read (VI_V2's advert_sent, VI_V3's advert_rcvd) are compared
 * by a monotonic sandwich, not by a timing bound: one round reads /json (J1), then the
 * SNMP walks (S), then /metrics (M), then /json again (J2), strictly one after the other.
 * keepalived's counters only ever grow (nothing here sends STATS_CLEAR), so a channel that
 * reports the true counter at some instant inside its read must satisfy
 * J1 ≤ S ≤ M ≤ J2 — exact, whatever the machine's load, and when nothing moved between J1
 * and J2 it degenerates into plain equality (the round's report counts how often). A bound
 * derived from the advert interval and the read window is printed for information only: it
 * is not sound to assert it, because adverts queued in the socket during an event-loop
 * stall are counted in a burst afterwards. Values that do not move (states, priorities,
 * become_master after settling) must be equal in J1 and J2 and in every channel.
 *
 * advert_sent has no MIB object (neither KEEPALIVED-MIB nor RFC 2787/6527 define one), so
 * it is compared between /json and /metrics only.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceBlock, startKeepwatch, type JsonInstance, type KwNode } from '../helpers/agent';
import { makeLab, waitFor, type Lab } from '../helpers/netns';
import { ROOT } from '../helpers/ns-node';
import { parseWalk, SNMP_TOOL_ENV, snmpCmdIn, startSnmpdWithConfig, type Snmpd, type Varbind } from '../helpers/snmpd';

const execFileP = promisify(execFile);

const WEB_PORT = 19260;
const SNMP_PORT = 19261;
const KA = '.1.3.6.1.4.1.9586.100.5';
const KA_INST = `${KA}.2.3.1`; // vrrpInstanceEntry
const KA_ADDR = `${KA}.2.6.1`; // vrrpAddressEntry
const KA_TRACKED_SCRIPT = `${KA}.2.5.1`; // vrrpTrackedScriptEntry
const KA_SCRIPT = `${KA}.2.9.1`; // vrrpScriptEntry
const V2_OPER = '.1.3.6.1.2.1.68.1.3.1'; // vrrpOperEntry
const V2_ASSO = '.1.3.6.1.2.1.68.1.4.1'; // vrrpAssoIpAddrEntry
const V2_STATS = '.1.3.6.1.2.1.68.2.4.1'; // vrrpRouterStatsEntry
const V3_OPER = '.1.3.6.1.2.1.207.1.1.1.1'; // vrrpv3OperationsEntry
const V3_ASSO = '.1.3.6.1.2.1.207.1.1.2.1'; // vrrpv3AssociatedIpAddrEntry
const V3_STATS = '.1.3.6.1.2.1.207.1.2.5.1'; // vrrpv3StatisticsEntry

// Encodings written out from the MIB texts (not imported from src/snmp, which is under test).
/** KEEPALIVED-MIB VrrpState TC: init(0) backup(1) master(2) fault(3) — also keepalived's JSON state numbers */
const KA_STATE: Record<string, number> = { INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3 };
/** RFC 2787 vrrpOperState / RFC 6527 vrrpv3OperationsStatus: initialize(1) backup(2) master(3), from the JSON number */
const RFC_STATE = (jsonState: number): number => (jsonState === 1 ? 2 : jsonState === 2 ? 3 : 1);
/** KEEPALIVED-MIB vrrpScriptResult: init(1) bad(2) good(3) initfailed(5) → keepwatch's status names */
const SCRIPT_RESULT: Record<number, string> = { 1: 'init', 2: 'bad', 3: 'good', 5: 'init_failed' };
const STATE_NAME = ['INIT', 'BACKUP', 'MASTER', 'FAULT'];

interface Spec {
  name: string;
  vrid: number;
  version: 2 | 3;
  configured: 'MASTER' | 'BACKUP';
  priority: number;
  advert: number;
  vips: string[];
  /** tracked scripts as configured: name, the weight this instance applies, whether it succeeds */
  scripts?: { name: string; weight: number; good: boolean }[];
  /** the state it must settle in */
  expect: 'MASTER' | 'BACKUP';
}

const SCRIPTS = [
  'vrrp_script chk_ok {\n    script "/bin/true"\n    interval 1\n    weight 10\n}',
  'vrrp_script chk_bad {\n    script "/bin/false"\n    interval 1\n    weight -5\n    fall 1\n    rise 1\n}',
];

const A_SPECS: Spec[] = [
  { name: 'VI_V2', vrid: 61, version: 2, configured: 'BACKUP', priority: 150, advert: 1, vips: ['192.0.2.61/24'], expect: 'MASTER' },
  { name: 'VI_V3', vrid: 62, version: 3, configured: 'MASTER', priority: 100, advert: 0.5, vips: ['192.0.2.62/24', '192.0.2.63/24'], expect: 'BACKUP' },
  {
    name: 'VI_S',
    vrid: 63,
    version: 2,
    configured: 'BACKUP',
    priority: 120,
    advert: 1,
    vips: ['192.0.2.66/24'],
    scripts: [
      { name: 'chk_ok', weight: 10, good: true },
      // the track_script entry overrides the script's own weight (keepalived alloc_track_script)
      { name: 'chk_bad', weight: -7, good: false },
    ],
    expect: 'MASTER',
  },
];
const NEW_SPEC: Spec = { name: 'VI_NEW', vrid: 64, version: 3, configured: 'BACKUP', priority: 90, advert: 1, vips: ['192.0.2.64/24'], expect: 'MASTER' };

function block(s: Spec): string {
  const extra = s.scripts ? ['track_script {', ...s.scripts.map((t) => `    ${t.name}${t.name === 'chk_bad' ? ` weight ${t.weight}` : ''}`), '}'] : [];
  return instanceBlock({ name: s.name, state: s.configured, vrid: s.vrid, priority: s.priority, advert: s.advert, version: s.version, vips: s.vips.map((v) => `${v} dev eth0`), extra });
}

function confA(socket: string, specs: Spec[]): string {
  return [
    ['global_defs {', '    router_id kw-agree-a', '    script_user root', '    enable_script_security', `    snmp_socket unix:${socket}`, '}'].join('\n'),
    ...SCRIPTS,
    ...specs.map(block),
    '',
  ].join('\n\n');
}

function confB(): string {
  return [
    ['global_defs {', '    router_id kw-agree-b', '}'].join('\n'),
    instanceBlock({ name: 'VI_V2', state: 'BACKUP', vrid: 61, priority: 100, advert: 1, version: 2, vips: ['192.0.2.61/24 dev eth0'] }),
    instanceBlock({ name: 'VI_V3', state: 'MASTER', vrid: 62, priority: 200, advert: 0.5, version: 3, vips: ['192.0.2.62/24 dev eth0', '192.0.2.63/24 dev eth0'] }),
    '',
  ].join('\n\n');
}

// ---------------------------------------------------------------- README

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
function snmpSection(): string {
  const m = /^## SNMP\n([\s\S]*?)^## /m.exec(README);
  if (!m) throw new Error('README has no "## SNMP" section');
  return m[1];
}
function codeBlocks(text: string): { lang: string; body: string }[] {
  return [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```/gm)].map((m) => ({ lang: m[1], body: m[2] }));
}
/** README's snmpd.conf with only the AgentX socket path and the listen address substituted. */
function readmeSnmpdConf(socket: string, port: number): string {
  const blocks = codeBlocks(snmpSection()).filter((b) => /^\s*master\s+agentx\s*$/m.test(b.body));
  expect(blocks.length, 'one snmpd.conf block in README ## SNMP').toBe(1);
  const text = blocks[0].body;
  const sock = text.match(/unix:\/var\/agentx\/master/g) ?? [];
  const listen = text.match(/udp:127\.0\.0\.1:161\b/g) ?? [];
  expect([sock.length, listen.length], 'README snmpd.conf names unix:/var/agentx/master and udp:127.0.0.1:161 once each').toEqual([1, 1]);
  return text.replace('unix:/var/agentx/master', `unix:${socket}`).replace(/udp:127\.0\.0\.1:161\b/, `udp:127.0.0.1:${port}`);
}
/** The shell command lines of README ## SNMP that run as they are on a stock Debian (MIBS= numeric). */
function readmeNumericWalks(): string[] {
  return codeBlocks(snmpSection())
    .filter((b) => b.lang === 'sh')
    .flatMap((b) => b.body.split('\n'))
    .filter((l) => /^MIBS= snmp(bulk)?walk /.test(l));
}

// ---------------------------------------------------------------- channels

type Walk = Map<string, Varbind>;

interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseMetrics(text: string): MetricSample[] {
  const out: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

function metric(ms: MetricSample[], name: string, labels: Record<string, string>): number {
  const hits = ms.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length !== 1) throw new Error(`${name}${JSON.stringify(labels)}: ${hits.length} series`);
  return hits[0].value;
}

/** "192.0.2.61/24 dev eth0 scope global set" (keepalived JSON vips) */
function parseVipText(t: string): { address: string; prefix: number; dev: string; set: boolean } {
  const m = /^([0-9a-f.:]+)\/(\d+) dev (\S+).*?( set)?$/.exec(t);
  if (!m) throw new Error(`unexpected VIP text ${t}`);
  return { address: m[1], prefix: Number(m[2]), dev: m[3], set: !!m[4] };
}

const hexOf = (addr: string) =>
  addr
    .split('.')
    .map((x) => Number(x).toString(16).toUpperCase().padStart(2, '0'))
    .join(' ');
const num = (v: Varbind | undefined): number => {
  if (!v) throw new Error('missing varbind');
  return Number(v.value);
};

interface Round {
  j1: JsonInstance[];
  walks: { ka: Walk; v2: Walk; v3: Walk };
  metrics: MetricSample[];
  j2: JsonInstance[];
  /** ms: J1 request start → J2 response end */
  windowMs: number;
  walkMs: { ka: number; v2: number; v3: number };
}

describe('SNMP, /metrics and /json agree (real keepwatch -x, real snmpd from the README config)', () => {
  let dir: string;
  let lab: Lab;
  let snmpd: Snmpd;
  let a: KwNode;
  let b: KwNode;
  let socket: string;
  let ifindex = 0;
  const sandwiches = { total: 0, equal: 0 };

  const walkOf = async (root: string): Promise<{ w: Walk; ms: number }> => {
    const r = await snmpCmdIn(lab.hosts.a!.name, 'snmpwalk', ['-t', '5', '-r', '1', snmpd.target, root]);
    if (r.code !== 0) throw new Error(`snmpwalk ${root}: ${r.stderr}`);
    return { w: new Map(parseWalk(r.stdout).map((v) => [v.oid, v])), ms: r.ms };
  };
  const metricsText = async (): Promise<string> =>
    (await execFileP('ip', ['netns', 'exec', lab.hosts.a!.name, 'curl', '-sf', '-m', '5', `http://127.0.0.1:${WEB_PORT}/metrics`], { encoding: 'utf8', timeout: 15_000, maxBuffer: 16 << 20 })).stdout;

  async function round(): Promise<Round> {
    const t0 = performance.now();
    const j1 = await a.json();
    const ka = await walkOf(`${KA}.2`);
    const v2 = await walkOf('.1.3.6.1.2.1.68');
    const v3 = await walkOf('.1.3.6.1.2.1.207');
    const metrics = parseMetrics(await metricsText());
    const j2 = await a.json();
    return { j1, walks: { ka: ka.w, v2: v2.w, v3: v3.w }, metrics, j2, windowMs: performance.now() - t0, walkMs: { ka: ka.ms, v2: v2.ms, v3: v3.ms } };
  }

  /** J1 ≤ snmp ≤ metrics ≤ J2 for a monotonic counter (see the file comment). */
  function sandwich(what: string, j1: number, j2: number, snmp: number[], prom: number): void {
    const seq = [j1, ...snmp, prom, j2];
    for (let k = 1; k < seq.length; k++) expect(seq[k - 1], `${what}: J1 ≤ SNMP… ≤ metrics ≤ J2, got ${seq.join(' ≤ ')}`).toBeLessThanOrEqual(seq[k]);
    sandwiches.total++;
    if (j1 === j2) sandwiches.equal++;
  }

  /** Every comparison for one instance in one round. */
  function agree(r: Round, s: Spec): void {
    const j1 = r.j1.find((i) => i.data.iname === s.name);
    const j2 = r.j2.find((i) => i.data.iname === s.name);
    expect(j1 && j2, `${s.name} in /json`).toBeTruthy();
    const d = j1!.data;
    const { ka, v2, v3 } = r.walks;
    // settled: nothing but counters moves between J1 and J2
    for (const k of ['state', 'wantstate', 'base_priority', 'effective_priority', 'vrid', 'adver_int', 'vipset', 'vips'] as const) expect(j2!.data[k], `${s.name} ${k} stable J1→J2`).toEqual(d[k]);
    expect(d.state, `${s.name} settled state`).toBe(KA_STATE[s.expect]);
    const vips = (d.vips ?? []).map(parseVipText);
    expect(vips.map((v) => `${v.address}/${v.prefix}`)).toEqual(s.vips);

    // ---- KEEPALIVED-MIB vrrpInstanceTable: the row is found by name (index = position)
    const nameOid = [...ka.values()].find((v) => v.oid.startsWith(`${KA_INST}.2.`) && v.value === `"${s.name}"`)?.oid;
    expect(nameOid, `${s.name} row in vrrpInstanceTable`).toBeDefined();
    const k = nameOid!.slice(`${KA_INST}.2.`.length);
    const col = (c: number) => ka.get(`${KA_INST}.${c}.${k}`);
    expect(num(col(3)), 'vrrpInstanceVirtualRouterId').toBe(d.vrid);
    expect(d.vrid).toBe(s.vrid);
    expect(num(col(4)), 'vrrpInstanceState = JSON state').toBe(d.state);
    expect(num(col(5)), 'vrrpInstanceInitialState = configured state').toBe(KA_STATE[s.configured]);
    expect(num(col(6)), 'vrrpInstanceWantedState = JSON wantstate').toBe(d.wantstate);
    expect(num(col(7)), 'vrrpInstanceBasePriority').toBe(d.base_priority);
    expect(d.base_priority).toBe(s.priority);
    expect(num(col(8)), 'vrrpInstanceEffectivePriority').toBe(d.effective_priority);
    expect(num(col(9)), 'vrrpInstanceVipsStatus (allSet 1 / notAllSet 2)').toBe(d.vipset ? 1 : 2);
    expect(col(10)?.value, 'vrrpInstancePrimaryInterface').toBe('"eth0"');
    // seconds for v2, centiseconds for v3 (KEEPALIVED-MIB UNITS)
    expect(num(col(12)), 'vrrpInstanceAdvertisementsInt').toBe(s.version === 2 ? d.adver_int : Math.round((d.adver_int as number) * 100));
    expect(d.adver_int).toBe(s.advert);
    expect(num(col(30)), 'vrrpInstanceVrrpVersion').toBe(s.version);

    // vrrpAddressTable rows of this instance (VIPs first, numbered from 1)
    const addrRows = [...ka.values()].filter((v) => v.oid.startsWith(`${KA_ADDR}.3.${k}.`));
    expect(addrRows.map((v) => v.value), 'vrrpAddressValue = JSON vips').toEqual(vips.map((v) => hexOf(v.address)));
    for (const [n, vip] of vips.entries()) {
      const idx = `${k}.${n + 1}`;
      expect(num(ka.get(`${KA_ADDR}.5.${idx}`)), 'vrrpAddressMask').toBe(vip.prefix);
      expect(ka.get(`${KA_ADDR}.8.${idx}`)?.value, 'vrrpAddressIfName').toBe(`"${vip.dev}"`);
      expect(num(ka.get(`${KA_ADDR}.10.${idx}`)), 'vrrpAddressStatus = JSON "set"').toBe(vip.set ? 1 : 2);
    }

    // ---- RFC 2787 (VRRPv2 IPv4 instances only) and RFC 6527 (every instance with VIPs)
    const v2idx = `${ifindex}.${s.vrid}`;
    const v3idx = `${ifindex}.${s.vrid}.1`;
    const v2rows = [...v2.keys()].filter((o) => o.startsWith(`${V2_OPER}.3.`)).map((o) => o.slice(`${V2_OPER}.3.`.length));
    if (s.version === 2) {
      expect(v2rows, 'VRRP-MIB row of a v2 instance').toContain(v2idx);
      expect(num(v2.get(`${V2_OPER}.3.${v2idx}`)), 'vrrpOperState').toBe(RFC_STATE(d.state));
      expect(num(v2.get(`${V2_OPER}.5.${v2idx}`)), 'vrrpOperPriority').toBe(d.base_priority);
      expect(num(v2.get(`${V2_OPER}.6.${v2idx}`)), 'vrrpOperIpAddrCount').toBe(vips.length);
      expect(num(v2.get(`${V2_OPER}.11.${v2idx}`)), 'vrrpOperAdvertisementInterval (s)').toBe(d.adver_int);
      const asso = [...v2.keys()].filter((o) => o.startsWith(`${V2_ASSO}.2.${v2idx}.`)).map((o) => o.slice(`${V2_ASSO}.2.${v2idx}.`.length));
      expect(asso, 'vrrpAssoIpAddrTable').toEqual(vips.map((v) => v.address));
    } else {
      expect(v2rows, 'no VRRP-MIB row for a v3 instance (RFC 2787 is VRRPv2)').not.toContain(v2idx);
    }
    expect(num(v3.get(`${V3_OPER}.6.${v3idx}`)), 'vrrpv3OperationsStatus').toBe(RFC_STATE(d.state));
    expect(num(v3.get(`${V3_OPER}.7.${v3idx}`)), 'vrrpv3OperationsPriority').toBe(d.base_priority);
    expect(num(v3.get(`${V3_OPER}.8.${v3idx}`)), 'vrrpv3OperationsAddrCount').toBe(vips.length);
    expect(num(v3.get(`${V3_OPER}.9.${v3idx}`)), 'vrrpv3OperationsAdvInterval (cs)').toBe(Math.round((d.adver_int as number) * 100));
    const asso3 = [...v3.keys()].filter((o) => o.startsWith(`${V3_ASSO}.2.${v3idx}.`)).map((o) => o.slice(`${V3_ASSO}.2.${v3idx}.`.length));
    expect(asso3, 'vrrpv3AssociatedIpAddrTable').toEqual(vips.map((v) => v.address));

    // ---- /metrics
    const L = { iname: s.name, intf: 'eth0', vrid: String(s.vrid) };
    const m = r.metrics;
    for (const v of vips) expect(metric(m, 'keepalived_vrrp_state', { ...L, ip_address: `${v.address}/${v.prefix}` }), 'keepalived_vrrp_state').toBe(d.state);
    for (const st of ['INIT', 'BACKUP', 'MASTER', 'FAULT']) expect(metric(m, 'keepalived_vrrp_status', { ...L, state: st }), `keepalived_vrrp_status{state=${st}}`).toBe(STATE_NAME[d.state] === st ? 1 : 0);
    expect(metric(m, 'keepalived_vrrp_wanted_state', L)).toBe(d.wantstate);
    expect(metric(m, 'keepalived_vrrp_priority_base', L)).toBe(d.base_priority);
    expect(metric(m, 'keepalived_vrrp_priority_effective', L)).toBe(d.effective_priority);
    expect(metric(m, 'keepalived_vrrp_advert_interval_seconds', L)).toBe(d.adver_int);
    expect(metric(m, 'keepalived_vrrp_vips_configured', L)).toBe(vips.length);
    expect(metric(m, 'keepalived_vrrp_vips_installed', L)).toBe(vips.filter((v) => v.set).length);

    // ---- counters: monotonic sandwich J1 ≤ SNMP (v2 MIB, then v3 MIB) ≤ metrics ≤ J2
    const c1 = j1!.stats;
    const c2 = j2!.stats;
    const bm = [...(s.version === 2 ? [num(v2.get(`${V2_STATS}.1.${v2idx}`))] : []), num(v3.get(`${V3_STATS}.1.${v3idx}`))];
    sandwich(`${s.name} become_master`, c1.become_master, c2.become_master, bm, metric(m, 'keepalived_become_master_total', L));
    const rcvd = [...(s.version === 2 ? [num(v2.get(`${V2_STATS}.2.${v2idx}`))] : []), num(v3.get(`${V3_STATS}.3.${v3idx}`))];
    sandwich(`${s.name} advert_rcvd`, c1.advert_rcvd, c2.advert_rcvd, rcvd, metric(m, 'keepalived_advertisements_received_total', L));
    sandwich(`${s.name} advert_sent`, c1.advert_sent, c2.advert_sent, [], metric(m, 'keepalived_advertisements_sent_total', L));
    // the types the MIBs define: Counter32 in RFC 2787, Counter64 in RFC 6527
    if (s.version === 2) expect(v2.get(`${V2_STATS}.2.${v2idx}`)?.type).toBe('Counter32');
    expect(v3.get(`${V3_STATS}.3.${v3idx}`)?.type).toBe('Counter64');

    // ---- vrrp_scripts: result, command, tracked weights; effective = base + Σ contributions
    const tracked = [...ka.values()].filter((v) => v.oid.startsWith(`${KA_TRACKED_SCRIPT}.2.${k}.`));
    expect(tracked.map((v) => v.value), 'vrrpTrackedScriptName').toEqual((s.scripts ?? []).map((t) => `"${t.name}"`));
    let sum = 0;
    const commands: string[] = [];
    for (const [n, t] of (s.scripts ?? []).entries()) {
      const weight = num(ka.get(`${KA_TRACKED_SCRIPT}.3.${k}.${n + 1}`));
      expect(weight, `vrrpTrackedScriptWeight ${t.name} (the instance's weight, not the script's)`).toBe(t.weight);
      const sOid = [...ka.values()].find((v) => v.oid.startsWith(`${KA_SCRIPT}.2.`) && v.value === `"${t.name}"`)!.oid;
      const si = sOid.slice(`${KA_SCRIPT}.2.`.length);
      const result = SCRIPT_RESULT[num(ka.get(`${KA_SCRIPT}.6.${si}`))];
      expect(result, `vrrpScriptResult ${t.name}`).toBe(t.good ? 'good' : 'bad');
      for (const st of ['init', 'good', 'bad', 'init_failed']) expect(metric(m, 'keepalived_vrrp_script_status', { name: t.name, status: st }), `keepalived_vrrp_script_status{${t.name},${st}}`).toBe(result === st ? 1 : 0);
      expect(metric(m, 'keepalived_script_status', { name: t.name }), 'keepalived_script_status').toBe(result === 'good' ? 1 : 0);
      commands.push(ka.get(`${KA_SCRIPT}.3.${si}`)!.value.replace(/^"|"$/g, ''));
      // keepalived vrrp_track.c: a positive weight counts while the script succeeds, a negative one while it fails
      if ((weight > 0 && result === 'good') || (weight < 0 && result === 'bad')) sum += weight;
    }
    expect(commands, 'vrrpScriptCommand = JSON track_script').toEqual((d.track_script as string[] | undefined) ?? []);
    expect(d.effective_priority, 'effective = base + tracked-script contributions (as SNMP reports them)').toBe(d.base_priority + sum);
  }

  function report(tag: string, r: Round): void {
    const adv = Math.min(...r.j1.map((i) => i.data.adver_int as number));
    console.log(
      `[snmp agree] ${tag}: read window ${r.windowMs.toFixed(0)} ms (walks: KEEPALIVED-MIB .2 ${r.walks.ka.size} varbinds ${r.walkMs.ka.toFixed(0)} ms, VRRP-MIB ${r.walks.v2.size} in ${r.walkMs.v2.toFixed(0)} ms, VRRPV3-MIB ${r.walks.v3.size} in ${r.walkMs.v3.toFixed(0)} ms); ` +
        `informational bound at the fastest advert interval ${adv} s: ≤ ${Math.floor(r.windowMs / 1000 / adv) + 1} adverts per counter in the window; ` +
        `sandwiches so far ${sandwiches.total}, of which J1 = J2 (exact equality) ${sandwiches.equal}`,
    );
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kw-snmp-agree-'));
    // the socket in a directory that does not exist yet, like /var/agentx on a fresh host
    socket = join(dir, 'agentx', 'master');
    lab = makeLab('qa', [
      { name: 'a', v4: ['192.0.2.21/24'] },
      { name: 'b', v4: ['192.0.2.22/24'] },
    ]);
    ifindex = Number(/^(\d+):/.exec(lab.hosts.a!.ip('-o', 'link', 'show', 'dev', 'eth0'))![1]);
    snmpd = await startSnmpdWithConfig({ dir, config: readmeSnmpdConf(socket, SNMP_PORT), socket, target: `127.0.0.1:${SNMP_PORT}`, netns: lab.hosts.a!.name });
    b = await startKeepwatch(lab.hosts.b!, confB(), { port: WEB_PORT });
    await b.waitState('MASTER', 'VI_V3', 30_000);
    a = await startKeepwatch(lab.hosts.a!, confA(socket, A_SPECS), { port: WEB_PORT, args: ['-x'] });
  });

  afterAll(async () => {
    for (const n of [a, b]) if (n) await n.stop('SIGTERM', 10_000).catch(() => n.crash());
    await snmpd?.stop();
    lab?.destroy();
    for (const n of [a, b]) if (n) rmSync(n.dir, { recursive: true, force: true });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function settled(specs: Spec[]): Promise<void> {
    for (const s of specs) await a.waitState(s.expect, s.name, 30_000);
    await waitFor(
      async () => {
        const js = await a.json();
        const get = (n: string) => js.find((i) => i.data.iname === n);
        // tracked scripts have reported (effective = 120 + 10 − 7) and the moving counters move
        const vs = get('VI_S');
        return vs?.data.effective_priority === 123 && (get('VI_V3')?.stats.advert_rcvd ?? 0) >= 3 && (get('VI_V2')?.stats.advert_sent ?? 0) >= 3;
      },
      'scripts settled and adverts flowing',
      30_000,
      100,
    );
    // SNMP serves every instance (the subagent registered)
    await waitFor(async () => {
      const r = await snmpCmdIn(lab.hosts.a!.name, 'snmpwalk', ['-t', '2', '-r', '0', snmpd.target, `${KA_INST}.2`]);
      const names = parseWalk(r.stdout).map((v) => v.value);
      return specs.every((s) => names.includes(`"${s.name}"`));
    }, 'every instance in vrrpInstanceTable', 30_000, 200);
  }

  it('README: the snmpd.conf given works as is and its numeric snmpwalk commands answer', async () => {
    await settled(A_SPECS);
    const lines = readmeNumericWalks();
    expect(lines.length, 'README ## SNMP has numeric walk commands').toBeGreaterThan(0);
    for (const line of lines) {
      // the README walks the default port 161 of 127.0.0.1; ours listens on SNMP_PORT
      const cmd = line.replace(/ 127\.0\.0\.1 /, ` 127.0.0.1:${SNMP_PORT} `);
      expect(cmd, `README command names 127.0.0.1: ${line}`).not.toBe(line);
      const root = / (\.[\d.]+)(\s|$)/.exec(cmd)![1];
      const { stdout } = await execFileP('ip', ['netns', 'exec', lab.hosts.a!.name, 'sh', '-c', cmd], { encoding: 'utf8', env: SNMP_TOOL_ENV, timeout: 60_000, maxBuffer: 16 << 20 });
      const got = parseWalk(stdout);
      expect(got.length, `${line}: rows`).toBeGreaterThan(0);
      for (const v of got) expect(v.oid.startsWith(`${root}.`), `${v.oid} under ${root}`).toBe(true);
      if (root === `${KA}.2.3.1`) expect(got.filter((v) => v.oid.startsWith(`${KA_INST}.2.`)).map((v) => v.value)).toEqual(A_SPECS.map((s) => `"${s.name}"`));
    }
  });

  it('every instance: SNMP (KEEPALIVED-MIB, VRRP-MIB, VRRPV3-MIB) = /json = /metrics', async () => {
    await settled(A_SPECS);
    const r = await round();
    for (const s of A_SPECS) agree(r, s);
    // nothing else in the tables: one KEEPALIVED-MIB row, one RFC 6527 row per instance, RFC 2787 rows for the v2 ones
    expect([...r.walks.ka.keys()].filter((o) => o.startsWith(`${KA_INST}.2.`)).length).toBe(A_SPECS.length);
    expect([...r.walks.v3.keys()].filter((o) => o.startsWith(`${V3_OPER}.6.`)).length).toBe(A_SPECS.length);
    expect([...r.walks.v2.keys()].filter((o) => o.startsWith(`${V2_OPER}.3.`)).length).toBe(A_SPECS.filter((s) => s.version === 2).length);
    report('3 instances', r);
    // a second round a little later: counters have moved, the channels still agree
    await waitFor(async () => ((await a.instance('VI_V3'))?.stats.advert_rcvd ?? 0) > r.j2.find((i) => i.data.iname === 'VI_V3')!.stats.advert_rcvd, 'VI_V3 advert_rcvd moved', 20_000, 100);
    const r2 = await round();
    for (const s of A_SPECS) agree(r2, s);
    report('3 instances, second round', r2);
  });

  it('after a SIGHUP adding an instance the same snmpd serves its row, and all four agree', async () => {
    const pid = snmpd.pid;
    const connects = () => a.lines().filter((l) => /AgentX subagent connected/.test(l)).length;
    const before = connects();
    expect(before, 'subagent registered once').toBe(1);
    const mark = a.mark();
    a.writeConfig(confA(socket, [...A_SPECS, NEW_SPEC]));
    a.hup();
    await a.waitLog(/Reload finished \(.*: 1 added, 0 removed/, mark, 30_000);
    const specs = [...A_SPECS, NEW_SPEC];
    await settled(specs);
    const r = await round();
    for (const s of specs) agree(r, s);
    expect([...r.walks.ka.keys()].filter((o) => o.startsWith(`${KA_INST}.2.`)).length).toBe(specs.length);
    report('4 instances after SIGHUP', r);
    // snmpd was neither restarted nor re-registered with
    expect(snmpd.pid).toBe(pid);
    expect(snmpd.proc.exitCode).toBeNull();
    expect(connects(), 'no AgentX reconnect was needed').toBe(before);
  });
});
