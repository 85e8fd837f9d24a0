import { greedySelect, type WordSpan } from '../core/spans.js';
import type { Window } from './windows.js';

/**
 * Merges the spans decoded per window (word indices relative to each window) into
 * spans over the whole text's words.
 *
 * - One window: returned unchanged, so a text that fits is exactly the single-pass result (P1).
 * - Several: each window keeps only spans starting in its ownership range, so a span
 *   seen by two windows is reported once (P2) and is taken from the window that sees it
 *   with context on both sides (P3, given overlap ≥ 2·max_width); the union then goes
 *   through the reference's greedy selection again, so spans of neighbouring windows
 *   obey the same flat / nested / multi-label rules (P4).
 */
export function mergeWindowSpans(
  perWindow: readonly (readonly WordSpan[])[],
  windows: readonly Window[],
  flatNer: boolean,
  multiLabel: boolean,
): WordSpan[] {
  if (windows.length === 1) return [...(perWindow[0] ?? [])];
  const all: WordSpan[] = [];
  windows.forEach((w, i) => {
    for (const span of perWindow[i] ?? []) {
      const start = span.start + w.start;
      if (start < w.ownStart || start >= w.ownEnd) continue;
      all.push({ start, end: span.end + w.start, label: span.label, score: span.score });
    }
  });
  return greedySelect(all, flatNer, multiLabel);
}
