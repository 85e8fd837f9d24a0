#!/usr/bin/env node
/**
 * A Label Studio project pre-annotated by our backend, for a look at the labeling screen (and the
 * README's screenshot): creates an NER project, imports news articles, connects the ML backend,
 * has Label Studio retrieve its predictions, and makes them the project's pre-labels.
 *
 *   eval "$(scripts/label-studio.sh start)"                       # LABEL_STUDIO_URL, LABEL_STUDIO_API_KEY
 *   node dist/cli.js label-studio --model models/gliner-news-minilm-l6 \
 *     --label-map PER=person,ORG=organization,LOC=location &      # the backend on :9090
 *   node tools/label-studio/demo-project.mjs --input samples/wikinews.jsonl --tasks 3
 *
 * Prints `PROJECT=<id>` and `TASK=<id>` lines (the first task) on stdout.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.LABEL_STUDIO_URL ?? 'http://127.0.0.1:8089' },
    token: { type: 'string', default: process.env.LABEL_STUDIO_API_KEY ?? '' },
    backend: { type: 'string', default: 'http://127.0.0.1:9090' },
    input: { type: 'string', default: 'samples/wikinews.jsonl' },
    tasks: { type: 'string', default: '3' },
    title: { type: 'string', default: 'News entities (news-entity-enricher)' },
  },
});
if (opt.token === '') {
  process.stderr.write('set LABEL_STUDIO_API_KEY (scripts/label-studio.sh start prints it) or pass --token\n');
  process.exit(2);
}
const LABEL_CONFIG = `<View>
  <Header value="$title"/>
  <Labels name="label" toName="text">
    <Label value="PER" background="#f4a261"/><Label value="ORG" background="#2a9d8f"/><Label value="LOC" background="#8ab17d"/>
  </Labels>
  <Text name="text" value="$text"/>
</View>`;

let access = '';
async function api(method, path, body) {
  if (access === '') {
    const r = await fetch(`${opt.url}/api/token/refresh/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh: opt.token }) });
    if (!r.ok) throw new Error(`token refresh -> ${r.status}: ${await r.text()}`);
    access = (await r.json()).access;
  }
  const res = await fetch(`${opt.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${access}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} -> ${res.status}: ${text.slice(0, 500)}`);
  return text === '' ? undefined : JSON.parse(text);
}
const log = (m) => process.stderr.write(`[demo-project] ${m}\n`);

const articles = readFileSync(opt.input, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .slice(0, Number(opt.tasks))
  .map((l) => JSON.parse(l));
const project = await api('POST', '/api/projects', { title: opt.title, label_config: LABEL_CONFIG });
log(`project ${project.id}`);
await api('POST', `/api/projects/${project.id}/import`, articles.map((a) => ({ title: a.title ?? '', text: a.body ?? a.text })));
const tasks = await api('GET', `/api/tasks?project=${project.id}&page_size=100`);
const ids = (tasks.tasks ?? tasks).map((t) => t.id);
log(`imported ${ids.length} tasks`);
await api('POST', '/api/ml', { project: project.id, url: opt.backend, title: 'news-entity-enricher', is_interactive: false });
await api('POST', `/api/dm/actions?id=retrieve_tasks_predictions&project=${project.id}`, { selectedItems: { all: false, included: ids } });
const first = await api('GET', `/api/tasks/${ids[0]}`);
const version = first.predictions?.[0]?.model_version;
if (version === undefined) throw new Error('Label Studio stored no prediction on the first task: is the backend up?');
log(`predictions stored (model_version ${version}; first task: ${first.predictions[0].result.length} regions)`);
// Show these predictions as pre-labels when an annotator opens a task.
await api('PATCH', `/api/projects/${project.id}`, { show_collab_predictions: true, model_version: version });
process.stdout.write(`PROJECT=${project.id}\nTASK=${ids[0]}\n`);
