/**
 * keepwatch ⇄ the real keepalived 2.2.7 (Debian /usr/sbin/keepalived) on one VRRP link.
 *
 * For every variant (v2 multicast/unicast at 1 s, v3 multicast/unicast at 100 ms over
 * IPv4 and IPv6) and in both directions (keepwatch the preferred node, priority 150, with
 * keepalived at 100 — and the other way round), one cycle as RESULTS.md §2/§4 ran it:
 *
 *   low node cold start → MASTER; high node starts → preempts (keepalived 2.2.7: BACKUP
 *   (init), lower-priority adverts discarded, MASTER after its own Master_Down_Interval);
 *   SIGTERM of high → low takes over on the priority-0 advert (Skew_Time, RFC 5798 §6.4.2);
 *   restart high → preempts back; kill -9 of high's process group → low takes over on the
 *   down timer (RFC 5798 §6.4.2 "Master_Down_Timer fires"); restart high → preempts back.
 *
 * Each step is checked on both implementations' own words (console log lines keepalived
 * prints and keepwatch reproduces), keepwatch's /json state, and where the VIP is. Over the
 * whole cycle, kernel address events (`ip -ts monitor address` in both namespaces) give
 * each node's MASTER intervals; two MASTERs may coexist only for the instant of a
 * preemption handover (RFC 5798 §6.4.3: the old master yields on the first higher-priority
 * advert), so any overlap longer than one advert interval + a scheduling margin fails.
 *
 * Then v2 `auth_type PASS`: matching passwords interoperate both ways; a wrong password is
 * counted (auth_failure, RFC 3768 §7.1 / keepalived vrrp_check_packet) and never accepted.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/netns';
import { ADDR, intervalsOf, makePair, overlaps, parseIpTs, VipWatch, type NodeName, type Pair, type Variant } from '../helpers/ka-interop';

/** scheduling margin on a busy 2-core machine on top of one advert interval */
const MARGIN_MS = 400;

const VARIANTS: Variant[] = [
  { name: 'v2 multicast IPv4 (1 s)', version: 2, advert: 1, family: 'ipv4', unicast: false },
  { name: 'v2 unicast IPv4 (1 s)', version: 2, advert: 1, family: 'ipv4', unicast: true },
  { name: 'v3 multicast IPv4 (100 ms)', version: 3, advert: 0.1, family: 'ipv4', unicast: false },
  { name: 'v3 unicast IPv4 (100 ms)', version: 3, advert: 0.1, family: 'ipv4', unicast: true },
  { name: 'v3 multicast IPv6 (100 ms)', version: 3, advert: 0.1, family: 'ipv6', unicast: false },
  { name: 'v3 unicast IPv6 (100 ms)', version: 3, advert: 0.1, family: 'ipv6', unicast: true },
];

const LABEL: Record<NodeName, string> = { k: 'keepalived', w: 'keepwatch' };
const HIGH = 150;
const LOW = 100;

function hasVip(p: Pair, node: NodeName): boolean {
  const a = ADDR[p.v.family];
  const out = p.lab.hosts[node]!.exec('ip', ['-o', 'addr', 'show', 'dev', 'eth0'], { allowFail: true });
  return out.includes(` ${a.vip}/${a.plen} `);
}

function mark(p: Pair, node: NodeName): number {
  return node === 'k' ? p.ka!.mark() : p.kw!.mark();
}

function waitLog(p: Pair, node: NodeName, re: RegExp, since: number): Promise<string> {
  return node === 'k' ? p.ka!.waitLog(re, since) : p.kw!.waitLog(re, since);
}

async function start(p: Pair, node: NodeName, priority: number): Promise<number> {
  if (node === 'k') p.startKa(priority);
  else await p.startKw(priority);
  return 0; // a fresh process: its log starts at line 0
}

/** MASTER by its own log (and /json for keepwatch), holding the VIP */
async function isMaster(p: Pair, node: NodeName, since: number): Promise<void> {
  await waitLog(p, node, /^\(VI_1\) Entering MASTER STATE$/, since);
  if (node === 'w') await p.kw!.waitState('MASTER');
  await waitFor(() => hasVip(p, node), `VIP on ${LABEL[node]}`);
}

async function isBackup(p: Pair, node: NodeName, since: number): Promise<void> {
  await waitLog(p, node, /^\(VI_1\) Entering BACKUP STATE/, since);
  if (node === 'w') await p.kw!.waitState('BACKUP');
  await waitFor(() => !hasVip(p, node), `VIP gone from ${LABEL[node]}`);
}

/** the high node (re)starts while low is MASTER and takes the VIP back (RESULTS.md §6.5) */
async function preempt(p: Pair, high: NodeName, low: NodeName): Promise<void> {
  const mLow = mark(p, low);
  const mHigh = await start(p, high, HIGH);
  await waitLog(p, high, /^\(VI_1\) Entering BACKUP STATE \(init\)$/, mHigh);
  await waitLog(p, high, new RegExp(`^\\(VI_1\\) received lower priority \\(${LOW}\\) advert from \\S+ - discarding$`), mHigh);
  await isMaster(p, high, mHigh);
  await waitLog(p, low, new RegExp(`^\\(VI_1\\) Master received advert from \\S+ with higher priority ${HIGH}, ours ${LOW}$`), mLow);
  await isBackup(p, low, mLow);
}

async function cycle(p: Pair, high: NodeName): Promise<void> {
  const low: NodeName = high === 'k' ? 'w' : 'k';
  const advMs = p.v.advert * 1000;
  const watch = await VipWatch.start(p.lab, ADDR[p.v.family].vip);
  try {
    // cold start of the low node alone: BACKUP (init), then MASTER on the down timer
    const m0 = await start(p, low, LOW);
    await waitLog(p, low, /^\(VI_1\) Entering BACKUP STATE \(init\)$/, m0);
    await waitLog(p, low, /^\(VI_1\) Receive advertisement timeout$/, m0);
    await isMaster(p, low, m0);

    await preempt(p, high, low);

    // graceful stop of the master: priority 0 → the backup takes over after Skew_Time
    let mLow = mark(p, low);
    if (high === 'k') await p.ka!.stop();
    else await p.kw!.stop('SIGTERM');
    await waitLog(p, low, /^\(VI_1\) Backup received priority 0 advertisement$/, mLow);
    await isMaster(p, low, mLow);
    expect(hasVip(p, high), `${LABEL[high]} removed its VIP on SIGTERM`).toBe(false);

    await preempt(p, high, low);

    // crash: kill -9 of the master's whole process group → takeover on the down timer
    mLow = mark(p, low);
    watch.death(high);
    if (high === 'k') await p.ka!.crash();
    else await p.kw!.crash();
    await waitLog(p, low, /^\(VI_1\) Receive advertisement timeout$/, mLow);
    await isMaster(p, low, mLow);

    await preempt(p, high, low);

    // settled: the VIP on the preferred node only
    expect(hasVip(p, high)).toBe(true);
    expect(hasVip(p, low)).toBe(false);
    const end = Date.now();
    const iv = watch.intervals(end);
    const detail = `${p.v.name}, ${LABEL[high]} preferred:\n${watch.describe(end)}`;
    // one MASTER period per takeover, no flapping: low = cold start, after SIGTERM, after crash;
    // high = the three preemptions
    expect(iv.filter((i) => i.node === low).length, detail).toBe(3);
    expect(iv.filter((i) => i.node === high).length, detail).toBe(3);
    const worst = watch.maxOverlap(end);
    if (process.env.KW_INTEROP_VERBOSE) console.log(`${detail}\nlongest two-MASTER overlap: ${worst.toFixed(2)} ms`);
    expect(worst, detail).toBeLessThanOrEqual(advMs + MARGIN_MS);

    // the counters both implementations keep for the node that lived through it all
    if (low === 'w') {
      const s = (await p.kw!.instance())!.stats;
      expect(s, detail).toMatchObject({ become_master: 3, release_master: 3, pri_zero_rcvd: 1, auth_failure: 0, authtype_mismatch: 0, packet_len_err: 0, ip_ttl_err: 0, addr_list_err: 0, invalid_type_rcvd: 0 });
      expect(s.advert_rcvd).toBeGreaterThan(0);
    } else {
      const [j] = await p.ka!.jsonDump();
      expect(j!.stats, detail).toMatchObject({ become_master: 3, release_master: 3, pri_zero_rcvd: 1, auth_failure: 0, authtype_mismatch: 0, packet_len_err: 0, ip_ttl_err: 0, addr_list_err: 0, invalid_type_rcvd: 0 });
      expect(j!.stats.advert_rcvd).toBeGreaterThan(0);
      const s = (await p.kw!.instance())!;
      expect(s.data.state).toBe(2);
      expect(s.stats).toMatchObject({ become_master: 1, auth_failure: 0, packet_len_err: 0, ip_ttl_err: 0, addr_list_err: 0 });
    }
  } finally {
    watch.stop();
  }
}

/** a failure message with both daemons' recent console lines */
function withLogs(e: unknown, p: Pair): Error {
  const err = e instanceof Error ? e : new Error(String(e));
  err.message += `\n--- keepalived (last run) ---\n${p.ka?.lines().slice(-30).join('\n') ?? ''}\n--- keepwatch (last run) ---\n${p.kw?.lines().slice(-30).join('\n') ?? ''}`;
  return err;
}

describe('interval accounting used below (pure)', () => {
  it('parses ip -ts stamps and finds overlaps between the two nodes only', () => {
    const t = parseIpTs('[2026-11-25T14:44:33.798371] 2: eth0    inet 192.0.2.50/24 scope global secondary eth0');
    expect(t).toBeCloseTo(new Date(2026, 10, 25, 14, 44, 33).getTime() + 798.371, 3);
    const iv = intervalsOf(
      [
        { node: 'k', t: 0, kind: 'add' },
        { node: 'k', t: 1, kind: 'add' }, // IPv6 tentative + final
        { node: 'w', t: 100, kind: 'add' },
        { node: 'k', t: 103, kind: 'del' },
        { node: 'w', t: 200, kind: 'death' },
        { node: 'w', t: 250, kind: 'del' }, // residual VIP removed at restart: not a master period
        { node: 'k', t: 210, kind: 'add' },
      ],
      300,
    );
    expect(iv).toEqual([
      { node: 'k', from: 0, to: 103, closedByDeath: false },
      { node: 'w', from: 100, to: 200, closedByDeath: true },
      { node: 'k', from: 210, to: 300 },
    ]);
    expect(overlaps(iv)).toEqual([{ from: 100, ms: 3 }]);
  });
});

function cycleTests(variants: Variant[]): void {
  for (const v of variants) {
    const vi = VARIANTS.indexOf(v);
    for (const high of ['w', 'k'] as const) {
      it(`${v.name}: ${LABEL[high]} preferred, ${LABEL[high === 'k' ? 'w' : 'k']} backup`, async () => {
        const p = makePair(`i${vi}${high}`, v);
        try {
          await cycle(p, high);
        } catch (e) {
          throw withLogs(e, p);
        } finally {
          await p.close();
        }
      });
    }
  }
}

// v2 runs at whole-second adverts: its cycles mostly wait, so they share the wall clock
// (separate labs; one advert interval of 1 s leaves room for a busy machine)
describe.concurrent('keepwatch ⇄ keepalived 2.2.7, VRRPv2 at 1 s: failover both ways, preemption, never two masters', () => {
  cycleTests(VARIANTS.filter((v) => v.version === 2));
});

// v3 at 100 ms: one lab at a time, so that timing is the daemons', not the machine's
describe('keepwatch ⇄ keepalived 2.2.7, VRRPv3 at 100 ms: failover both ways, preemption, never two masters', () => {
  cycleTests(VARIANTS.filter((v) => v.version === 3));
});

describe.concurrent('keepwatch ⇄ keepalived 2.2.7: v2 authentication PASS', () => {
  const v: Variant = { name: 'v2 PASS', version: 2, advert: 1, family: 'ipv4', unicast: false, authPass: 'secret' };

  it('matching passwords: adverts accepted both ways (preemption, priority 0 takeover)', async () => {
    const p = makePair('iap', v);
    try {
      // keepwatch alone → MASTER
      const kw = await p.startKw(LOW);
      await isMaster(p, 'w', 0);
      // keepalived accepts keepwatch's PASS adverts (discarded only for being lower priority)
      const mW = kw.mark();
      const ka = p.startKa(HIGH);
      await ka.waitLog(/^\(VI_1\) received lower priority \(100\) advert from 192\.0\.2\.12 - discarding$/);
      await isMaster(p, 'k', 0);
      // keepwatch accepts keepalived's: yields on the higher priority, then takes over on its priority 0
      await kw.waitLog(/^\(VI_1\) Master received advert from 192\.0\.2\.11 with higher priority 150, ours 100$/, mW);
      await isBackup(p, 'w', mW);
      const before = (await kw.instance())!.stats.advert_rcvd;
      await waitFor(async () => (await kw.instance())!.stats.advert_rcvd >= before + 2, 'keepwatch receiving keepalived adverts');
      const [j] = await ka.jsonDump();
      const mW2 = kw.mark();
      await ka.stop();
      await kw.waitLog(/^\(VI_1\) Backup received priority 0 advertisement$/, mW2);
      await isMaster(p, 'w', mW2);
      const s = (await kw.instance())!.stats;
      expect(s).toMatchObject({ auth_failure: 0, authtype_mismatch: 0, invalid_authtype: 0, pri_zero_rcvd: 1 });
      expect(j!.stats).toMatchObject({ auth_failure: 0, authtype_mismatch: 0, invalid_authtype: 0 });
      expect(j!.stats.advert_rcvd).toBeGreaterThan(0);
      expect(j!.data.auth_type).toBe(1);
    } finally {
      await p.close();
    }
  });

  it('mismatched password: counted as auth_failure and never accepted', async () => {
    const p = makePair('iax', v);
    try {
      // keepalived (150, "secret") is MASTER first
      const ka = p.startKa(HIGH);
      await isMaster(p, 'k', 0);
      // keepwatch (100, "wrong"): had it accepted the higher-priority adverts it would stay
      // BACKUP; rejecting them all, its down timer expires and it becomes MASTER too
      const kw = await p.startKw(LOW, { authPass: 'wrong' });
      await kw.waitLog(/^\(VI_1\) received an invalid passwd!$/);
      await waitFor(async () => (await kw.instance())!.stats.auth_failure >= 3, 'keepwatch auth_failure counted');
      await kw.waitLog(/^\(VI_1\) Receive advertisement timeout$/);
      await isMaster(p, 'w', 0);
      const s = (await kw.instance())!.stats;
      expect(s.advert_rcvd).toBe(0);
      expect(s.release_master).toBe(0);
      // and keepalived rejects keepwatch's adverts the same way
      await ka.waitLog(/^\(VI_1\) received an invalid passwd!$/);
      const [j] = await ka.jsonDump();
      expect(j!.stats.auth_failure).toBeGreaterThan(0);
      expect(j!.stats.advert_rcvd).toBe(0);
      expect(j!.data.state).toBe(2);
    } finally {
      await p.close();
    }
  });
});
