/**
 * Forwarding module, kept only for bench/corpus.ts (owned by the benchmark work), which still
 * imports `test/support/news.js`: the test helpers live in test/helpers/. Delete this file once
 * bench/corpus.ts imports `../test/helpers/news.js`.
 */
export * from '../helpers/news.js';
