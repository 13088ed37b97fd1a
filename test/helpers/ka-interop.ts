/**
 * keepalived 2.2.7 ⇄ keepwatch interop lab (test/interop/vrrp-*.test.ts).
 *
 * Two VRRP nodes on one bridge: "k" runs the real Debian keepalived (/usr/sbin/keepalived,
 * started as RESULTS.md §8 did), "w" runs the real keepwatch daemon (test/helpers/agent.ts
 * startKeepwatch). Both read the SAME keepalived.conf text apart from router_id, priority,
 * state and the unicast source/peer, so any difference in behaviour is the implementation's.
 *
 * Dual-master accounting (VipWatch): `ip -ts -o monitor address` in each node namespace
 * gives a kernel-event timestamp (µs, CLOCK_REALTIME) for every VIP add/delete. A node "is
 * MASTER" from the moment its VIP appears until it is deleted or the daemon is killed
 * (kill -9 leaves the VIP behind on the dead node in both implementations, RESULTS.md
 * §6.1, so the death instant closes the interval). Overlaps of the two nodes' intervals are
 * what a client would see as two routers answering for the VIP.
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { killGroup, makeLab, waitFor, type Lab, type Netns } from './netns';
import { startKeepwatch, type KwNode } from './agent';
import { onLines } from './lines';

export const KEEPALIVED = '/usr/sbin/keepalived';
/** keepalived --signum=JSON (RESULTS.md §1: 36 = SIGRTMIN+2) */
export const KA_SIGNUM_JSON = 36;
/** keepwatch HTTP inside each namespace (this suite's loopback port range 19600–19699) */
export const KW_PORT = 19600;

export interface Variant {
  name: string;
  version: 2 | 3;
  /** advert_int, seconds */
  advert: number;
  family: 'ipv4' | 'ipv6';
  unicast: boolean;
  /** v2 `authentication { auth_type PASS auth_pass … }` */
  authPass?: string;
}

export const ADDR = {
  ipv4: { k: '192.0.2.11', w: '192.0.2.12', vip: '192.0.2.50', plen: 24 },
  ipv6: { k: '2001:db8::11', w: '2001:db8::12', vip: '2001:db8::50', plen: 64 },
} as const;

export type NodeName = 'k' | 'w';

/** keepalived.conf for one node of the pair (the same text for both implementations). */
export function interopConf(v: Variant, self: NodeName, priority: number, o: { authPass?: string } = {}): string {
  const a = ADDR[v.family];
  const peer: NodeName = self === 'k' ? 'w' : 'k';
  const pass = o.authPass ?? v.authPass;
  const lines = [
    'global_defs {',
    `    router_id ${self}`,
    '}',
    '',
    'vrrp_instance VI_1 {',
    // keepalived 2.2.7: state MASTER with priority < 255 starts in BACKUP anyway (RESULTS.md §4)
    `    state ${priority >= 150 ? 'MASTER' : 'BACKUP'}`,
    '    interface eth0',
    '    virtual_router_id 51',
    `    priority ${priority}`,
    `    advert_int ${v.advert}`,
    `    version ${v.version}`,
    ...(v.unicast ? [`    unicast_src_ip ${a[self]}`, '    unicast_peer {', `        ${a[peer]}`, '    }'] : []),
    ...(pass !== undefined ? ['    authentication {', '        auth_type PASS', `        auth_pass ${pass}`, '    }'] : []),
    '    virtual_ipaddress {',
    `        ${a.vip}/${a.plen} dev eth0`,
    '    }',
    '}',
    '',
  ];
  return lines.join('\n');
}

export function interopLab(id: string): Lab {
  if (!id.startsWith('i')) throw new Error('interop labs use ids starting with "i"');
  return makeLab(id, [
    { name: 'k', v4: [`${ADDR.ipv4.k}/24`], v6: [`${ADDR.ipv6.k}/64`] },
    { name: 'w', v4: [`${ADDR.ipv4.w}/24`], v6: [`${ADDR.ipv6.w}/64`] },
  ]);
}

// ---------------------------------------------------------------------------
// keepalived node
// ---------------------------------------------------------------------------

const KA_TS = /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}: /;

export interface KaNode {
  ns: Netns;
  dir: string;
  child: ChildProcess;
  log(): string;
  lines(): string[];
  mark(): number;
  waitLog(re: RegExp, since?: number, timeoutMs?: number): Promise<string>;
  running(): boolean;
  /** SIGTERM to the parent (keepalived sends priority 0 and removes its VIPs, then exits ~1 s later) */
  stop(): Promise<void>;
  /** kill -9 of the whole process group (parent + VRRP child): a crash (RESULTS.md §2 (b)) */
  crash(): Promise<void>;
  /** keepalived's JSON dump (signal 36 → $TMPDIR/keepalived.json), parsed */
  jsonDump(): Promise<Array<{ data: Record<string, unknown>; stats: Record<string, number> }>>;
}

export function startKa(ns: Netns, config: string, id: string): KaNode {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `kwi-${id}-`));
  const conf = path.join(dir, 'keepalived.conf');
  fs.writeFileSync(conf, config);
  // -P: VRRP only; -G: no namespace-specific defaults — as RESULTS.md §8 ran it
  const args = ['-n', '-l', '-D', '-G', '-P', '-f', conf, '-p', `${dir}/keepalived.pid`, '-r', `${dir}/vrrp.pid`, '-c', `${dir}/checkers.pid`, '-b', `${dir}/bfd.pid`, '-i', id];
  const child = ns.spawn(KEEPALIVED, args, { env: { ...process.env, TMPDIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => (out += d));
  child.stderr!.on('data', (d: string) => (out += d));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const lines = (): string[] =>
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(KA_TS, ''));
  const node: KaNode = {
    ns,
    dir,
    child,
    log: () => out,
    lines,
    mark: () => lines().length,
    running,
    waitLog: (re, since = 0, timeoutMs = 20_000) =>
      waitFor(() => lines().slice(since).find((l) => re.test(l)) ?? '', `keepalived log ${re} in ${ns.name}`, timeoutMs, 20).catch((e: Error) => {
        throw new Error(`${e.message}\n--- keepalived ${ns.name} log tail ---\n${lines().slice(-25).join('\n')}`);
      }),
    async stop() {
      if (!running()) return;
      process.kill(child.pid!, 'SIGTERM');
      const ok = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 15_000))]);
      if (!ok) {
        killGroup(child, 'SIGKILL');
        await exited;
      }
    },
    async crash() {
      if (!running()) return;
      killGroup(child, 'SIGKILL');
      await exited;
    },
    async jsonDump() {
      const file = path.join(dir, 'keepalived.json');
      fs.rmSync(file, { force: true });
      process.kill(child.pid!, KA_SIGNUM_JSON);
      // the dump is written by the VRRP child; wait for a complete, parseable file
      return waitFor(
        () => {
          const t = fs.readFileSync(file, 'utf8');
          return JSON.parse(t) as Array<{ data: Record<string, unknown>; stats: Record<string, number> }>;
        },
        `keepalived JSON dump in ${dir}`,
        10_000,
        50,
      );
    },
  };
  return node;
}

// ---------------------------------------------------------------------------
// VIP intervals from kernel address events
// ---------------------------------------------------------------------------

export interface Interval {
  node: NodeName;
  from: number;
  to: number;
  /** closed by the test killing the daemon, not by a VIP delete */
  closedByDeath?: boolean;
}

/** "[2026-11-25T14:44:33.798371]" (local time, µs) → epoch ms */
export function parseIpTs(s: string): number | null {
  const m = /^\[(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{6})\]/.exec(s);
  if (!m) return null;
  const [y, mo, d, h, mi, se, us] = m.slice(1).map(Number) as [number, number, number, number, number, number, number];
  return new Date(y, mo - 1, d, h, mi, se).getTime() + us / 1000;
}

/**
 * Turn per-node VIP add/delete events and death instants into MASTER intervals.
 * Pure (unit-testable): events must be in time order per node.
 */
export function intervalsOf(events: Array<{ node: NodeName; t: number; kind: 'add' | 'del' | 'death' }>, endT: number): Interval[] {
  const open = new Map<NodeName, number>();
  const out: Interval[] = [];
  for (const e of [...events].sort((a, b) => a.t - b.t)) {
    const o = open.get(e.node);
    if (e.kind === 'add') {
      if (o === undefined) open.set(e.node, e.t); // IPv6 reports tentative + final: one interval
    } else if (o !== undefined) {
      out.push({ node: e.node, from: o, to: e.t, closedByDeath: e.kind === 'death' });
      open.delete(e.node);
    }
  }
  for (const [node, from] of open) out.push({ node, from, to: endT });
  return out.sort((a, b) => a.from - b.from);
}

/** Every overlap between intervals of different nodes, ms. */
export function overlaps(iv: Interval[]): Array<{ from: number; ms: number }> {
  const out: Array<{ from: number; ms: number }> = [];
  for (let i = 0; i < iv.length; i++)
    for (let j = i + 1; j < iv.length; j++) {
      const a = iv[i]!;
      const b = iv[j]!;
      if (a.node === b.node) continue;
      const from = Math.max(a.from, b.from);
      const to = Math.min(a.to, b.to);
      if (to > from) out.push({ from, ms: to - from });
    }
  return out;
}

export class VipWatch {
  private events: Array<{ node: NodeName; t: number; kind: 'add' | 'del' | 'death' }> = [];
  private procs: ChildProcess[] = [];
  private raw: string[] = [];

  private constructor(private readonly vip: string) {}

  /** Start `ip -ts -o monitor address` in each node and wait until each is provably listening. */
  static async start(lab: Lab, vip: string): Promise<VipWatch> {
    const w = new VipWatch(vip);
    for (const node of ['k', 'w'] as const) {
      const ns = lab.hosts[node]!;
      const p = ns.spawn('ip', ['-ts', '-o', 'monitor', 'address'], { stdio: ['ignore', 'pipe', 'pipe'] });
      w.procs.push(p);
      let sawMarker = false;
      onLines(p.stdout!, (line) => {
        w.raw.push(`${node} ${line}`);
        if (line.includes('203.0.113.254/32')) sawMarker = true;
        const t = parseIpTs(line);
        if (t === null) return;
        const rest = line.slice(line.indexOf(']') + 2);
        if (!new RegExp(`inet6? ${vip.replace(/[.:]/g, (c) => `\\${c}`)}/`).test(rest)) return;
        w.events.push({ node, t, kind: rest.startsWith('Deleted') ? 'del' : 'add' });
      });
      // a marker address on lo proves the monitor's netlink socket is subscribed
      await waitFor(
        () => {
          ns.exec('ip', ['addr', 'replace', '203.0.113.254/32', 'dev', 'lo']);
          return sawMarker;
        },
        `ip monitor in ${ns.name}`,
        10_000,
        100,
      );
      ns.exec('ip', ['addr', 'del', '203.0.113.254/32', 'dev', 'lo'], { allowFail: true });
    }
    return w;
  }

  /** The daemon on `node` is being killed now: whatever it holds from here on is not a MASTER. */
  death(node: NodeName, t = Date.now()): void {
    this.events.push({ node, t, kind: 'death' });
  }

  intervals(endT = Date.now()): Interval[] {
    return intervalsOf(this.events, endT);
  }

  /** longest overlap of the two nodes' MASTER intervals, ms (0 = never two masters) */
  maxOverlap(endT = Date.now()): number {
    return overlaps(this.intervals(endT)).reduce((m, o) => Math.max(m, o.ms), 0);
  }

  describe(endT = Date.now()): string {
    const t0 = this.events[0]?.t ?? 0;
    return this.intervals(endT)
      .map((i) => `${i.node}: ${(i.from - t0).toFixed(1)} → ${(i.to - t0).toFixed(1)} ms${i.closedByDeath ? ' (killed)' : ''}`)
      .join('\n');
  }

  stop(): void {
    for (const p of this.procs) killGroup(p);
  }
}

// ---------------------------------------------------------------------------
// the pair
// ---------------------------------------------------------------------------

export interface Pair {
  lab: Lab;
  v: Variant;
  ka: KaNode | null;
  kw: KwNode | null;
  kaStarts: number;
  /** every keepalived run's console log, for failure messages */
  kaLogs: string[];
  startKa(priority: number, o?: { authPass?: string }): KaNode;
  startKw(priority: number, o?: { authPass?: string }): Promise<KwNode>;
  close(): Promise<void>;
}

export function makePair(id: string, v: Variant): Pair {
  const lab = interopLab(id);
  const dirs: string[] = [];
  let kwDir: string | undefined;
  const pair: Pair = {
    lab,
    v,
    ka: null,
    kw: null,
    kaStarts: 0,
    kaLogs: [],
    startKa(priority, o = {}) {
      const n = startKa(lab.hosts.k!, interopConf(v, 'k', priority, o), `${id}k${pair.kaStarts++}`);
      dirs.push(n.dir);
      pair.ka = n;
      return n;
    },
    async startKw(priority, o = {}) {
      const n = await startKeepwatch(lab.hosts.w!, interopConf(v, 'w', priority, o), { id: `i${id}w`, port: KW_PORT, dir: kwDir });
      kwDir = n.dir;
      pair.kw = n;
      return n;
    },
    async close() {
      await Promise.all([pair.ka?.stop().catch(() => undefined), pair.kw?.stop('SIGTERM', 5_000).catch(() => undefined)]);
      lab.destroy();
      for (const d of [...dirs, ...(kwDir ? [kwDir] : [])]) fs.rmSync(d, { recursive: true, force: true });
    },
  };
  return pair;
}
