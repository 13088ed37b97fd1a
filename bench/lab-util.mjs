// Small helpers shared by the namespace benches (send-lag.mjs, agent-scrape.mjs).
import * as fs from 'node:fs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** poll `fn` until it returns something truthy (errors count as "not yet"); bounded by `timeoutMs` */
export async function until(fn, what, timeoutMs = 30_000, everyMs = 50) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch {
      /* retry */
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** VmRSS of a process, MiB */
export function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
