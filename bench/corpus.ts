/**
 * Deterministic news-like articles for benchmarks: sentences built from templates and
 * name lists (people, organisations, places, dates, figures), with the length mix of a
 * wire feed. Same seed → same corpus, so runs compare like with like.
 */

import { prng as rng } from '../test/helpers/news.js';

const PEOPLE = [
  'Angela Merkel', 'Emmanuel Macron', 'Olaf Scholz', 'Giorgia Meloni', 'Pedro Sánchez', 'Ursula von der Leyen', 'Joe Biden',
  'Kamala Harris', 'Xi Jinping', 'Narendra Modi', 'Fumio Kishida', 'Luiz Inácio Lula da Silva', 'Cyril Ramaphosa', 'Volodymyr Zelensky',
  'Christine Lagarde', 'Jerome Powell', 'Satya Nadella', 'Tim Cook', 'Sundar Pichai', 'Elon Musk', 'Mary Barra', 'Jensen Huang',
  'Lionel Messi', 'Serena Williams', 'Kylian Mbappé', 'Naomi Osaka', 'António Guterres', 'Tedros Adhanom Ghebreyesus', 'Salomón Carrillo',
];
const ORGS = [
  'the European Central Bank', 'the Federal Reserve', 'Microsoft', 'Apple', 'Alphabet', 'Toyota', 'Volkswagen', 'Siemens', 'Nestlé',
  'the United Nations', 'the World Health Organization', 'NATO', 'the International Monetary Fund', 'Reuters', 'the Associated Press',
  'Deutsche Bank', 'HSBC', 'Samsung Electronics', 'Tata Motors', 'Petrobras', 'the Red Cross', 'Amnesty International', 'Inter Miami',
  'Real Madrid', 'the Chihuahua State Public Security Secretariat', 'the Bank of Japan', 'OpenAI', 'Airbus', 'Boeing', 'Shell',
];
const PLACES = [
  'Paris', 'Berlin', 'Brussels', 'Frankfurt', 'London', 'Washington', 'New York', 'Tokyo', 'Beijing', 'New Delhi', 'São Paulo',
  'Johannesburg', 'Kyiv', 'Geneva', 'Nairobi', 'Ciudad Juárez', 'Mexico City', 'Sydney', 'Toronto', 'Madrid', 'Rome', 'Zürich',
  'Istanbul', 'Cairo', 'Lagos', 'Jakarta', 'Seoul', 'Buenos Aires', 'the Gulf of Mexico', 'the Alps',
];
const DATES = [
  'on Monday', 'on Tuesday', 'on Wednesday', 'late on Thursday', 'on Friday', 'over the weekend', 'in March 2024', 'on 4 April 1975',
  'last year', 'in the third quarter', 'on October 12', 'earlier this month', 'in 2026', 'since January',
];
const TEMPLATES: Array<(p: () => string, o: () => string, l: () => string, d: () => string, n: () => string) => string> = [
  (p, o, l, d) => `${p()} met ${p()} in ${l()} ${d()} to discuss cooperation with ${o()}.`,
  (p, o, l, d, n) => `Shares of ${o()} rose ${n()}% in ${l()} ${d()} after the company reported higher profits.`,
  (p, o, l, d, n) => `${o()} said ${d()} that it would cut ${n()} jobs at its plant near ${l()}.`,
  (p, o, l, d) => `Speaking in ${l()}, ${p()} warned that talks with ${o()} could collapse.`,
  (p, o, l, d, n) => `Police in ${l()} arrested a ${n()}-year-old man ${d()}, according to ${o()}.`,
  (p, o, l, d) => `${p()}, who leads ${o()}, is expected to visit ${l()} ${d()}.`,
  (p, o, l, d, n) => `Officials said flooding in ${l()} had displaced about ${n()},000 residents ${d()}.`,
  (p, o, l) => `“We will not accept these terms,” ${p()} told reporters in ${l()}.`,
  (p, o, l, d, n) => `${o()} and ${o()} agreed ${d()} on a merger valued at $${n()} billion.`,
  (p, o, l, d) => `The statement from ${o()} came hours after ${p()} left ${l()}.`,
  () => 'Analysts expect the decision to weigh on markets for several weeks.',
  () => 'The details of the agreement were not disclosed.',
  (p, o) => `A spokesperson for ${o()} declined to comment.`,
];

export interface Article {
  id: string;
  title: string;
  body: string;
  source: string;
  published_at: string;
}

/** One article of about `words` whitespace-separated words, in paragraphs of 3–6 sentences. */
export function makeArticle(id: string, words: number, seed: number): Article {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const p = () => pick(PEOPLE);
  const o = () => pick(ORGS);
  const l = () => pick(PLACES);
  const d = () => pick(DATES);
  const n = () => String(2 + Math.floor(r() * 97));
  const paragraphs: string[] = [];
  let count = 0;
  while (count < words) {
    const sentences: string[] = [];
    const k = 3 + Math.floor(r() * 4);
    for (let i = 0; i < k && count < words; i++) {
      const s = pick(TEMPLATES)(p, o, l, d, n);
      sentences.push(s);
      count += s.split(/\s+/).length;
    }
    paragraphs.push(sentences.join(' '));
  }
  const title = pick(TEMPLATES.slice(0, 10))(p, o, l, d, n).replace(/\.$/, '');
  const day = 1 + Math.floor(r() * 28);
  return {
    id,
    title,
    body: paragraphs.join('\n\n'),
    source: pick(['wire', 'reuters', 'ap', 'afp', 'local']),
    published_at: `2026-${String(1 + Math.floor(r() * 11)).padStart(2, '0')}-${String(day).padStart(2, '0')}T08:00:00Z`,
  };
}

/**
 * A corpus with a wire-feed length mix: 30% under 300 words, 50% 300–1,200, 20%
 * 1,200–5,000.
 */
export function makeCorpus(n: number, seed = 42): Article[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const bucket = r();
    const words =
      bucket < 0.3 ? 60 + Math.floor(r() * 240) : bucket < 0.8 ? 300 + Math.floor(r() * 900) : 1200 + Math.floor(r() * 3800);
    return makeArticle(`bench-${seed}-${i}`, words, seed * 100_003 + i);
  });
}

/** Articles of exactly-bounded size (for head-to-head runs within the reference's max_len). */
export function makeFixedCorpus(n: number, words: number, seed = 7): Article[] {
  return Array.from({ length: n }, (_, i) => makeArticle(`fixed-${seed}-${i}`, words, seed * 7919 + i));
}
