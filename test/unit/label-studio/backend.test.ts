/**
 * The Label Studio backend over real HTTP (node:http on a free port) with a fake extractor:
 * the protocol's answers, prompts through the label map, and every refusal as a coded 4xx.
 */
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config-load.js';
import type { EntityExtractor, ExtractionRequest, FieldEntities } from '../../../src/core/extraction.js';
import { LabelStudioBackend } from '../../../src/label-studio/backend.js';
import { startBackendServer, type BackendServer } from '../../../src/label-studio/http.js';
import { ModelSlot, ServedModel } from '../../../src/label-studio/served-model.js';
import type { ProjectRef, TrainingControl, TrainingStatus } from '../../../src/label-studio/training-loop.js';

const logger = pino({ level: 'silent' });
const CONFIG_XML = '<View><Labels name="label" toName="text"><Label value="PER"/><Label value="LOC"/></Labels><Text name="text" value="$text"/></View>';

/** Tags capitalised words: person when followed by a capitalised word pair, else location. */
class FakeExtractor implements EntityExtractor {
  readonly requests: ExtractionRequest[] = [];
  closed = false;
  gate: Promise<void> = Promise.resolve();
  constructor(readonly model = { name: 'fake', sha256: 'ab'.repeat(32), file: 'onnx/model.onnx', spanMode: 'span' as const, maxLen: 384, maxWidth: 12, executionProvider: 'cpu' }) {}
  async extract(request: ExtractionRequest): Promise<FieldEntities[]> {
    this.requests.push(request);
    await this.gate;
    return request.fields.map((f) => ({
      field: f.field,
      windows: 1,
      words: 1,
      entities: [...f.text.matchAll(/\b[A-Z][a-z]+(?: [A-Z][a-z]+)?/gu)].map((m, i) => ({
        text: m[0],
        start: m.index,
        end: m.index + m[0].length,
        label: m[0].includes(' ') ? request.labels[0]! : request.labels[1]!,
        score: 0.9 - i * 0.1,
      })),
    }));
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

class FakeTraining implements TrainingControl {
  readonly requests: ProjectRef[] = [];
  request(project: ProjectRef): 'started' {
    this.requests.push(project);
    return 'started';
  }
  status(): TrainingStatus {
    return { state: 'idle', round: 0, queued: false };
  }
}

let server: BackendServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(env: Record<string, string> = {}) {
  const config = loadConfig({ env: { MODEL_DIR: '/m', LABEL_STUDIO_LABEL_MAP: 'PER=person,LOC=location', LABEL_STUDIO_MAX_TASKS: '3', ...env } });
  const extractor = new FakeExtractor();
  const slot = new ModelSlot(new ServedModel(extractor, '/m', {}));
  const training = new FakeTraining();
  const backend = new LabelStudioBackend({ config, slot, training, logger });
  const auth = config.labelStudio.basicAuthUser ? { user: config.labelStudio.basicAuthUser, pass: config.labelStudio.basicAuthPass! } : undefined;
  server = await startBackendServer({ backend, port: 0, host: '127.0.0.1', basicAuth: auth, maxRequestBytes: 4096, registry: new Registry(), logger });
  const url = `http://127.0.0.1:${server.port}`;
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(url + path, { method, headers: { 'content-type': 'application/json', ...headers }, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  return { call, extractor, slot, training };
}

describe('Label Studio backend (HTTP)', () => {
  it('answers /health and / with the model class and version', async () => {
    const { call } = await start();
    for (const path of ['/health', '/']) {
      const r = await call('GET', path);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ status: 'UP', model_class: 'NewsEntityEnricher', model_version: `fake@${'ab'.repeat(6)}`, training: { state: 'idle' } });
    }
  });

  it('predicts one result per task, in order, with label values back from the prompts and the lowest score per task', async () => {
    const { call, extractor } = await start();
    const r = await call('POST', '/predict', {
      tasks: [{ id: 7, data: { text: 'Angela Merkel visited Paris.' } }, { id: 8, data: { text: 'nothing here' } }],
      project: '3.1700000000',
      label_config: CONFIG_XML,
    });
    expect(r.status).toBe(200);
    expect(extractor.requests[0]!.labels).toEqual(['person', 'location']);
    expect(r.body.results).toHaveLength(2);
    expect(r.body.results[0].result).toEqual([
      { from_name: 'label', to_name: 'text', type: 'labels', value: { start: 0, end: 13, text: 'Angela Merkel', labels: ['PER'] }, score: 0.9 },
      { from_name: 'label', to_name: 'text', type: 'labels', value: { start: 22, end: 27, text: 'Paris', labels: ['LOC'] }, score: 0.8 },
    ]);
    expect(r.body.results[0].score).toBeCloseTo(0.8);
    expect(r.body.results[1]).toEqual({ model_version: r.body.model_version, score: 0, result: [] });
  });

  it('uses the labeling config from /setup when /predict carries none, and refuses a bad one at /setup', async () => {
    const { call } = await start();
    expect((await call('POST', '/setup', { project: '4.1', schema: CONFIG_XML })).body).toEqual({ model_version: `fake@${'ab'.repeat(6)}` });
    const r = await call('POST', '/predict', { tasks: [{ id: 1, data: { text: 'Paris' } }], project: '4.1700000001' });
    expect(r.status).toBe(200);
    expect(r.body.results[0].result[0].value.labels).toEqual(['LOC']);
    const bad = await call('POST', '/setup', { project: '5.1', schema: '<View><Text name="t" value="$t"/></View>' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('LABEL_CONFIG_INVALID');
  });

  it('refuses bad requests with coded 4xx answers, never a crash', async () => {
    const { call, extractor } = await start();
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', '/predict', 'not json', 400, 'REQUEST_INVALID'],
      ['POST', '/predict', { tasks: [] }, 400, 'REQUEST_INVALID'],
      ['POST', '/predict', { tasks: [{ id: 1, data: { text: 'x' } }] }, 400, 'REQUEST_INVALID'], // no config, no setup
      ['POST', '/predict', { tasks: [{ id: 1, data: { body: 'x' } }], label_config: CONFIG_XML }, 400, 'REQUEST_INVALID'],
      ['POST', '/predict', { tasks: [1, 2, 3, 4].map((id) => ({ id, data: { text: 'x' } })), label_config: CONFIG_XML }, 400, 'REQUEST_INVALID'],
      ['POST', '/predict', { tasks: [{ id: 1, data: { text: 'x'.repeat(5000) } }], label_config: CONFIG_XML }, 413, 'MESSAGE_TOO_LARGE'],
      ['POST', '/webhook', { project: { id: 1 } }, 400, 'REQUEST_INVALID'],
      ['POST', '/nowhere', {}, 404, 'REQUEST_INVALID'],
      ['GET', '/predict', undefined, 405, 'REQUEST_INVALID'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const r = await call(method, path, body);
      expect({ path, status: r.status, code: r.body.error?.code }).toEqual({ path, status, code });
    }
    // The task lacking its field named the task; no inference ran for any refused request.
    expect(extractor.requests).toHaveLength(0);
    expect((await call('GET', '/health')).status).toBe(200);
  });

  it('asks for basic auth when configured (health stays open)', async () => {
    const { call } = await start({ BASIC_AUTH_USER: 'ls', BASIC_AUTH_PASS: 's3cret' });
    expect((await call('GET', '/health')).status).toBe(200);
    const no = await call('POST', '/setup', { schema: CONFIG_XML });
    expect(no.status).toBe(401);
    expect(no.body.error.code).toBe('REQUEST_UNAUTHORIZED');
    const wrong = await call('POST', '/setup', { schema: CONFIG_XML }, { authorization: `Basic ${Buffer.from('ls:nope').toString('base64')}` });
    expect(wrong.status).toBe(401);
    const ok = await call('POST', '/setup', { schema: CONFIG_XML }, { authorization: `Basic ${Buffer.from('ls:s3cret').toString('base64')}` });
    expect(ok.status).toBe(200);
  });

  it('hands START_TRAINING and /train (with the tasks it carries) to the training loop; annotation events are acknowledged', async () => {
    const { call, training } = await start();
    expect(await call('POST', '/webhook', { action: 'ANNOTATION_CREATED', project: { id: 2 }, annotation: {} })).toEqual({ status: 201, body: { status: 'ok' } });
    expect(training.requests).toHaveLength(0);
    expect((await call('POST', '/webhook', { action: 'START_TRAINING', project: { id: 2, label_config: CONFIG_XML } })).status).toBe(201);
    const tasks = [{ id: 1, data: { text: 'Paris' }, annotations: [] }];
    expect((await call('POST', '/train', { project: '2.1700000000', label_config: CONFIG_XML, annotations: tasks })).status).toBe(201);
    expect(training.requests).toEqual([
      { id: 2, labelConfig: CONFIG_XML },
      { id: 2, labelConfig: CONFIG_XML, tasks },
    ]);
  });

  it('swaps models: a request in flight finishes on the old one, the next uses the new one, then the old one closes', async () => {
    const { call, extractor, slot } = await start();
    let open!: () => void;
    extractor.gate = new Promise((r) => (open = r));
    const first = call('POST', '/predict', { tasks: [{ id: 1, data: { text: 'Paris' } }], label_config: CONFIG_XML });
    while (extractor.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    const next = new FakeExtractor({ ...extractor.model, name: 'fake-ls1', sha256: 'cd'.repeat(32) });
    slot.swap(new ServedModel(next, '/m2', {}));
    const second = await call('POST', '/predict', { tasks: [{ id: 2, data: { text: 'Paris' } }], label_config: CONFIG_XML });
    expect(second.body.model_version).toBe(`fake-ls1@${'cd'.repeat(6)}`);
    expect(extractor.closed).toBe(false);
    open();
    expect((await first).body.model_version).toBe(`fake@${'ab'.repeat(6)}`);
    await new Promise((r) => setTimeout(r, 10));
    expect(extractor.closed).toBe(true);
    expect(next.closed).toBe(false);
  });
});
