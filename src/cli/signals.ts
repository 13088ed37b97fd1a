/**
 * Signal handling, keepalived-compatible (keepalived 2.2.7 lib/signals.c get_signum()):
 *   STOP=SIGTERM(15) (SIGINT too), RELOAD=SIGHUP(1), DATA=SIGUSR1(10), STATS=SIGUSR2(12),
 *   STATS_CLEAR=SIGRTMAX-1(63), JSON=SIGRTMIN+2(36).
 * `keepwatch --signum=NAME` prints exactly the numbers this module really handles, so
 * `kill -s $(keepwatch --signum=JSON) $(cat PIDFILE)` works as with keepalived.
 *
 * Real-time signals: Node 20 cannot listen for them through process.on, and an
 * unhandled SIGRTMIN+2 terminates the process. We catch them with a tiny N-API addon
 * (native/rtsignal) built on libuv's uv_signal, the same mechanism Node uses for the
 * named signals — see native/rtsignal/rtsignal.c for why.
 */
import * as path from 'node:path';

export const SIGNUMS: Record<string, number> = {
  STOP: 15,
  RELOAD: 1,
  DATA: 10,
  STATS: 12,
  STATS_CLEAR: 63,
  JSON: 36,
};

export interface SignalHandlers {
  stop(signal: string): void;
  reload(): void;
  data(): void;
  stats(): void;
  statsClear(): void;
  json(): void;
}

interface RtSignal {
  watch(signum: number, cb: (signum: number) => void): number;
  unwatch(id: number): void;
}

let rt: RtSignal | null | undefined;
export function loadRtSignal(): RtSignal | null {
  if (rt !== undefined) return rt;
  const candidates = [
    path.join(__dirname, '..', '..', 'native', 'rtsignal', 'build', 'Release', 'rtsignal.node'),
    path.join(__dirname, '..', '..', '..', 'native', 'rtsignal', 'build', 'Release', 'rtsignal.node'),
  ];
  for (const c of candidates) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      rt = require(c) as RtSignal;
      return rt;
    } catch {
      /* try next */
    }
  }
  rt = null;
  return rt;
}

/**
 * Install handlers; returns an uninstaller. Always listens for SIGUSR1 (without a
 * listener Node opens its inspector on SIGUSR1 — npm-feasibility §7).
 */
export function installSignalHandlers(h: SignalHandlers, onWarn: (msg: string) => void = () => {}): () => void {
  const named: [NodeJS.Signals, () => void][] = [
    ['SIGTERM', () => h.stop('SIGTERM')],
    ['SIGINT', () => h.stop('SIGINT')],
    ['SIGHUP', () => h.reload()],
    ['SIGUSR1', () => h.data()],
    ['SIGUSR2', () => h.stats()],
  ];
  for (const [s, f] of named) process.on(s, f);
  const ids: number[] = [];
  const addon = loadRtSignal();
  if (addon) {
    ids.push(addon.watch(SIGNUMS.JSON, () => h.json()));
    ids.push(addon.watch(SIGNUMS.STATS_CLEAR, () => h.statsClear()));
  } else {
    onWarn('native/rtsignal addon not built: JSON (SIGRTMIN+2) and STATS_CLEAR (SIGRTMAX-1) signals are unavailable; use /json');
  }
  return () => {
    for (const [s, f] of named) process.off(s, f);
    if (addon) for (const id of ids) addon.unwatch(id);
  };
}
