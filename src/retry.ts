import { EnricherError, isEnricherError } from './errors.js';

/**
 * The one retry helper of the project: exponential backoff with jitter, an early
 * `bail()`, and an AbortSignal that ends both the waiting and the retrying. Only
 * errors that say they are retriable (EnricherError.retriable) are retried by default;
 * programmer errors never are.
 */

export interface BackoffOptions {
  /** First delay. @defaultValue 200 */
  baseMs: number;
  /** Cap on any delay. @defaultValue 30_000 */
  maxMs: number;
  /** Growth per attempt. @defaultValue 2 */
  factor?: number;
  /** Source of randomness in [0, 1) (tests pin it). @defaultValue Math.random */
  random?: () => number;
}

export interface RetryOptions extends BackoffOptions {
  /** Attempts after the first; Infinity retries until success, bail or abort. @defaultValue Infinity */
  retries?: number;
  signal?: AbortSignal;
  /** Whether an error is worth another attempt. @defaultValue the error is a retriable EnricherError */
  shouldRetry?: (err: unknown) => boolean;
  /** Called before each wait, e.g. to log and count failures. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Delay before retry number `attempt` (0-based): "equal jitter", half fixed and half
 * random, so that many clients retrying together spread out but never retry at once.
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const { baseMs, maxMs, factor = 2, random = Math.random } = options;
  const ceiling = Math.min(maxMs, baseMs * factor ** Math.min(attempt, 64));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** The error an aborted wait or retry rejects with (code ABORTED, the signal's reason as cause). */
export function abortError(signal: AbortSignal | undefined, what = 'operation'): EnricherError {
  return new EnricherError('ABORTED', `${what} aborted`, { cause: signal?.reason });
}

/** Resolves after `ms`, or rejects with ABORTED as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted === true) return Promise.reject(abortError(signal, 'sleep'));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal, 'sleep'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const BAIL = Symbol('bail');

interface Bailed {
  [BAIL]: true;
  error: unknown;
}

function isBailed(x: unknown): x is Bailed {
  return typeof x === 'object' && x !== null && BAIL in x;
}

/** A function, so that TypeScript does not narrow `signal.aborted` across awaits. */
function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

const retriableByDefault = (err: unknown): boolean => isEnricherError(err) && err.retriable;

/**
 * Runs `fn` until it resolves. `fn` gets `bail(err)` to stop retrying with `err` and the
 * attempt number (0 first). Rejects with the last error when retries are exhausted or
 * the error is not worth retrying, or with ABORTED when `signal` aborts.
 */
export async function retry<T>(fn: (bail: (err: unknown) => never, attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { retries = Infinity, signal, shouldRetry = retriableByDefault, onRetry } = options;
  const bail = (error: unknown): never => {
    throw { [BAIL]: true, error } satisfies Bailed;
  };
  for (let attempt = 0; ; attempt++) {
    if (aborted(signal)) throw abortError(signal, 'retry');
    try {
      return await fn(bail, attempt);
    } catch (err) {
      if (isBailed(err)) throw err.error;
      if (aborted(signal)) throw abortError(signal, 'retry');
      if (attempt >= retries || !shouldRetry(err)) throw err;
      const delay = backoffDelay(attempt, options);
      onRetry?.(err, attempt, delay);
      await sleep(delay, signal);
    }
  }
}
