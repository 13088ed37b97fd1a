/**
 * Live keepwatch daemons for the test/obs/live-*.test.ts suites: the real binary in a lab
 * namespace, in its DEFAULT log mode (no -l: pino JSON lines on stdout, one per journal
 * event that matters), so the structured log is one of the channels under test.
 * (test/helpers/agent.ts starts the daemon with -l -D for keepalived's console strings.)
 *
 *   ip netns exec NS bin/keepwatch -n -f CONF -p PID -r VPID -c CPID \
 *       --web.listen-address=127.0.0.1:PORT            (TMPDIR = the agent's directory)
 *
 * Every channel is read from outside the process, the way an operator would:
 * GET /metrics and /json with curl inside the namespace, the JSON signal dump
 * (`kill -s $(keepwatch --signum=JSON) PID` → $TMPDIR/keepalived.json), stdout lines.
 */
import { execFile, execFileSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { killGroup, waitFor, type Netns } from '../helpers/netns';
import { ensureBuilt, ROOT } from '../helpers/ns-node';
import { onLines } from '../helpers/lines';

const execFileP = promisify(execFile);
export const KEEPWATCH = path.join(ROOT, 'bin/keepwatch');

/** keepalived's JSON state numbers (vrrp_json.c) */
export const STATE_NAME = ['INIT', 'BACKUP', 'MASTER', 'FAULT'] as const;

/** One pino JSON record. */
export interface LogRecord {
  level: string;
  time: number;
  pid: number;
  event?: string;
  msg: string;
  [k: string]: unknown;
}

export interface JsonInstance {
  data: { iname: string; vrid: number; state: number; last_transition: number; effective_priority: number; [k: string]: unknown };
  stats: { become_master: number; release_master: number; advert_sent: number; advert_rcvd: number; [k: string]: number };
}

export interface LiveAgent {
  ns: Netns;
  dir: string;
  port: number;
  pid: number;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
  /** parsed stdout JSON records so far (non-JSON lines are kept in `other()`) */
  records(): LogRecord[];
  other(): string[];
  stderr(): string;
  /** GET a path on the agent's HTTP listener (from inside its namespace) */
  get(p: string, accept?: string): Promise<string>;
  metrics(accept?: string): Promise<string>;
  json(): Promise<JsonInstance[]>;
  /** the JSON signal: removes $TMPDIR/keepalived.json, signals, waits for a complete new file */
  jsonDump(): Promise<JsonInstance[]>;
  waitState(state: (typeof STATE_NAME)[number], iname?: string, timeoutMs?: number): Promise<JsonInstance>;
  /** SIGTERM and wait for exit */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** kill -9 of the whole process group (daemon + scripts) */
  crash(): Promise<void>;
}

export interface LiveOptions {
  port: number;
  /** reuse this directory (a restart) */
  dir?: string;
  tag?: string;
  env?: Record<string, string>;
  args?: string[];
}

let jsonSignum: number | undefined;
/** keepalived --signum=JSON: the real-time signal number the daemon listens on for the JSON dump */
export function jsonSignal(): number {
  if (jsonSignum === undefined) jsonSignum = Number(execFileSync(KEEPWATCH, ['--signum=JSON'], { encoding: 'utf8' }).trim());
  if (!Number.isInteger(jsonSignum) || jsonSignum <= 0) throw new Error(`keepwatch --signum=JSON gave ${jsonSignum}`);
  return jsonSignum;
}

export async function startLive(ns: Netns, config: string, o: LiveOptions): Promise<LiveAgent> {
  ensureBuilt(['main.js', 'daemon/daemon.js']);
  const dir = o.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), `kwc-${o.tag ?? ns.name}-`));
  const conf = path.join(dir, 'keepalived.conf');
  fs.writeFileSync(conf, config);
  const args = ['-n', '-f', conf, '-p', path.join(dir, 'keepalived.pid'), '-r', path.join(dir, 'vrrp.pid'), '-c', path.join(dir, 'checkers.pid'), `--web.listen-address=127.0.0.1:${o.port}`, ...(o.args ?? [])];
  // no OTEL_* from the test runner's environment leaks in: tracing only where a test asks
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('OTEL_')) env[k] = v;
  Object.assign(env, { TMPDIR: dir }, o.env ?? {});
  // `ip netns exec` execs the daemon: child.pid is its PID and its process group
  const child = ns.spawn(KEEPWATCH, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const records: LogRecord[] = [];
  const other: string[] = [];
  let err = '';
  onLines(child.stdout!, (line) => {
    try {
      records.push(JSON.parse(line) as LogRecord);
    } catch {
      other.push(line);
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  const running = () => child.exitCode === null && child.signalCode === null;
  const tail = () => `\n--- ${ns.name} stdout tail ---\n${records.slice(-15).map((r) => `${r.event ?? ''} ${r.msg}`).join('\n')}\n${other.slice(-5).join('\n')}\n--- stderr ---\n${err.slice(-2000)}`;

  const get = async (p: string, accept?: string): Promise<string> => {
    const a = ['netns', 'exec', ns.name, 'curl', '-sf', '-m', '5', ...(accept ? ['-H', `Accept: ${accept}`] : []), `http://127.0.0.1:${o.port}${p}`];
    const { stdout } = await execFileP('ip', a, { encoding: 'utf8', timeout: 15_000, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  };
  const json = async () => JSON.parse(await get('/json')) as JsonInstance[];
  const dumpFile = path.join(dir, 'keepalived.json');

  const agent: LiveAgent = {
    ns,
    dir,
    port: o.port,
    pid: child.pid ?? 0,
    child,
    exited,
    running,
    records: () => records,
    other: () => other,
    stderr: () => err,
    get,
    metrics: (accept) => get('/metrics', accept),
    json,
    async jsonDump() {
      fs.rmSync(dumpFile, { force: true });
      process.kill(child.pid!, jsonSignal());
      return waitFor(
        () => {
          if (!running()) throw new Error(`agent exited${tail()}`);
          if (!fs.existsSync(dumpFile)) return undefined;
          try {
            return JSON.parse(fs.readFileSync(dumpFile, 'utf8')) as JsonInstance[];
          } catch {
            return undefined; // still being written
          }
        },
        `${dumpFile} after the JSON signal`,
        20_000,
        25,
      ).then((d) => d!);
    },
    waitState: (state, iname = 'VI_1', timeoutMs = 30_000) =>
      waitFor(
        async () => {
          if (!running()) throw new Error(`keepwatch in ${ns.name} exited${tail()}`);
          const i = (await json()).find((x) => x.data.iname === iname);
          return i && STATE_NAME[i.data.state] === state ? i : undefined;
        },
        `${iname} ${state} in ${ns.name}`,
        timeoutMs,
        50,
      ).then(
        (i) => i!,
        (e: Error) => {
          throw new Error(`${e.message}${tail()}`);
        },
      ),
    async stop(timeoutMs = 20_000) {
      if (!running()) return exited;
      process.kill(child.pid!, 'SIGTERM');
      const r = await Promise.race([exited, new Promise<null>((res) => setTimeout(() => res(null), timeoutMs).unref())]);
      if (r) {
        // a clean stop exits 0; anything else (killed by a signal, an error code) is worth seeing
        if (r.code !== 0) process.stderr.write(`keepwatch in ${ns.name} exited with ${r.code ?? r.signal} after SIGTERM${tail()}\n`);
        return r;
      }
      killGroup(child, 'SIGKILL');
      throw new Error(`keepwatch in ${ns.name} did not exit within ${timeoutMs} ms of SIGTERM; killed${tail()}`);
    },
    async crash() {
      if (!running()) return;
      killGroup(child, 'SIGKILL');
      await exited;
    },
  };
  await waitFor(
    async () => {
      if (!running()) throw new Error(`keepwatch in ${ns.name} exited at start${tail()}`);
      return (await json().catch(() => null)) !== null;
    },
    `keepwatch /json in ${ns.name}`,
    30_000,
    50,
  );
  return agent;
}

// ------------------------------------------------------------------ exposition parsing

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Text-format samples (enough for our own exposition: no escaped quotes in our label values). */
export function parseProm(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** value of the single sample of `name` matching `labels` (undefined if absent) */
export function promValue(samples: PromSample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${hits.length} series`);
  return hits[0]?.value;
}

/** Bag of "from>to:reason" keys → count. */
export type TransitionBag = Record<string, number>;
export const tkey = (from: unknown, to: unknown, reason: unknown): string => `${String(from)}>${String(to)}:${String(reason)}`;

export function bagOf(items: { from: unknown; to: unknown; reason: unknown }[]): TransitionBag {
  const bag: TransitionBag = {};
  for (const i of items) bag[tkey(i.from, i.to, i.reason)] = (bag[tkey(i.from, i.to, i.reason)] ?? 0) + 1;
  return bag;
}

/** keepalived_vrrp_transitions_total of one instance as a bag (zero series dropped). */
export function metricTransitions(samples: PromSample[], iname: string): TransitionBag {
  const bag: TransitionBag = {};
  for (const s of samples) {
    if (s.name !== 'keepalived_vrrp_transitions_total' || s.labels.iname !== iname || s.value === 0) continue;
    const k = tkey(s.labels.from, s.labels.to, s.labels.reason);
    bag[k] = (bag[k] ?? 0) + s.value;
  }
  return bag;
}

/** Sorted copy, so bags compare with toEqual regardless of insertion order. */
export function sortBag(b: TransitionBag): TransitionBag {
  return Object.fromEntries(Object.entries(b).sort(([x], [y]) => (x < y ? -1 : 1)));
}

export function sumBag(b: TransitionBag, pred: (from: string, to: string, reason: string) => boolean): number {
  let n = 0;
  for (const [k, v] of Object.entries(b)) {
    const m = /^(\w+)>(\w+):(\w+)$/.exec(k)!;
    if (pred(m[1]!, m[2]!, m[3]!)) n += v;
  }
  return n;
}

/** Remove node directories we created (after the agents are gone). */
export function removeDirs(dirs: Iterable<string>): void {
  for (const d of new Set(dirs)) if (path.basename(d).startsWith('kwc-')) fs.rmSync(d, { recursive: true, force: true });
}
