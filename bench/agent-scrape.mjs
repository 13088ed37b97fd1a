#!/usr/bin/env node
// GET /metrics from real keepwatch agents with 255 VRRP instances each — the agent's own
// path (HTTP worker thread, snapshot from the VRRP thread), not an in-process model.
// Prints numbers; asserts nothing (target: median scrape < 5 ms for 255 instances).
//
//   cd /work/main && npx tsc -p . && node bench/agent-scrape.mjs      (root: it builds namespaces)
//   env: SPACED (80 scrapes, SPACED_MS 250 apart), B2B (300 scrapes back to back),
//        AGENT_MAIN (another build's dist/main.js, to compare versions)
//
// Topology (documentation addresses, namespaces kwtas*, loopback port 19845 in each):
//   kwtasa  192.0.2.11  keepwatch, 255 VRRPv3 instances (VRID 1-255, advert_int 1 s),
//                       priority 150 → MASTER of all, 255 VIPs (198.51.100.1-254/24, 203.0.113.1/24)
//   kwtasb  192.0.2.12  keepwatch, the same instances at priority 100 → BACKUP of all
// Between two scrapes the agents do what such a pair does: 255 adverts a second go out of
// a and are received by b, counters, clocks and histograms move, so every scrape renders
// changed families. The scraper runs in the agent's namespace (keep-alive, like Prometheus)
// and measures from request to the last byte of the body.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { rssMiB, sleep, until } from './lab-util.mjs';

const require = createRequire(import.meta.url);
const ROOT = new URL('..', import.meta.url).pathname;
const { makeLab, killGroup } = require(path.join(ROOT, 'dist/lab/netns.js'));

const N = 255;
const HTTP_PORT = 19845;
const SPACED = Math.min(Number(process.env.SPACED ?? 80), 1000);
const SPACED_MS = Math.min(Math.max(Number(process.env.SPACED_MS ?? 250), 10), 5000);
const B2B = Math.min(Number(process.env.B2B ?? 300), 5000);


const lab = makeLab('as', [
  { name: 'a', v4: ['192.0.2.11/24'] },
  { name: 'b', v4: ['192.0.2.12/24'] },
]);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kwc-ascrape-'));
const agents = {};
const procs = [];
async function cleanup() {
  for (const a of Object.values(agents)) {
    if (a.exitCode === null && a.signalCode === null) {
      process.kill(a.pid, 'SIGTERM');
      await Promise.race([new Promise((r) => a.once('exit', r)), sleep(15_000)]);
      killGroup(a, 'SIGKILL');
    }
  }
  for (const p of procs) killGroup(p, 'SIGKILL');
  lab.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
}
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

function nsGet(host, p) {
  return execFileSync('ip', ['netns', 'exec', lab.hosts[host].name, 'curl', '-sf', '-m', '20', `http://127.0.0.1:${HTTP_PORT}${p}`], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 30_000 });
}
const vip = (k) => (k < 254 ? `198.51.100.${k + 1}/24` : `203.0.113.${k - 253}/24`);
function config(priority) {
  let c = `global_defs {\n    router_id bench-${priority}\n}\n`;
  for (let k = 0; k < N; k++)
    c += `vrrp_instance VI_${k + 1} {\n    state BACKUP\n    interface eth0\n    virtual_router_id ${k + 1}\n    priority ${priority}\n    advert_int 1\n    version 3\n    virtual_ipaddress {\n        ${vip(k)} dev eth0\n    }\n}\n`;
  return c;
}

// one scraper process per run: keep-alive, one request at a time, wall time to the last byte
const SCRAPER = `
const http = require('node:http');
const [port, count, gapMs] = process.argv.slice(1).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const one = () => new Promise((resolve, reject) => {
  const t = process.hrtime.bigint();
  http.get({ host: '127.0.0.1', port, path: '/metrics', agent, headers: { accept: 'text/plain;version=0.0.4' } }, (res) => {
    let n = 0;
    res.on('data', (d) => (n += d.length));
    res.on('end', () => (res.statusCode === 200 ? resolve({ ms: Number(process.hrtime.bigint() - t) / 1e6, n }) : reject(new Error('HTTP ' + res.statusCode))));
  }).on('error', reject);
});
(async () => {
  for (let k = 0; k < 5; k++) await one();
  const ms = [];
  let bytes = 0;
  for (let k = 0; k < count; k++) {
    if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
    const r = await one();
    ms.push(r.ms);
    bytes = r.n;
  }
  agent.destroy();
  console.log(JSON.stringify({ ms, bytes }));
})().catch((e) => { console.error(String(e)); process.exit(1); });`;

async function scrape(host, count, gapMs) {
  const p = lab.hosts[host].spawn(process.execPath, ['-e', SCRAPER, String(HTTP_PORT), String(count), String(gapMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  procs.push(p);
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  await until(() => p.exitCode !== null, 'scraper', (count * (gapMs + 200) + 60_000) | 0);
  if (p.exitCode !== 0) throw new Error(`scraper on ${host} failed`);
  const r = JSON.parse(out.trim());
  const s = [...r.ms].sort((x, y) => x - y);
  const q = (f) => s[Math.min(s.length - 1, Math.floor(f * s.length))];
  return { n: s.length, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: s[s.length - 1], bytes: r.bytes };
}

try {
  const bin = process.env.AGENT_MAIN ?? path.join(ROOT, 'bin/keepwatch');
  for (const [host, prio] of [
    ['a', 150],
    ['b', 100],
  ]) {
    const conf = path.join(dir, `${host}.conf`);
    fs.writeFileSync(conf, config(prio));
    const d = path.join(dir, host);
    fs.mkdirSync(d);
    const args = ['-n', '-f', conf, '-p', path.join(d, 'k.pid'), '-r', path.join(d, 'v.pid'), '-c', path.join(d, 'c.pid'), `--web.listen-address=127.0.0.1:${HTTP_PORT}`];
    const a = process.env.AGENT_MAIN ? lab.hosts[host].spawn(process.execPath, [bin, ...args], { env: { ...process.env, TMPDIR: d } }) : lab.hosts[host].spawn(bin, args, { env: { ...process.env, TMPDIR: d } });
    let log = '';
    const keep = (d) => (log = (log + d).slice(-4000)); // the tail, for a failed start
    a.stdout.on('data', keep);
    a.stderr.on('data', keep);
    a.on('exit', (code) => code && console.error(`agent ${host} exited (${code}):\n${log}`));
    agents[host] = a;
    // the second agent starts once the first is MASTER everywhere, so nobody flaps
    const want = host === 'a' ? 2 : 1;
    let seen = 'nothing';
    await until(
      () => {
        const st = JSON.parse(nsGet(host, '/json')).map((i) => i.data.state);
        seen = `${st.length} instances, ${st.filter((x) => x === want).length} in state ${want}`;
        return st.filter((x) => x === want).length === N;
      },
      `${N} instances ${want === 2 ? 'MASTER' : 'BACKUP'} on ${host} (last seen: ${seen})`,
      120_000,
    ).catch((e) => {
      throw new Error(`${e.message}; last seen: ${seen}; agent log tail:\n${log}`);
    });
  }
  // let counters, histograms and the learned master intervals settle
  await sleep(3000);
  const body = nsGet('a', '/metrics');
  const series = body.split('\n').filter((l) => l && !l.startsWith('#')).length;
  const bodyB = nsGet('b', '/metrics');
  const seriesB = bodyB.split('\n').filter((l) => l && !l.startsWith('#')).length;

  const results = [];
  for (const host of ['a', 'b']) {
    results.push([host, 'spaced', await scrape(host, SPACED, SPACED_MS)]);
    results.push([host, 'b2b', await scrape(host, B2B, 0)]);
  }
  const rss = { a: rssMiB(agents.a.pid), b: rssMiB(agents.b.pid) };
  const masters = JSON.parse(nsGet('a', '/json')).filter((i) => i.data.state === 2).length;
  const backups = JSON.parse(nsGet('b', '/json')).filter((i) => i.data.state === 1).length;

  const f = (x) => `${x.toFixed(2)} ms`;
  console.log(`keepwatch GET /metrics, ${N} VRRPv3 instances per agent (advert_int 1 s), ${os.cpus().length} CPUs, node ${process.version}`);
  console.log(`a (MASTER of ${masters}): ${series} series, ${(body.length / 1024).toFixed(0)} KiB; b (BACKUP of ${backups}): ${seriesB} series, ${(bodyB.length / 1024).toFixed(0)} KiB`);
  for (const [host, mode, r] of results)
    console.log(`  ${host} ${mode === 'spaced' ? `${r.n} scrapes ${SPACED_MS} ms apart` : `${r.n} scrapes back to back`}: median ${f(r.p50)}  p90 ${f(r.p90)}  p99 ${f(r.p99)}  max ${f(r.max)}  (${(r.bytes / 1024).toFixed(0)} KiB)`);
  console.log(`agent RSS with ${N} instances: a ${rss.a.toFixed(1)} MiB, b ${rss.b.toFixed(1)} MiB`);
  console.log(`load average: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log('target: median < 5 ms (reported, not asserted)');
} finally {
  await cleanup();
}
