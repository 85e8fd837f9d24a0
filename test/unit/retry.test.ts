import { describe, expect, it } from 'vitest';
import { EnricherError } from '../../src/errors.js';
import { backoffDelay, retry, sleep } from '../../src/retry.js';
import { Limiter } from '../../src/pipeline/limiter.js';

describe('backoffDelay', () => {
  it('grows exponentially within [ceiling/2, ceiling], capped', () => {
    const b = { baseMs: 100, maxMs: 1000 };
    expect(backoffDelay(0, { ...b, random: () => 0 })).toBe(50);
    expect(backoffDelay(0, { ...b, random: () => 0.999999 })).toBe(100);
    expect(backoffDelay(3, { ...b, random: () => 0 })).toBe(400);
    expect(backoffDelay(30, { ...b, random: () => 0.999999 })).toBe(1000);
  });
});

describe('retry', () => {
  const fast = { baseMs: 1, maxMs: 2 };
  it('retries retriable errors until success', async () => {
    let n = 0;
    const seen: number[] = [];
    const v = await retry(
      async () => {
        if (++n < 4) throw new EnricherError('ES_UNAVAILABLE', 'down');
        return 'ok';
      },
      { ...fast, onRetry: (_e, attempt) => seen.push(attempt) },
    );
    expect(v).toBe('ok');
    expect(seen).toEqual([0, 1, 2]);
  });

  it('does not retry programmer errors or non-retriable codes, and honours bail and retries', async () => {
    let n = 0;
    await expect(retry(async () => { n++; throw new TypeError('bug'); }, fast)).rejects.toThrow(TypeError);
    await expect(retry(async () => { n++; throw new EnricherError('MESSAGE_SCHEMA', 'bad'); }, fast)).rejects.toMatchObject({ code: 'MESSAGE_SCHEMA' });
    expect(n).toBe(2);
    await expect(retry(async (bail) => bail(new Error('stop')), fast)).rejects.toThrow('stop');
    let m = 0;
    await expect(retry(async () => { m++; throw new EnricherError('ES_UNAVAILABLE', 'x'); }, { ...fast, retries: 2 })).rejects.toMatchObject({ code: 'ES_UNAVAILABLE' });
    expect(m).toBe(3);
  });

  it('stops waiting when aborted', async () => {
    const ac = new AbortController();
    const p = retry(async () => { throw new EnricherError('ES_UNAVAILABLE', 'down'); }, { baseMs: 10_000, maxMs: 10_000, signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(sleep(10, AbortSignal.abort())).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

describe('Limiter', () => {
  it('admits at most N holders, FIFO, and drops aborted waiters', async () => {
    const l = new Limiter(2);
    const r1 = await l.acquire();
    const r2 = await l.acquire();
    const order: string[] = [];
    const ac = new AbortController();
    const a = l.acquire().then((r) => { order.push('a'); return r; });
    const b = l.acquire(ac.signal).then(() => order.push('b'), (e: EnricherError) => order.push(`b:${e.code}`));
    const c = l.acquire().then((r) => { order.push('c'); return r; });
    expect(l.waiting).toBe(3);
    ac.abort();
    await b;
    r1();
    r1(); // idempotent
    const ra = await a;
    r2();
    const rc = await c;
    expect(order).toEqual(['b:ABORTED', 'a', 'c']);
    expect(l.running).toBe(2);
    ra();
    rc();
    expect(l.running).toBe(0);
  });
});
