/**
 * `npm run demo` (root): two keepwatch agents in network namespaces on a bridge, a
 * client, a failover and live metrics — then everything is cleaned up, also on Ctrl-C.
 *
 * Topology (documentation addresses only, nothing outside the namespaces is touched):
 *   kwtdemosw: bridge br0
 *   kwtdemoh1 192.0.2.11  keepwatch, priority 150 (the preferred master)
 *   kwtdemoh2 192.0.2.12  keepwatch, priority 100
 *   kwtdemoc  192.0.2.100 client
 *   VIP 192.0.2.50/24, VRRPv3, 100 ms adverts
 */
import { execFile, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { killGroup, makeLab, type Lab, type Netns } from '../lab/netns';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'keepwatch');
const PORT = 9165;

function config(name: string, state: string, prio: number, dir: string): string {
  return `! keepwatch demo — an ordinary keepalived.conf
global_defs {
    router_id ${name}
    vrrp_notify_fifo ${dir}/notify.fifo
}
vrrp_instance VI_1 {
    state ${state}
    interface eth0
    virtual_router_id 51
    priority ${prio}
    advert_int 0.1
    version 3
    virtual_ipaddress {
        192.0.2.50/24 dev eth0
    }
    notify "/bin/sh -c 'echo $(date +%T.%N) $* >> ${dir}/notify.log' notify"
}
`;
}

interface Agent {
  name: string;
  ns: Netns;
  dir: string;
  child: ChildProcess | null;
  log: string;
}

/** Fetch a URL from inside a namespace (each agent's HTTP listens on its own loopback). */
function nsGet(ns: Netns, url: string): Promise<string> {
  const script = `fetch(${JSON.stringify(url)}).then(r=>r.text()).then(t=>process.stdout.write(t),()=>process.exit(1))`;
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', ns.name, process.execPath, '-e', script], { timeout: 5000 }, (err, out) => resolve(err ? '' : out));
  });
}

async function stateOf(a: Agent): Promise<string> {
  return (await detailOf(a)).state;
}

/** state and keepalived's last_transition (epoch seconds, the agent's own clock) from /json */
async function detailOf(a: Agent): Promise<{ state: string; lastTransitionMs: number }> {
  const body = await nsGet(a.ns, `http://127.0.0.1:${PORT}/json`);
  try {
    const j = JSON.parse(body) as { data: { state: number; last_transition: number } }[];
    return { state: ['INIT', 'BACKUP', 'MASTER', 'FAULT'][j[0].data.state] ?? String(j[0].data.state), lastTransitionMs: j[0].data.last_transition * 1000 };
  } catch {
    return { state: a.child ? 'starting' : 'stopped', lastTransitionMs: 0 };
  }
}

/** ms from `t0` to the agent's own recorded transition (not our polling) */
async function transitionDelay(a: Agent, t0: number): Promise<string> {
  const d = await detailOf(a);
  return (d.lastTransitionMs - t0).toFixed(1);
}

function start(a: Agent): void {
  a.log = '';
  const child = a.ns.spawn(BIN, ['-n', '-l', '-f', path.join(a.dir, 'keepalived.conf'), '-p', path.join(a.dir, 'keepalived.pid'), '-r', path.join(a.dir, 'vrrp.pid'), '-c', path.join(a.dir, 'checkers.pid'), `--web.listen-address=127.0.0.1:${PORT}`], {
    env: { ...process.env, TMPDIR: a.dir },
  });
  child.stdout?.on('data', (d) => (a.log += d));
  child.stderr?.on('data', (d) => (a.log += d));
  child.on('exit', () => {
    if (a.child === child) a.child = null;
  });
  a.child = child;
}

async function until<T>(what: string, fn: () => Promise<T | false>, timeoutMs = 15000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function vipHolder(agents: Agent[]): string[] {
  return agents.filter((a) => a.ns.exec('ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0']).includes('192.0.2.50/')).map((a) => a.name);
}

async function show(agents: Agent[], title: string): Promise<void> {
  const states = await Promise.all(agents.map(stateOf));
  const vip = vipHolder(agents);
  console.log(`\n== ${title}`);
  for (let i = 0; i < agents.length; i++) console.log(`   ${agents[i].name}: ${states[i].padEnd(7)} ${vip.includes(agents[i].name) ? 'holds VIP 192.0.2.50' : ''}`);
}

async function main(): Promise<number> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    console.error('npm run demo needs root on Linux: it creates network namespaces (ip netns) and raw VRRP sockets.\nRun it as root, e.g. `sudo npm run demo`.');
    return 1;
  }
  if (!fs.existsSync(path.join(ROOT, 'dist', 'main.js'))) {
    console.error('dist/ is missing: run `npm ci` (it builds keepwatch) first.');
    return 1;
  }
  let lab: Lab | null = null;
  const agents: Agent[] = [];
  const cleanup = () => {
    for (const a of agents) if (a.child) killGroup(a.child, 'SIGKILL');
    lab?.destroy();
    lab = null;
  };
  process.on('SIGINT', () => {
    console.log('\ninterrupted: cleaning up');
    cleanup();
    process.exit(130);
  });
  try {
    console.log('building the lab: bridge + h1 (192.0.2.11) + h2 (192.0.2.12) + client (192.0.2.100)…');
    lab = makeLab('demo', [
      { name: 'h1', v4: ['192.0.2.11/24'] },
      { name: 'h2', v4: ['192.0.2.12/24'] },
      { name: 'c', v4: ['192.0.2.100/24'] },
    ]);
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'keepwatch-demo-'));
    for (const [name, state, prio] of [
      ['h1', 'MASTER', 150],
      ['h2', 'BACKUP', 100],
    ] as const) {
      const dir = path.join(base, name);
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'keepalived.conf'), config(name, state, prio, dir));
      agents.push({ name, ns: lab.hosts[name], dir, child: null, log: '' });
    }
    const [h1, h2] = agents;
    const client = lab.hosts.c;
    console.log(`configs: ${base}/{h1,h2}/keepalived.conf (VRRPv3, VRID 51, 100 ms adverts, VIP 192.0.2.50)`);
    for (const a of agents) start(a);
    let t = Date.now();
    await until('a master', async () => ((await stateOf(h1)) === 'MASTER' ? true : false));
    await show(agents, `started; h1 became MASTER ${await transitionDelay(h1, t)} ms after launch (process start-up + Master_Down_Interval 341.4 ms)`);
    client.exec('ping', ['-c', '1', '-W', '2', '192.0.2.50'], { allowFail: true });
    console.log(`   client: ${client.exec('ip', ['neigh', 'show', '192.0.2.50']).trim() || '(no ARP entry)'}`);

    console.log('\n== kill -9 of h1 (crash: no priority-0 advert)…');
    t = Date.now();
    killGroup(h1.child!, 'SIGKILL');
    await until('h2 MASTER', async () => ((await stateOf(h2)) === 'MASTER' ? true : false));
    await show(agents, `h2 took over ${await transitionDelay(h2, t)} ms after the crash (theory: 3 × 100 ms + skew 60.9 ms = 360.9 ms after h1's last advert, i.e. 261–361 ms after the kill)`);
    const ping = client.exec('ping', ['-c', '1', '-W', '2', '192.0.2.50'], { allowFail: true });
    console.log(`   client ping 192.0.2.50: ${/1 received/.test(ping) ? 'reply' : 'no reply'}; ${client.exec('ip', ['neigh', 'show', '192.0.2.50']).trim()}`);
    console.log('   (h1 was killed -9, so its VIP is still configured on its interface — keepalived behaves the same; h2\'s GARPs moved the client)');

    console.log('\n== restarting h1: it removes the stale VIP, enters BACKUP and preempts h2…');
    t = Date.now();
    start(h1);
    await until('h1 MASTER again', async () => ((await stateOf(h1)) === 'MASTER' && (await stateOf(h2)) === 'BACKUP' ? true : false));
    await show(agents, `h1 is MASTER again ${await transitionDelay(h1, t)} ms after the restart command (process start-up + 341.4 ms Master_Down_Interval)`);

    console.log('\n== live metrics from h1 (http://127.0.0.1:9165/metrics inside kwtdemoh1):');
    const metrics = await nsGet(h1.ns, `http://127.0.0.1:${PORT}/metrics`);
    for (const l of metrics.split('\n')) if (/^keepalived_(vrrp_status|vrrp_state|advertisements_sent_total|become_master_total|vrrp_transitions_total|vrrp_priority_effective|vrrp_master_down_interval_seconds)/.test(l) && !/ 0$/.test(l)) console.log('   ' + l);
    console.log('\n== notify lines h2 received (notify script):');
    try {
      console.log(fs.readFileSync(path.join(h2.dir, 'notify.log'), 'utf8').replace(/^/gm, '   ').trimEnd());
    } catch {
      console.log('   (none)');
    }
    console.log('\n== graceful stop of h1 (SIGTERM: priority-0 advert, VIP removed)…');
    t = Date.now();
    process.kill(h1.child!.pid!, 'SIGTERM');
    await until('h2 MASTER', async () => ((await stateOf(h2)) === 'MASTER' ? true : false));
    await show(agents, `h2 took over ${await transitionDelay(h2, t)} ms after SIGTERM (theory: skew time 60.9 ms)`);
    return 0;
  } catch (e) {
    console.error(`demo failed: ${(e as Error).message}`);
    for (const a of agents) if (a.log) console.error(`--- ${a.name} log ---\n${a.log.split('\n').slice(-20).join('\n')}`);
    return 1;
  } finally {
    console.log('\ncleaning up namespaces and agents');
    cleanup();
  }
}

main().then((code) => process.exit(code));

