/**
 * The one-shot completion a socket probe needs (TCP_CHECK, DNS_CHECK): the first of its
 * own outcome, connect_timeout or an abort (the engine stopping or a reload removing the
 * checker) settles it. Later calls are ignored, so a late socket error cannot resolve
 * twice, and `release` closes the socket exactly once.
 */
import type { ProbeOutcome } from './types';

export function settleOnce(
  resolve: (o: ProbeOutcome) => void,
  timeoutMs: number,
  timeoutDetail: string,
  signal: AbortSignal | undefined,
  release: () => void,
): (o: ProbeOutcome) => void {
  let done = false;
  const finish = (o: ProbeOutcome) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    release();
    resolve(o);
  };
  const onAbort = () => finish({ ok: false, detail: 'aborted' });
  const timer = setTimeout(() => finish({ ok: false, timeout: true, detail: timeoutDetail }), timeoutMs);
  signal?.addEventListener('abort', onAbort, { once: true });
  return finish;
}
