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
 * Env: BENCH_SECONDS (measured window, default 20), BENCH_WARMUP (default 4).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { HealthEngine } from '../src/check/engine';
import { Journal } from '../src/journal/journal';
import { LvsManager } from '../src/lvs/manager';
import { realServer, tcpCheck, virtualServer } from '../src/lvs/spec';
import type { VirtualServerSpec } from '../src/lvs/types';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 4);
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
      rss.push(realServer('127.0.0.1', port, { checkers: [tcpCheck({ address: '127.0.0.1', port }, { delayLoopMs: 1000, connectTimeoutMs: 1000 })] }));
    }
    out.push(virtualServer({ address: `192.0.2.${10 + v}`, port: 80 }, { scheduler: 'rr', realServers: rss }));
  }
  return out;
}

const RESOLUTION_MS = 10;

interface Result {
  cpuPct: number;
  checksPerSec: number;
  failures: number;
  stallMaxMs: number;
  stallP99Ms: number;
  rssMb: number;
}

async function runOurs(withIpvs: boolean): Promise<Result> {
  const journal = new Journal();
  let checks = 0;
  let failures = 0;
  journal.subscribe((e) => {
    if (e.type !== 'checker.result') return;
    checks++;
    if (e.result !== 'success') failures++;
  });
  let stop: () => Promise<void>;
  if (withIpvs) {
    const m = await LvsManager.start(specs(), { journal, statsIntervalMs: 5000 });
    stop = () => m.stop();
  } else {
    const engine = new HealthEngine({ journal });
    engine.load(specs());
    engine.start();
    stop = async () => engine.stop();
  }
  await sleep(WARMUP * 1000);
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  checks = 0;
  failures = 0;
  await sleep(SECONDS * 1000);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  h.disable();
  const r: Result = {
    cpuPct: ((cpu.user + cpu.system) / 1000 / wall) * 100,
    checksPerSec: checks / (wall / 1000),
    failures,
    // the histogram holds whole timer periods: subtract the period to get the lateness
    stallMaxMs: h.max / 1e6 - RESOLUTION_MS,
    stallP99Ms: h.percentile(99) / 1e6 - RESOLUTION_MS,
    rssMb: process.memoryUsage().rss / 2 ** 20,
  };
  await stop();
  return r;
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
    for (let p = 0; p < NPORTS; p++) lines.push(`  real_server 127.0.0.1 ${PORT0 + p} {`, '    TCP_CHECK {', '      connect_timeout 1', '    }', '  }');
    lines.push('}');
  }
  return `${lines.join('\n')}\n`;
}

async function runKeepalived(): Promise<Result | string> {
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
    return { cpuPct: ((ticks / CLK_TCK) * 1000 * 100) / wall, checksPerSec: (a1 - a0) / (wall / 1000), failures: NaN, stallMaxMs: NaN, stallP99Ms: NaN, rssMb: rss };
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
  console.log(`lvs-checkers: ${NVS * NPORTS} TCP_CHECKs, delay_loop 1 s, ${SECONDS} s window after ${WARMUP} s warm-up; kernel ${kernel}${ipvs ? ' (IPVS)' : ' (no IPVS)'}; node ${process.version}`);
  // what this machine does to an idle event loop right now (other load, scheduler noise)
  const idle = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  idle.enable();
  await sleep(3000);
  idle.disable();
  console.log(`idle event loop on this machine: lateness p99 ${fmt(idle.percentile(99) / 1e6 - RESOLUTION_MS)} ms, max ${fmt(idle.max / 1e6 - RESOLUTION_MS)} ms`);
  const listeners = await startListeners();
  listenerProc = listeners;
  try {
    const ours = await runOurs(ipvs);
    const ka = await runKeepalived();
    console.log('');
    console.log('                       CPU%   checks/s  failures  loop lateness max ms  p99 ms  RSS MB');
    console.log(`keepwatch${ipvs ? ' (+IPVS)' : '        '}     ${fmt(ours.cpuPct).padStart(6)} ${fmt(ours.checksPerSec, 0).padStart(10)} ${String(ours.failures).padStart(9)} ${fmt(ours.stallMaxMs).padStart(21)} ${fmt(ours.stallP99Ms).padStart(7)} ${fmt(ours.rssMb, 0).padStart(7)}`);
    if (typeof ka === 'string') console.log(`keepalived -C          ${ka}`);
    else console.log(`keepalived -C          ${fmt(ka.cpuPct).padStart(6)} ${fmt(ka.checksPerSec, 0).padStart(10)} ${'-'.padStart(9)} ${'-'.padStart(21)} ${'-'.padStart(7)} ${fmt(ka.rssMb, 0).padStart(7)}`);
  } finally {
    listeners.kill('SIGKILL');
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
