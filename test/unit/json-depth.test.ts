import { describe, expect, it } from 'vitest';
import { decodeArticle } from '../../src/article.js';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from '../../src/json-depth.js';

const nest = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;

describe('exceedsJsonDepth', () => {
  it('counts objects and arrays, up to and above the limit', () => {
    expect(exceedsJsonDepth('{"a":[1]}', 2)).toBe(false);
    expect(exceedsJsonDepth('{"a":[1]}', 1)).toBe(true);
    expect(exceedsJsonDepth(nest(MAX_JSON_DEPTH))).toBe(false);
    expect(exceedsJsonDepth(nest(MAX_JSON_DEPTH + 1))).toBe(true);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(exceedsJsonDepth(JSON.stringify({ s: '['.repeat(500), t: 'say \\"[[[" ' + '{'.repeat(300) }), 1)).toBe(false);
  });

  it('is what decodeArticle refuses, before parsing', () => {
    const value = Buffer.from(`{"id":"d","body":"x","extra":${nest(6000)}}`);
    expect(() => decodeArticle(value, undefined)).toThrow(expect.objectContaining({ code: 'MESSAGE_TOO_DEEP' }));
    expect(decodeArticle(Buffer.from(`\u{feff}{"id":"d","body":"x","extra":${nest(63)}}`), undefined).id).toBe('d');
  });
});
