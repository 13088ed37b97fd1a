/**
 * bcrypt off the main thread. bcryptjs is pure JavaScript and its "async" API still runs
 * up to 100 ms of uninterrupted work per slice (bcryptjs MAX_EXECUTION_TIME) — a cost-10
 * compare is one such slice. On the thread that runs the VRRP FSM that is a 100 ms stall
 * (10× a 10 ms advert interval), so every compare/hash runs in a worker thread instead.
 */
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const bcrypt = require(workerData.bcryptPath);
parentPort.on('message', (m) => {
  let p;
  try {
    p = m.op === 'hash' ? bcrypt.hash(m.a, m.b) : bcrypt.compare(m.a, m.b);
  } catch (e) {
    p = Promise.reject(e);
  }
  p.then(
    (r) => parentPort.postMessage({ id: m.id, r }),
    (e) => parentPort.postMessage({ id: m.id, err: String(e && e.message || e) }),
  );
});
`;

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class BcryptWorker {
  private worker?: Worker;
  private seq = 0;
  private pending = new Map<number, Pending>();
  private closed = false;

  constructor(private readonly timeoutMs = 10_000) {}

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { bcryptPath: require.resolve('bcryptjs') } });
    w.unref();
    w.on('message', (m: { id: number; r?: unknown; err?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.err !== undefined) p.reject(new Error(m.err));
      else p.resolve(m.r);
    });
    const fail = (err: Error) => {
      if (this.worker === w) this.worker = undefined;
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(err);
        this.pending.delete(id);
      }
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`bcrypt worker exited (${code})`)));
    this.worker = w;
    return w;
  }

  private call<T>(op: 'hash' | 'compare', a: string, b: string | number): Promise<T> {
    if (this.closed) return Promise.reject(new Error('bcrypt worker closed'));
    const w = this.ensure();
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error('bcrypt timed out'));
      }, this.timeoutMs);
      timer.unref();
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      w.postMessage({ id, op, a, b });
    });
  }

  compare(password: string, hash: string): Promise<boolean> {
    return this.call<boolean>('compare', password, hash);
  }

  hash(password: string, cost: number): Promise<string> {
    return this.call<string>('hash', password, cost);
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}
