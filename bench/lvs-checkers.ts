/**
 * 1000 real servers with TCP_CHECK at delay_loop 1 s against local listeners: how much CPU
 * does our checker engine use, and how long is the worst event-loop stall? Then the same
 * configuration under keepalived's checker process (`keepalived -C -n -l -f conf`), whose
 * CPU is printed next to ours. keepalived 2.2.7's checker exits at start when the kernel
 * has no IPVS ("IPVS: Can't initialize ipvs"), so on such a host only our numbers are
 * measured; run it in the UML kernel to get both (bench/lvs-checkers.sh --uml).
 *
 * Layout: 10 virtual servers x 100 real servers = 1000 TCP_CHECKs, all to 127.0.0.1 ports
 * 19300-19399 (the LVS suite's loopback range), served by a separate listener process so
 * its CPU is not counted. Prints numbers only; no assertions (speed is not a test).
 *
 * What is printed for our engine, over the same window:
 *  - CPU % of the whole process (all threads: JS, GC helpers, kernel time of the syscalls),
 *    checks/s and failures;
 *  - event-loop lateness p50/p99/max (perf_hooks monitorEventLoopDelay, 10 ms resolution,
 *    the timer period subtracted);
 *  - "own": the lateness left after subtracting the time the main thread spent waiting for a
 *    CPU (its run-queue wait, /proc/thread-self/schedstat, sampled every 10 ms). On a busy
 *    machine most of a long stall is other processes holding both CPUs; "own" is what our
 *    code (JS, GC pauses, syscalls) blocked the loop by itself;
 *  - run-queue wait of the main thread (ms per second), the most probes started between two
 *    check phases (setImmediate) - one batch of timers firing at once, an upper bound of
 *    what ran without an I/O poll in between, GC pauses (count / max ms, perf_hooks 'gc' entries);
 *  - a second, idle Node process measured in the same window: the loop lateness this
 *    machine imposes right now on a process that does nothing.
 * Profile the bench process with `node --cpu-prof /tmp/kwt-bench-lvs/bench/lvs-checkers.js`
 * after building it (bench/lvs-checkers.sh builds it there).
 *
 * Env: BENCH_SECONDS (measured window, default 20), BENCH_WARMUP (seconds between start and
 * the window, default 4), BENCH_CHECKER_WARMUP (the checkers' `warmup` in seconds; default
 * unset = delay_loop, keepalived's default). `BENCH_WARMUP=0 BENCH_CHECKER_WARMUP=0` puts
 * the start-up burst in the window: every checker is first due at the same instant
 * (keepalived BOOTSTRAP_DELAY), the worst case for one event loop.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { HealthEngine } from '../src/check/engine';
import { realProbe, type ProbeFn } from '../src/check/probes';
import { Journal } from '../src/journal/journal';
import { LvsManager } from '../src/lvs/manager';
import { realServer, tcpCheck, virtualServer } from '../src/lvs/spec';
import type { VirtualServerSpec } from '../src/lvs/types';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 4);
const CHECKER_WARMUP = process.env.BENCH_CHECKER_WARMUP === undefined ? undefined : Number(process.env.BENCH_CHECKER_WARMUP);
const PORT0 = 19300;
const NPORTS = 100;
const NVS = 10;
const CLK_TCK = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startListeners(): Promise<ChildProcess> {
  // counts accepted connections, so the checks/s of keepalived can be measured too
  const code = `
    const net = require('net');
    let n = 0, accepted = 0;
    for (let p = ${PORT0}; p < ${PORT0 + NPORTS}; p++) {
      net.createServer((s) => { accepted++; s.on('error', () => {}); s.end(); }).listen({ port: p, host: '127.0.0.1', backlog: 4096 }, () => {
        if (++n === ${NPORTS}) process.stdout.write('ready\\n');
      });
    }
    process.stdin.on('data', () => process.stdout.write(accepted + '\\n'));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', (c) => reject(new Error(`listener process exited ${c}`)));
  });
}

let listenerProc: ChildProcess;
function accepted(): Promise<number> {
  return new Promise((resolve) => {
    listenerProc.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim().split('\n').pop())));
    listenerProc.stdin!.write('?\n');
  });
}

function specs(): VirtualServerSpec[] {
  const out: VirtualServerSpec[] = [];
  for (let v = 0; v < NVS; v++) {
    const rss = [];
    for (let p = 0; p < NPORTS; p++) {
      const port = PORT0 + p;
      // keepalived defaults apart from delay_loop 1 (so warmup = 1 s) and connect_timeout 1
      const timing = { delayLoopMs: 1000, connectTimeoutMs: 1000, ...(CHECKER_WARMUP !== undefined ? { warmupMs: CHECKER_WARMUP * 1000 } : {}) };
      rss.push(realServer('127.0.0.1', port, { checkers: [tcpCheck({ address: '127.0.0.1', port }, timing)] }));
    }
    out.push(virtualServer({ address: `192.0.2.${10 + v}`, port: 80 }, { scheduler: 'rr', realServers: rss }));
  }
  return out;
}

const RESOLUTION_MS = 10;

interface Lateness {
  p50: number;
  p99: number;
  max: number;
}

interface Result {
  cpuPct: number;
  userPct: number;
  sysPct: number;
  checksPerSec: number;
  failures: number;
  late: Lateness;
  /** lateness minus the main thread's run-queue wait, per 10 ms sample */
  own: Lateness | null;
  /** main thread waiting for a CPU, ms per second of wall time */
  runqMsPerSec: number;
  /** most probes started without an I/O poll in between */
  maxBatch: number;
  gcCount: number;
  gcMaxMs: number;
  rssMb: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * [on-CPU ms, run-queue wait ms] of the main thread, or null without schedstat. The file
 * stays open (one pread per sample: a syscall costs ~10x more under UML).
 */
let schedFd: number | null | undefined;
const schedBuf = Buffer.alloc(128);
function schedstat(): [number, number] | null {
  try {
    if (schedFd === undefined) schedFd = openSync('/proc/thread-self/schedstat', 'r');
    if (schedFd === null) return null;
    const n = readSync(schedFd, schedBuf, 0, schedBuf.length, 0);
    const [run, wait] = schedBuf.toString('latin1', 0, n).split(' ').map(Number);
    return [run / 1e6, wait / 1e6];
  } catch {
    schedFd = null;
    return null;
  }
}

/**
 * A 10 ms sampler next to monitorEventLoopDelay: each sample's lateness, and the part of it
 * not spent waiting in the run queue (the main thread is the one reading its schedstat).
 */
function startOwnSampler(): () => { own: Lateness | null; runqMsPerSec: number } {
  const own: number[] = [];
  let last = performance.now();
  let lastS = schedstat();
  const first = lastS;
  const t0 = last;
  const h = setInterval(() => {
    const now = performance.now();
    const s = schedstat();
    if (s && lastS) own.push(Math.max(0, now - last - RESOLUTION_MS - (s[1] - lastS[1])));
    last = now;
    lastS = s;
  }, RESOLUTION_MS);
  return () => {
    clearInterval(h);
    const end = schedstat();
    const wall = performance.now() - t0;
    own.sort((a, b) => a - b);
    return {
      own: own.length ? { p50: percentile(own, 50), p99: percentile(own, 99), max: own[own.length - 1] } : null,
      runqMsPerSec: end && first ? ((end[1] - first[1]) / wall) * 1000 : NaN,
    };
  };
}

/** An idle Node process measuring its own loop lateness over the same window. */
function startIdleProcess(): Promise<{ stop: () => Promise<Lateness> }> {
  const code = `
    const { monitorEventLoopDelay } = require('perf_hooks');
    const h = monitorEventLoopDelay({ resolution: ${RESOLUTION_MS} });
    h.enable();
    process.stdout.write('ready\\n');
    process.stdin.once('data', () => {
      h.disable();
      const f = (n) => n / 1e6 - ${RESOLUTION_MS};
      process.stdout.write(JSON.stringify({ p50: f(h.percentile(50)), p99: f(h.percentile(99)), max: f(h.max) }) + '\\n');
      process.exit(0);
    });`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (c) => reject(new Error(`idle process exited ${c}`)));
    child.stdout!.once('data', () =>
      resolve({
        stop: () =>
          new Promise<Lateness>((res) => {
            child.stdout!.once('data', (d: Buffer) => res(JSON.parse(d.toString()) as Lateness));
            child.stdin!.write('stop\n');
          }),
      }),
    );
  });
}

async function runOurs(withIpvs: boolean): Promise<{ ours: Result; idle: Lateness }> {
  const journal = new Journal();
  let checks = 0;
  let failures = 0;
  journal.subscribe((e) => {
    if (e.type !== 'checker.result') return;
    checks++;
    if (e.result !== 'success') failures++;
  });
  // probes started before the next check phase (a setImmediate queued at the first of them)
  let batch = 0;
  let maxBatch = 0;
  let resetQueued = false;
  const resetBatch = () => {
    resetQueued = false;
    if (batch > maxBatch) maxBatch = batch;
    batch = 0;
  };
  const probe: ProbeFn = (spec, signal) => {
    batch++;
    if (!resetQueued) {
      resetQueued = true;
      setImmediate(resetBatch);
    }
    return realProbe(spec, signal);
  };
  let stop: () => Promise<void>;
  if (withIpvs) {
    const m = await LvsManager.start(specs(), { journal, statsIntervalMs: 5000, engine: { probe } });
    stop = () => m.stop();
  } else {
    const engine = new HealthEngine({ journal, probe });
    engine.load(specs());
    engine.start();
    stop = async () => engine.stop();
  }
  await sleep(WARMUP * 1000);
  const idleProc = await startIdleProcess();
  const gcs: number[] = [];
  const gcObs = new PerformanceObserver((l) => {
    for (const e of l.getEntries()) gcs.push(e.duration);
  });
  gcObs.observe({ entryTypes: ['gc'] });
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  const stopOwn = startOwnSampler();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  checks = 0;
  failures = 0;
  maxBatch = 0;
  await sleep(SECONDS * 1000);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const own = stopOwn();
  h.disable();
  gcObs.disconnect();
  const idle = await idleProc.stop();
  // the histogram holds whole timer periods: subtract the period to get the lateness
  const lat = (ns: number) => ns / 1e6 - RESOLUTION_MS;
  const ours: Result = {
    cpuPct: ((cpu.user + cpu.system) / 1000 / wall) * 100,
    userPct: (cpu.user / 1000 / wall) * 100,
    sysPct: (cpu.system / 1000 / wall) * 100,
    checksPerSec: checks / (wall / 1000),
    failures,
    late: { p50: lat(h.percentile(50)), p99: lat(h.percentile(99)), max: lat(h.max) },
    own: own.own,
    runqMsPerSec: own.runqMsPerSec,
    maxBatch,
    gcCount: gcs.length,
    gcMaxMs: gcs.length ? Math.max(...gcs) : 0,
    rssMb: process.memoryUsage().rss / 2 ** 20,
  };
  await stop();
  return { ours, idle };
}

function procTicks(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]); // utime, stime
  } catch {
    return 0;
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const f = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(f.slice(f.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

function keepalivedConf(): string {
  const lines = ['global_defs {', '  router_id kwt_bench', '}'];
  for (let v = 0; v < NVS; v++) {
    lines.push(`virtual_server 192.0.2.${10 + v} 80 {`, '  delay_loop 1', '  lb_algo rr', '  lb_kind NAT', '  protocol TCP');
    const warmup = CHECKER_WARMUP !== undefined ? [`      warmup ${CHECKER_WARMUP}`] : [];
    for (let p = 0; p < NPORTS; p++) lines.push(`  real_server 127.0.0.1 ${PORT0 + p} {`, '    TCP_CHECK {', '      connect_timeout 1', ...warmup, '    }', '  }');
    lines.push('}');
  }
  return `${lines.join('\n')}\n`;
}

async function runKeepalived(): Promise<{ cpuPct: number; checksPerSec: number; rssMb: number } | string> {
  const bin = ['/usr/sbin/keepalived', '/usr/local/sbin/keepalived'].find((p) => existsSync(p));
  if (!bin) return 'keepalived is not installed';
  const dir = mkdtempSync(join(tmpdir(), 'kwt-bench-ka-'));
  writeFileSync(join(dir, 'keepalived.conf'), keepalivedConf());
  let log = '';
  const ka = spawn(bin, ['-C', '-n', '-l', '-f', join(dir, 'keepalived.conf'), '-p', join(dir, 'k.pid'), '-c', join(dir, 'c.pid'), '-r', join(dir, 'r.pid'), '--config-id', 'kwtbench'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  ka.stdout!.on('data', (d) => (log += d));
  ka.stderr!.on('data', (d) => (log += d));
  let exited = false;
  ka.once('exit', () => (exited = true));
  try {
    await sleep(WARMUP * 1000);
    if (exited) {
      const why = /IPVS: [^\n]*/.exec(log)?.[0] ?? log.trim().split('\n').slice(-3).join(' | ');
      return `keepalived's checker did not keep running: ${why}`;
    }
    const kids = childrenOf(ka.pid!);
    if (kids.length === 0) {
      const why = /IPVS: [^\n]*/.exec(log)?.[0] ?? 'no checker child process';
      return `keepalived's checker did not keep running: ${why}`;
    }
    const pids = [ka.pid!, ...kids];
    const a0 = await accepted();
    const t0 = performance.now();
    const before = pids.map(procTicks);
    await sleep(SECONDS * 1000);
    const after = pids.map(procTicks);
    const wall = performance.now() - t0;
    const a1 = await accepted();
    const ticks = after.reduce((s, a, i) => s + a - before[i], 0);
    let rss = 0;
    for (const p of pids) {
      try {
        const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
        rss += m ? Number(m[1]) / 1024 : 0;
      } catch {
        return `keepalived process ${p} exited during the measurement: ${log.trim().split('\n').slice(-2).join(' | ')}`;
      }
    }
    return { cpuPct: ((ticks / CLK_TCK) * 1000 * 100) / wall, checksPerSec: (a1 - a0) / (wall / 1000), rssMb: rss };
  } finally {
    ka.kill('SIGTERM');
    await new Promise((r) => (exited ? r(null) : ka.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
  }
}

function fmt(n: number, d = 1): string {
  return Number.isFinite(n) ? n.toFixed(d) : '-';
}

async function main(): Promise<void> {
  const ipvs = existsSync('/proc/net/ip_vs');
  const kernel = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
  const cw = CHECKER_WARMUP === undefined ? '' : `, checker warmup ${CHECKER_WARMUP} s`;
  console.log(`lvs-checkers: ${NVS * NPORTS} TCP_CHECKs, delay_loop 1 s${cw}, ${SECONDS} s window after ${WARMUP} s warm-up; kernel ${kernel}${ipvs ? ' (IPVS)' : ' (no IPVS)'}; node ${process.version}`);
  console.log(`machine: ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at start`);
  const listeners = await startListeners();
  listenerProc = listeners;
  try {
    const { ours, idle } = await runOurs(ipvs);
    const ka = await runKeepalived();
    const l = (x: Lateness | null) => (x ? `${fmt(x.p50).padStart(5)} ${fmt(x.p99).padStart(5)} ${fmt(x.max).padStart(6)}` : `${'-'.padStart(5)} ${'-'.padStart(5)} ${'-'.padStart(6)}`);
    console.log('');
    console.log('                            CPU% (usr/sys)  checks/s  fail | loop lateness ms   | own (- run-queue wait) ms');
    console.log('                                                           |   p50   p99    max |   p50   p99    max');
    console.log(`keepwatch${ipvs ? ' (+IPVS)' : '        '}           ${fmt(ours.cpuPct).padStart(5)} (${fmt(ours.userPct)}/${fmt(ours.sysPct)}) ${fmt(ours.checksPerSec, 0).padStart(9)} ${String(ours.failures).padStart(5)} | ${l(ours.late)} | ${l(ours.own)}`);
    console.log(`idle node, same window     ${'-'.padStart(5)}              ${'-'.padStart(9)} ${'-'.padStart(5)} | ${l(idle)} |`);
    if (typeof ka === 'string') console.log(`keepalived -C              ${ka}`);
    else console.log(`keepalived -C              ${fmt(ka.cpuPct).padStart(5)}            ${fmt(ka.checksPerSec, 0).padStart(9)} ${'-'.padStart(5)} |   (RSS ${fmt(ka.rssMb, 0)} MB)`);
    console.log('');
    console.log(
      `keepwatch details: main thread run-queue wait ${fmt(ours.runqMsPerSec)} ms/s; most probes started between two check phases: ${ours.maxBatch}; ` +
        `GC pauses ${ours.gcCount} (max ${fmt(ours.gcMaxMs)} ms); RSS ${fmt(ours.rssMb, 0)} MB; load average ${loadavg()[0].toFixed(2)} at end`,
    );
  } finally {
    listeners.kill('SIGKILL');
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
