/**
 * vrrp_track_process (keepalived 2.2.7 core/track_process.c): counts processes whose
 * name (and optionally parameters) match, and reports whether the count is within
 * quorum .. quorum_max.
 *
 * keepalived scans /proc once and then follows the kernel's proc connector
 * (PROC_EVENTS). Node has no netlink connector socket, so we rescan /proc on a short
 * period instead (default 200 ms — well under the 1 s advert interval most configs
 * use); matching rules are keepalived's: exact match of /proc/PID/comm (the
 * "Name:" shown in status, 15 chars) unless `full_command` (argv[0] of cmdline);
 * with parameters, exact / `initial` / `partial` matching of the rest of cmdline;
 * zombies are not counted.
 */
import * as fs from 'node:fs';

export interface ProcessMatch {
  process: string;
  params?: string[];
  paramMatch?: 'exact' | 'initial' | 'partial';
  fullCommand?: boolean;
}

function readProc(pid: string): { comm: string; argv: string[]; zombie: boolean } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const state = stat.slice(close + 2, close + 3);
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const raw = fs.readFileSync(`/proc/${pid}/cmdline`);
    const argv = raw.length ? raw.toString('utf8').replace(/\0$/, '').split('\0') : [];
    return { comm, argv, zombie: state === 'Z' || state === 'X' };
  } catch {
    return null; // exited while we looked
  }
}

export function matches(m: ProcessMatch, p: { comm: string; argv: string[] }): boolean {
  const name = m.fullCommand ? (p.argv[0] ?? '') : p.comm;
  // comm is truncated to 15 characters by the kernel (TASK_COMM_LEN).
  const want = m.fullCommand ? m.process : m.process.slice(0, 15);
  if (name !== want) return false;
  if (!m.params || m.params.length === 0) return true;
  const have = p.argv.slice(1);
  const mode = m.paramMatch ?? 'exact';
  if (mode === 'exact') return have.length === m.params.length && have.every((a, i) => a === m.params![i]);
  if (mode === 'initial') return m.params.every((a, i) => have[i] === a);
  // partial: the parameter string appears within the process's parameters
  return have.join(' ').includes(m.params.join(' '));
}

export function countMatching(m: ProcessMatch): number {
  let n = 0;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const p = readProc(pid);
    if (p && !p.zombie && matches(m, p)) n++;
  }
  return n;
}

export interface ProcessTrackerOptions extends ProcessMatch {
  name: string;
  quorum: number;
  quorumMax?: number;
  pollMs?: number;
}

export class ProcessTracker {
  running = 0;
  quorumMet = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly opts: ProcessTrackerOptions,
    private readonly onChange: (name: string, running: number, quorumMet: boolean) => void,
  ) {
    this.sample(false);
  }

  private sample(report: boolean): void {
    const running = countMatching(this.opts);
    const met = running >= this.opts.quorum && (this.opts.quorumMax === undefined || running <= this.opts.quorumMax);
    const changed = running !== this.running || met !== this.quorumMet;
    this.running = running;
    this.quorumMet = met;
    if (report && changed) this.onChange(this.opts.name, running, met);
  }

  start(): void {
    const every = this.opts.pollMs ?? 200;
    const tick = () => {
      this.sample(true);
      this.timer = setTimeout(tick, every);
      this.timer.unref?.();
    };
    this.timer = setTimeout(tick, every);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
