/**
 * The one-shot completion a socket probe needs (TCP_CHECK, DNS_CHECK): the first of its
 * own outcome, connect_timeout or an abort (the engine stopping or a reload removing the
 * checker) settles it. Later calls are ignored, so a late socket error cannot resolve
 * twice, and `release` closes the socket exactly once.
 *
 * Aborts: the engine gives each checker one AbortSignal for its lifetime and runs one probe
 * of it at a time, thousands of probes per second in all. Adding and removing an 'abort'
 * listener per probe goes through EventTarget's listener bookkeeping (~1 KB allocated per
 * probe, bench/lvs-checkers.ts); instead each signal gets one listener, once, that settles
 * whatever probes of that signal are pending when it fires.
 */
import type { ProbeOutcome } from './types';

type Finish = (o: ProbeOutcome) => void;

/** The pending probes of one signal: almost always exactly one, kept without a collection. */
interface Pending {
  one: Finish | null;
  more: Set<Finish> | null;
}

const pendingBySignal = new WeakMap<AbortSignal, Pending>();

function watch(signal: AbortSignal, finish: Finish): void {
  let p = pendingBySignal.get(signal);
  if (!p) {
    const q: Pending = { one: null, more: null };
    p = q;
    pendingBySignal.set(signal, q);
    signal.addEventListener(
      'abort',
      () => {
        const all = [...(q.more ?? [])];
        if (q.one) all.unshift(q.one);
        for (const f of all) f({ ok: false, detail: 'aborted' });
      },
      { once: true },
    );
  }
  if (p.one === null) p.one = finish;
  else (p.more ??= new Set()).add(finish);
}

function unwatch(signal: AbortSignal, finish: Finish): void {
  const p = pendingBySignal.get(signal);
  if (!p) return;
  if (p.one === finish) p.one = null;
  else p.more?.delete(finish);
}

export function settleOnce(resolve: (o: ProbeOutcome) => void, timeoutMs: number, timeoutDetail: string, signal: AbortSignal | undefined, release: () => void): Finish {
  let done = false;
  const finish: Finish = (o) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    if (signal) unwatch(signal, finish);
    release();
    resolve(o);
  };
  const timer = setTimeout(() => finish({ ok: false, timeout: true, detail: timeoutDetail }), timeoutMs);
  if (signal?.aborted) {
    // already aborted: its 'abort' event has been dispatched and will not come again
    queueMicrotask(() => finish({ ok: false, detail: 'aborted' }));
  } else if (signal) watch(signal, finish);
  return finish;
}
