/**
 * Pid files as keepalived writes them (core/pidfile.c): the decimal pid and a newline,
 * mode 0644; a pid file naming a live process means "already running" and start-up
 * is refused; the files are removed on a clean exit.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function readPid(file: string): number | null {
  try {
    const n = parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Returns null on success, or an error message (already running / cannot write). */
export function writePidFile(file: string, pid = process.pid): string | null {
  const other = readPid(file);
  if (other !== null && other !== pid && processAlive(other)) return `daemon is already running (pid ${other} in ${file})`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${pid}.tmp`;
    fs.writeFileSync(tmp, `${pid}\n`, { mode: 0o644 });
    fs.renameSync(tmp, file);
    return null;
  } catch (e) {
    return `cannot write pid file ${file}: ${(e as Error).message}`;
  }
}

export function removePidFile(file: string, pid = process.pid): void {
  if (readPid(file) === pid) {
    try {
      fs.unlinkSync(file);
    } catch {
      /* already gone */
    }
  }
}
