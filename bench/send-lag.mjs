#!/usr/bin/env node
// Advert send lag of a live MASTER while /metrics is hammered, and the agent's RSS with
// metrics + tracing on. Prints numbers; asserts nothing (targets: p99 ≤ 2 ms, RSS ≤ 80 MB).
//
//   cd /work/main && npx tsc -p . && node bench/send-lag.mjs      (root: it builds namespaces)
//   env: CLIENTS (50), LOAD_S (30), IDLE_S (10), LOAD_NICE (19: the scrapers' nice value);
//        diagnosis only: AGENT_NODE_ARGS ("--trace-gc"), AGENT_STDOUT (file for the agent's
//        stdout), AGENT_MAIN (another build's dist/main.js, to compare versions)
//
// Also printed: the agent's GC pauses (nodejs_gc_duration_seconds) and how long its main
// thread waited for a CPU (/proc/PID/schedstat) — on a shared 2-core box most of the tail
// is CPU starvation, not keepwatch.
//
// Topology (documentation addresses, namespaces kwtcb*, loopback ports 19840-19841):
//   kwtcba  192.0.2.11   keepwatch, VI_1 VRRPv3 100 ms adverts, priority 150 → MASTER,
//                        --tracing → OTLP receiver; HTTP 127.0.0.1:19840 (inside kwtcba);
//                        the scrape clients run in this namespace too (node, keep-alive)
//   kwtcbcl 192.0.2.100  OTLP/HTTP receiver :19841, tcpdump of the adverts
//
// Send lag, two ways:
//   histogram  keepalived_vrrp_advert_send_lag_seconds (the agent's own measure: advert
//              timer deadline → send, performance.now()), bucket deltas over the window,
//              quantiles interpolated inside buckets as PromQL histogram_quantile does
//              (resolution = the bucket bounds 0.5, 1, 2, 5, 10 ms ...);
//   wire       tcpdump timestamps of the adverts in the peer namespace: the FSM re-arms
//              from the previous deadline (no drift), so advert k is due at T0 + k·100 ms;
//              lag_k = t_k − (T0 + k·100 ms) with T0 chosen so that the earliest advert
//              has lag 0 (includes the kernel path, not only the event loop).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { rssMiB, sleep, until } from './lab-util.mjs';

const require = createRequire(import.meta.url);
const ROOT = new URL('..', import.meta.url).pathname;
const { makeLab, killGroup } = require(path.join(ROOT, 'dist/lab/netns.js'));

const CLIENTS = Number(process.env.CLIENTS ?? 50);
const LOAD_S = Math.min(Number(process.env.LOAD_S ?? 30), 120);
const IDLE_S = Math.min(Number(process.env.IDLE_S ?? 10), 60);
const HTTP_PORT = 19840;
const RX_PORT = 19841;
const ADVERT_MS = 100;


const lab = makeLab('cb', [
  { name: 'a', v4: ['192.0.2.11/24'] },
  { name: 'cl', v4: ['192.0.2.100/24'] },
]);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kwc-bench-'));
const procs = [];
let agent;
async function cleanup() {
  if (agent && agent.exitCode === null && agent.signalCode === null) {
    process.kill(agent.pid, 'SIGTERM');
    await Promise.race([new Promise((r) => agent.once('exit', r)), sleep(10_000)]);
    killGroup(agent, 'SIGKILL');
  }
  for (const p of procs) killGroup(p, 'SIGKILL');
  lab.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
}
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

function nsCurl(p) {
  return execFileSync('ip', ['netns', 'exec', lab.hosts.a.name, 'curl', '-sf', '-m', '10', `http://127.0.0.1:${HTTP_PORT}${p}`], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 20_000 });
}

/** cumulative buckets of the send-lag histogram for VI_1: [[le, count], ...], sum, count */
function sendLag(text) {
  const b = [];
  let sum = 0;
  let count = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('keepalived_vrrp_advert_send_lag_seconds') || !line.includes('iname="VI_1"')) continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    const le = /le="([^"]+)"/.exec(line);
    if (le) b.push([le[1] === '+Inf' ? Infinity : Number(le[1]), v]);
    else if (line.startsWith('keepalived_vrrp_advert_send_lag_seconds_sum')) sum = v;
    else if (line.startsWith('keepalived_vrrp_advert_send_lag_seconds_count')) count = v;
  }
  return { b, sum, count };
}

/** PromQL histogram_quantile over the bucket deltas between two scrapes */
function histQuantiles(before, after) {
  const d = after.b.map(([le, c], i) => [le, c - (before.b[i]?.[1] ?? 0)]);
  const n = after.count - before.count;
  const q = (phi) => {
    const rank = phi * n;
    let prevLe = 0;
    let prevC = 0;
    for (const [le, c] of d) {
      if (c >= rank) {
        if (le === Infinity) return prevLe;
        return prevLe + (le - prevLe) * ((rank - prevC) / Math.max(1e-12, c - prevC));
      }
      prevLe = le;
      prevC = c;
    }
    return NaN;
  };
  let maxLe = 0;
  for (let i = 0; i < d.length; i++) if (d[i][1] > (i ? d[i - 1][1] : 0)) maxLe = d[i][0];
  return { n, mean: n ? (after.sum - before.sum) / n : NaN, p50: q(0.5), p99: q(0.99), maxBucket: maxLe, buckets: d };
}

function pct(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN;
}

/** wire lag from capture timestamps (seconds) inside [t0, t1] */
function wireLag(stamps, t0, t1) {
  const ts = stamps.filter((t) => t >= t0 && t <= t1);
  if (ts.length < 3) return { n: ts.length };
  // The FSM keeps a grid (next = previous deadline + interval) and restarts it from "now"
  // only after a send more than one interval late: split there, one grid per segment.
  const segs = [[ts[0]]];
  for (let i = 1; i < ts.length; i++) {
    if ((ts[i] - ts[i - 1]) * 1000 > 1.5 * ADVERT_MS) segs.push([]);
    segs[segs.length - 1].push(ts[i]);
  }
  const lags = [];
  for (const seg of segs) {
    const offs = seg.map((t) => {
      const x = (t - seg[0]) * 1000;
      return x - Math.round(x / ADVERT_MS) * ADVERT_MS;
    });
    const minOff = Math.min(...offs);
    for (const o of offs) lags.push(o - minOff);
  }
  lags.sort((x, y) => x - y);
  const gaps = [];
  for (let i = 1; i < ts.length; i++) gaps.push((ts[i] - ts[i - 1]) * 1000);
  return { n: ts.length, segments: segs.length, p50: pct(lags, 0.5), p99: pct(lags, 0.99), max: lags[lags.length - 1], maxGap: Math.max(...gaps) };
}

/** nodejs_gc_duration_seconds (prom-client default metrics): per kind count, sum and bucket counts */
function gcStats(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^nodejs_gc_duration_seconds_(bucket|sum|count)\{(?:le="([^"]+)",)?kind="(\w+)"(?:,le="([^"]+)")?\} (\S+)/.exec(line);
    if (!m) continue;
    const k = (out[m[3]] ??= { count: 0, sum: 0, b: [] });
    const le = m[2] ?? m[4];
    if (m[1] === 'bucket') k.b.push([le === '+Inf' ? Infinity : Number(le), Number(m[5])]);
    else k[m[1]] = Number(m[5]);
  }
  return out;
}
function gcDelta(a, b) {
  return Object.entries(b)
    .map(([kind, x]) => {
      const y = a[kind] ?? { count: 0, sum: 0, b: [] };
      const n = x.count - y.count;
      if (!n) return null;
      let top = 0;
      x.b.forEach(([le, c], i) => { if (c - (y.b[i]?.[1] ?? 0) > (i ? x.b[i - 1][1] - (y.b[i - 1]?.[1] ?? 0) : 0)) top = le; });
      return `${kind} ${n}× total ${((x.sum - y.sum) * 1000).toFixed(0)} ms (largest ≤ ${top * 1000} ms)`;
    })
    .filter(Boolean)
    .join(', ');
}

/** /proc/PID/schedstat: ns on CPU, ns waiting on a run queue (CPU starvation) */
function schedstat(pid) {
  const [run, wait] = fs.readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ').map(Number);
  return { run, wait };
}


const RECEIVER = `
const http = require('node:http'); let spans = 0, reqs = 0;
http.createServer((q, s) => { const c = []; q.on('data', (d) => c.push(d)); q.on('end', () => {
  try { for (const rs of JSON.parse(Buffer.concat(c)).resourceSpans || []) for (const ss of rs.scopeSpans || []) spans += (ss.spans || []).length; } catch {}
  reqs++; s.writeHead(200, { 'content-type': 'application/json' }).end('{}'); }); })
  .listen(${RX_PORT}, '192.0.2.100', () => console.log('listening'));
process.on('SIGTERM', () => { console.log(JSON.stringify({ spans, reqs })); process.exit(0); });`;

const LOAD = `
const http = require('node:http');
const [clients, seconds] = [Number(process.argv[1]), Number(process.argv[2])];
const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
const end = Date.now() + seconds * 1000; const lat = []; let ok = 0, err = 0, bytes = 0; const MAX = 5e6;
function one() { return new Promise((res) => { const t = process.hrtime.bigint();
  const r = http.get({ host: '127.0.0.1', port: ${HTTP_PORT}, path: '/metrics', agent }, (s) => { let n = 0; s.on('data', (d) => (n += d.length)); s.on('end', () => { if (s.statusCode === 200) { ok++; bytes += n; lat.push(Number(process.hrtime.bigint() - t) / 1e6); } else err++; res(); }); });
  r.on('error', () => { err++; setTimeout(res, 10); }); r.setTimeout(10000, () => r.destroy()); }); }
async function loop() { while (Date.now() < end && ok + err < MAX) await one(); }
Promise.all(Array.from({ length: clients }, loop)).then(() => { lat.sort((a, b) => a - b);
  const p = (q) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))];
  console.log(JSON.stringify({ ok, err, bytes, rps: ok / seconds, p50: p(0.5), p99: p(0.99), max: lat[lat.length - 1] })); agent.destroy(); });`;

try {
  // OTLP receiver in the client namespace
  const rx = lab.hosts.cl.spawn(process.execPath, ['-e', RECEIVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  procs.push(rx);
  let rxOut = '';
  rx.stdout.on('data', (d) => (rxOut += d));
  await until(() => rxOut.includes('listening'), 'OTLP receiver');

  const conf = path.join(dir, 'keepalived.conf');
  fs.writeFileSync(
    conf,
    `global_defs {\n    router_id bench\n}\nvrrp_instance VI_1 {\n    state BACKUP\n    interface eth0\n    virtual_router_id 51\n    priority 150\n    advert_int 0.1\n    version 3\n    virtual_ipaddress {\n        192.0.2.50/24 dev eth0\n    }\n}\n`,
  );
  // AGENT_NODE_ARGS (e.g. "--trace-gc"; diagnosis only) runs bin/keepwatch under node with those flags
  const nodeArgs = (process.env.AGENT_NODE_ARGS ?? '').split(' ').filter(Boolean);
  // AGENT_MAIN (diagnosis only): another build's main.js instead of bin/keepwatch, e.g. to compare with a previous version
  const bin = process.env.AGENT_MAIN ?? path.join(ROOT, 'bin/keepwatch');
  agent = lab.hosts.a.spawn(
    nodeArgs.length || process.env.AGENT_MAIN ? process.execPath : bin,
    [...(nodeArgs.length || process.env.AGENT_MAIN ? [...nodeArgs, bin] : []), '-n', '-f', conf, '-p', path.join(dir, 'k.pid'), '-r', path.join(dir, 'v.pid'), '-c', path.join(dir, 'c.pid'), `--web.listen-address=127.0.0.1:${HTTP_PORT}`, '--tracing'],
    { env: { ...process.env, TMPDIR: dir, OTEL_EXPORTER_OTLP_ENDPOINT: `http://192.0.2.100:${RX_PORT}`, OTEL_BSP_SCHEDULE_DELAY: '200' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let logLines = 0;
  agent.stdout.on('data', (d) => { logLines += d.toString().split('\n').length - 1; if (process.env.AGENT_STDOUT) fs.appendFileSync(process.env.AGENT_STDOUT, d); }); // diagnosis only
  agent.stderr.resume();
  await until(() => JSON.parse(nsCurl('/json'))[0].data.state === 2, 'VI_1 MASTER');
  const rssStart = rssMiB(agent.pid);

  // adverts on the wire, seen from the peer namespace
  const cap = lab.hosts.cl.spawn('tcpdump', ['-l', '-n', '-tt', '-p', '-i', 'eth0', 'ip proto 112'], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(cap);
  const stamps = [];
  let capErr = '';
  let partial = '';
  cap.stdout.on('data', (d) => {
    partial += d;
    let i;
    while ((i = partial.indexOf('\n')) >= 0) {
      const m = /^(\d+\.\d+) IP 192\.0\.2\.11 > 224\.0\.0\.18: VRRPv3/.exec(partial.slice(0, i));
      if (m) stamps.push(Number(m[1]));
      partial = partial.slice(i + 1);
    }
  });
  cap.stderr.on('data', (d) => (capErr += d));
  await until(() => capErr.includes('listening on'), 'tcpdump');

  // idle window
  const m0 = nsCurl('/metrics');
  const h0 = sendLag(m0);
  const idle0 = Date.now() / 1000;
  await sleep(IDLE_S * 1000);
  const idle1 = Date.now() / 1000;
  const m1 = nsCurl('/metrics');
  const h1 = sendLag(m1);
  const sched1 = schedstat(agent.pid);
  const rssIdle = rssMiB(agent.pid);

  // load window: CLIENTS concurrent keep-alive scrapers in the agent's namespace
  let rssMax = 0;
  const rssTimer = setInterval(() => (rssMax = Math.max(rssMax, rssMiB(agent.pid))), 250);
  // the scrapers stand in for remote Prometheus servers: niced, so that on this small box
  // they compete with the agent for CPU as little as possible (LOAD_NICE=0 to disable)
  const loadNice = String(Number(process.env.LOAD_NICE ?? 19));
  const load = lab.hosts.a.spawn('nice', ['-n', loadNice, process.execPath, '-e', LOAD, String(CLIENTS), String(LOAD_S)], { stdio: ['ignore', 'pipe', 'inherit'] });
  procs.push(load);
  let loadOut = '';
  load.stdout.on('data', (d) => (loadOut += d));
  const load0 = Date.now() / 1000;
  await until(() => load.exitCode !== null, 'load generator', (LOAD_S + 60) * 1000);
  const load1 = Date.now() / 1000;
  clearInterval(rssTimer);
  const sched2 = schedstat(agent.pid);
  const m2 = nsCurl('/metrics');
  const h2 = sendLag(m2);
  const rssEnd = rssMiB(agent.pid);
  const state = JSON.parse(nsCurl('/json'))[0];

  killGroup(cap, 'SIGTERM');
  process.kill(agent.pid, 'SIGTERM');
  await until(() => agent.exitCode !== null || agent.signalCode !== null, 'agent exit', 20_000);
  killGroup(rx, 'SIGTERM');
  await until(() => rx.exitCode !== null || rx.signalCode !== null, 'receiver exit', 10_000);

  const L = JSON.parse(loadOut.trim() || '{}');
  const idleH = histQuantiles(h0, h1);
  const loadH = histQuantiles(h1, h2);
  const ms = (x) => (Number.isFinite(x) ? `${(x * 1000).toFixed(3)} ms` : String(x));
  const w = (x) => (Number.isFinite(x) ? `${x.toFixed(3)} ms` : String(x));
  const idleW = wireLag(stamps, idle0, idle1);
  const loadW = wireLag(stamps, load0 + 0.5, load1 - 0.5);
  console.log(`keepwatch advert send lag, VI_1 VRRPv3 100 ms MASTER, ${os.cpus().length} CPUs, node ${process.version}`);
  console.log(`idle ${IDLE_S} s:`);
  console.log(`  histogram  n=${idleH.n}  mean ${ms(idleH.mean)}  p50 ${ms(idleH.p50)}  p99 ${ms(idleH.p99)}  max bucket le=${ms(idleH.maxBucket)}`);
  console.log(`  wire       n=${idleW.n}  p50 ${w(idleW.p50)}  p99 ${w(idleW.p99)}  max ${w(idleW.max)}  max gap ${w(idleW.maxGap)}`);
  console.log(`  GC pauses: ${gcDelta(gcStats(m0), gcStats(m1)) || 'none'}`);
  console.log(`load ${LOAD_S} s, ${CLIENTS} concurrent /metrics scrapers: ${L.ok} scrapes (${(L.rps ?? 0).toFixed(0)}/s), ${L.err} errors, scrape latency p50 ${w(L.p50)} p99 ${w(L.p99)} max ${w(L.max)}, ${((L.bytes ?? 0) / L.ok || 0).toFixed(0)} B/scrape`);
  console.log(`  histogram  n=${loadH.n}  mean ${ms(loadH.mean)}  p50 ${ms(loadH.p50)}  p99 ${ms(loadH.p99)}  max bucket le=${ms(loadH.maxBucket)}`);
  console.log(`  buckets    ${loadH.buckets.map(([le, c]) => `${le === Infinity ? '+Inf' : le * 1000}ms:${c}`).join(' ')}`);
  console.log(`  wire       n=${loadW.n} (expected ≈ ${Math.round(((load1 - load0 - 1) * 1000) / ADVERT_MS)}, ${loadW.segments} grid segment(s))  p50 ${w(loadW.p50)}  p99 ${w(loadW.p99)}  max ${w(loadW.max)}  max gap ${w(loadW.maxGap)}`);
  console.log(`  agent main thread: on CPU ${((sched2.run - sched1.run) / 1e6 / (load1 - load0) / 10).toFixed(0)}% of the window, waited for a CPU ${((sched2.wait - sched1.wait) / 1e6).toFixed(0)} ms in total (run queue)`);
  console.log(`  GC pauses: ${gcDelta(gcStats(m1), gcStats(m2))}`);
  console.log(`  still MASTER: ${state.data.state === 2}, become_master ${state.stats.become_master}, adverts sent ${state.stats.advert_sent}`);
  console.log(`agent RSS (metrics + tracing on): ${rssStart.toFixed(1)} MiB at MASTER, ${rssIdle.toFixed(1)} MiB after the idle window, max ${rssMax.toFixed(1)} MiB under load, ${rssEnd.toFixed(1)} MiB after`);
  console.log(`spans received ${rxOut.split('\n').filter((l) => l.startsWith('{')).join(' ')}; log lines ${logLines}`);
  console.log(`targets: p99 ≤ 2 ms, RSS ≤ 80 MB (reported, not asserted)`);
} finally {
  await cleanup();
}
