/**
 * Secured Kafka and Elasticsearch, as production clusters run them: the client settings of the
 * service (Kafka SASL PLAIN / SCRAM-SHA-256 / SCRAM-SHA-512 over TLS with a private CA;
 * Elasticsearch over HTTPS with basic auth or an API key and a CA file) against real secured
 * services started for this file (scripts/services.sh with SERVICES_SECURITY=1, own state dir
 * and ports), ending with the enricher configured only through its environment variables.
 */
import { Client, errors } from '@elastic/elasticsearch';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config-load.js';
import type { Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { classifyRequestError, createEsClient } from '../../src/pipeline/es-sink.js';
import { createKafka } from '../../src/pipeline/kafka-client.js';
import { EnricherService } from '../../src/pipeline/service.js';
import { waitFor } from '../helpers/es.js';
import { consumeAll, createTopic, produce, uniqueTopic } from '../helpers/kafka.js';
import { freePort, removeServiceDir, REPO_ROOT, startServiceEndpoints, stopService } from '../helpers/services.js';
import { generateArticles } from '../helpers/news.js';
import { createPipelineTopics, esCount, jsonMessages, serviceEnv, uniquePipelineNames } from '../helpers/pipeline.js';

const logger = createLogger('silent');

function must(map: ReadonlyMap<string, string>, key: string): string {
  const value = map.get(key);
  if (value === undefined) throw new Error(`scripts/services.sh printed no ${key}`);
  return value;
}

describe('secured Kafka (SASL_SSL) and Elasticsearch (HTTPS, basic auth, API keys)', () => {
  const svcDir = `${REPO_ROOT}.cache/svc-secured-${process.pid}`;
  let scriptEnv: Record<string, string>;
  /** Service environment (KAFKA_* and ELASTICSEARCH_*) for the secured endpoints. */
  let secureEnv: Record<string, string>;
  let admin: Client;
  /** File-realm user with the service's least privileges. */
  let serviceUser: string;

  /** The service's config for the secured services, with overrides. */
  const config = (extra: Record<string, string> = {}): Readonly<Config> => loadConfig({ env: { ...secureEnv, ...extra } });
  const kafkaFor = (extra: Record<string, string> = {}): Kafka => createKafka(config(extra), logger, '-it');

  beforeAll(async () => {
    scriptEnv = {
      SVC_DIR: svcDir,
      SERVICES_SECURITY: '1',
      KAFKA_PORT: String(await freePort()),
      KAFKA_CONTROLLER_PORT: String(await freePort()),
      KAFKA_SECURE_PORT: String(await freePort()),
      ES_PORT: String(await freePort()),
      ES_TRANSPORT_PORT: String(await freePort()),
    };
    const kafka = await startServiceEndpoints('kafka', { env: scriptEnv, timeoutMs: 300_000 });
    const es = await startServiceEndpoints('es', { env: scriptEnv, timeoutMs: 300_000 });
    secureEnv = {
      MODEL_DIR: `${REPO_ROOT}test/fixtures/models/tiny-span`,
      KAFKA_BROKERS: must(kafka, 'KAFKA_SECURE_BROKERS'),
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: must(kafka, 'KAFKA_SSL_CA_FILE'),
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: must(kafka, 'KAFKA_SASL_USERNAME'),
      KAFKA_SASL_PASSWORD: must(kafka, 'KAFKA_SASL_PASSWORD'),
      ELASTICSEARCH_URL: must(es, 'ELASTICSEARCH_URL'),
      ELASTICSEARCH_CA_FILE: must(es, 'ELASTICSEARCH_CA_FILE'),
      ELASTICSEARCH_USERNAME: must(es, 'ELASTICSEARCH_USERNAME'),
      ELASTICSEARCH_PASSWORD: must(es, 'ELASTICSEARCH_PASSWORD'),
    };
    serviceUser = must(es, 'ELASTICSEARCH_SERVICE_USERNAME');
    expect(secureEnv['ELASTICSEARCH_URL']).toMatch(/^https:\/\//);
    admin = createEsClient(config().elasticsearch);
  }, 600_000);

  afterAll(async () => {
    await admin?.close();
    await stopService('es', { env: scriptEnv }).catch(() => undefined);
    await stopService('kafka', { env: scriptEnv }).catch(() => undefined);
    await removeServiceDir(svcDir);
  }, 120_000);

  it.each(['plain', 'scram-sha-256', 'scram-sha-512'])('Kafka over TLS with SASL %s: creates a topic, produces and consumes', async (mechanism) => {
    const kafka = kafkaFor({ KAFKA_SASL_MECHANISM: mechanism });
    const topic = uniqueTopic(`sasl-${mechanism}`);
    await createTopic(topic, { partitions: 2, kafka });
    await produce(topic, [{ key: 'a', value: `hello over ${mechanism}` }], { kafka });
    const got = await consumeAll(topic, { until: 1, kafka, timeoutMs: 60_000 });
    expect(got.map((m) => m.value)).toEqual([`hello over ${mechanism}`]);
  });

  it('Kafka refuses a wrong password, and a client without the CA does not trust the broker', async () => {
    const wrongPassword = kafkaFor({ KAFKA_SASL_PASSWORD: 'not-the-password' }).admin({ retry: { retries: 0 } });
    await expect(wrongPassword.connect()).rejects.toThrow(/SASL .*authentication failed|Authentication failed/i);
    await wrongPassword.disconnect();
    // KAFKA_SSL without a CA file uses the system roots, which do not know the test CA.
    const { KAFKA_SSL_CA_FILE: _ca, ...withoutCa } = secureEnv;
    const untrusting = createKafka(loadConfig({ env: withoutCa }), logger, '-it').admin({ retry: { retries: 0 } });
    await expect(untrusting.connect()).rejects.toThrow(/self[- ]signed|certificate/i);
    await untrusting.disconnect();
  });

  it('Elasticsearch over HTTPS with basic auth: the CA file is used and a wrong password is a retriable 401', async () => {
    const me = await admin.security.authenticate();
    expect(me.username).toBe('elastic');
    const wrong = createEsClient(config({ ELASTICSEARCH_PASSWORD: 'not-the-password' }).elasticsearch);
    const refused = await wrong.cluster.health().catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(errors.ResponseError);
    const coded = classifyRequestError(refused);
    // A credential being rotated must not dead-letter articles: the service waits, unready.
    expect({ code: coded.code, retriable: coded.retriable, status: coded.context['status'] }).toEqual({ code: 'ES_UNAVAILABLE', retriable: true, status: 401 });
    await wrong.close();
    const { ELASTICSEARCH_CA_FILE: _ca, ...withoutCa } = secureEnv;
    const untrusting = createEsClient(loadConfig({ env: withoutCa }).elasticsearch);
    const tlsError = await untrusting.cluster.health().catch((err: unknown) => err);
    expect(tlsError).toBeInstanceOf(errors.ConnectionError);
    expect(String((tlsError as Error).message)).toMatch(/self[- ]signed|certificate/i);
    await untrusting.close();
  });

  it('Elasticsearch with an API key: ELASTICSEARCH_API_KEY alone is sent as ApiKey credentials', async () => {
    // Creating keys needs the .security index, which this distribution cannot create (its mapping
    // uses the analysis-common module the integ-test zip lacks), so the key is one the node does
    // not know: the refusal must name API-key authentication for the key's id.
    const { ELASTICSEARCH_USERNAME: _u, ELASTICSEARCH_PASSWORD: _p, ...noBasic } = secureEnv;
    const apiKey = Buffer.from('news-enricher-it:not-a-real-key').toString('base64');
    const client = createEsClient(loadConfig({ env: { ...noBasic, ELASTICSEARCH_API_KEY: apiKey } }).elasticsearch);
    try {
      const refused = await client.cluster.health().catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(errors.ResponseError);
      expect((refused as errors.ResponseError).statusCode).toBe(401);
      expect(JSON.stringify((refused as errors.ResponseError).body)).toMatch(/API key: apikey authentication for id news-enricher-it/);
    } finally {
      await client.close();
    }
  });

  it('the enricher runs end to end against the secured services, configured by environment only', async () => {
    const names = uniquePipelineNames('secured');
    const kafka = kafkaFor();
    await createPipelineTopics(names, { partitions: 2, kafka });
    const articles = generateArticles(20, { seed: 29, longEvery: 0, shortSentences: [2, 4], idPrefix: 'sec' });
    await produce(names.input, jsonMessages(articles), { kafka });
    // The shared test environment with every endpoint and credential replaced by the secured
    // ones; Elasticsearch as the file-realm user holding only the privileges deploy/README.md
    // documents (manage_index_templates; create_index, index, view_index_metadata).
    const env = { ...serviceEnv(names), ...secureEnv, ELASTICSEARCH_USERNAME: serviceUser };
    const service = await EnricherService.start({ config: loadConfig({ env }), logger, processMetrics: false });
    try {
      await waitFor(async () => (await esCount(admin, names.index)) === articles.length, {
        timeoutMs: 120_000,
        intervalMs: 250,
        description: `${articles.length} documents in ${names.index} on the secured node`,
      });
      const out = await consumeAll(names.output, { until: articles.length, kafka, timeoutMs: 60_000 });
      expect(new Set(out.map((m) => m.key))).toEqual(new Set(articles.map((a) => a.id)));
      const docs = await admin.search<{ id: string; entities: unknown[] }>({ index: names.index, size: 100 });
      expect(docs.hits.hits.map((h) => h._source?.id).sort()).toEqual(articles.map((a) => a.id).sort());
      expect(docs.hits.hits.some((h) => (h._source?.entities.length ?? 0) > 0)).toBe(true);
      const template = await admin.indices.getIndexTemplate({ name: names.index });
      expect(template.index_templates).toHaveLength(1);
    } finally {
      await service.close();
    }
  });
});
