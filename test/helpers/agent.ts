/**
 * The real keepwatch daemon (bin/keepwatch → dist/main.js) as a VRRP node inside a lab
 * namespace, started with keepalived's own flags the way RESULTS.md §8 ran keepalived:
 *
 *   ip netns exec NS bin/keepwatch -n -l -D -f CONF -p PID -r VRRPPID -c CHECKPID \
 *       --web.listen-address=127.0.0.1:PORT        (TMPDIR = the node's own directory)
 *
 * Each node gets a private directory (config, pid files, dumps, notify output), its own
 * process group (so a "crash" is kill -9 of the whole group, scripts included), and its
 * HTTP listener inside its own namespace (the same loopback port in every namespace).
 *
 * Read side: the console log (-l prints keepalived's strings) and GET /json (keepalived's
 * JSON: state 1 BACKUP, 2 MASTER, 3 FAULT). Every wait is a condition with a deadline.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { killGroup, makeLab, waitFor, type Lab, type Netns } from './netns';
import { ensureBuilt, ROOT } from './ns-node';
import { onLines } from './lines';

const execFileP = promisify(execFile);

export const KEEPWATCH_BIN = path.join(ROOT, 'bin/keepwatch');

/** keepalived's JSON state numbers (vrrp_json.c) */
export const STATE_NUM = { INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3 } as const;
export type StateName = keyof typeof STATE_NUM;

export interface JsonInstance {
  data: {
    iname: string;
    vrid: number;
    state: number;
    wantstate: number;
    base_priority: number;
    effective_priority: number;
    vipset: boolean;
    vips: string[];
    [k: string]: unknown;
  };
  stats: {
    advert_rcvd: number;
    advert_sent: number;
    become_master: number;
    release_master: number;
    pri_zero_rcvd: number;
    pri_zero_sent: number;
    [k: string]: number;
  };
}

export interface KwNode {
  ns: Netns;
  /** private directory: keepalived.conf, pid files, TMPDIR dumps, notify output */
  dir: string;
  conf: string;
  pidFile: string;
  vrrpPidFile: string;
  checkersPidFile: string;
  port: number;
  child: ChildProcess;
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** console output so far (stdout + stderr) */
  log(): string;
  /** console lines, without keepalived's "Wed Nov 25 14:40:33 2026: " prefix */
  lines(): string[];
  /** number of console lines so far: pass to waitLog(re, since) to look only at what comes next */
  mark(): number;
  waitLog(re: RegExp, since?: number, timeoutMs?: number): Promise<string>;
  /** GET /json inside the namespace */
  json(): Promise<JsonInstance[]>;
  instance(name?: string): Promise<JsonInstance | undefined>;
  /** wait until /json reports `state` for instance `name` */
  waitState(state: StateName, name?: string, timeoutMs?: number): Promise<JsonInstance>;
  /** replace the config file (then hup() to reload) */
  writeConfig(text: string): void;
  signal(sig: NodeJS.Signals): void;
  hup(): void;
  /** SIGTERM (or another signal) to the daemon and wait for it to exit */
  stop(sig?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** kill -9 of the whole process group (daemon + scripts): a crash, nothing cleaned up */
  crash(): Promise<void>;
  running(): boolean;
}

export interface StartOptions {
  /** directory name tag; defaults to the namespace name */
  id?: string;
  port?: number;
  /** extra daemon arguments */
  args?: string[];
  /** reuse this directory (restart of the same node keeps its notify output) */
  dir?: string;
}

const TS_PREFIX = /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}: /;

let built = false;

/** Start keepwatch in `ns` with `config`; resolves once the process is running and its HTTP answers. */
export async function startKeepwatch(ns: Netns, config: string, o: StartOptions = {}): Promise<KwNode> {
  // once per test file: every node of a suite runs the same build (a rebuild in the middle,
  // triggered by someone editing src/, could hand a starting node half-written files)
  if (!built) ensureBuilt(['main.js', 'daemon/daemon.js']);
  built = true;
  const dir = o.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), `kwv-${o.id ?? ns.name}-`));
  const conf = path.join(dir, 'keepalived.conf');
  fs.writeFileSync(conf, config);
  const port = o.port ?? 19500;
  const pidFile = path.join(dir, 'keepalived.pid');
  const vrrpPidFile = path.join(dir, 'vrrp.pid');
  const checkersPidFile = path.join(dir, 'checkers.pid');
  const args = ['-n', '-l', '-D', '-f', conf, '-p', pidFile, '-r', vrrpPidFile, '-c', checkersPidFile, `--web.listen-address=127.0.0.1:${port}`, ...(o.args ?? [])];
  // `ip netns exec` execs the command, so child.pid is the daemon's own PID and process group
  const child = ns.spawn(KEEPWATCH_BIN, args, { env: { ...process.env, TMPDIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => (out += d));
  child.stderr!.on('data', (d: string) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  // complete lines only (a line still being written is not matched half-way)
  const lines = (): string[] =>
    out
      .split('\n')
      .slice(0, -1)
      .filter(Boolean)
      .map((l) => l.replace(TS_PREFIX, ''));

  /** the last 25 console lines without the per-packet GARP/NA ones, for failure messages */
  const tail = (): string =>
    lines()
      .filter((l) => !/gratuitous ARP|unsolicited Neighbour|Sending\/queueing/.test(l))
      .slice(-25)
      .join('\n');
  const json = async (): Promise<JsonInstance[]> => {
    const { stdout } = await execFileP('ip', ['netns', 'exec', ns.name, 'curl', '-sf', '-m', '3', `http://127.0.0.1:${port}/json`], { encoding: 'utf8', timeout: 10_000 });
    return JSON.parse(stdout) as JsonInstance[];
  };
  const instance = async (name = 'VI_1'): Promise<JsonInstance | undefined> => (await json()).find((i) => i.data.iname === name);

  const node: KwNode = {
    ns,
    dir,
    conf,
    pidFile,
    vrrpPidFile,
    checkersPidFile,
    port,
    child,
    pid: child.pid ?? 0,
    exited,
    log: () => out,
    lines,
    mark: () => lines().length,
    waitLog: (re, since = 0, timeoutMs = 20_000) =>
      waitFor(
        () => {
          if (!running() && !lines().slice(since).some((l) => re.test(l))) throw new Error(`keepwatch in ${ns.name} exited:\n${out.slice(-3000)}`);
          return lines().slice(since).find((l) => re.test(l));
        },
        `log ${re} in ${ns.name}`,
        timeoutMs,
        25,
      ).then(
        (l) => l!,
        (e: Error) => {
          throw new Error(`${e.message}\n--- ${ns.name} log tail ---\n${tail()}`);
        },
      ),
    json,
    instance,
    waitState: (state, name = 'VI_1', timeoutMs = 20_000) =>
      waitFor(
        async () => {
          if (!running()) throw new Error(`keepwatch in ${ns.name} exited:\n${out.slice(-3000)}`);
          const i = await instance(name);
          return i && i.data.state === STATE_NUM[state] ? i : undefined;
        },
        `${name} ${state} in ${ns.name}`,
        timeoutMs,
        50,
      ).then(
        (i) => i!,
        (e: Error) => {
          throw new Error(`${e.message}\n--- ${ns.name} log tail ---\n${tail()}`);
        },
      ),
    writeConfig: (text) => fs.writeFileSync(conf, text),
    signal: (sig) => {
      if (child.pid !== undefined && running()) process.kill(child.pid, sig);
    },
    hup: () => node.signal('SIGHUP'),
    async stop(sig: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000) {
      if (!running()) return exited;
      node.signal(sig);
      const r = await Promise.race([exited, new Promise<null>((res) => setTimeout(() => res(null), timeoutMs))]);
      if (r) return r;
      killGroup(child, 'SIGKILL');
      throw new Error(`keepwatch in ${ns.name} did not exit within ${timeoutMs} ms of ${sig}; killed`);
    },
    async crash() {
      if (!running()) return;
      killGroup(child, 'SIGKILL');
      await exited;
    },
    running,
  };
  // the daemon is up once its HTTP listener answers (it starts before the engine's first state)
  await waitFor(
    async () => {
      if (!running()) throw new Error(`keepwatch in ${ns.name} exited at start:\n${out}`);
      return (await json().catch(() => null)) !== null;
    },
    `keepwatch /json in ${ns.name}`,
    30_000,
    50,
  );
  return node;
}

// ---------------------------------------------------------------------------
// Lab and config builders shared by test/netns/vrrp-*.test.ts
// ---------------------------------------------------------------------------

export interface VrrpLab extends Lab {
  /** eth0 MAC address of a host */
  mac(host: string): string;
  /** addresses on a host's interface (`ip -o addr show dev IF`), as "192.0.2.50/24" strings */
  addrs(host: string, dev?: string): string[];
  hasAddr(host: string, cidr: string, dev?: string): boolean;
  /** one ping (1 s deadline) from `host` to `ip`: true when answered */
  ping(host: string, ip: string): boolean;
  /** MAC of `ip` in `host`'s neighbour table (any state but FAILED/INCOMPLETE), or undefined */
  neighMac(host: string, ip: string): string | undefined;
  /** SIGTERM every node started through this lab that still runs (kill -9 if it hangs) */
  stopAll(): Promise<void>;
  /** stop every node started through this lab, then delete the namespaces and node directories */
  close(): Promise<void>;
  /** start keepwatch on a host and remember it for close() */
  start(host: string, config: string, o?: StartOptions): Promise<KwNode>;
}

/**
 * Nodes a, b (, c) at 192.0.2.1x / 2001:db8::1x and a client "cl" at 192.0.2.100 /
 * 2001:db8::100, all on one bridge (makeLab: `kwt<id>sw`, `kwt<id><host>`).
 */
export function vrrpLab(id: string, nodes: string[] = ['a', 'b'], client = true): VrrpLab {
  if (!id.startsWith('v')) throw new Error('vrrp tests use lab ids starting with "v"');
  const specs = nodes.map((n, i) => ({ name: n, v4: [`192.0.2.${11 + i}/24`], v6: [`2001:db8::${11 + i}/64`] }));
  if (client) specs.push({ name: 'cl', v4: ['192.0.2.100/24'], v6: ['2001:db8::100/64'] });
  const lab = makeLab(id, specs);
  const started: KwNode[] = [];
  const addrs = (host: string, dev = 'eth0'): string[] => {
    const out = lab.hosts[host]!.exec('ip', ['-o', 'addr', 'show', 'dev', dev], { allowFail: true });
    return [...out.matchAll(/inet6? ([0-9a-f.:]+\/\d+)/g)].map((m) => m[1]!);
  };
  return {
    ...lab,
    mac: (host) => /link\/ether ([0-9a-f:]{17})/.exec(lab.hosts[host]!.ip('link', 'show', 'dev', 'eth0'))![1]!,
    addrs,
    hasAddr: (host, cidr, dev = 'eth0') => addrs(host, dev).includes(cidr),
    ping: (host, ip) => {
      try {
        lab.hosts[host]!.exec('ping', [ip.includes(':') ? '-6' : '-4', '-n', '-c', '1', '-W', '1', ip]);
        return true;
      } catch {
        return false;
      }
    },
    neighMac: (host, ip) => {
      const out = lab.hosts[host]!.exec('ip', ['neigh', 'show', ip], { allowFail: true });
      return /lladdr ([0-9a-f:]{17})/.exec(out)?.[1];
    },
    async start(host, config, o = {}) {
      const n = await startKeepwatch(lab.hosts[host]!, config, o);
      started.push(n);
      return n;
    },
    async stopAll() {
      await Promise.all(started.map((n) => n.stop('SIGTERM', 10_000).catch(() => n.crash())));
    },
    async close() {
      await this.stopAll();
      lab.destroy();
      for (const d of new Set(started.map((n) => n.dir))) fs.rmSync(d, { recursive: true, force: true });
    },
  };
}

export interface InstanceConf {
  name?: string;
  state?: 'MASTER' | 'BACKUP';
  intf?: string;
  vrid?: number;
  priority: number;
  /** seconds; default 0.1 (with version 3) */
  advert?: number;
  version?: 2 | 3;
  vips?: string[];
  /** further lines inside the vrrp_instance block */
  extra?: string[];
}

/** One vrrp_instance block (default: VI_1, eth0, VRID 51, v3 at 100 ms, VIP 192.0.2.50/24). */
export function instanceBlock(i: InstanceConf): string {
  const vips = i.vips ?? ['192.0.2.50/24 dev eth0'];
  return [
    `vrrp_instance ${i.name ?? 'VI_1'} {`,
    `    state ${i.state ?? 'BACKUP'}`,
    `    interface ${i.intf ?? 'eth0'}`,
    `    virtual_router_id ${i.vrid ?? 51}`,
    `    priority ${i.priority}`,
    `    advert_int ${i.advert ?? 0.1}`,
    `    version ${i.version ?? 3}`,
    `    virtual_ipaddress {`,
    ...vips.map((v) => `        ${v}`),
    `    }`,
    ...(i.extra ?? []).map((l) => `    ${l}`),
    `}`,
  ].join('\n');
}

/** A whole keepalived.conf: global_defs (scripts run as root, as in RESULTS.md §8) + blocks. */
export function vrrpConf(routerId: string, ...blocks: string[]): string {
  return [`global_defs {`, `    router_id ${routerId}`, `    script_user root`, `    enable_script_security`, `}`, ...blocks].join('\n\n') + '\n';
}

// ---------------------------------------------------------------------------
// Small observers used by the VRRP suites
// ---------------------------------------------------------------------------

export interface LineProc {
  child: ChildProcess;
  lines: string[];
  stop(): void;
}

/** A long-running command in `ns` (own process group) whose stdout lines are collected, e.g. `ip -o monitor address`. */
export function startLines(ns: Netns, cmd: string, args: string[]): LineProc {
  const child = ns.spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  onLines(child.stdout!, (line) => lines.push(line));
  child.stderr!.resume();
  return { child, lines, stop: () => killGroup(child, 'SIGTERM') };
}

/**
 * `ip -o monitor address` in `ns`, resolved once it is provably subscribed: a marker
 * address on lo (198.51.100.254/32) is added and removed and both events were seen.
 */
export async function monitorAddresses(ns: Netns): Promise<LineProc> {
  const m = startLines(ns, 'ip', ['-o', 'monitor', 'address']);
  const marker = '198.51.100.254/32';
  await waitFor(
    () => {
      ns.exec('ip', ['addr', 'replace', marker, 'dev', 'lo']);
      return m.lines.some((l) => l.includes(marker));
    },
    `ip monitor in ${ns.name}`,
    10_000,
    100,
  );
  ns.exec('ip', ['addr', 'del', marker, 'dev', 'lo']);
  await waitFor(() => m.lines.some((l) => l.startsWith('Deleted') && l.includes(marker)), `ip monitor marker deletion in ${ns.name}`);
  return m;
}

/**
 * The reading end of a notify FIFO the daemon created (keepalived opens it O_RDWR, so
 * lines wait in the pipe until read; opened non-blocking here and drained on demand).
 */
export class FifoReader {
  private fd: number | null = null;
  private buf = '';
  readonly lines: string[] = [];
  constructor(readonly path: string) {}
  /** open once the daemon has created the FIFO */
  async open(timeoutMs = 20_000): Promise<void> {
    await waitFor(() => fs.existsSync(this.path) && fs.statSync(this.path).isFIFO(), `FIFO ${this.path}`, timeoutMs);
    this.fd = fs.openSync(this.path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  }
  /** read whatever is in the pipe; returns all complete lines so far */
  read(): string[] {
    if (this.fd === null) return this.lines;
    const chunk = Buffer.alloc(65536);
    for (;;) {
      let n = 0;
      try {
        n = fs.readSync(this.fd, chunk, 0, chunk.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') break;
        throw e;
      }
      if (n <= 0) break;
      this.buf += chunk.subarray(0, n).toString('utf8');
    }
    let i: number;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      this.lines.push(this.buf.slice(0, i));
      this.buf = this.buf.slice(i + 1);
    }
    return this.lines;
  }
  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}
