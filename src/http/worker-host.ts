/**
 * The HTTP endpoint in a worker thread, fed by the main thread (the VRRP thread).
 *
 * Why: the VRRP FSM, its timers and its raw sockets live on the main thread (raw-socket
 * polls libuv's default loop, so the VRRP I/O cannot move), and an advert is only as
 * punctual as that thread is free. Served from the main thread, fifty clients scraping
 * /metrics in a loop kept it on CPU 89 % of the time and the advert send lag p99 at
 * 3–10 ms (bench/send-lag.mjs, target 2 ms) even with the handler pacing of server.ts.
 * In the worker, parsing requests, TLS, basic auth, rendering and writing the bodies all
 * happen on another core; the main thread only
 *  - forwards the journal events the metrics count (METRIC_EVENT_TYPES), batched once per
 *    event-loop turn and after the turn's own work (setImmediate: an advert sent in this
 *    turn leaves before its event is copied), to a replica journal in the worker; and
 *  - answers "snapshot now" requests: the AgentSnapshot as a delta against the previous
 *    one (snapshot-wire.ts), plus its own default process/nodejs metrics once a second
 *    (heap, GC, event-loop lag of the VRRP thread — the worker's own would describe the
 *    wrong thread). The worker keeps at most one request outstanding, concurrent scrapes
 *    share the answer and a token bucket meters floods (worker-main.ts fresh()), so
 *    however many clients scrape, the main thread pays at most ~100 snapshots a second.
 *
 * Consistency is kept: a scrape is answered from a snapshot requested after the scrape
 * arrived, and the events that happened before that snapshot reach the replica first
 * (they are flushed ahead of the reply on the same ordered message port), so counters,
 * gauges and /json describe one instant, as they did in-process.
 *
 * A crashed worker is logged and restarted (its journal-fed counters restart from zero, which
 * Prometheus' rate()/increase() treat as a counter reset); the VRRP thread is never affected.
 */
import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { Registry } from 'prom-client';
import type { JournalEvent } from '../journal/events';
import type { Journal } from '../journal/journal';
import type { FamilyData } from '../observe/exposition';
import { METRIC_EVENT_TYPES as types, type TraceIdSource } from '../observe/metrics';
import type { SnapshotProvider } from '../state/snapshot';
import type { HttpServer, HttpServerOptions } from './server';
import { SnapshotEncoder, type WireSnapshot } from './snapshot-wire';

/** what the worker is started with (structured-clone safe) */
export interface HttpWorkerData {
  listenAddress?: string;
  telemetryPath?: string;
  webConfigFile?: string;
  limits?: HttpServerOptions['limits'];
  version?: string;
  vrrpDomain?: string;
  /** trace_id exemplars on the transition counter (the ids come with the events) */
  exemplars: boolean;
  /** the main thread's default metrics: names, help and types (values come with each snapshot) */
  defaultFamilies: { name: string; help: string; type: string }[];
}

export type ToWorker =
  | { t: 'ev'; evs: JournalEvent[] }
  | { t: 'r'; id: number; healthy: boolean; snap?: WireSnapshot; defaults?: FamilyData[]; costMs?: number }
  | { t: 'close' };

export type FromWorker =
  /** full: the worker could not apply a delta and wants whole instances */
  | { t: 'q'; id: number; snap: boolean; full?: boolean }
  | { t: 'ready'; address: AddressInfo; url: string }
  | { t: 'fail'; message: string; code?: string }
  | { t: 'err'; message: string }
  | { t: 'closed' };

export interface HttpWorkerOptions {
  listenAddress?: string;
  telemetryPath?: string;
  webConfigFile?: string;
  limits?: HttpServerOptions['limits'];
  journal: Journal;
  snapshot: SnapshotProvider;
  healthy: () => boolean;
  /** the main thread's default metrics registry (addDefaultMetrics), if they are wanted */
  defaultMetrics?: Registry;
  tracing?: TraceIdSource;
  version?: string;
  vrrpDomain?: string;
  /** errors the worker handled or hit (render failures, socket errors); a crash has `crash: true` */
  onError?: (err: Error) => void;
  /** delay before a crashed worker is restarted (default 1 s, doubling up to 30 s) */
  restartDelayMs?: number;
}

/** the compiled worker script (src/http/worker-main.ts); from dist/ when running from src under vitest */
function workerEntry(): string {
  const here = path.join(__dirname, 'worker-main.js');
  if (fs.existsSync(here)) return here;
  return path.resolve(__dirname, '../../dist/http/worker-main.js');
}

/** how old the default process/nodejs metrics in a scrape may be */
const DEFAULTS_MAX_AGE_MS = 1000;

/** most events kept for a worker that is (re)starting or stuck; older ones are dropped */
const MAX_PENDING_EVENTS = 20_000;

export async function startHttpWorker(o: HttpWorkerOptions): Promise<HttpServer & { readonly worker: Worker | undefined; readonly restarts: number }> {
  const onError = o.onError ?? (() => undefined);
  const data: HttpWorkerData = {
    listenAddress: o.listenAddress,
    telemetryPath: o.telemetryPath,
    webConfigFile: o.webConfigFile,
    limits: o.limits,
    version: o.version,
    vrrpDomain: o.vrrpDomain,
    exemplars: !!o.tracing,
    defaultFamilies: o.defaultMetrics ? o.defaultMetrics.getMetricsAsArray().map((m) => ({ name: m.name, help: (m as unknown as { help: string }).help, type: String((m as unknown as { type: string }).type) })) : [],
  };

  let worker: Worker | undefined;
  let closing = false;
  let restarts = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  let delay = o.restartDelayMs ?? 1000;

  // what the current worker has of the snapshot: only changed fields are sent (snapshot-wire.ts)
  const encoder = new SnapshotEncoder();

  // ---- journal → worker, one message per event-loop turn ----
  let unsolicitedAt = -Infinity;
  let pending: JournalEvent[] = [];
  let flushScheduled: NodeJS.Immediate | undefined;
  const flush = (): void => {
    if (flushScheduled) clearImmediate(flushScheduled);
    flushScheduled = undefined;
    if (!worker || !pending.length) return;
    const evs = pending;
    pending = [];
    // The worker labels an instance's series from the snapshot (vrrp_domain comes from
    // its VIPs): events of an instance it has not seen in a snapshot yet (start-up, a
    // reload adding one) go after a snapshot that has it, as the in-process metrics looked
    // the instance up in a live snapshot. At most one such extra snapshot per second.
    const now = performance.now();
    if (now - unsolicitedAt >= 1000 && evs.some((e) => 'instance' in e && typeof e.instance === 'string' && !encoder.has(e.instance))) {
      unsolicitedAt = now;
      try {
        worker.postMessage({ t: 'r', id: 0, healthy: o.healthy(), snap: encoder.encode(o.snapshot()) } satisfies ToWorker);
      } catch (e) {
        onError(e as Error);
      }
    }
    if (o.tracing)
      for (let k = 0; k < evs.length; k++) {
        const e = evs[k];
        if (e.type === 'vrrp.transition') {
          // the transition's span exists by now (tracing observes the same journal)
          const id = o.tracing.traceIdFor(e);
          if (id) evs[k] = { ...e, traceId: id } as JournalEvent;
        }
      }
    worker.postMessage({ t: 'ev', evs } satisfies ToWorker);
  };
  const unsubscribe = o.journal.subscribe((e) => {
    if (!types.has(e.type) || closing) return;
    if (pending.length >= MAX_PENDING_EVENTS) pending.shift();
    pending.push(e);
    if (!flushScheduled && worker) flushScheduled = setImmediate(flush);
  });

  // ---- snapshot requests ----
  let defaultsAt = -Infinity;
  const answer = async (w: Worker, q: Extract<FromWorker, { t: 'q' }>): Promise<void> => {
    let reply: ToWorker;
    try {
      // The default process_* / nodejs_* metrics are refreshed at most once a second and
      // sent only when refreshed: collecting them costs this thread ~0.5 ms (event-loop
      // delay percentiles, /proc reads, readdir of /proc/self/fd), more than the snapshot
      // itself, and a scrape flood would otherwise pay it hundreds of times a second.
      // (prom-client's event-loop-lag gauge waits one loop turn, so its wall time is no
      // measure of its cost: the cost reported below is the snapshot's, which is what the
      // worker's metering paces.)
      let defaults: FamilyData[] | undefined;
      const now = performance.now();
      if (q.snap && o.defaultMetrics && now - defaultsAt >= DEFAULTS_MAX_AGE_MS) {
        defaultsAt = now;
        defaults = (await o.defaultMetrics.getMetricsAsJSON()) as unknown as FamilyData[];
      }
      const t0 = performance.now();
      flush(); // everything before this instant reaches the replica before the snapshot
      if (q.full) encoder.reset();
      reply = { t: 'r', id: q.id, healthy: o.healthy(), ...(q.snap ? { snap: encoder.encode(o.snapshot()), defaults } : {}) };
      if (worker !== w) return;
      w.postMessage(reply); // the structured clone is made here, on this thread
      if (q.snap) w.postMessage({ t: 'r', id: 0, healthy: reply.healthy, costMs: performance.now() - t0 } satisfies ToWorker);
      return;
    } catch (e) {
      onError(e as Error);
      reply = { t: 'r', id: q.id, healthy: false };
    }
    if (worker === w) w.postMessage(reply);
  };

  const spawn = (): Promise<{ address: AddressInfo; url: string }> =>
    new Promise((resolve, reject) => {
      let ready = false;
      const w = new Worker(workerEntry(), {
        workerData: data,
        // The worker renders and buffers scrape bodies (2 MB for 255 instances): a small
        // young generation keeps its RSS from growing with a flood of scrapes.
        resourceLimits: { maxYoungGenerationSizeMb: 8 },
      });
      worker = w;
      encoder.reset();
      defaultsAt = -Infinity;
      unsolicitedAt = -Infinity;
      w.on('message', (m: FromWorker) => {
        switch (m.t) {
          case 'q':
            void answer(w, m);
            break;
          case 'ready':
            ready = true;
            delay = o.restartDelayMs ?? 1000;
            resolve({ address: m.address, url: m.url });
            break;
          case 'fail': {
            const err = Object.assign(new Error(m.message), m.code ? { code: m.code } : {});
            if (!ready) reject(err);
            else onError(err);
            void w.terminate();
            break;
          }
          case 'err':
            onError(new Error(m.message));
            break;
          default:
            break;
        }
      });
      w.on('error', (e) => onError(e));
      w.on('exit', (code) => {
        if (worker === w) worker = undefined;
        if (!ready) {
          reject(new Error(`HTTP worker exited during start-up (${code})`));
          return;
        }
        if (closing) return;
        onError(Object.assign(new Error(`HTTP worker exited (${code}); restarting in ${delay} ms`), { crash: true }));
        restartTimer = setTimeout(() => {
          restartTimer = undefined;
          if (closing) return;
          restarts++;
          spawn().catch((e: Error) => onError(Object.assign(new Error(`HTTP worker restart failed: ${e.message}`), { crash: true })));
        }, delay);
        restartTimer.unref();
        delay = Math.min(delay * 2, 30_000);
      });
      // events that happened while no worker was running
      if (pending.length && !flushScheduled) flushScheduled = setImmediate(flush);
    });

  let first: { address: AddressInfo; url: string };
  try {
    first = await spawn();
  } catch (e) {
    closing = true;
    unsubscribe();
    throw e;
  }

  return {
    address: first.address,
    url: first.url,
    get worker() {
      return worker;
    },
    get restarts() {
      return restarts;
    },
    async close() {
      closing = true;
      unsubscribe();
      if (restartTimer) clearTimeout(restartTimer);
      if (flushScheduled) clearImmediate(flushScheduled);
      const w = worker;
      if (!w) return;
      // let the worker close its listener and connections (fastify's close); then stop it
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 5000);
        t.unref();
        w.on('message', (m: FromWorker) => {
          if (m.t === 'closed') {
            clearTimeout(t);
            resolve();
          }
        });
        w.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        w.postMessage({ t: 'close' } satisfies ToWorker);
      });
      worker = undefined;
      await w.terminate();
    },
  };
}
