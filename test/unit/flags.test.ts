import { describe, expect, it } from 'vitest';
import { COMMON_FLAGS, parseFlags, usage } from '../../src/cli/flags.js';

describe('parseFlags', () => {
  it('maps flags onto config paths', () => {
    const f = parseFlags(['--window-overlap-words', '40', '--intra-op-threads', '2', '--batch-max-items', '4', '--nested'], COMMON_FLAGS);
    expect(f.overrides).toEqual({ inference: { windowOverlapWords: '40', intraOpThreads: '2', batchMaxItems: '4', flatNer: false } });
    expect(f.deprecated).toEqual([]);
  });

  it('accepts the 0.1.0 names for one release, reports each, and keeps them out of the help', () => {
    const f = parseFlags(['--window-overlap', '40', '--threads', '2', '--batch-size', '4', '--batch-tokens', '9000'], COMMON_FLAGS);
    expect(f.overrides).toEqual({ inference: { windowOverlapWords: '40', intraOpThreads: '2', batchMaxItems: '4', batchMaxTokens: '9000' } });
    expect(f.deprecated).toEqual([
      '--window-overlap is now --window-overlap-words (the old name goes in the next release)',
      '--threads is now --intra-op-threads (the old name goes in the next release)',
      '--batch-size is now --batch-max-items (the old name goes in the next release)',
      '--batch-tokens is now --batch-max-tokens (the old name goes in the next release)',
    ]);
    const help = usage(COMMON_FLAGS);
    expect(help).toContain('--window-overlap-words');
    expect(help).not.toMatch(/--threads |--batch-size |--window-overlap </);
    // Every flag is separated from its help text (the longest ran into it at a fixed width).
    for (const line of help.split('\n')) expect(line).toMatch(/^  --\S+( <value>)? {2,}\S/);
  });

  it('refuses an old and a new name of the same flag together', () => {
    expect(() => parseFlags(['--threads', '2', '--intra-op-threads', '3'], COMMON_FLAGS)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('refuses unknown flags with the usage', () => {
    expect(() => parseFlags(['--no-such-flag'], COMMON_FLAGS)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
