/**
 * The real keepalived 2.2.7 (Debian package) as a peer in interop tests, started the
 * way shared/reference/keepalived-2.2.7/RESULTS.md §8 ran it: foreground, console log
 * with detail, no syslog, its own pid files and TMPDIR, inside a namespace.
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { killGroup, type Netns, waitFor } from './netns';

export interface Daemon {
  child: ChildProcess;
  dir: string;
  log(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function startKeepalived(ns: Netns, config: string, id = 'ka'): Daemon {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `kw-${id}-`));
  const conf = path.join(dir, 'keepalived.conf');
  fs.writeFileSync(conf, config);
  const args = ['-n', '-l', '-D', '-G', '-P', '-f', conf, '-p', `${dir}/keepalived.pid`, '-r', `${dir}/vrrp.pid`, '-c', `${dir}/checkers.pid`, '-b', `${dir}/bfd.pid`, '-i', id];
  const child = ns.spawn('/usr/sbin/keepalived', args, { env: { ...process.env, TMPDIR: dir } });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  return {
    child,
    dir,
    log: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (signal === 'SIGKILL') killGroup(child, 'SIGKILL');
      else child.pid !== undefined && process.kill(child.pid, signal);
      await waitFor(() => child.exitCode !== null || child.signalCode !== null, 'keepalived exit', 15_000).catch(() => killGroup(child));
    },
  };
}
