/**
 * Golden exposition: the exact bytes of /metrics (text 0.0.4 and OpenMetrics 1.0.0) for a
 * fixed 3-instance and a fixed 255-instance agent, with a fake clock and fake trace ids.
 * The expected files in test/fixtures/metrics/ were recorded from the renderer as it was
 * BEFORE the scrape-speed work (bench/metrics-scrape.mjs), so any optimisation of the
 * renderer must reproduce every name, label set, value, HELP/TYPE line and the
 * OpenMetrics variant byte for byte — dashboards and alert rules depend on them
 * (mehdy/keepalived-exporter compatibility, observability-anchors.md §8).
 *
 * Each scenario scrapes several times across changes (same objects mutated in place,
 * interface / VIP changes that move labels, a reload that removes and adds instances, the
 * engine stopping) so caches kept between scrapes are checked for staleness too.
 *
 * Re-record (only when the exposition is MEANT to change): KW_UPDATE_GOLDEN=1 npx vitest run test/unit/obs-metrics-golden.test.ts
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { JournalEvent, VrrpState } from '../../src/journal/events';
import { Journal } from '../../src/journal/journal';
import { createMetrics, type Metrics } from '../../src/observe/metrics';
import type { AgentSnapshot, InstanceSnapshot, VipSnapshot } from '../../src/state/snapshot';
import { threeInstanceSnapshot } from '../obs/fixtures';

const DIR = join(__dirname, '../fixtures/metrics');
const UPDATE = process.env.KW_UPDATE_GOLDEN === '1';
const OM = 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5';
const STATES: VrrpState[] = ['INIT', 'BACKUP', 'MASTER', 'FAULT', 'STOP'];

/** Build/host-dependent label values are replaced so the files are portable. */
function normalise(body: string): string {
  const goarch = process.arch === 'x64' ? 'amd64' : process.arch === 'ia32' ? '386' : process.arch;
  return body
    .split(`goversion="${process.version}"`)
    .join('goversion="NODE_VERSION"')
    .split(`node_version="${process.version}"`)
    .join('node_version="NODE_VERSION"')
    .split(`goarch="${goarch}",goos="${process.platform}"`)
    .join('goarch="GOARCH",goos="GOOS"');
}

function golden(name: string, actual: string): void {
  const gz = actual.length > 64 * 1024;
  const file = join(DIR, gz ? `${name}.gz` : name);
  if (UPDATE) {
    mkdirSync(DIR, { recursive: true });
    writeFileSync(file, gz ? gzipSync(actual, { level: 9 }) : actual);
    return;
  }
  expect(existsSync(file), `${file} missing (record with KW_UPDATE_GOLDEN=1)`).toBe(true);
  const raw = readFileSync(file);
  const expected = (gz ? gunzipSync(raw) : raw).toString('utf8');
  if (actual !== expected) {
    // show the first differing line instead of a 2 MB diff
    const a = actual.split('\n');
    const e = expected.split('\n');
    let i = 0;
    while (i < a.length && i < e.length && a[i] === e[i]) i++;
    expect({ file: name, line: i + 1, actual: a[i], actualLines: a.length }).toEqual({ file: name, line: i + 1, actual: e[i], actualLines: e.length });
  }
  expect(actual === expected).toBe(true);
}

interface Rig {
  journal: Journal;
  m: Metrics;
  clock: { mono: number; wall: number };
  text(): Promise<string>;
  om(): Promise<string>;
}

function rig(snap: () => AgentSnapshot, defaultMetrics = false): Rig {
  const clock = { mono: 5000, wall: 1795515000000 };
  const journal = new Journal({ mono: () => clock.mono, wall: () => clock.wall });
  let traces = 0;
  const m = createMetrics(journal, snap, {
    defaultMetrics,
    version: '0.1.0',
    revision: 'g0lden',
    // every other transition has a sampled span
    tracingExemplars: { traceIdFor: (e: JournalEvent) => (e.type === 'vrrp.transition' && traces++ % 2 === 0 ? (0x4bf92f35 + traces).toString(16).padStart(32, '0') : undefined) },
  });
  return {
    journal,
    m,
    clock,
    // Every scrape also goes through renderBytes (what the HTTP endpoint sends), which must
    // be the same bytes; the order alternates so each path sometimes sees a change first.
    text: async () => {
      const b = await m.renderBytes();
      const r = await m.render();
      expect(r.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(b.contentType).toBe(r.contentType);
      if (!defaultMetrics) expect(b.body.equals(Buffer.from(r.body, 'utf8'))).toBe(true);
      return normalise(r.body);
    },
    om: async () => {
      const r = await m.render(OM);
      const b = await m.renderBytes(OM);
      expect(r.contentType).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
      expect(b.contentType).toBe(r.contentType);
      if (!defaultMetrics) expect(b.body.equals(Buffer.from(r.body, 'utf8'))).toBe(true);
      return normalise(r.body);
    },
  };
}

/** Journal traffic for a set of instances: transitions, adverts (some with a changing interval), errors, LVS, scripts. */
function feed(r: Rig, insts: { iname: string; vrid: number; intf: string }[], rounds: number): void {
  const j = r.journal;
  insts.forEach((i, k) => {
    const ref = { instance: i.iname, vrid: i.vrid, intf: i.intf };
    j.emit({ type: 'vrrp.transition', ...ref, from: 'INIT', to: 'BACKUP', reason: 'startup', priority: 100, masterPriority: 0 });
    if (k % 3 === 0) j.emit({ type: 'vrrp.transition', ...ref, from: 'BACKUP', to: 'MASTER', reason: 'master_timeout', priority: 100, masterPriority: 0 });
    if (k % 7 === 0) j.emit({ type: 'vrrp.transition', ...ref, from: 'MASTER', to: 'BACKUP', reason: 'higher_priority_master', priority: 100, masterPriority: 200 });
  });
  for (let n = 0; n < rounds; n++) {
    insts.forEach((i, k) => {
      const ref = { instance: i.iname, vrid: i.vrid, intf: i.intf };
      // 100 ms or 1 s adverts; instance 5 changes interval half-way (series restarts)
      const cs = k % 2 === 0 ? 100 : k === 5 && n >= rounds / 2 ? 50 : 10;
      j.emit({ type: 'vrrp.advert.sent', ...ref, priority: 150, scheduledMono: r.clock.mono, lagMs: ((k * 7 + n * 13) % 97) / 10 });
      j.emit({ type: 'vrrp.advert.received', ...ref, src: k % 11 === 0 && n === 2 ? '192.0.2.99' : '192.0.2.12', priority: 150, advertIntCs: cs, inMaster: false });
      if (k % 13 === 0) j.emit({ type: 'vrrp.advert.received', ...ref, src: '192.0.2.13', priority: 90, advertIntCs: cs, inMaster: false, discarded: 'lower_priority' });
      if (k % 17 === 0) j.emit({ type: 'vrrp.advert.received', ...ref, src: '192.0.2.14', priority: 200, advertIntCs: cs, inMaster: true });
    });
    r.clock.mono += 97 + n;
    r.clock.wall += 97 + n;
  }
  j.emit({ type: 'vrrp.global_error', counter: 'checksum_err', intf: 'eth0' });
  j.emit({ type: 'vrrp.global_error', counter: 'vrid_err', intf: 'eth1' });
  j.emit({ type: 'vrrp.error', instance: insts[0].iname, vrid: insts[0].vrid, intf: 'eth0', counter: 'version_err' });
  j.emit({ type: 'vrrp.error', instance: insts[0].iname, vrid: insts[0].vrid, intf: 'eth0', counter: 'ip_ttl_err' });
  for (const [name, result, ms] of [
    ['chk_file', 'success', 2],
    ['chk_file', 'success', 7.5],
    ['chk_bad', 'failure', 12],
    ['chk_bad', 'timeout', 2000],
  ] as const)
    j.emit({ type: 'track.script', name, result, exitCode: result === 'timeout' ? null : 0, durationMs: ms, status: result === 'success' ? 'good' : 'bad' });
  j.emit({ type: 'notify.run', event: 'MASTER', target: insts[0].iname, command: '/n.sh', exitCode: 0, durationMs: 4 });
  j.emit({ type: 'notify.run', event: 'BACKUP', target: insts[0].iname, command: '/n.sh', exitCode: 1, durationMs: 31000 });
  j.emit({ type: 'checker.result', virtualServer: '192.0.2.100:80', realServer: '198.51.100.21:80', checker: 'HTTP_GET', result: 'success', durationMs: 4 });
  j.emit({ type: 'checker.result', virtualServer: '192.0.2.100:80', realServer: '198.51.100.22:80', checker: 'HTTP_GET', result: 'failure', durationMs: 12 });
  j.emit({ type: 'checker.result', virtualServer: '192.0.2.200:443', realServer: '198.51.100.30:443', checker: 'TCP_CHECK', result: 'timeout', durationMs: 3000 });
  j.emit({ type: 'realserver.state', virtualServer: '192.0.2.100:80', realServer: '198.51.100.22:80', up: false, weight: 0, reason: 'HTTP_GET failed' });
  j.emit({ type: 'snmp.notification', notification: 'vrrpInstanceStateChange', ok: true });
  j.emit({ type: 'snmp.notification', notification: 'vrrpSyncGroupStateChange', ok: false });
}

// ---------------------------------------------------------------- 3 instances

function threeFrozen(): AgentSnapshot {
  // frozen as JSON so later edits of test/obs/fixtures.ts cannot move this golden
  const file = join(DIR, 'three-instance.snapshot.json');
  if (UPDATE && !existsSync(file)) {
    mkdirSync(DIR, { recursive: true });
    writeFileSync(file, JSON.stringify(threeInstanceSnapshot(), null, 1) + '\n');
  }
  return JSON.parse(readFileSync(file, 'utf8')) as AgentSnapshot;
}

// ---------------------------------------------------------------- 255 instances

const hex = (n: number) => n.toString(16);

function vip(k: number, j: number, text: boolean): VipSnapshot {
  if (k % 10 === 3) {
    const address = `2001:db8:${hex(k)}::${hex(j + 1)}`;
    return { text: text ? `${address}/64 dev eth${k % 3} scope global` : '', address, prefix: 64, dev: `eth${k % 3}`, installed: k % 2 === 0, excluded: false };
  }
  const address = `198.51.${100 + (k % 4)}.${((k * 3 + j) % 250) + 1}`;
  const prefix = k % 9 === 0 ? 32 : 24;
  // keepalived prints "/len" only for non-host prefixes; some VIPs have unparseable text
  const t = !text ? '' : k % 37 === 1 ? `${address} dev` : prefix === 32 ? `${address} dev eth${k % 3} scope global` : `${address}/${prefix} dev eth${k % 3} scope global`;
  return { text: t, address, prefix, dev: `eth${k % 3}`, installed: k % 2 === 0 && j === 0, excluded: false };
}

function inst255(k: number): InstanceSnapshot {
  const state = STATES[(k * 7) % 5];
  const v3 = k % 2 === 1;
  const adv = k % 5 === 0 ? 1 : 0.1;
  const prio = 50 + ((k * 29) % 200);
  // awkward instance names: escaping of \ " and newline, non-ASCII, long names
  const iname = k === 7 ? 'VI_"quoted"' : k === 8 ? 'VI_back\\slash' : k === 9 ? 'VI_new\nline' : k === 10 ? 'VI_ünïcode_€' : k === 11 ? `VI_${'x'.repeat(120)}` : `VI_${k + 1}`;
  const nv = k % 6 === 4 ? 0 : 1 + (k % 3);
  return {
    iname,
    vrid: (k % 255) + 1,
    ifindex: 2 + (k % 3),
    version: v3 ? 3 : 2,
    family: k % 10 === 3 ? 'ipv6' : 'ipv4',
    ifp_ifname: `eth${k % 3}`,
    vmac_ifname: k % 4 === 0 ? `vrrp.${(k % 255) + 1}` : '',
    state,
    wantstate: STATES[(k * 3) % 5],
    base_priority: prio,
    effective_priority: k % 8 === 0 ? prio - 20 : prio,
    // NaN is skipped by the single-value families; keep one to pin that behaviour
    master_priority: k === 12 ? NaN : state === 'MASTER' ? prio : 200 - (k % 50),
    master_address: '192.0.2.12',
    adver_int: adv,
    master_adver_int: k % 23 === 0 ? 2 * adv : adv,
    skew_time: v3 ? ((256 - prio) * adv) / 256 : (256 - prio) / 256,
    master_down_interval: 3 * adv + (256 - prio) / 256,
    master_down_remaining: state === 'BACKUP' ? (k % 4) * 0.37 + 1e-7 : null,
    last_transition: 1795515063.893748 + k * 1.000001,
    last_advert_received: state === 'BACKUP' ? 1795515100.5 + k / 3 : 0,
    time_in_state: { INIT: 0.001 * k, BACKUP: k * 10.5, MASTER: k === 13 ? Infinity : k * 1e19, FAULT: k === 14 ? -0 : k % 3, STOP: k === 15 ? -1.5 : 0 },
    nopreempt: k % 5 === 1,
    preempt_delay: 0,
    accept: true,
    unicast: k % 7 === 2,
    unicast_peers: [],
    dont_track_primary: false,
    skip_check_adv_addr: false,
    strict_mode: false,
    garp_delay: k % 4,
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
    script: '',
    vipset: state === 'MASTER',
    vips: Array.from({ length: nv }, (_, j) => vip(k, j, k % 19 !== 5)),
    evips: k % 5 === 2 ? [{ text: `203.0.113.${k % 250} dev eth0 scope global`, address: `203.0.113.${k % 250}`, prefix: 32, dev: 'eth0', installed: false, excluded: true }] : [],
    track_script: k % 2 === 0 ? ['chk_file'] : [],
    track_interface: k % 3 === 0 ? ['eth1', 'eth2', 'missing0'] : k % 3 === 1 ? ['eth1'] : [],
    auth_type: 0,
    vrrp_domain: k % 25 === 0 ? `dc-${k % 2}` : '',
    sync_group: k < 20 ? `G${k % 3}` : '',
    stats: {
      advert_rcvd: k * 123457,
      advert_sent: k * 1000 + 7,
      become_master: k % 5,
      release_master: k % 4,
      packet_len_err: k % 11 === 0 ? 1 : 0,
      advert_interval_err: 0,
      ip_ttl_err: k % 13,
      invalid_type_rcvd: 0,
      addr_list_err: 0,
      invalid_authtype: 0,
      authtype_mismatch: 0,
      auth_failure: 0,
      pri_zero_rcvd: k % 2,
      pri_zero_sent: 2 ** 53 + (k % 2 ? 2 : 0),
    },
    adverts_received_in_master: k % 17 === 0 ? 3 : 0,
    garp_sent: k * 5,
    na_sent: k % 10 === 3 ? k : 0,
  };
}

function snap255(): AgentSnapshot {
  const base = threeFrozen();
  return {
    ...base,
    routerId: 'golden-255',
    instances: Array.from({ length: 255 }, (_, k) => inst255(k)),
    syncGroups: [
      { name: 'G0', state: 'MASTER', members: [] },
      { name: 'G1', state: 'BACKUP', members: [] },
      { name: 'G2', state: 'FAULT', members: [] },
    ],
    trackedInterfaces: [
      { name: 'eth1', up: true },
      { name: 'eth2', up: false },
    ],
    trackProcesses: [
      { name: 'haproxy', running: 2, quorumMet: true },
      { name: 'nginx', running: 0, quorumMet: false },
    ],
  };
}

// ---------------------------------------------------------------- tests

async function scenario(name: string, initial: AgentSnapshot): Promise<void> {
  let current = initial;
  const r = rig(() => current);
  feed(
    r,
    current.instances.map((i) => ({ iname: i.iname, vrid: i.vrid, intf: i.ifp_ifname })),
    6,
  );
  // an event for an instance no snapshot knows: its series is pruned at the next scrape
  r.journal.emit({ type: 'vrrp.transition', instance: 'VI_ghost', vrid: 99, intf: 'eth9', from: 'INIT', to: 'BACKUP', reason: 'startup', priority: 1, masterPriority: 0 });

  const t1 = await r.text();
  golden(`${name}.text.txt`, t1);
  // a second scrape of the same state (caches warm) is identical
  expect(await r.text()).toBe(t1);
  golden(`${name}.openmetrics.txt`, await r.om());
  expect(await r.text()).toBe(t1); // an OpenMetrics render must not damage the text one

  // in place: values move, an interface is renamed, a VIP (and so the derived domain) changes
  const i0 = current.instances[0];
  i0.ifp_ifname = 'bond0';
  i0.stats.advert_rcvd += 17;
  i0.time_in_state.MASTER += 15.25;
  i0.state = 'FAULT';
  const i1 = current.instances[1];
  i1.vips = [{ text: '192.0.2.77/25 dev eth0 scope global', address: '192.0.2.77', prefix: 25, dev: 'eth0', installed: true, excluded: false }];
  i1.vrid = 200;
  i1.master_down_remaining = null;
  feed(r, [{ iname: i0.iname, vrid: i0.vrid, intf: 'bond0' }], 2);
  golden(`${name}.changed.text.txt`, await r.text());

  // reload: a new snapshot object, one instance gone, one new, one renamed
  const [, , ...rest] = current.instances;
  current = {
    ...current,
    instances: [{ ...i0 }, ...rest.map((i) => ({ ...i, stats: { ...i.stats, advert_sent: i.stats.advert_sent + 1 } })), { ...i1, iname: 'VI_new', vrrp_domain: 'site-b' }],
    reload: { ...current.reload, successes: current.reload.successes + 1, lastSuccessWall: current.reload.lastSuccessWall + 60000 },
  };
  feed(r, [{ iname: 'VI_new', vrid: i1.vrid, intf: i1.ifp_ifname }], 3);
  golden(`${name}.reloaded.text.txt`, await r.text());
  golden(`${name}.reloaded.openmetrics.txt`, await r.om());

  // engine stopped: keepalived_up 0 and nothing about instances
  current = { ...current, running: false };
  golden(`${name}.stopped.text.txt`, await r.text());
  r.m.close();
}

describe('golden /metrics exposition (byte for byte)', () => {
  it('3 instances: text, OpenMetrics, after in-place changes, reload, stop', async () => {
    await scenario('three', threeFrozen());
  });

  it('255 instances: text, OpenMetrics, after in-place changes, reload, stop', async () => {
    await scenario('i255', snap255());
  });

  it('no journal traffic: the snapshot-only exposition', async () => {
    const r = rig(threeFrozen);
    golden('three.plain.text.txt', await r.text());
    golden('three.plain.openmetrics.txt', await r.om());
    r.m.close();
  });

  it('caches never go stale: after random snapshot changes a long-lived instance renders what a fresh one does', async () => {
    // mulberry32: a fixed pseudo-random walk, the same on every run
    let seed = 0x6b77;
    const rnd = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];
    const domains = new Map<string, string>();
    const opts = { defaultMetrics: false, version: '0.1.0', vrrpDomain: (i: InstanceSnapshot) => domains.get(i.iname) ?? `auto-${i.vips[0]?.address ?? 'none'}` };
    const clock = { mono: () => 0, wall: () => 1795515000000 };
    let snap = snap255();
    snap.instances = snap.instances.slice(0, 40);
    // the provider sometimes hands out the same (mutated) object, sometimes a fresh copy
    let fresh = false;
    const provider = () => (fresh ? structuredClone(snap) : snap);
    const long = createMetrics(new Journal(clock), provider, opts);
    let extra = 0;
    const steps: (() => void)[] = [
      () => (pick(snap.instances).stats.advert_rcvd += 1 + Math.floor(rnd() * 1000)),
      () => (pick(snap.instances).state = pick(STATES)),
      () => (pick(snap.instances).time_in_state.MASTER += rnd() * 100),
      () => (pick(snap.instances).master_down_remaining = rnd() < 0.3 ? null : rnd() < 0.1 ? NaN : rnd()),
      () => (pick(snap.instances).ifp_ifname = pick(['eth0', 'eth1', 'bond0'])),
      () => (pick(snap.instances).vrid = 1 + Math.floor(rnd() * 255)),
      () => (pick(snap.instances).vrrp_domain = pick(['', 'dc-x', 'dc-y'])),
      () => domains.set(pick(snap.instances).iname, pick(['d1', 'd2', 'd"3'])),
      () => domains.clear(),
      () => (pick(snap.instances).vips = rnd() < 0.3 ? [] : [vip(Math.floor(rnd() * 40), 0, rnd() < 0.8), vip(7, 1, true)]),
      () => (pick(snap.instances).evips = rnd() < 0.5 ? [] : [{ text: '203.0.113.77 dev eth9 scope global', address: '203.0.113.77', prefix: 32, dev: 'eth9', installed: false, excluded: true }]),
      () => (pick(snap.instances).nopreempt = rnd() < 0.5),
      () => (pick(snap.instances).track_interface = rnd() < 0.5 ? [] : ['eth1', 'eth2']),
      () => (snap.trackedInterfaces = [{ name: 'eth1', up: rnd() < 0.5 }, { name: 'eth2', up: rnd() < 0.5 }]),
      () => (snap = { ...snap, instances: snap.instances.filter((_, k) => k !== Math.floor(rnd() * snap.instances.length)) }),
      () => (snap = { ...snap, instances: [...snap.instances, { ...inst255(100 + extra++), iname: `VI_added_${extra}` }] }),
      () => (snap = { ...snap, instances: [...snap.instances].reverse() }),
      () => (pick(snap.instances).iname = `VI_renamed_${Math.floor(rnd() * 5)}`), // may duplicate a name: must still render right
      () => (snap = { ...snap, running: !snap.running }),
      () => (fresh = !fresh),
    ];
    for (let n = 0; n < 120; n++) {
      for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) pick(steps)();
      const accept = rnd() < 0.5 ? undefined : OM;
      const ref = createMetrics(new Journal(clock), provider, opts);
      const want = (await ref.render(accept)).body;
      ref.close();
      const got = n % 2 ? (await long.renderBytes(accept)).body.toString('utf8') : (await long.render(accept)).body;
      // the router-wide error counters keep every interface ever seen (journal-fed history, by design)
      const strip = (b: string) => b.replace(/^.*keepalived_vrrp_(checksum|version|vrid)_errors.*\n/gm, '');
      if (strip(got) !== strip(want)) expect({ step: n, got: strip(got) }).toEqual({ step: n, got: strip(want) });
    }
    long.close();
  });

  it('with the default process/nodejs metrics the keepalived part is unchanged and they follow it', async () => {
    const r = rig(threeFrozen, true);
    const body = await r.text();
    const expected = readFileSync(join(DIR, 'three.plain.text.txt'), 'utf8');
    expect(body.startsWith(expected)).toBe(true);
    const rest = body.slice(expected.length).split('\n').filter(Boolean);
    expect(rest.length).toBeGreaterThan(20);
    for (const l of rest) expect(l).toMatch(/^(# (HELP|TYPE) )?(process|nodejs)_/);
    const om = await r.om();
    const omExpected = readFileSync(join(DIR, 'three.plain.openmetrics.txt'), 'utf8');
    expect(om.startsWith(omExpected.slice(0, -'# EOF\n'.length))).toBe(true);
    expect(om.endsWith('\n# EOF\n')).toBe(true);
    r.m.close();
  });
});
