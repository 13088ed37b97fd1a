/**
 * Running external commands the way keepalived does (lib/notify.c):
 * - the configured string is split into words honouring quotes (keepalived
 *   set_script_params_array); if the first word is an executable file it is exec'd
 *   directly, otherwise the whole string runs through /bin/sh -c (keepalived falls
 *   back to system());
 * - each command runs in its own process group (setpgid), so a timeout can kill the
 *   whole tree (kill(-pid)), as user/group `script_user` or the per-script user;
 * - on timeout: SIGTERM to the group, then SIGKILL 2 s later (vrrp_scheduler.c
 *   vrrp_script_child_thread), and the run counts as "timed_out".
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';

export function splitCommand(cmd: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < cmd.length) cur += cmd[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < cmd.length) {
      cur += cmd[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

/** keepalived prints commands as space-separated single-quoted words ("'/path' 'arg'"). */
export function quoteForDisplay(argv: string[]): string {
  return argv.map((a) => `'${a}'`).join(' ');
}

export interface UserIds {
  uid: number;
  gid: number;
}

/** Resolve "user [group]" through /etc/passwd and /etc/group (no NSS modules in Node). */
export function resolveUser(user?: string, group?: string): UserIds | Error | undefined {
  if (!user) return undefined;
  const lookup = (file: string, name: string): string[] | undefined => {
    try {
      for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        const f = line.split(':');
        if (f[0] === name) return f;
      }
    } catch {
      /* unreadable: treated as unknown */
    }
    return undefined;
  };
  const pw = /^\d+$/.test(user) ? ['', '', user, user] : lookup('/etc/passwd', user);
  if (!pw) return new Error(`unknown user '${user}'`);
  let gid = Number(pw[3]);
  if (group) {
    const gr = /^\d+$/.test(group) ? ['', '', group] : lookup('/etc/group', group);
    if (!gr) return new Error(`unknown group '${group}'`);
    gid = Number(gr[2]);
  }
  return { uid: Number(pw[2]), gid };
}

function isExecutableFile(p: string): boolean {
  try {
    const st = fs.statSync(p);
    if (!st.isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface RunOptions {
  /** extra arguments appended after the configured words (generic `notify` gets 4) */
  extraArgs?: string[];
  user?: UserIds;
  /** 0/undefined = no timeout */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  durationMs: number;
  error?: string;
  pid?: number;
}

/** Never rejects: spawn failures come back as a result with `error`. */
export function runCommand(command: string, opts: RunOptions = {}): Promise<RunResult> {
  const start = performance.now();
  const words = splitCommand(command);
  const extra = opts.extraArgs ?? [];
  let file: string;
  let args: string[];
  if (words.length && isExecutableFile(words[0])) {
    file = words[0];
    args = [...words.slice(1), ...extra];
  } else {
    // system() fallback, with extra arguments quoted for the shell.
    file = '/bin/sh';
    args = ['-c', [command, ...extra.map((a) => `'${a.replace(/'/g, `'\\''`)}'`)].join(' ')];
  }
  return new Promise((resolve) => {
    let done = false;
    let timedOut = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (r: Omit<RunResult, 'durationMs' | 'timedOut'>) => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      resolve({ ...r, timedOut, durationMs: performance.now() - start });
    };
    let child;
    try {
      child = spawn(file, args, {
        detached: true, // setpgid: a timeout kills the whole group
        stdio: 'ignore',
        env: opts.env ?? process.env,
        uid: opts.user?.uid,
        gid: opts.user?.gid,
      });
    } catch (e) {
      finish({ exitCode: null, signal: null, error: (e as Error).message });
      return;
    }
    child.on('error', (e) => finish({ exitCode: null, signal: null, error: e.message, pid: child.pid }));
    child.on('exit', (code, signal) => finish({ exitCode: code, signal, pid: child.pid }));
    if (opts.timeoutMs && opts.timeoutMs > 0) {
      const killGroup = (sig: NodeJS.Signals) => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, sig);
        } catch {
          /* already gone */
        }
      };
      timers.push(
        setTimeout(() => {
          timedOut = true;
          killGroup('SIGTERM');
          timers.push(setTimeout(() => killGroup('SIGKILL'), 2000));
        }, opts.timeoutMs),
      );
    }
  });
}
