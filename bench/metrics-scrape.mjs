#!/usr/bin/env node
// Scrape cost of /metrics for 255 VRRP instances, and RSS with metrics + tracing on.
// Run after `npx tsc -p .`:  node --expose-gc bench/metrics-scrape.mjs
//   INSTANCES=, SCRAPES= to vary; KW_DIST=/path/to/dist to measure another build (before/after);
//   KW_BENCH_PORT= first of five loopback ports (default 19850); KW_BENCH_STATIC=1: nothing changes between scrapes.
// Prints numbers; asserts nothing. Loopback ports 19850-19854 by default; bounded loops.
//
// Between two scrapes the agent changes the way a real one does in a 15 s scrape interval:
// every instance sends/receives adverts (journal events: histogram and counter series move),
// its keepalived counters, time-in-state and last-advert timestamps advance, and the snapshot
// provider returns fresh objects (as the daemon's does). The work between scrapes is not timed.
//
// Besides render() (the string the HTTP endpoint sends today) it measures renderBytes()
// (the same bytes, built from per-family Buffers that are re-used while a family does not
// change) against render() + Buffer.from (what src/http/server.ts does with a render today),
// GET /metrics from a separate client process through startHttpServer, and the HTTP layer
// alone with a constant body (string vs Buffer): what is left of a scrape that is not rendering.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import * as http from 'node:http';
import * as os from 'node:os';

const require = createRequire(import.meta.url);
const dist = process.env.KW_DIST ? process.env.KW_DIST.replace(/\/?$/, '/') : new URL('../dist/', import.meta.url).pathname;
const PORT = Number(process.env.KW_BENCH_PORT ?? 19850);
const SINK_PORT = PORT + 1;
const FLOOR_PORTS = [PORT + 2, PORT + 3]; // the HTTP layer alone: a constant body, as a string and as a Buffer
const rssMiB = () => {
  globalThis.gc?.();
  return (process.memoryUsage().rss / 1048576).toFixed(1);
};
const rss0 = rssMiB();

const { Journal } = require(`${dist}journal/journal.js`);
const { createMetrics } = require(`${dist}observe/metrics.js`);
const { createTracing } = require(`${dist}observe/tracing.js`);
const { startHttpServer } = require(`${dist}http/server.js`);
const { renderKeepalivedJson } = require(`${dist}observe/json.js`);
const { createLogger, attachLogger } = require(`${dist}observe/log.js`);
const { addDefaultMetrics } = require(`${dist}observe/metrics.js`);
let startHttpWorker;
try {
  ({ startHttpWorker } = require(`${dist}http/worker-host.js`));
} catch {
  // an older build without the HTTP worker
}
const WORKER_PORT = PORT + 4;

const N = Number(process.env.INSTANCES ?? 255);
const SCRAPES = Number(process.env.SCRAPES ?? 200);

function stats() {
  return { advert_rcvd: 123456, advert_sent: 0, become_master: 3, release_master: 2, packet_len_err: 0, advert_interval_err: 0, ip_ttl_err: 1, invalid_type_rcvd: 0, addr_list_err: 0, invalid_authtype: 0, authtype_mismatch: 0, auth_failure: 0, pri_zero_rcvd: 1, pri_zero_sent: 0 };
}
function instance(k) {
  const third = k >> 8;
  const addr = `198.51.${100 + third}.${(k % 254) + 1}`;
  const master = k % 2 === 0;
  return {
    iname: `VI_${k + 1}`, vrid: (k % 255) + 1, version: 3, family: 'ipv4', ifp_ifname: 'eth0', vmac_ifname: '',
    state: master ? 'MASTER' : 'BACKUP', wantstate: master ? 'MASTER' : 'BACKUP', base_priority: master ? 150 : 100, effective_priority: master ? 150 : 100,
    master_priority: 150, master_address: '192.0.2.11', adver_int: 0.1, master_adver_int: 0.1, skew_time: 0.06, master_down_interval: 0.36,
    master_down_remaining: master ? null : 0.2, last_transition: 1795515063.893748, last_advert_received: master ? 0 : 1795515100.5,
    time_in_state: { INIT: 0, BACKUP: 10, MASTER: 100, FAULT: 0, STOP: 0 }, nopreempt: false, preempt_delay: 0, accept: true, unicast: false, unicast_peers: [],
    dont_track_primary: false, skip_check_adv_addr: false, strict_mode: false, garp_delay: 5, garp_refresh: 0, garp_rep: 5, garp_refresh_rep: 1,
    garp_lower_prio_delay: 5, garp_lower_prio_rep: 5, lower_prio_no_advert: false, higher_prio_send_advert: false, promote_secondaries: false,
    smtp_alert: false, notify_deleted: false, script: '', vipset: master,
    vips: [{ text: `${addr}/24 dev eth0 scope global`, address: addr, prefix: 24, dev: 'eth0', installed: master, excluded: false }],
    evips: [], track_script: ['chk'], track_interface: ['eth0'], auth_type: 0, vrrp_domain: '', sync_group: '', stats: stats(),
    adverts_received_in_master: 0, garp_sent: 10, na_sent: 0,
  };
}
const instances = Array.from({ length: N }, (_, k) => instance(k));
// Fresh objects per snapshot, like the daemon's snapshot(), and built the same way: an
// object literal naming every field (src/daemon/engine.ts instanceSnapshots). A `{ ...i }`
// spread would make each a dictionary-mode object, 10× bigger and slower to clone.
const copyInstance = new Function('i', 'copyStats', `return { ${Object.keys(instances[0]).map((k) => (k === 'stats' ? 'stats: copyStats(i.stats)' : k === 'time_in_state' ? 'time_in_state: { ...i.time_in_state }' : `${k}: i.${k}`)).join(', ')} };`);
const copyStats = new Function('s', `return { ${Object.keys(stats()).map((k) => `${k}: s.${k}`).join(', ')} };`);
const snapshot = () => ({
  takenAt: Date.now(), running: true, version: '0.1.0', routerId: 'bench',
  instances: instances.map((i) => copyInstance(i, copyStats)), syncGroups: [],
  scripts: [{ name: 'chk', command: "'/bin/true'", status: 'good', state: 0, interval: 1, weight: -20, rise: 2, fall: 2 }],
  trackedInterfaces: [{ name: 'eth0', up: true }], virtualServers: [],
  reload: { lastSuccessful: true, lastSuccessWall: Date.now(), successes: 0, failures: 0 }, snmp: { connected: false, reconnects: 0 },
});

function pct(a, p) {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
const fmt = (ms) => `${ms.toFixed(2)} ms`;
const cpuMs = (c) => (c.user + c.system) / 1000;

// a tiny OTLP sink so tracing has a live collector
let spansReceived = 0;
const sink = createServer((req, res) => {
  let b = '';
  req.on('data', (c) => (b += c));
  req.on('end', () => {
    try {
      for (const rs of JSON.parse(b).resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spansReceived += (ss.spans ?? []).length;
    } catch {}
    res.end('{}');
  });
});
await new Promise((r) => sink.listen(SINK_PORT, '127.0.0.1', r));

const journal = new Journal();
const rssModules = rssMiB(); // node + journal + prom-client + fastify + pino loaded, nothing enabled
const tracing = await createTracing({ enabled: true, env: {}, endpoint: `http://127.0.0.1:${SINK_PORT}/v1/traces`, scheduledDelayMillis: 200, settleMs: 50 });
tracing.attach(journal);
const metrics = createMetrics(journal, snapshot, { tracingExemplars: tracing, version: '0.1.0' });

// populate journal-fed families: a transition with side effects per instance, adverts
let mono = 0;
for (const i of instances) {
  const ref = { instance: i.iname, vrid: i.vrid, intf: 'eth0' };
  journal.emit({ type: 'vrrp.transition', ...ref, from: 'BACKUP', to: i.state, reason: 'master_timeout', priority: i.effective_priority, masterPriority: 0 });
  journal.emit({ type: 'vrrp.vip', ...ref, op: 'add', address: i.vips[0].address, dev: 'eth0', ok: true });
  journal.emit({ type: 'vrrp.garp', ...ref, family: 'ipv4', count: 5, dev: 'eth0', address: i.vips[0].address });
  for (let a = 0; a < 20; a++) {
    journal.emit({ type: 'vrrp.advert.sent', ...ref, priority: 150, scheduledMono: mono, lagMs: Math.random() * 2 });
    journal.emit({ type: 'vrrp.advert.received', ...ref, src: '192.0.2.12', priority: 150, advertIntCs: 10, inMaster: false, mono: (mono += 100) });
  }
}
await tracing.forceFlush();
for (let k = 0; k < 200 && spansReceived < N; k++) await new Promise((r) => setTimeout(r, 50));
const rssOn = rssMiB(); // metrics + tracing enabled and populated, before any scrape

/** what changes in a 15 s scrape interval: adverts (journal) and the snapshot's counters and clocks */
const STATIC = process.env.KW_BENCH_STATIC === '1'; // nothing changes between scrapes (the bench's old behaviour)
function tick() {
  if (STATIC) return;
  for (const i of instances) {
    const ref = { instance: i.iname, vrid: i.vrid, intf: 'eth0' };
    if (i.state === 'MASTER') {
      i.stats.advert_sent += 150;
      journal.emit({ type: 'vrrp.advert.sent', ...ref, priority: 150, scheduledMono: mono, lagMs: Math.random() * 2 });
    } else {
      i.stats.advert_rcvd += 150;
      i.last_advert_received += 15;
      i.master_down_remaining = 0.2 + Math.random() * 0.1;
      journal.emit({ type: 'vrrp.advert.received', ...ref, src: '192.0.2.12', priority: 150, advertIntCs: 10, inMaster: false, mono: (mono += 100 + Math.random()) });
    }
    i.time_in_state[i.state] += 15;
  }
}

// ---- hot path: what every observer costs per advert event (metrics + JSON logger + tracing attached) ----
const logger = createLogger({ console: false, destination: { write() {} } });
const detachLog = attachLogger(journal, logger);
const EVENTS = 100_000;
let h0 = performance.now();
for (let k = 0; k < EVENTS; k++) {
  const i = instances[k % N];
  journal.emit({ type: 'vrrp.advert.received', instance: i.iname, vrid: i.vrid, intf: 'eth0', src: '192.0.2.12', priority: 150, advertIntCs: 10, inMaster: false, mono: (mono += 0.4) });
}
const perEventUs = ((performance.now() - h0) * 1000) / EVENTS;
const bare = new Journal();
h0 = performance.now();
for (let k = 0; k < EVENTS; k++) {
  const i = instances[k % N];
  bare.emit({ type: 'vrrp.advert.received', instance: i.iname, vrid: i.vrid, intf: 'eth0', src: '192.0.2.12', priority: 150, advertIntCs: 10, inMaster: false, mono: (mono += 0.4) });
}
const bareUs = ((performance.now() - h0) * 1000) / EVENTS;

// ---- in-process render ----
const first = await metrics.render();
const series = first.body.split('\n').filter((l) => l && !l.startsWith('#')).length;
for (let k = 0; k < 20; k++) {
  tick();
  await metrics.render();
}
// event-loop delay over this whole loop: renders plus the (untimed) journal traffic between them
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const t = [];
let cpuRender = 0;
for (let k = 0; k < SCRAPES; k++) {
  tick();
  await new Promise((r) => setImmediate(r));
  const c0 = process.cpuUsage();
  const s0 = performance.now();
  await metrics.render();
  t.push(performance.now() - s0);
  cpuRender += cpuMs(process.cpuUsage(c0));
}
loop.disable();
const hasBytes = typeof metrics.renderBytes === 'function';
const tb = [];
let cpuBytes = 0;
const tsb = [];
let cpuStrBytes = 0;
for (let k = 0; hasBytes && k < SCRAPES; k++) {
  tick();
  await new Promise((r) => setImmediate(r));
  let c0 = process.cpuUsage();
  let s0 = performance.now();
  await metrics.renderBytes();
  tb.push(performance.now() - s0);
  cpuBytes += cpuMs(process.cpuUsage(c0));
  tick();
  await new Promise((r) => setImmediate(r));
  c0 = process.cpuUsage();
  s0 = performance.now();
  Buffer.from((await metrics.render()).body, 'utf8');
  tsb.push(performance.now() - s0);
  cpuStrBytes += cpuMs(process.cpuUsage(c0));
}
const tOm = [];
for (let k = 0; k < Math.min(50, SCRAPES); k++) {
  tick();
  await new Promise((r) => setImmediate(r));
  const s0 = performance.now();
  await metrics.render('application/openmetrics-text');
  tOm.push(performance.now() - s0);
}

// ---- over HTTP (fastify, keep-alive), client in this process ----
const server = await startHttpServer({ listenAddress: `127.0.0.1:${PORT}`, metrics, json: () => renderKeepalivedJson(snapshot()), healthy: () => true });
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const get = (p) =>
  new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: PORT, path: p, agent }, (res) => {
      let n = 0;
      res.on('data', (c) => (n += c.length));
      res.on('end', () => resolve(n));
    }).on('error', reject);
  });
for (let k = 0; k < 10; k++) await get('/metrics');
const th = [];
let bytes = 0;
let cpuHttpIn = 0;
for (let k = 0; k < SCRAPES; k++) {
  tick();
  await new Promise((r) => setImmediate(r));
  const c0 = process.cpuUsage();
  const s0 = performance.now();
  bytes = await get('/metrics');
  th.push(performance.now() - s0);
  cpuHttpIn += cpuMs(process.cpuUsage(c0));
}

// ---- over HTTP from another process (what Prometheus sees); this process only serves ----
// The child asks for one scrape per line ("<port>") read on stdin and answers with its wall time.
const childSrc = `
const http = require('node:http');
const agents = new Map();
const rl = require('node:readline').createInterface({ input: process.stdin });
rl.on('line', (port) => {
  if (!agents.has(port)) agents.set(port, new http.Agent({ keepAlive: true, maxSockets: 1 }));
  const s0 = performance.now();
  http.get({ host: '127.0.0.1', port: Number(port), path: '/metrics', agent: agents.get(port), headers: { accept: 'text/plain;version=0.0.4' } }, (res) => {
    let n = 0;
    res.on('data', (c) => (n += c.length));
    res.on('end', () => process.stdout.write(JSON.stringify({ ms: performance.now() - s0, n }) + '\\n'));
  }).on('error', (e) => process.stdout.write(JSON.stringify({ error: String(e) }) + '\\n'));
});
rl.on('close', () => { for (const a of agents.values()) a.destroy(); });
`;
const child = spawn(process.execPath, ['-e', childSrc], { stdio: ['pipe', 'pipe', 'inherit'] });
const replies = [];
let wake;
let partial = '';
child.stdout.on('data', (c) => {
  partial += c;
  let nl;
  while ((nl = partial.indexOf('\n')) >= 0) {
    replies.push(JSON.parse(partial.slice(0, nl)));
    partial = partial.slice(nl + 1);
    wake?.();
  }
});
const remoteScrape = (port) =>
  new Promise((resolve) => {
    wake = () => resolve(replies.shift());
    child.stdin.write(`${port}\n`);
  });
/** scrapes from the child with journal traffic in between; wall times seen by the child, CPU of this process */
async function remoteRun(port, n, between = tick, pauseMs = 0) {
  for (let k = 0; k < 10; k++) await remoteScrape(port);
  const ms = [];
  let cpu = 0;
  let size = 0;
  for (let k = 0; k < n; k++) {
    between();
    if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
    await new Promise((r) => setImmediate(r));
    const c0 = process.cpuUsage();
    const r = await remoteScrape(port);
    cpu += cpuMs(process.cpuUsage(c0));
    if (r.error) throw new Error(r.error);
    ms.push(r.ms);
    size = r.n;
  }
  return { ms, cpu: cpu / n, size };
}
const remote = await remoteRun(PORT, SCRAPES);
// ---- the agent's own path: the HTTP worker thread (src/http/worker-host.ts) fed by this
// journal and snapshot provider; what this (main = VRRP) thread spends per scrape is its
// event-loop utilisation, the worker's CPU is on another core ----
let viaWorker;
let viaWorkerFlood;
let workerMainMs = NaN;
if (startHttpWorker) {
  const workerSrv = await startHttpWorker({
    listenAddress: `127.0.0.1:${WORKER_PORT}`,
    journal,
    snapshot,
    healthy: () => true,
    defaultMetrics: addDefaultMetrics(new (createRequire(`${dist}x.js`)('prom-client').Registry)()),
    tracing,
    version: '0.1.0',
  });
  for (let k = 0; k < 10; k++) await remoteScrape(WORKER_PORT);
  // Scrapes 50 ms apart (Prometheus: one per scrape_interval, 15 s by default), then back to
  // back from one client: a lone scraper is held only to the duty limit of the worker's
  // token bucket (src/http/worker-main.ts: ≤ ~1/6 of the VRRP thread); a crowd would also
  // be held to 100 snapshots a second. (Spaced scrapes are slower on a VM whatever serves
  // them: compare the in-process server, and bench/agent-scrape.mjs.)
  const elu0 = performance.eventLoopUtilization();
  viaWorker = await remoteRun(WORKER_PORT, SCRAPES, tick, 50);
  const elu = performance.eventLoopUtilization(elu0);
  // this thread's busy time over the run: the snapshots the worker asked for, tick() and the loop itself
  workerMainMs = elu.active / SCRAPES;
  viaWorkerFlood = await remoteRun(WORKER_PORT, SCRAPES);
  await workerSrv.close();
}
// the HTTP layer alone: the same server with a constant, already rendered body
const constBody = first.body;
const constBuf = Buffer.from(constBody);
const floorServers = [];
const floors = [];
for (const [port, body] of [
  [FLOOR_PORTS[0], constBody],
  [FLOOR_PORTS[1], constBuf],
]) {
  const srv = await startHttpServer({ listenAddress: `127.0.0.1:${port}`, metrics: { render: async () => ({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body }) }, json: () => '{}', healthy: () => true });
  floorServers.push(srv);
  floors.push(await remoteRun(port, Math.min(100, SCRAPES), () => {}));
}
child.stdin.end();
await new Promise((r) => child.on('exit', r));

const tj = [];
for (let k = 0; k < 50; k++) {
  const s0 = performance.now();
  await get('/json');
  tj.push(performance.now() - s0);
}
const rssEnd = rssMiB();

console.log(`build: ${dist}${STATIC ? ' (static: nothing changes between scrapes)' : ' (adverts, counters and clocks move between scrapes)'}`);
console.log(`instances: ${N}, series per scrape: ${series}, body ${(first.body.length / 1024).toFixed(0)} KiB (HTTP ${(bytes / 1024).toFixed(0)} KiB)`);
console.log(`render text 0.0.4 (in-process, ${SCRAPES} scrapes): median ${fmt(pct(t, 50))}, p99 ${fmt(pct(t, 99))}, max ${fmt(Math.max(...t))}`);
console.log(`CPU time per text render (user+sys, load-independent): ${(cpuRender / SCRAPES).toFixed(2)} ms`);
if (hasBytes) {
  console.log(`renderBytes text 0.0.4 (in-process, ${SCRAPES} scrapes): median ${fmt(pct(tb, 50))}, p99 ${fmt(pct(tb, 99))}; CPU ${(cpuBytes / SCRAPES).toFixed(2)} ms`);
  console.log(`  vs render() + Buffer.from, as the HTTP server encodes it today: median ${fmt(pct(tsb, 50))}, p99 ${fmt(pct(tsb, 99))}; CPU ${(cpuStrBytes / SCRAPES).toFixed(2)} ms`);
}
console.log(`render OpenMetrics (in-process, ${tOm.length} scrapes): median ${fmt(pct(tOm, 50))}, p99 ${fmt(pct(tOm, 99))}`);
console.log(`GET /metrics over HTTP keep-alive, client in-process (${SCRAPES} scrapes): median ${fmt(pct(th, 50))}, p99 ${fmt(pct(th, 99))}; CPU per scrape (server + client) ${(cpuHttpIn / SCRAPES).toFixed(2)} ms`);
console.log(`GET /metrics over HTTP keep-alive, client in another process (${SCRAPES} scrapes): median ${fmt(pct(remote.ms, 50))}, p99 ${fmt(pct(remote.ms, 99))}; server CPU per scrape ${remote.cpu.toFixed(2)} ms`);
if (viaWorker)
  console.log(
    `GET /metrics through the agent's HTTP worker thread, client in another process (${SCRAPES} scrapes 50 ms apart): median ${fmt(pct(viaWorker.ms, 50))}, p99 ${fmt(pct(viaWorker.ms, 99))}; main-thread busy time per scrape (snapshot + journal ticks between scrapes) ${workerMainMs.toFixed(2)} ms\n` +
      `  back to back (${SCRAPES}, one client): median ${fmt(pct(viaWorkerFlood.ms, 50))}, p99 ${fmt(pct(viaWorkerFlood.ms, 99))}`,
  );
console.log(
  `HTTP layer alone (constant ${(constBuf.length / 1024).toFixed(0)} KiB body, ${floors[0].ms.length} scrapes): as a string median ${fmt(pct(floors[0].ms, 50))}, server CPU ${floors[0].cpu.toFixed(2)} ms; as a Buffer median ${fmt(pct(floors[1].ms, 50))}, server CPU ${floors[1].cpu.toFixed(2)} ms`,
);
console.log(`GET /json over HTTP (50): median ${fmt(pct(tj, 50))}, p99 ${fmt(pct(tj, 99))}`);
console.log(`event-loop delay over the render loop (renders + journal traffic): p99 ${(loop.percentile(99) / 1e6).toFixed(2)} ms, max ${(loop.max / 1e6).toFixed(2)} ms`);
console.log(`spans exported to the OTLP sink: ${spansReceived}`);
console.log(`journal emit of one advert event: ${perEventUs.toFixed(2)} µs with metrics + logger + tracing attached (bare journal ${bareUs.toFixed(2)} µs)`);
console.log(`RSS: process start ${rss0} MiB; modules loaded ${rssModules} MiB; metrics + tracing on (${N} instances populated) ${rssOn} MiB; after ${SCRAPES * 5 + 350} renders and the HTTP server ${rssEnd} MiB`);
console.log(`load average while measuring: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (${os.cpus().length} cores, shared)`);

detachLog();
agent.destroy();
await server.close();
for (const srv of floorServers) await srv.close();
metrics.close();
await tracing.shutdown();
sink.close();
{
  const m = process.memoryUsage();
  const f = (x) => (x / 1048576).toFixed(1);
  console.log(`memory after the run (MiB): rss ${f(m.rss)}, heapTotal ${f(m.heapTotal)}, heapUsed ${f(m.heapUsed)}, external ${f(m.external)}, arrayBuffers ${f(m.arrayBuffers)}`);
}
