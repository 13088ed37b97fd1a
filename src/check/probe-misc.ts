/**
 * MISC_CHECK (keepalived check/check_misc.c): run misc_path (as `user [group]` when set)
 * with misc_timeout, through the same runner as the notify scripts (src/notify/command.ts:
 * exec'd directly when the first word is an executable, else via /bin/sh -c; own process
 * group; SIGTERM then SIGKILL on timeout). Exit 0 = success; with misc_dynamic, exit
 * 2..255 = success too and the real server's weight becomes exit - 2 (machine.ts applies
 * it); any other exit, a signal or the timeout = failure.
 */
import { resolveUser, runCommand } from '../notify/command';
import type { MiscCheckSpec, ProbeOutcome } from './types';

export async function probeMisc(spec: MiscCheckSpec): Promise<ProbeOutcome> {
  const user = resolveUser(spec.user, spec.group);
  if (user instanceof Error) return { ok: false, exitCode: null, detail: `cannot run ${spec.path}: ${user.message}` };
  const r = await runCommand(spec.path, { timeoutMs: spec.timeoutMs, ...(user ? { user } : {}) });
  if (r.error) return { ok: false, exitCode: null, detail: `cannot run ${spec.path}: ${r.error}` };
  if (r.timedOut) return { ok: false, timeout: true, exitCode: null, detail: `timed out after ${spec.timeoutMs} ms` };
  if (r.exitCode === null) return { ok: false, exitCode: null, detail: `killed by ${r.signal}` };
  const ok = r.exitCode === 0 || (spec.dynamic && r.exitCode >= 2 && r.exitCode <= 255);
  return { ok, exitCode: r.exitCode, detail: `exited with status ${r.exitCode}` };
}
