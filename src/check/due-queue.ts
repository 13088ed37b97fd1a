/**
 * The checker engine's timer queue: an indexed binary min-heap of items ordered by
 * (due, seq). The engine keeps ONE scheduler timer for the earliest item instead of one
 * timer per checker (1000 checkers at delay_loop 1 s = 1000 timer objects and closures
 * allocated and dropped per second otherwise), and it decides how many due checkers start
 * per event-loop turn (engine.ts `drain`).
 *
 * Items carry their own heap position (`slot`), so re-arming and cancelling a checker
 * are O(log n) with no allocation. `seq` breaks ties first-armed-first-fired, the order
 * the scheduler's own timers fire in (and keepalived's timer list: check/thread.c keeps
 * timers sorted by expiry, inserting after equal ones).
 */

export interface DueItem {
  /** when it is due, on the scheduler's clock (ms); NaN while not queued */
  due: number;
  /** arm order, for ties */
  seq: number;
  /** position in the heap; -1 while not queued */
  slot: number;
}

function before(a: DueItem, b: DueItem): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}

export class DueQueue<T extends DueItem> {
  private heap: T[] = [];
  private nextSeq = 0;

  /** the seq given to the most recently scheduled item */
  get lastSeq(): number {
    return this.nextSeq;
  }

  get size(): number {
    return this.heap.length;
  }

  peek(): T | undefined {
    return this.heap[0];
  }

  has(item: T): boolean {
    return item.slot >= 0 && this.heap[item.slot] === item;
  }

  /** Queue `item` at `due`, or move it there when it is already queued (it then sorts after items already at `due`). */
  schedule(item: T, due: number): void {
    item.due = due;
    item.seq = ++this.nextSeq;
    if (this.has(item)) {
      this.up(item.slot);
      this.down(item.slot);
      return;
    }
    item.slot = this.heap.length;
    this.heap.push(item);
    this.up(item.slot);
  }

  /** Take the earliest item out. */
  pop(): T | undefined {
    const top = this.heap[0];
    if (top) this.remove(top);
    return top;
  }

  remove(item: T): void {
    if (!this.has(item)) return;
    const i = item.slot;
    const last = this.heap.pop() as T;
    if (last !== item) {
      this.heap[i] = last;
      last.slot = i;
      this.up(i);
      this.down(last.slot);
    }
    item.slot = -1;
    item.due = NaN;
  }

  clear(): void {
    for (const it of this.heap) {
      it.slot = -1;
      it.due = NaN;
    }
    this.heap = [];
  }

  private up(i: number): void {
    const h = this.heap;
    const it = h[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(it, h[p])) break;
      h[i] = h[p];
      h[i].slot = i;
      i = p;
    }
    h[i] = it;
    it.slot = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const it = h[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(h[r], h[l]) ? r : l;
      if (!before(h[c], it)) break;
      h[i] = h[c];
      h[i].slot = i;
      i = c;
    }
    h[i] = it;
    it.slot = i;
  }
}
