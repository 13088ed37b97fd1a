import { performance } from 'node:perf_hooks';
import type { EventInput, JournalEvent, JournalEventType, EventOf } from './events';

export type Listener = (e: JournalEvent) => void;

/** Injectable clock: the FSM and the journal never read the real clock directly in tests. */
export interface Clock {
  mono(): number;
  wall(): number;
}
export const realClock: Clock = { mono: () => performance.now(), wall: () => Date.now() };

/**
 * The one event journal. Producers `emit`; observers `subscribe`. Delivery is
 * synchronous and in order, so an observer sees a consistent sequence; an observer
 * that throws is isolated (counted, never propagated into the producer — design.md
 * "nothing throws across an event-loop boundary"). Observers must be cheap; slow
 * work (exporting spans, writing files) is queued by the observer itself.
 */
export class Journal {
  private listeners: Listener[] = [];
  private ring: JournalEvent[] = [];
  private ringPos = 0;
  observerErrors = 0;
  seq = 0;

  constructor(readonly clock: Clock = realClock, private readonly ringSize = 1024) {}

  emit<T extends JournalEventType>(input: EventInput<T>): EventOf<T> {
    const e = { mono: this.clock.mono(), wall: this.clock.wall(), ...input } as unknown as EventOf<T>;
    this.seq++;
    if (this.ring.length < this.ringSize) this.ring.push(e);
    else {
      this.ring[this.ringPos] = e;
      this.ringPos = (this.ringPos + 1) % this.ringSize;
    }
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        this.observerErrors++;
      }
    }
    return e;
  }

  subscribe(l: Listener): () => void {
    this.listeners.push(l);
    return () => {
      this.listeners = this.listeners.filter((x) => x !== l);
    };
  }

  /** The most recent events, oldest first. */
  recent(): JournalEvent[] {
    return this.ring.length < this.ringSize ? [...this.ring] : [...this.ring.slice(this.ringPos), ...this.ring.slice(0, this.ringPos)];
  }
}
