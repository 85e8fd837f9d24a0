/**
 * Deterministic synthetic news articles for the demo (`samples/news.jsonl`) and the
 * integration tests: realistic sentences around recurring people, organisations, places
 * and events, short and long bodies (> 2,000 words), seeded so every run is identical.
 *
 *   npx tsx test/helpers/news.ts > samples/news.jsonl
 */

/** Mulberry32: a tiny seeded PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PEOPLE = ['Maria Lindqvist', 'Daniel Okafor', 'Sofia Marchetti', 'Hiroshi Tanaka', 'Amara Diallo', 'Lukas Becker', 'Priya Raman', 'Jonas Eriksen', 'Elena Petrova', 'Carlos Mendes'];
const ORGS = ['Nordwind Energy', 'Helios Robotics', 'the European Central Bank', 'Atlas Shipping', 'Meridian Health', 'the United Nations', 'Quantum Freight', 'Banco Austral', 'Reuters', 'the World Health Organization'];
const PLACES = ['Lisbon', 'Nairobi', 'Osaka', 'Hamburg', 'Buenos Aires', 'Toronto', 'Mumbai', 'Oslo', 'Geneva', 'Jakarta'];
const EVENTS = ['the Global Climate Summit', 'the Davos forum', 'the Lisbon Tech Week', 'the G20 meeting', 'the Olympic Games'];
const PRODUCTS = ['the Falcon X2 drone', 'the Aurora battery', 'the Helix 5 smartphone', 'the Tern electric ferry'];
const SOURCES = ['Harbor Times', 'The Daily Ledger', 'Northern Wire', 'Global Dispatch'];

const TEMPLATES: ReadonlyArray<(p: () => string, o: () => string, l: () => string, e: () => string, d: () => string) => string> = [
  (p, o, l) => `${p()}, chief executive of ${o()}, said on Tuesday that the company would open a new plant in ${l()}.`,
  (p, o) => `Speaking to reporters, ${p()} described the agreement with ${o()} as a turning point for the region.`,
  (_p, o, l) => `Shares of ${o()} rose sharply after analysts in ${l()} raised their forecasts for the coming year.`,
  (p, _o, l, e) => `${p()} is expected to attend ${e()} in ${l()} next month, according to officials.`,
  (p, o, _l, _e, d) => `${o()} confirmed that ${p()} would present ${d()} to investors before the end of the quarter.`,
  (_p, o, l) => `Officials in ${l()} said talks with ${o()} had stalled over questions of financing and oversight.`,
  (p, o) => `"We are not going to slow down," ${p()} told ${o()} in an interview published on Friday.`,
  (_p, _o, l, e) => `Thousands of visitors travelled to ${l()} for ${e()}, filling hotels across the city.`,
  (p, o, l) => `In a statement, ${o()} said ${p()} had resigned and would return to ${l()} to lead a new venture.`,
  (_p, o, _l, _e, d) => `Regulators are reviewing whether ${d()}, built by ${o()}, meets the new safety rules.`,
  () => `The decision comes after months of negotiations, rising costs and growing pressure from investors.`,
  () => `Critics argue that the plan leaves too many questions unanswered about jobs and the environment.`,
];

export interface NewsArticle {
  id: string;
  title: string;
  body: string;
  url: string;
  source: string;
  language: string;
  published_at: string;
}

export interface GenerateOptions {
  /** Seed of the generator. @defaultValue 7 */
  seed?: number;
  /** Every n-th article (n ≥ 1) is long; 0 disables long ones. @defaultValue 10 */
  longEvery?: number;
  /** Words of a long article (at least). @defaultValue 2200 */
  longWords?: number;
  /** Sentences of a short article. @defaultValue [4, 12] */
  shortSentences?: readonly [number, number];
  /** Prefix of the ids. @defaultValue 'news' */
  idPrefix?: string;
}

/** `count` articles, identical for identical options. */
export function generateArticles(count: number, options: GenerateOptions = {}): NewsArticle[] {
  const { seed = 7, longEvery = 10, longWords = 2200, shortSentences = [4, 12], idPrefix = 'news' } = options;
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const out: NewsArticle[] = [];
  for (let i = 0; i < count; i++) {
    const p = () => pick(PEOPLE);
    const o = () => pick(ORGS);
    const l = () => pick(PLACES);
    const e = () => pick(EVENTS);
    const d = () => pick(PRODUCTS);
    const long = longEvery > 0 && i % longEvery === longEvery - 1;
    const paragraphs: string[] = [];
    let words = 0;
    let sentences = 0;
    const target = long ? Infinity : shortSentences[0] + Math.floor(rnd() * (shortSentences[1] - shortSentences[0] + 1));
    while (long ? words < longWords : sentences < target) {
      const para: string[] = [];
      const n = 2 + Math.floor(rnd() * 4);
      for (let s = 0; s < n; s++) {
        const sentence = pick(TEMPLATES)(p, o, l, e, d);
        para.push(sentence);
        words += sentence.split(/\s+/).length;
        sentences += 1;
      }
      paragraphs.push(para.join(' '));
    }
    const id = `${idPrefix}-${String(i + 1).padStart(4, '0')}`;
    const day = 1 + Math.floor(rnd() * 28);
    out.push({
      id,
      title: `${p()} and ${o()} in ${l()}`,
      body: paragraphs.join('\n\n'),
      url: `https://example.com/news/${id}`,
      source: pick(SOURCES),
      language: 'en',
      published_at: `2026-10-${String(day).padStart(2, '0')}T${String(6 + (i % 12)).padStart(2, '0')}:00:00Z`,
    });
  }
  return out;
}

/** The demo's sample file: 30 articles (3 longer than 2,000 words) and two poison lines. */
export function sampleLines(): string[] {
  const lines = generateArticles(30, { longEvery: 10, longWords: 2300 }).map((a) => JSON.stringify(a));
  lines.splice(12, 0, '{"id": "broken-json-1", "body": "This line was cut off in transit');
  lines.splice(25, 0, JSON.stringify({ id: 'no-body-1', title: 'A headline without a story', source: 'Harbor Times' }));
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${sampleLines().join('\n')}\n`);
}
