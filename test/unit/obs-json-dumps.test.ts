import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpDir, renderData, renderStats, writeDataDump, writeJsonDump, writeStatsDump, writeStatsDumpThenClear } from '../../src/observe/dumps';
import { formatG, jsonString, renderKeepalivedJson, toKeepalivedJson } from '../../src/observe/json';
import type { AgentSnapshot, InstanceSnapshot } from '../../src/state/snapshot';
import { makeInstance, makeScript, makeSnapshot, REF_DIR, v3Backup, zeroStats } from '../obs/fixtures';

const ref = (f: string) => readFileSync(path.join(REF_DIR, f), 'utf8');

const LAB = '/work/steering/lab/notify.sh';
function h(node: 'h1' | 'h2', over: Partial<InstanceSnapshot>): AgentSnapshot {
  const inst = makeInstance({ script: `'${LAB}' '/tmp/kalab/obs/kal-${node}'`, ...over });
  return makeSnapshot({
    instances: [inst],
    scripts: [makeScript({ command: `'/usr/bin/test' '-e' '/tmp/kalab/obs/kal-${node}/healthy'` })],
  });
}

/** The four reference runs, with the values keepalived printed in their .json dumps. */
const jsonCases: Record<string, AgentSnapshot> = {
  'v2-master': h('h1', { stats: zeroStats({ advert_sent: 6, become_master: 1 }) }),
  'v2-backup': h('h2', {
    state: 'BACKUP',
    wantstate: 'BACKUP',
    base_priority: 100,
    effective_priority: 100,
    master_priority: 150,
    last_transition: 1795515060.436744,
    vipset: false,
    vips: [{ text: '192.0.2.50/24 dev eth0 scope global', address: '192.0.2.50', prefix: 24, dev: 'eth0', installed: false, excluded: false }],
    stats: zeroStats({ advert_rcvd: 9 }),
  }),
  'v3-master': h('h1', { version: 3, adver_int: 0.1, master_adver_int: 0.1, last_transition: 1795515078.053834, stats: zeroStats({ advert_sent: 56, become_master: 1 }) }),
  'v3-backup': (() => {
    const s = h('h2', {});
    s.instances[0] = { ...v3Backup(), script: `'${LAB}' '/tmp/kalab/obs/kal-h2'` };
    return s;
  })(),
};

describe('keepalived JSON dump', () => {
  for (const [name, snap] of Object.entries(jsonCases)) {
    it(`${name}: byte-equal to keepalived 2.2.7's keepalived.json`, () => {
      expect(renderKeepalivedJson(snap)).toBe(ref(`${name}-keepalived.json`));
    });
    it(`${name}: toKeepalivedJson equals the parsed reference key for key, in order`, () => {
      const got = toKeepalivedJson(snap);
      const want = JSON.parse(ref(`${name}-keepalived.json`));
      expect(got).toEqual(want);
      expect(Object.keys(got[0].data)).toEqual(Object.keys(want[0].data));
      expect(Object.keys(got[0].stats)).toEqual(Object.keys(want[0].stats));
      // and what we serve over HTTP (JSON.stringify) parses to the same value
      expect(JSON.parse(JSON.stringify(got))).toEqual(want);
    });
  }

  it('never writes auth_data (keepalived 2.2.7 dumps the plaintext password)', () => {
    const s = makeSnapshot({ instances: [makeInstance({ auth_type: 1 })] });
    const txt = renderKeepalivedJson(s);
    expect(txt).not.toContain('auth_data');
    expect(toKeepalivedJson(s)[0].data.auth_type).toBe(1);
    expect(renderData(s)).toContain('   Authentication type = SIMPLE_PASSWORD\n   Password = ********\n');
  });

  it('optional keys appear only when set, in keepalived order', () => {
    const s = makeSnapshot({
      instances: [
        makeInstance({
          ifp_ifname: '',
          script: '',
          script_master: "'/m.sh'",
          script_fault: "'/f.sh'",
          evips: [{ text: '203.0.113.9 dev eth0 scope global', address: '203.0.113.9', prefix: 32, dev: 'eth0', installed: false, excluded: true }],
          vroutes: ['198.51.100.0/24 via 192.0.2.1 dev eth0'],
          track_interface: ['eth1'],
          track_script: [],
        }),
      ],
    });
    const keys = Object.keys(toKeepalivedJson(s)[0].data);
    expect(keys).not.toContain('ifp_ifname');
    expect(keys).not.toContain('script');
    expect(keys).not.toContain('track_script');
    expect(keys.slice(keys.indexOf('notify_deleted'))).toEqual(['notify_deleted', 'script_master', 'script_fault', 'vips', 'evips', 'vroutes', 'track_ifp', 'auth_type']);
  });

  it('escapes like keepalived json_writer, but writes a valid backslash', () => {
    expect(jsonString('a/b"c\td\\e')).toBe('"a\\/b\\"c\\td\\\\e"');
    expect(JSON.parse(jsonString('x\u0001y/\\'))).toBe('x\u0001y/\\');
  });

  it('formats floats like printf %g', () => {
    expect(['5', '0.1', '0.01', '40.95', '1e+06', '123457', '0.0001', '1e-05', '2.5'].join()).toBe(
      [5, 0.1, 0.01, 40.95, 1e6, 123456.7, 0.0001, 0.00001, 2.5].map((x) => formatG(x)).join(),
    );
  });

  it('an empty instance list is an empty array', () => {
    expect(renderKeepalivedJson(makeSnapshot({ instances: [] }))).toBe('[]\n');
  });
});

describe('keepalived.stats', () => {
  const cases: Record<string, AgentSnapshot> = {
    'v2-master': makeSnapshot({ instances: [makeInstance({ stats: zeroStats({ advert_sent: 5, become_master: 1 }) })] }),
    'v2-backup': makeSnapshot({ instances: [makeInstance({ stats: zeroStats({ advert_rcvd: 8 }) })] }),
    'v3-master': makeSnapshot({ instances: [makeInstance({ stats: zeroStats({ advert_sent: 48, become_master: 1 }) })] }),
    'v3-backup': makeSnapshot({ instances: [makeInstance({ stats: zeroStats({ advert_rcvd: 75 }) })] }),
  };
  for (const [name, snap] of Object.entries(cases)) {
    it(`${name}: line for line equal to keepalived's`, () => {
      expect(renderStats(snap).split('\n')).toEqual(ref(`${name}-keepalived.stats`).split('\n'));
    });
  }
  it('one block per instance, counters from the snapshot', () => {
    const s = makeSnapshot({
      instances: [makeInstance({ stats: zeroStats({ ip_ttl_err: 7, pri_zero_sent: 1 }) }), makeInstance({ iname: 'VI_2', stats: zeroStats({ auth_failure: 3 }) })],
    });
    const lines = renderStats(s).split('\n');
    expect(lines.filter((l) => l.startsWith('VRRP Instance: '))).toEqual(['VRRP Instance: VI_1', 'VRRP Instance: VI_2']);
    expect(lines[8]).toBe('    TTL: 7');
    expect(lines[18]).toBe('    Sent: 1');
    expect(lines[19 + 15]).toBe('    Failure: 3');
  });
});

describe('keepalived.data', () => {
  let oldTz: string | undefined;
  beforeAll(() => {
    oldTz = process.env.TZ;
    process.env.TZ = 'UTC'; // the reference was captured on a UTC host
  });
  afterAll(() => {
    if (oldTz === undefined) delete process.env.TZ;
    else process.env.TZ = oldTz;
  });

  /** the reference minus what keepwatch has no equivalent for (documented in dumps.ts) */
  function refComparable(name: string): string[] {
    const out: string[] = [];
    let skip = false;
    for (const l of ref(name).split('\n')) {
      if (l.startsWith('------< ')) skip = l === '------< VRRP Sockpool >------' || l === '------< Interfaces >------';
      if (skip) continue;
      if (/^ nftables without counters$|^ libnftnl version|^ {3}fd_in \d+, fd_out \d+$/.test(l)) continue;
      out.push(l);
    }
    // the skipped Interfaces section held the file's final newline
    if (out[out.length - 1] !== '') out.push('');
    return out;
  }

  it('v2 master: every section line equal to keepalived 2.2.7 (with the same numbers)', () => {
    const s = makeSnapshot({
      globals: { snmpVrrp: true, snmpChecker: true, snmpRfcv2: true, snmpRfcv3: true, snmpSocket: 'unix:/tmp/kalab/obs/snmp/agentx.sock', scriptSecurity: true },
      instances: [makeInstance({ read_timeout: 1795515068.894448 })],
    });
    expect(renderData(s).split('\n')).toEqual(refComparable('v2-master-keepalived.data'));
  });

  it('v3 backup: master router/priority/advert lines, milli-sec interval', () => {
    const s = makeSnapshot({
      routerId: 'h2',
      globals: { scriptSecurity: true },
      instances: [{ ...v3Backup(), read_timeout: 1795515085.140043 }],
      scripts: [makeScript({ command: "'/usr/bin/test' '-e' '/tmp/kalab/obs/kal-h2/healthy'" })],
    });
    expect(renderData(s).split('\n')).toEqual(refComparable('v3-backup-keepalived.data'));
  });

  it('per-instance tracking weights (keepalived dump_track_script / dump_tracking_vrrp)', () => {
    const s = makeSnapshot({
      instances: [
        makeInstance({
          track_script_weights: [{ name: 'chk_file', weight: -30, weight_reverse: true }],
          track_ifp: [{ name: 'eth1', ifindex: 3, weight: -10, weight_reverse: false }],
          mcast_daddr: '224.0.0.18',
        }),
      ],
      scripts: [makeScript({ weight_reverse: false })],
    });
    const d = renderData(s);
    expect(d).toContain('   Tracked interfaces :\n     eth1 weight -10\n   Tracked scripts :\n     chk_file weight -30 reverse\n');
    expect(d).toContain('   Weight = -60\n');
    expect(d).toContain('   Tracking instances :\n     VI_1, weight -30 reverse\n');
    expect(toKeepalivedJson(s)[0].data.track_ifp).toEqual(['eth1']);
  });

  it('sync groups, unicast peers and excluded VIPs', () => {
    const s = makeSnapshot({
      instances: [makeInstance({ sync_group: 'G1', unicast: true, unicast_peers: ['192.0.2.12'], evips: [{ text: '203.0.113.9 dev eth0 scope global', address: '203.0.113.9', prefix: 32, dev: 'eth0', installed: false, excluded: true }] })],
      syncGroups: [{ name: 'G1', state: 'MASTER', members: ['VI_1'] }],
    });
    const d = renderData(s);
    expect(d).toContain(' VRRP Instance = VI_1\n   VRRP Version = 2\n   Sync group = G1\n   State = MASTER\n   Flags:\n     Using unicast\n');
    expect(d).toContain('   Virtual IP Excluded :\n     203.0.113.9 dev eth0 scope global\n');
    expect(d).toContain('   Unicast Peer :\n     192.0.2.12 min_ttl 0 max_ttl 255\n');
    expect(d).toContain('------< VRRP Sync groups >------\n VRRP Sync Group = G1, MASTER\n   Num member fault 0, num member init 0\n   VRRP member instances :\n     VI_1\n');
    expect(d).not.toContain('Multicast address');
  });
});

describe('dump files', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kw-obs-dumps-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('uses $TMPDIR only when absolute (keepalived make_tmp_filename)', () => {
    expect(dumpDir({ TMPDIR: '/var/tmp/x' })).toBe('/var/tmp/x');
    expect(dumpDir({ TMPDIR: 'relative/dir' })).toBe('/tmp');
    expect(dumpDir({})).toBe('/tmp');
  });

  it('writes the three files atomically with mode 0600 and leaves no temp files', async () => {
    const s = makeSnapshot();
    writeFileSync(path.join(dir, 'keepalived.json'), 'stale');
    const [d, st, j] = await Promise.all([writeDataDump(s, dir), writeStatsDump(s, dir), writeJsonDump(s, dir)]);
    expect(readFileSync(d!, 'utf8')).toBe(renderData(s));
    expect(readFileSync(st, 'utf8')).toBe(renderStats(s));
    expect(readFileSync(j!, 'utf8')).toBe(renderKeepalivedJson(s));
    expect(statSync(st).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual(['keepalived.data', 'keepalived.json', 'keepalived.stats']);
  });

  it('a reader never sees a partial file while dumps are rewritten', async () => {
    const big = makeSnapshot({ instances: Array.from({ length: 255 }, (_, k) => makeInstance({ iname: `VI_${k}`, vrid: k + 1 })) });
    const small = makeSnapshot();
    const wanted = new Set([renderKeepalivedJson(big), renderKeepalivedJson(small)]);
    let reads = 0;
    let done = false;
    const writer = (async () => {
      for (let k = 0; k < 40; k++) await writeJsonDump(k % 2 ? big : small, dir);
      done = true;
    })();
    while (!done) {
      const txt = readFileSync(path.join(dir, 'keepalived.json'), 'utf8');
      expect(wanted.has(txt)).toBe(true);
      reads++;
      await new Promise((r) => setImmediate(r));
    }
    await writer;
    expect(reads).toBeGreaterThan(0);
  });

  it('writes no JSON file when there are no instances (like keepalived)', async () => {
    const d2 = mkdtempSync(path.join(tmpdir(), 'kw-obs-dumps-'));
    expect(await writeJsonDump(makeSnapshot({ instances: [] }), d2)).toBeNull();
    expect(readdirSync(d2)).toEqual([]);
    rmSync(d2, { recursive: true });
  });

  it('STATS_CLEAR: the file holds the counters from before the clear', async () => {
    let stats = zeroStats({ advert_rcvd: 42 });
    const snap = () => makeSnapshot({ instances: [makeInstance({ stats })] });
    const p = await writeStatsDumpThenClear(snap, () => (stats = zeroStats()), dir);
    expect(readFileSync(p, 'utf8')).toContain('    Received: 42\n');
    expect(renderStats(snap())).toContain('    Received: 0\n');
  });

  it('fails with an error (not a crash) when the directory is unusable, and never follows a planted symlink', async () => {
    await expect(writeStatsDump(makeSnapshot(), path.join(dir, 'does-not-exist'))).rejects.toThrow(/ENOENT/);
    const victim = path.join(dir, 'victim');
    writeFileSync(victim, 'keep me');
    // the final name may be a symlink: rename() replaces the link itself, not its target
    rmSync(path.join(dir, 'keepalived.data'), { force: true });
    symlinkSync(victim, path.join(dir, 'keepalived.data'));
    await writeDataDump(makeSnapshot(), dir);
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
  });
});
