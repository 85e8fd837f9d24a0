/** Deadline-bounded polling for integration tests: poll a probe, never sleep blindly. */
import { setTimeout as delay } from 'node:timers/promises';

export interface WaitForOptions {
  /**
   * Give up after this long.
   * @defaultValue 30_000
   */
  readonly timeoutMs?: number;
  /**
   * Pause between probes.
   * @defaultValue 100
   */
  readonly intervalMs?: number;
  /** What is awaited, for the timeout message. */
  readonly description?: string;
  /** Stops waiting early. */
  readonly signal?: AbortSignal;
}

/**
 * Calls `probe` until it returns a truthy value (resolved with it) or the deadline passes
 * (rejected, naming `description` and the last value or error). A throwing probe counts as
 * "not yet": its last error is reported on timeout.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const { timeoutMs = 30_000, intervalMs = 100, description = 'condition', signal } = options;
  const deadline = Date.now() + timeoutMs;
  let last: { value: unknown } | { error: unknown } = { value: undefined };
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
      last = { value };
    } catch (error) {
      last = { error };
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      const detail =
        'error' in last
          ? `last error: ${last.error instanceof Error ? last.error.message : String(last.error)}`
          : `last value: ${JSON.stringify(last.value)}`;
      throw new Error(`timed out after ${timeoutMs} ms (${attempt} probes) waiting for ${description}; ${detail}`, {
        cause: 'error' in last ? last.error : undefined,
      });
    }
    await delay(Math.min(intervalMs, left), undefined, signal === undefined ? undefined : { signal });
  }
}
