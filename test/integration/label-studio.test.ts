/**
 * The ML backend against a real Label Studio (PyPI `label-studio`, SQLite, started by
 * scripts/label-studio.sh): a project with an NER labeling config, news tasks imported, our
 * backend connected as its ML backend (Label Studio calls /health and /setup), predictions
 * asked through Label Studio and stored on its tasks, annotations created through its API,
 * training started through Label Studio, and the new model_version seen by Label Studio.
 *
 * The served model is the tiny fixture architecture rebuilt with its PyTorch checkpoint
 * (models/build_random_model.py --save-checkpoint), so a fine-tuning round takes seconds; the
 * reference stack (models/setup.sh) is installed when absent.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config-load.js';
import { LabelStudioService } from '../../src/label-studio/service.js';
import { waitFor } from '../helpers/wait-for.js';
import { REPO_ROOT } from '../helpers/services.js';
import { generateArticles } from '../helpers/news.js';

const WORK = join(REPO_ROOT, '.cache/label-studio-test');
const MODEL = join(WORK, 'tiny-span');
const CHECKPOINT = join(WORK, 'tiny-span-checkpoint');
const LABEL_CONFIG = '<View><Labels name="label" toName="text"><Label value="PER"/><Label value="ORG"/><Label value="LOC"/></Labels><Text name="text" value="$text"/></View>';

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
      process.stderr.write(c);
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${err.slice(-2000)}`))));
  });
}

/** Label Studio's API with a personal access token (refreshed into a Bearer access token). */
class LabelStudioApi {
  private access = '';
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}
  async call(method: string, path: string, body?: unknown): Promise<any> {
    if (this.access === '') {
      const r = await fetch(`${this.url}/api/token/refresh/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh: this.token }) });
      this.access = ((await r.json()) as { access: string }).access;
    }
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.access}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} -> ${res.status}: ${text.slice(0, 500)}`);
    return text === '' ? undefined : JSON.parse(text);
  }
}

describe('Label Studio ML backend against a real Label Studio', () => {
  let ls: LabelStudioApi;
  let service: LabelStudioService;
  const lsEnv = { LABEL_STUDIO_PORT: '8089' };

  beforeAll(async () => {
    await rm(WORK, { recursive: true, force: true });
    await mkdir(WORK, { recursive: true });
    const python = join(REPO_ROOT, 'models/.venv/bin/python');
    const lsStart = run('bash', ['scripts/label-studio.sh', 'start'], lsEnv);
    if (!existsSync(python)) await run('bash', ['models/setup.sh']);
    await run(python, ['models/build_random_model.py', '--preset', 'tiny-span', '--out', MODEL, '--variants', 'fp32', '--save-checkpoint', CHECKPOINT, '--no-verify']);
    const env = Object.fromEntries((await lsStart).trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    ls = new LabelStudioApi(env.LABEL_STUDIO_URL!, env.LABEL_STUDIO_API_KEY!);
    const config = loadConfig({
      env: {
        MODEL_DIR: MODEL,
        LABEL_STUDIO_BACKEND_PORT: '0',
        LABEL_STUDIO_URL: env.LABEL_STUDIO_URL!,
        LABEL_STUDIO_API_KEY: env.LABEL_STUDIO_API_KEY!,
        BASIC_AUTH_USER: 'ls-backend',
        BASIC_AUTH_PASS: 'ls-backend-secret',
        LABEL_STUDIO_LABEL_MAP: 'PER=person,ORG=organization,LOC=location',
        LABEL_STUDIO_TRAIN_INIT: CHECKPOINT,
        LABEL_STUDIO_TRAIN_STEPS: '4',
        LABEL_STUDIO_MODELS_DIR: join(WORK, 'rounds'),
        THRESHOLD: '0.3',
        INFERENCE_WORKERS: '1',
        LOG_LEVEL: 'warn',
      },
    });
    service = await LabelStudioService.start(config, pino({ level: 'warn' }));
  }, 1_500_000);

  afterAll(async () => {
    await service?.close();
    await run('bash', ['scripts/label-studio.sh', 'stop'], lsEnv).catch(() => undefined);
  }, 60_000);

  it('pre-annotates tasks through Label Studio, trains on its annotations, and serves the new model_version', async () => {
    const backendUrl = `http://127.0.0.1:${service.port}`;
    const project = await ls.call('POST', '/api/projects', { title: 'news NER', label_config: LABEL_CONFIG });
    const articles = generateArticles(6, { seed: 5, longEvery: 3, longWords: 3000 });
    await ls.call('POST', `/api/projects/${project.id}/import`, articles.map((a) => ({ text: `${a.title}\n\n${a.body}` })));
    const tasks = (await ls.call('GET', `/api/tasks?project=${project.id}&page_size=100`)).tasks as Array<{ id: number; data: { text: string } }>;
    expect(tasks).toHaveLength(6);
    expect(Math.max(...tasks.map((t) => t.data.text.split(/\s+/u).length))).toBeGreaterThan(2500);

    // Connecting: Label Studio checks /health and /setup (with basic auth) before it accepts the backend.
    const ml = await ls.call('POST', '/api/ml', {
      project: project.id,
      url: backendUrl,
      title: 'news-enricher',
      auth_method: 'BASIC_AUTH',
      basic_auth_user: 'ls-backend',
      basic_auth_pass: 'ls-backend-secret',
    });
    const first = service.backend.health().model_version;
    expect((await ls.call('GET', `/api/ml/${ml.id}`)).model_version).toBe(first);

    // Predictions asked through Label Studio are stored on its tasks with our model_version.
    await ls.call('POST', `/api/dm/actions?id=retrieve_tasks_predictions&project=${project.id}`, { selectedItems: { all: true, excluded: [] } });
    for (const task of tasks) {
      const predictions = (await ls.call('GET', `/api/predictions?task=${task.id}`)) as Array<{ model_version: string; result: Array<{ value: { start: number; end: number; text: string; labels: string[] } }> }>;
      expect(predictions.map((p) => p.model_version)).toEqual([first]);
      for (const r of predictions[0]!.result) {
        expect(task.data.text.slice(r.value.start, r.value.end)).toBe(r.value.text);
        expect(['PER', 'ORG', 'LOC']).toContain(r.value.labels[0]);
      }
    }
    // The long task gets entities from its later windows too (offsets past the first window).
    const long = tasks.find((t) => t.data.text.length > 10_000)!;
    const longResult = (await ls.call('GET', `/api/predictions?task=${long.id}`))[0].result as Array<{ value: { start: number } }>;
    expect(Math.max(...longResult.map((r) => r.value.start))).toBeGreaterThan(5_000);

    // Annotations through the API: every person name of the generated text, labelled PER.
    for (const task of tasks.slice(0, 4)) {
      const result = [...task.data.text.matchAll(/(Maria Lindqvist|Daniel Okafor|Sofia Marchetti|Hiroshi Tanaka|Amara Diallo)/gu)].map((m, i) => ({
        id: `r${i}`,
        from_name: 'label',
        to_name: 'text',
        type: 'labels',
        value: { start: m.index, end: m.index + m[0].length, text: m[0], labels: ['PER'] },
      }));
      await ls.call('POST', `/api/tasks/${task.id}/annotations`, { result });
    }

    // Training started through Label Studio (its "Start training" button).
    await ls.call('POST', `/api/ml/${ml.id}/train`, {});
    await waitFor(() => ['done', 'failed', 'skipped'].includes(service.training.status().state), { timeoutMs: 600_000, intervalMs: 1000, description: 'the training round' });
    const status = service.training.status();
    expect(status, JSON.stringify(status)).toMatchObject({ state: 'done', examples: 4, skippedRegions: 0 });
    const second = service.backend.health().model_version;
    expect(second).not.toBe(first);
    expect(second).toMatch(/^tiny-span-ls1-\d{8}T\d{6}@[0-9a-f]{12}$/u);
    expect(existsSync(join(status.modelDir!, 'checkpoint', 'gliner_config.json'))).toBe(true);

    // Label Studio sees the new version (it asks /setup again) and stores predictions made with it.
    await waitFor(async () => (await ls.call('GET', `/api/ml/${ml.id}`)).model_version === second, { timeoutMs: 60_000, intervalMs: 1000, description: 'Label Studio to see the new model_version' });
    await ls.call('POST', `/api/dm/actions?id=retrieve_tasks_predictions&project=${project.id}`, { selectedItems: { all: false, included: [tasks[5]!.id] } });
    const after = (await ls.call('GET', `/api/predictions?task=${tasks[5]!.id}`)) as Array<{ model_version: string }>;
    expect(after.map((p) => p.model_version)).toContain(second);
  }, 900_000);
});
