/**
 * Running keepwatch code INSIDE a network namespace from a vitest test.
 *
 * The vitest worker lives in the root namespace, and sockets/netlink/procfs act in the
 * namespace of the thread that opens them. Approach chosen: run a separate node process
 * under `ip netns exec NS node ...` using the compiled dist/ (ensureBuilt() runs tsc when
 * src/ is newer). That is exactly how keepwatch itself runs in production, and nothing in
 * the test process ever changes namespace (setns from the vitest worker would leave libuv
 * threadpool threads and child processes in the root namespace — a trap).
 *
 *  - runNode(ns, script, args): any node script in the namespace, stdout split into lines.
 *  - startAgent(ns): a generic RPC agent (test/helpers/ns-agent.cjs) that calls exported
 *    functions of dist modules and methods on what they return (handles), and forwards
 *    callbacks as events:
 *
 *      const a = await startAgent(lab.hosts.a);
 *      const sock = await a.call('net/vrrp-socket', 'createVrrpSocket', { family: 'ipv4', ... });
 *      await a.invoke(sock, 'onPacket', a.cb('pkt'));
 *      const [pkt] = await b.waitEvent('pkt', ([p]) => p.src === '192.0.2.1');
 *      await a.invoke(sock, 'close'); expect(await a.end()).toBe('exited');
 *
 *  - startCapture(ns, args): tcpdump in the namespace, resolved once it is listening.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { killGroup, waitFor, type Netns } from './netns';
import { onLines } from './lines';

export const ROOT = resolve(__dirname, '../..');
export const DIST = join(ROOT, 'dist');

function newestMtime(dir: string, ext: string): number {
  let max = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) max = Math.max(max, newestMtime(p, ext));
    else if (e.name.endsWith(ext)) max = Math.max(max, statSync(p).mtimeMs);
  }
  return max;
}

/**
 * Make sure dist/ holds a build of the current src/ (and that `mustExist` files are there).
 * tsc emits even when other files have type errors; those are reported by `npm test`'s
 * own build step, not here.
 */
export function ensureBuilt(mustExist: string[] = []): void {
  const srcNewest = newestMtime(join(ROOT, 'src'), '.ts');
  const distNewest = existsSync(DIST) ? newestMtime(DIST, '.js') : 0;
  const missing = mustExist.filter((f) => !existsSync(join(DIST, f)));
  if (srcNewest <= distNewest && missing.length === 0) return;
  let log = '';
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 });
  } catch (e) {
    log = String((e as { stdout?: string }).stdout ?? '') + String((e as { stderr?: string }).stderr ?? '');
  }
  const still = mustExist.filter((f) => !existsSync(join(DIST, f)));
  if (still.length) throw new Error(`build did not produce ${still.join(', ')}:\n${log}`);
}

export interface NodeProc {
  child: ChildProcess;
  /** complete stdout lines so far */
  lines: string[];
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  onLine(cb: (line: string) => void): void;
  kill(): void;
}

/** Start `node [nodeArgs] script ...args` inside the namespace (own process group, killed by kill()). */
export function runNode(ns: Netns, script: string, args: string[] = [], opts: { nodeArgs?: string[] } = {}): NodeProc {
  const child = ns.spawn(process.execPath, [...(opts.nodeArgs ?? []), script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const listeners: Array<(l: string) => void> = [];
  let err = '';
  onLines(child.stdout!, (line) => {
    lines.push(line);
    for (const l of listeners) l(line);
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  return {
    child,
    lines,
    stderr: () => err,
    exited,
    onLine: (cb) => listeners.push(cb),
    kill: () => killGroup(child),
  };
}

export interface Handle {
  $h: number;
}

export type AgentError = Error & { code?: string; errno?: number; sent?: number };

export interface Agent {
  ns: Netns;
  proc: NodeProc;
  pid: number;
  /** call an exported function of dist/<module>; objects with methods come back as a Handle */
  call<T = unknown>(module: string, fn: string, ...args: unknown[]): Promise<T>;
  invoke<T = unknown>(h: Handle, method: string, ...args: unknown[]): Promise<T>;
  /** a callback argument: each call becomes an event with this name */
  cb(name: string): { $cb: string };
  /** every event received under `name`, as decoded argument lists */
  events(name: string): unknown[][];
  waitEvent(name: string, pred?: (args: any[]) => boolean, what?: string, timeoutMs?: number): Promise<any[]>;
  /** close stdin and wait for the process to exit on its own; 'exited' or 'killed' after the deadline */
  end(timeoutMs?: number): Promise<'exited' | 'killed'>;
  kill(): void;
}

function encArg(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return { $buf: v.toString('hex') };
  if (Array.isArray(v)) return v.map(encArg);
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = encArg(x);
    return o;
  }
  return v;
}

function decVal(v: unknown): any {
  if (Array.isArray(v)) return v.map(decVal);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.$buf === 'string') return Buffer.from(o.$buf, 'hex');
    if (o.$err && typeof o.$err === 'object') {
      const src = decVal(o.$err) as Record<string, unknown>;
      return Object.assign(new Error(String(src.message)), src);
    }
    const r: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) r[k] = decVal(x);
    return r;
  }
  return v;
}

export const AGENT_SCRIPT = join(ROOT, 'test/helpers/ns-agent.cjs');

/** Start the RPC agent in `ns` (builds dist/ first if needed) and wait until it is ready. */
export async function startAgent(ns: Netns, opts: { mustExist?: string[] } = {}): Promise<Agent> {
  ensureBuilt(opts.mustExist ?? []);
  const proc = runNode(ns, AGENT_SCRIPT, [DIST]);
  const pending = new Map<number, { res: (v: any) => void; rej: (e: Error) => void }>();
  const events = new Map<string, unknown[][]>();
  let nextId = 1;
  let pid = 0;
  proc.onLine((line) => {
    let m: any;
    try {
      m = JSON.parse(line);
    } catch {
      return;
    }
    if (m.ready) pid = m.pid;
    else if (m.event) {
      const list = events.get(m.event) ?? [];
      list.push(decVal(m.args) as unknown[]);
      events.set(m.event, list);
    } else if (typeof m.id === 'number') {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.ok) p.res(m.handle !== undefined ? { $h: m.handle } : decVal(m.value));
      else p.rej(decVal({ $err: m.error?.$err ?? m.error }) as Error);
    }
  });
  void proc.exited.then(({ code, signal }) => {
    for (const p of pending.values()) p.rej(new Error(`agent in ${ns.name} exited (${code ?? signal}): ${proc.stderr()}`));
    pending.clear();
  });
  const send = (req: Record<string, unknown>): Promise<any> =>
    new Promise((res, rej) => {
      const id = nextId++;
      pending.set(id, { res, rej });
      proc.child.stdin!.write(`${JSON.stringify({ ...req, id })}\n`);
    });
  await waitFor(() => pid !== 0 || proc.child.exitCode !== null, `agent in ${ns.name} to start`, 30_000);
  if (!pid) throw new Error(`agent in ${ns.name} failed to start: ${proc.stderr()}`);
  const agent: Agent = {
    ns,
    proc,
    pid,
    call: (module, fn, ...args) => send({ op: 'call', module, fn, args: encArg(args) }),
    invoke: (h, method, ...args) => send({ op: 'invoke', handle: h.$h, method, args: encArg(args) }),
    cb: (name) => ({ $cb: name }),
    events: (name) => events.get(name) ?? [],
    waitEvent: (name, pred = () => true, what, timeoutMs = 20_000) =>
      waitFor(() => (events.get(name) ?? []).find((a) => pred(a as any[])) as any[] | undefined, what ?? `event ${name} in ${ns.name}`, timeoutMs),
    async end(timeoutMs = 15_000) {
      proc.child.stdin!.end();
      const natural = await Promise.race([proc.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs))]);
      if (natural) return 'exited';
      proc.kill();
      await proc.exited;
      return 'killed';
    },
    kill: () => proc.kill(),
  };
  return agent;
}

export interface Capture {
  proc: ChildProcess;
  lines: string[];
  /** resolves when tcpdump exits (e.g. after -c N packets) with all its output lines */
  done: Promise<string[]>;
  stop(): void;
}

/**
 * tcpdump inside `ns` (`-l` line-buffered is added), resolved once it prints
 * "listening on", i.e. once the capture socket is open and nothing can be missed.
 */
export async function startCapture(ns: Netns, args: string[], timeoutMs = 20_000): Promise<Capture> {
  const proc = ns.spawn('tcpdump', ['-l', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let err = '';
  const out = onLines(proc.stdout!, (line) => lines.push(line));
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (d: string) => {
    err += d;
  });
  const done = new Promise<string[]>((res) =>
    proc.on('exit', () => {
      if (out.rest()) lines.push(out.rest());
      res(lines);
    }),
  );
  await waitFor(() => /listening on/.test(err) || proc.exitCode !== null, `tcpdump in ${ns.name} to listen`, timeoutMs);
  if (proc.exitCode !== null) throw new Error(`tcpdump in ${ns.name} failed: ${err}`);
  return { proc, lines, done, stop: () => killGroup(proc, 'SIGTERM') };
}
