/**
 * Notify FIFOs (keepalived 2.2.7 vrrp/vrrp_notify.c notify_fifo, core/global_parser.c):
 * created with mkfifo when missing, opened read-write and non-blocking so a missing or
 * slow reader never blocks the daemon (keepalived opens O_RDWR for the same reason);
 * one line per event. A full pipe drops the line and reports it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import type { UserIds } from './command';

export class NotifyFifo {
  private fd: number | null = null;
  error: string | null = null;

  constructor(
    readonly path: string,
    private readonly owner?: UserIds,
  ) {}

  open(): boolean {
    try {
      let st: fs.Stats | null = null;
      try {
        st = fs.statSync(this.path);
      } catch {
        /* missing: create below */
      }
      if (st && !st.isFIFO()) throw new Error(`${this.path} exists and is not a FIFO`);
      if (!st) {
        // Node has no mkfifo(3); coreutils' mkfifo is always present where keepalived runs.
        const r = spawnSync('mkfifo', ['-m', '0600', this.path], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`mkfifo ${this.path}: ${(r.stderr || r.error?.message || '').trim()}`);
        if (this.owner) fs.chownSync(this.path, this.owner.uid, this.owner.gid);
      }
      this.fd = fs.openSync(this.path, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
      this.error = null;
      return true;
    } catch (e) {
      this.error = (e as Error).message;
      return false;
    }
  }

  /** Writes one line; returns null or an error message (never throws, never blocks). */
  write(line: string): string | null {
    if (this.fd === null && !this.open()) return this.error;
    try {
      fs.writeSync(this.fd!, line.endsWith('\n') ? line : `${line}\n`);
      return null;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EAGAIN' ? 'FIFO full: line dropped' : (e as Error).message;
    }
  }

  close(): void {
    if (this.fd !== null) {
      try {
        fs.closeSync(this.fd);
      } catch {
        /* ignore */
      }
    }
    this.fd = null;
  }
}
