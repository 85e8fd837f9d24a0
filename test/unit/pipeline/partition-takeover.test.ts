import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { PartitionTakeover } from '../../../src/pipeline/partition-takeover.js';

function setup(committed: number | undefined) {
  const calls: string[] = [];
  const assigned = new Set([0]);
  const lanes = new Map<number, number | undefined>();
  const takeover = new PartitionTakeover({
    topic: 't',
    source: {
      hold: (p) => void calls.push(`hold ${p}`),
      unhold: (p) => void calls.push(`unhold ${p}`),
      assigned,
      committed: async (p) => {
        calls.push(`committed ${p}`);
        return committed;
      },
      seek: (p, o) => void calls.push(`seek ${p} ${o}`),
    },
    kafka: {
      fence: async (_t, p) => {
        calls.push(`fence ${p}`);
        await new Promise((r) => setTimeout(r, 5));
      },
    },
    signal: new AbortController().signal,
    log: pino({ level: 'silent' }),
    hasLane: (p) => lanes.has(p),
    createLane: (p, start) => {
      calls.push(`lane ${p} ${start}`);
      lanes.set(p, start);
    },
    firstSeen: () => 7,
    fail: (e) => void calls.push(`fail ${e.code}`),
  });
  return { calls, takeover, assigned, lanes };
}

describe('PartitionTakeover', () => {
  it('fences before it reads the committed offset, then seeks and starts the lane, holding the partition throughout', async () => {
    const { calls, takeover } = setup(42);
    await takeover.takeOver(0);
    expect(calls).toEqual(['hold 0', 'fence 0', 'committed 0', 'seek 0 42', 'lane 0 42', 'unhold 0']);
  });

  it('restarts from the first admitted offset when nothing was committed yet', async () => {
    const { calls, takeover } = setup(undefined);
    await takeover.takeOver(0);
    expect(calls).toContain('seek 0 7');
  });

  it('runs takeovers of one partition one after the other, and skips lost or already owned partitions', async () => {
    const { calls, takeover, assigned, lanes } = setup(1);
    await Promise.all([takeover.takeOver(0), takeover.takeOver(0)]);
    expect(calls.filter((c) => c.startsWith('hold') || c.startsWith('unhold'))).toEqual(['hold 0', 'unhold 0', 'hold 0', 'unhold 0']);
    expect(calls.filter((c) => c.startsWith('lane'))).toHaveLength(1);
    lanes.clear();
    assigned.clear();
    calls.length = 0;
    await takeover.takeOver(0);
    expect(calls).toEqual(['hold 0', 'unhold 0']);
  });
});
