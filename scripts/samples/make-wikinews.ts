/**
 * Builds samples/wikinews.jsonl: real Wikinews articles (CC BY 2.5) as input messages for the
 * demo, from the GUM Wikinews documents in the team's open NER data (held-out dev and test
 * splits, so the demo shows text the shipped model was not trained on). Attribution is in
 * samples/README.md; every message carries its Wikinews source URL.
 *
 *   npx tsx scripts/samples/make-wikinews.ts [../shared/data/ner]
 */
import { readFileSync, writeFileSync } from 'node:fs';

const ROOT = new URL('../../', import.meta.url).pathname;
const DATA = process.argv[2] ?? `${ROOT}../shared/data/ner`;

/** document id -> [title, url], from the data README's document table. */
function documentTable(): Map<string, [string, string]> {
  const table = new Map<string, [string, string]>();
  for (const line of readFileSync(`${DATA}/README.md`, 'utf8').split('\n')) {
    const m = /^\| (?:dev|test) \| (GUM_\w+) \| (.+) \| (https:\/\/en\.wikinews\.org\/\S+) \|$/.exec(line);
    if (m) table.set(m[1]!, [m[2]!, m[3]!]);
  }
  return table;
}

const table = documentTable();
const out: string[] = [];
for (const split of ['dev', 'test']) {
  for (const line of readFileSync(`${DATA}/gum_wikinews.${split}.jsonl`, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const doc = JSON.parse(line) as { id: string; text: string };
    const key = doc.id.replace(/^gum-/, '');
    const meta = table.get(key);
    if (meta === undefined) throw new Error(`${key}: no title/URL in ${DATA}/README.md`);
    const [title, url] = meta;
    // The document's first line is its headline; the body is the rest.
    const nl = doc.text.indexOf('\n');
    const body = nl >= 0 && doc.text.slice(0, nl).trim() === title.trim() ? doc.text.slice(nl + 1) : doc.text;
    out.push(JSON.stringify({ id: `wikinews-${key.replace(/^GUM_/, '').replace(/_/g, '-')}`, title, body, url, source: 'Wikinews', language: 'en' }));
  }
}
writeFileSync(`${ROOT}samples/wikinews.jsonl`, out.join('\n') + '\n');
process.stdout.write(`${out.length} articles -> samples/wikinews.jsonl\n`);
