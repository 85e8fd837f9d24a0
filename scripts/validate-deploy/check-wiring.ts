/**
 * Checks that the deployment files agree with the code (run by scripts/validate-deploy.sh with tsx):
 *
 * - every environment variable of the service (ENV_VARS, src/config-load.ts) is wired in the
 *   Kubernetes settings (set or listed commented) or the example Secret; no unknown variable is
 *   set anywhere (a typo or a renamed setting); secrets never sit in the ConfigMap;
 * - each rendered ConfigMap, and the compose enricher's environment, passes `loadConfig`
 *   (values valid, no contradictions), and the compose stop grace exceeds SHUTDOWN_GRACE_MS;
 * - the compose topics, model folder and producer agree with the enricher's settings;
 * - every metric the Grafana dashboard queries is registered by the code (src/**, prom-client
 *   default metrics);
 * - the Elasticsearch index template and query files parse and the template maps `entities` as nested.
 *
 * Usage: tsx check-wiring.ts --rendered a.yaml[,b.yaml] --compose p1.json[,p2.json] --dashboard-metrics m.json
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { parseAllDocuments } from 'yaml';
import { ENV_VARS, SECRET_PATHS, loadConfig } from '../../src/config-load.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SETTINGS = join(ROOT, 'deploy/k8s/base/settings.env');
const SECRET_EXAMPLE = join(ROOT, 'deploy/k8s/examples/secret.yaml');
/** Variables read by other programs than the service (model fetcher, KEDA), allowed beside ENV_VARS. */
const OTHER_VARS = /^(CONFIG_FILE|MODEL_REPO|MODEL_REVISION|MODEL_FILES|MODEL_EXTRA_FILES|MODEL_SHA256_FILE|MODEL_REQUIRE_CHECKSUMS|MODEL_FETCH_[A-Z_]+|HF_ENDPOINT|HF_TOKEN|KEDA_KAFKA_[A-Z_]+)$/;
/** The service force-exits this long after SHUTDOWN_GRACE_MS (src/cli/run.ts), plus a margin. */
const FORCE_EXIT_SLACK_MS = 10_000;
const MARGIN_MS = 5_000;

type Env = Record<string, string>;

let errors = 0;
const ok = (msg: string): void => void process.stdout.write(`  ok    ${msg}\n`);
const fail = (msg: string): void => {
  errors += 1;
  process.stdout.write(`  ERROR ${msg}\n`);
};

function args(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i];
    const v = argv[i + 1];
    if (k === undefined || !k.startsWith('--') || v === undefined) throw new Error(`usage: ${argv.join(' ')}`);
    out[k.slice(2)] = v.split(',').filter((s) => s !== '');
  }
  return out;
}

const secretVars = new Set(Object.entries(ENV_VARS).filter(([, p]) => (SECRET_PATHS as readonly string[]).includes(p)).map(([k]) => k));

/** `KEY=value` lines, and `# KEY=` lines (documented, unset). */
function readSettings(): { set: Env; listed: Set<string> } {
  const set: Env = {};
  const listed = new Set<string>();
  for (const line of readFileSync(SETTINGS, 'utf8').split('\n')) {
    const active = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (active) {
      set[active[1]!] = active[2]!;
      listed.add(active[1]!);
      continue;
    }
    const commented = /^#\s*([A-Z][A-Z0-9_]*)=/.exec(line);
    if (commented) listed.add(commented[1]!);
  }
  return { set, listed };
}

function readSecretExample(): Env {
  const doc = parseAllDocuments(readFileSync(SECRET_EXAMPLE, 'utf8'))[0]?.toJS() as { stringData?: Env } | undefined;
  return doc?.stringData ?? {};
}

function tryConfig(where: string, env: Env): ReturnType<typeof loadConfig> | undefined {
  try {
    const c = loadConfig({ env });
    ok(`${where}: loadConfig accepts it (${c.inference.executionProvider}, ${c.inference.workers} worker(s), index ${c.elasticsearch.index}, grace ${c.shutdownGraceMs} ms)`);
    return c;
  } catch (err) {
    fail(`${where}: ${(err as Error).message}`);
    return undefined;
  }
}

function unknownVars(where: string, keys: Iterable<string>): void {
  const bad = [...keys].filter((k) => !(k in ENV_VARS) && !OTHER_VARS.test(k));
  if (bad.length > 0) fail(`${where}: unknown variable(s) ${bad.join(', ')} (not in ENV_VARS of src/config-load.ts)`);
}

function checkSettingsCoverage(): void {
  const { set, listed } = readSettings();
  const secret = readSecretExample();
  const missing = Object.keys(ENV_VARS).filter((k) => !listed.has(k) && !(k in secret));
  if (missing.length > 0) fail(`settings.env + examples/secret.yaml do not list ${missing.join(', ')}`);
  else ok(`all ${Object.keys(ENV_VARS).length} ENV_VARS are wired (settings.env: ${Object.keys(set).length} set, ${listed.size - Object.keys(set).length} documented; Secret: ${Object.keys(secret).length} keys)`);
  unknownVars('settings.env', listed);
  unknownVars('examples/secret.yaml', Object.keys(secret));
  for (const k of secretVars) {
    if (k in set) fail(`settings.env sets secret ${k}: move it to the Secret`);
    if (!(k in secret)) fail(`examples/secret.yaml lacks secret ${k}`);
  }
}

interface K8sDoc {
  kind: string;
  metadata: { name: string };
  data?: Env;
}

function checkRendered(files: string[]): void {
  const secret = readSecretExample();
  for (const file of files) {
    const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as K8sDoc);
    const cms = docs.filter((d) => d.kind === 'ConfigMap' && d.metadata.name.startsWith('news-enricher-config'));
    if (cms.length !== 1) {
      fail(`${file}: expected one ConfigMap news-enricher-config*, found ${cms.length}`);
      continue;
    }
    const data = cms[0]!.data ?? {};
    unknownVars(`${file} ConfigMap`, Object.keys(data));
    tryConfig(`${file} ConfigMap + example Secret`, { ...data, ...secret });
  }
}

interface ComposeService {
  environment?: Record<string, string | null>;
  command?: string[] | null;
  entrypoint?: string[] | null;
  stop_grace_period?: string;
  volumes?: Array<{ source?: string; target?: string }>;
}

/** compose-go durations: "1m0s", "60s", "1h2m3s". */
function durationMs(d: string | undefined): number {
  if (d === undefined) return 10_000; // Docker's default
  let ms = 0;
  for (const [, n, u] of d.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) ms += Number(n) * { h: 3_600_000, m: 60_000, s: 1000, ms: 1 }[u as 'h' | 'm' | 's' | 'ms'];
  return ms;
}

function checkCompose(files: string[]): void {
  for (const file of files) {
    const project = JSON.parse(readFileSync(file, 'utf8')) as { services: Record<string, ComposeService> };
    const s = project.services;
    const enricher = s['enricher'];
    if (enricher === undefined) {
      fail(`${file}: no enricher service`);
      continue;
    }
    const env: Env = Object.fromEntries(Object.entries(enricher.environment ?? {}).map(([k, v]) => [k, v ?? '']));
    unknownVars(`${file} enricher`, Object.keys(env));
    const config = tryConfig(`${file} enricher environment`, env);
    if (config === undefined) continue;
    const grace = durationMs(enricher.stop_grace_period);
    if (grace < config.shutdownGraceMs + FORCE_EXIT_SLACK_MS + MARGIN_MS) {
      fail(`${file}: enricher stop_grace_period ${grace} ms < SHUTDOWN_GRACE_MS ${config.shutdownGraceMs} + ${FORCE_EXIT_SLACK_MS + MARGIN_MS} ms`);
    } else ok(`${file}: stop_grace_period ${grace / 1000} s covers the drain (${config.shutdownGraceMs} ms + slack)`);
    const init = (s['kafka-init']?.command ?? []).join(' ');
    for (const topic of [config.kafka.inputTopic, config.kafka.outputTopic, config.kafka.dlqTopic].filter((t) => t !== '')) {
      if (!init.includes(`--topic ${topic} `)) fail(`${file}: kafka-init does not create topic ${topic}`);
    }
    const producer = s['demo-producer']?.command ?? [];
    const topicArg = producer[producer.indexOf('--topic') + 1];
    if (topicArg !== config.kafka.inputTopic) fail(`${file}: demo-producer publishes to ${topicArg}, the enricher reads ${config.kafka.inputTopic}`);
    const fetchEnv = s['model-fetch']?.environment ?? {};
    if (fetchEnv['MODEL_DIR'] !== config.model.dir || (fetchEnv['MODEL_VARIANT'] ?? 'fp32') !== config.model.variant) {
      fail(`${file}: model-fetch fills ${fetchEnv['MODEL_DIR']} (${fetchEnv['MODEL_VARIANT']}), the enricher reads ${config.model.dir} (${config.model.variant})`);
    }
    const vol = (svc: ComposeService | undefined): string | undefined => svc?.volumes?.find((v) => config.model.dir?.startsWith(`${v.target}/`))?.source;
    if (vol(enricher) === undefined || vol(enricher) !== vol(s['model-fetch'])) fail(`${file}: enricher and model-fetch do not share the model volume`);
    else ok(`${file}: topics, model folder (${config.model.dir} on volume ${vol(enricher)}) and demo producer agree`);
  }
}

/** Names registered with prom-client in src/ (`name: '…'` in files importing it) and its default metrics. */
async function registeredMetrics(): Promise<{ service: Set<string>; defaults: Set<string> }> {
  const service = new Set<string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) {
        const text = readFileSync(p, 'utf8');
        if (!text.includes("from 'prom-client'")) continue;
        for (const m of text.matchAll(/\bname:\s*['"`]([a-zA-Z_:][a-zA-Z0-9_:]*)['"`]/g)) service.add(m[1]!);
      }
    }
  };
  walk(join(ROOT, 'src'));
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const defaults = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
  return { service, defaults };
}

async function checkDashboard(files: string[]): Promise<void> {
  const { service, defaults } = await registeredMetrics();
  if (service.size === 0) {
    fail('no metric registered under src/ (expected prom-client `name:` declarations): the dashboard cannot be checked');
    return;
  }
  for (const file of files) {
    const { metrics, expressions } = JSON.parse(readFileSync(file, 'utf8')) as { metrics: string[]; expressions: number };
    const base = (n: string): string => n.replace(/_(bucket|sum|count)$/, '');
    const unknown = metrics.filter((n) => !service.has(n) && !service.has(base(n)) && !defaults.has(n) && !defaults.has(base(n)));
    if (unknown.length > 0) fail(`Grafana dashboard queries metrics the code does not register: ${unknown.join(', ')}`);
    else ok(`Grafana dashboard: ${expressions} expressions parse; all ${metrics.length} metrics they select are registered by the code`);
    const used = new Set(metrics.map(base));
    const unused = [...service].filter((n) => !used.has(n));
    if (unused.length > 0) process.stdout.write(`  note  service metrics not on the dashboard: ${unused.join(', ')}\n`);
  }
}

function checkElasticsearch(): void {
  const template = JSON.parse(readFileSync(join(ROOT, 'deploy/elasticsearch/index-template.json'), 'utf8')) as {
    index_patterns?: string[];
    template?: { mappings?: { properties?: Record<string, { type?: string }> } };
  };
  if (template.template?.mappings?.properties?.['entities']?.type !== 'nested') fail('index-template.json: entities is not mapped as nested');
  else ok(`index-template.json parses; entities is nested; patterns ${JSON.stringify(template.index_patterns)}`);
  const dir = join(ROOT, 'deploy/elasticsearch/queries');
  let n = 0;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
    try {
      JSON.parse(readFileSync(join(dir, f), 'utf8'));
      n += 1;
    } catch (err) {
      fail(`queries/${f}: ${(err as Error).message}`);
    }
  }
  ok(`${n} query files in deploy/elasticsearch/queries parse`);
}

async function main(): Promise<void> {
  const a = args();
  process.stdout.write('configuration wiring\n');
  checkSettingsCoverage();
  checkRendered(a['rendered'] ?? []);
  checkCompose(a['compose'] ?? []);
  process.stdout.write('dashboard and Elasticsearch files\n');
  await checkDashboard(a['dashboard-metrics'] ?? []);
  checkElasticsearch();
  if (errors > 0) {
    process.stdout.write(`check-wiring: ${errors} error(s)\n`);
    process.exit(1);
  }
  process.exit(0);
}

await main();
