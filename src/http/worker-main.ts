/**
 * The HTTP worker thread (started by worker-host.ts): fastify (server.ts), the metrics
 * families (createMetrics over a replica journal) and the /json renderer, all fed from
 * the main thread — see worker-host.ts for why and for the message protocol.
 */
import * as koffi from 'koffi';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import type { JournalEvent } from '../journal/events';
import { Journal } from '../journal/journal';
import type { FamilyData, MetricLike } from '../observe/exposition';
import { renderKeepalivedJson } from '../observe/json';
import { createMetrics } from '../observe/metrics';
import type { AgentSnapshot } from '../state/snapshot';
import { startHttpServer, type HttpServer } from './server';
import { SnapshotDecoder } from './snapshot-wire';
import type { FromWorker, HttpWorkerData, ToWorker } from './worker-host';

const port = parentPort;
if (!port) throw new Error('worker-main.ts runs as a worker thread');
const data = workerData as HttpWorkerData;
const post = (m: FromWorker): void => port.postMessage(m);

/**
 * This thread yields the CPU to the VRRP thread: nice 19 (setpriority on the thread id —
 * on Linux a "process" priority with a thread id applies to that thread only, see
 * setpriority(2) BUGS). On a 2-core box under a scrape flood the main thread otherwise
 * waits on the run queue behind this one, and its adverts leave late (bench/send-lag.mjs,
 * 20 s of 50 scrapers: the VRRP thread waited 1.6 s for a CPU at nice 10, 0.3 s at 19).
 */
export const HTTP_THREAD_NICE = 19;
try {
  const libc = koffi.load('libc.so.6');
  const gettid = libc.func('int gettid()') as () => number;
  const setpriority = libc.func('int setpriority(int, unsigned int, int)') as (which: number, who: number, prio: number) => number;
  setpriority(0 /* PRIO_PROCESS */, gettid(), HTTP_THREAD_NICE);
} catch {
  // no koffi / libc here: the thread keeps the process' priority
}

// ---- replica journal and metrics (created before any message is handled) ----
const journal = new Journal();
let current: AgentSnapshot | undefined;
let defaults = new Map<string, FamilyData>();
const snapshot = (): AgentSnapshot => {
  if (!current) throw new Error('no snapshot from the main thread yet');
  return current;
};
// the main thread's default metrics: rendered from the values that came with the snapshot
const extraMetrics: MetricLike[] = data.defaultFamilies.map((f) => ({
  name: f.name,
  get: (): FamilyData => defaults.get(f.name) ?? { name: f.name, help: f.help, type: f.type, values: [] },
}));
const metrics = createMetrics(journal, snapshot, {
  defaultMetrics: false,
  extraMetrics,
  version: data.version,
  vrrpDomain: data.vrrpDomain,
  // the main thread put the span's trace id on the forwarded transition event
  tracingExemplars: data.exemplars ? { traceIdFor: (e) => (e as JournalEvent & { traceId?: string }).traceId } : undefined,
});

// ---- requests to the main thread ----
interface Reply {
  healthy: boolean;
  snap?: AgentSnapshot;
}
const REQUEST_TIMEOUT_MS = 5000;
let seq = 0;
const waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
const decoder = new SnapshotDecoder();
/** a delta did not apply: the next request asks for whole instances */
let needFull = false;
function ask(snap: boolean): Promise<Reply> {
  const id = ++seq;
  return new Promise<Reply>((resolve, reject) => {
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error('the agent did not answer within 5 s'));
    }, REQUEST_TIMEOUT_MS);
    waiting.set(id, { resolve, reject, timer });
    const full = snap && needFull;
    if (full) needFull = false;
    post({ t: 'q', id, snap, ...(full ? { full } : {}) });
  });
}

/**
 * A snapshot taken after this call. At most one request is outstanding and callers share
 * the next one that is not posted yet: a crowd of scrapes costs the main thread one
 * snapshot per round trip, not one each. Requests are also metered by a token bucket:
 * a burst of SNAPSHOT_BURST right away, then one per SNAPSHOT_DUTY × what the last ones
 * cost the main thread (each reply says: ≤ ~1/6 of its time), and
 *  - while a crowd is scraping (more than one /metrics or /json request in flight), at most one per
 *    SNAPSHOT_CROWD_GAP_MS (100 a second). A crowd saturates both CPUs of a small box, and
 *    every snapshot is a wake-up of the VRRP thread that may then wait for a CPU: with 50
 *    clients flooding /metrics (bench/send-lag.mjs) a 3 ms gap doubled the VRRP thread's
 *    run-queue waits and took the advert send lag p99 to 2.0–3.0 ms (10 ms: 1.2–1.9 ms);
 *  - a lone scraper (Prometheus, curl, a scrape loop) only at most one per
 *    SNAPSHOT_SOLO_GAP_MS: it is served at full speed (bench/metrics-scrape.mjs: back to
 *    back 4.6 ms instead of 8 ms with the crowd's gap for 255 instances), the CPUs are not
 *    saturated and the duty limit bounds what it costs the VRRP thread.
 * A flood of scrapes is served slower, never at the adverts' expense; a Prometheus server
 * scraping every few seconds never waits.
 */
const SNAPSHOT_DUTY = 5;
const SNAPSHOT_CROWD_GAP_MS = 10;
const SNAPSHOT_SOLO_GAP_MS = 1;
const SNAPSHOT_BURST = 10;
let costMs = 0;
let tokens = SNAPSHOT_BURST;
let tokensAt = performance.now();
let inflight: Promise<Reply> | undefined;
/** the Accept headers of the scrapes waiting for the next snapshot (see fresh()) */
const warmFor = new Set<string | undefined>();
let gathering: Promise<Reply> | undefined;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
function refill(): number {
  const now = performance.now();
  // requests in flight, not renders: concurrent scrapes share one render (server.ts)
  const crowd = (server?.inFlight ?? 0) > 1;
  const gap = Math.max(crowd ? SNAPSHOT_CROWD_GAP_MS : SNAPSHOT_SOLO_GAP_MS, SNAPSHOT_DUTY * costMs);
  tokens = Math.min(SNAPSHOT_BURST, tokens + (now - tokensAt) / gap);
  tokensAt = now;
  return gap;
}
function fresh(): Promise<Reply> {
  if (gathering) return gathering;
  const p = (async () => {
    await null; // `gathering` is set below before this continues
    if (inflight) await inflight.catch(() => undefined);
    const gap = refill();
    if (tokens < 1) {
      await sleep((1 - tokens) * gap);
      refill();
    }
    tokens = Math.max(0, tokens - 1);
    gathering = undefined; // from here on, callers arrive after the request
    const q = ask(true);
    inflight = q;
    // While the main thread takes the snapshot, the event-fed families (histograms and
    // counters, ~40 % of a 255-instance render) are encoded: they do not need it, and the
    // render after the reply re-uses every one no event moved in between.
    for (const a of warmFor) metrics.warm(a);
    warmFor.clear();
    try {
      return await q;
    } finally {
      if (inflight === q) inflight = undefined;
    }
  })();
  gathering = p;
  return p;
}

let server: HttpServer | undefined;
port.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'ev':
      for (const e of m.evs) journal.emit(e as never); // keeps the event's own mono/wall
      break;
    case 'r': {
      if (m.costMs !== undefined) costMs = costMs ? 0.8 * costMs + 0.2 * m.costMs : m.costMs;
      let snap: AgentSnapshot | undefined;
      let err: Error | undefined;
      if (m.snap) {
        try {
          snap = current = decoder.decode(m.snap);
        } catch (e) {
          err = e as Error;
          decoder.reset();
          needFull = true;
          post({ t: 'err', message: `snapshot: ${err.message}` });
        }
        if (m.defaults) defaults = new Map(m.defaults.map((f) => [f.name, f]));
      }
      const w = waiting.get(m.id);
      if (w) {
        waiting.delete(m.id);
        clearTimeout(w.timer);
        if (err) w.reject(err);
        else w.resolve({ healthy: m.healthy, snap });
      }
      break;
    }
    case 'close':
      void (async () => {
        try {
          await server?.close();
        } finally {
          metrics.close();
          post({ t: 'closed' });
          port.close();
        }
      })();
      break;
    default:
      break;
  }
});

startHttpServer({
  listenAddress: data.listenAddress,
  telemetryPath: data.telemetryPath,
  webConfigFile: data.webConfigFile,
  limits: data.limits,
  metrics: {
    async render(accept) {
      await fresh();
      return metrics.render(accept);
    },
    async renderChunks(accept) {
      warmFor.add(accept);
      await fresh();
      return metrics.renderChunks(accept);
    },
  },
  // keepalived's exact bytes (the string is sent as is)
  json: async () => renderKeepalivedJson((await fresh()).snap ?? snapshot()),
  healthy: async () => (await ask(false)).healthy,
  onError: (e) => post({ t: 'err', message: e.message }),
}).then(
  (s) => {
    server = s;
    post({ t: 'ready', address: s.address, url: s.url });
  },
  (e: NodeJS.ErrnoException) => post({ t: 'fail', message: e.message, code: e.code }),
);
