/**
 * Real test hosts: network namespaces joined by veth pairs to a bridge that lives in its
 * own namespace (never the root namespace). Only documentation prefixes are used
 * (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32).
 *
 * Every namespace this creates starts with "kwt" so cleanup (here and in
 * test/run-all.sh) can only ever remove what the test suite made.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export const NS_PREFIX = 'kwt';

export function sh(cmd: string, args: string[], opts: { allowFail?: boolean; input?: string } = {}): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], input: opts.input, timeout: 30_000 });
  } catch (e) {
    if (opts.allowFail) return '';
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${err.stderr ?? err.message}`);
  }
}

export function ip(...args: string[]): string {
  return sh('ip', args);
}

export class Netns {
  constructor(readonly name: string) {}
  /** Run a command inside the namespace and return its stdout. */
  exec(cmd: string, args: string[] = [], opts: { allowFail?: boolean; input?: string } = {}): string {
    return sh('ip', ['netns', 'exec', this.name, cmd, ...args], opts);
  }
  ip(...args: string[]): string {
    return sh('ip', ['-n', this.name, ...args]);
  }
  /** Spawn a long-running process inside the namespace in its own process group. */
  spawn(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.name, cmd, ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  }
  sysctl(key: string, value: string): void {
    this.exec('sysctl', ['-q', '-w', `${key}=${value}`]);
  }
}

export interface HostSpec {
  /** short name, ≤ 6 chars (it becomes part of interface names) */
  name: string;
  v4?: string[]; // CIDR, e.g. "192.0.2.1/24"
  v6?: string[]; // CIDR, e.g. "2001:db8::1/64"
}

export interface Lab {
  sw: Netns;
  hosts: Record<string, Netns>;
  /** switch-side port name of a host (for carrier-loss tests) */
  port(host: string): string;
  destroy(): void;
}

function nsExists(name: string): boolean {
  return sh('ip', ['netns', 'list']).split('\n').some((l) => l.split(' ')[0] === name);
}

/** Delete a namespace we made, killing only processes running inside it (ours). */
export function deleteNetns(name: string): void {
  if (!name.startsWith(NS_PREFIX) || !nsExists(name)) return;
  const pids = sh('ip', ['netns', 'pids', name], { allowFail: true }).split(/\s+/).filter(Boolean);
  for (const p of pids) {
    try {
      process.kill(Number(p), 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  sh('ip', ['netns', 'del', name], { allowFail: true });
}

/**
 * Build a lab: "<prefix>sw" holds bridge br0; each host namespace "<prefix><host>" gets
 * eth0, whose peer "p<host>" is a port of br0. IPv6 DAD is disabled so addresses are
 * usable at once (tests wait on conditions, not sleeps).
 */
export function makeLab(id: string, hosts: HostSpec[]): Lab {
  const prefix = `${NS_PREFIX}${id}`;
  const sw = new Netns(`${prefix}sw`);
  const created: string[] = [];
  const lab: Lab = {
    sw,
    hosts: {},
    port: (h) => `p${h}`,
    destroy() {
      for (const n of created.reverse()) deleteNetns(n);
    },
  };
  try {
    deleteNetns(sw.name);
    ip('netns', 'add', sw.name);
    created.push(sw.name);
    sw.ip('link', 'set', 'lo', 'up');
    sw.ip('link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
    sw.ip('link', 'set', 'br0', 'up');
    // Bridges may filter multicast snooping oddly with no querier: disable snooping so
    // VRRP adverts to 224.0.0.18 / ff02::12 reach every port.
    sw.exec('sh', ['-c', 'echo 0 > /sys/class/net/br0/bridge/multicast_snooping']);
    for (const h of hosts) {
      const ns = new Netns(`${prefix}${h.name}`);
      deleteNetns(ns.name);
      ip('netns', 'add', ns.name);
      created.push(ns.name);
      ns.ip('link', 'set', 'lo', 'up');
      for (const k of ['all', 'default']) {
        ns.sysctl(`net.ipv6.conf.${k}.accept_dad`, '0');
        ns.sysctl(`net.ipv6.conf.${k}.dad_transmits`, '0');
        ns.sysctl(`net.ipv6.conf.${k}.keep_addr_on_down`, '1');
      }
      const port = lab.port(h.name);
      sw.ip('link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name);
      sw.ip('link', 'set', port, 'master', 'br0');
      sw.ip('link', 'set', port, 'up');
      for (const a of h.v4 ?? []) ns.ip('addr', 'add', a, 'dev', 'eth0');
      for (const a of h.v6 ?? []) ns.ip('-6', 'addr', 'add', a, 'dev', 'eth0', 'nodad');
      ns.ip('link', 'set', 'eth0', 'up');
      lab.hosts[h.name] = ns;
    }
  } catch (e) {
    lab.destroy();
    throw e;
  }
  return lab;
}

/** Poll `fn` until it returns a truthy value or the (generous) deadline passes. */
export async function waitFor<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 20_000, everyMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Kill a process group we spawned (detached), by PID. */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* gone */
  }
}
