import { abortError } from '../retry.js';

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * A FIFO counting semaphore: at most `slots` holders at once; waiters are served in
 * arrival order and leave the queue when their signal aborts.
 */
export class Limiter {
  private active = 0;
  private readonly waiters: Waiter[] = [];

  constructor(private readonly slots: number) {
    if (!(slots >= 1)) throw new RangeError(`limiter needs at least one slot, got ${slots}`);
  }

  /** Holders now. */
  get running(): number {
    return this.active;
  }

  /** Waiters now. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Waits for a slot; the returned function gives it back (call it exactly once). */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted === true) throw abortError(signal, 'waiting for an inference slot');
    if (this.active < this.slots) {
      this.active += 1;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      if (signal !== undefined) {
        waiter.signal = signal;
        waiter.onAbort = () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(abortError(signal, 'waiting for an inference slot'));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
    });
    return this.releaser();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next === undefined) {
        this.active -= 1;
        return;
      }
      // The slot passes straight to the next waiter.
      if (next.onAbort !== undefined) next.signal?.removeEventListener('abort', next.onAbort);
      next.resolve();
    };
  }
}
