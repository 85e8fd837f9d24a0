/**
 * `npm run demo` interrupted while it starts its services (a real Ctrl-C: SIGINT to the whole
 * process group, as a terminal sends it) stops what it started and exits 130; with --keep it
 * leaves them running (issue 9). Runs its own Kafka/Elasticsearch on other ports and another
 * state folder (services.sh honours SVC_DIR and *_PORT), so the suite's services are untouched.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const svcDir = mkdtempSync(join(tmpdir(), 'demo-svc-'));
// Reuse the unpacked Kafka/Elasticsearch of the suite's services (unpacking ES takes a minute).
mkdirSync(`${ROOT}.svc/dist`, { recursive: true });
symlinkSync(`${ROOT}.svc/dist`, `${svcDir}/dist`);

const env: NodeJS.ProcessEnv = {
  ...process.env,
  SVC_DIR: svcDir,
  KAFKA_PORT: '29092',
  KAFKA_CONTROLLER_PORT: '29093',
  ES_PORT: '29200',
  ES_TRANSPORT_PORT: '29300',
  MODEL_DIR: `${ROOT}test/fixtures/models/tiny-span`,
};
delete env['KAFKA_BROKERS'];
delete env['ELASTICSEARCH_URL'];

function servicesStatus(): number {
  return spawnSync('bash', [`${ROOT}scripts/services.sh`, 'status', 'all'], { env, stdio: 'ignore' }).status ?? -1;
}

/** Runs the demo in its own process group and sends SIGINT to the group once `when` is printed. */
function interruptDemo(args: string[], when: RegExp): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn('node', [`${ROOT}dist/cli.js`, 'demo', ...args], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let sent = false;
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      if (!sent && when.test(out)) {
        sent = true;
        // Let the service start get under way, then Ctrl-C.
        setTimeout(() => process.kill(-child.pid!, 'SIGINT'), 3000);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('demo clean-up on Ctrl-C', () => {
  afterAll(() => {
    spawnSync('bash', [`${ROOT}scripts/services.sh`, 'stop', 'all'], { env, stdio: 'ignore' });
    rmSync(svcDir, { recursive: true, force: true });
  });

  it('stops the services it started when interrupted while starting Elasticsearch, and exits 130', async () => {
    expect(servicesStatus()).toBe(3);
    const { code, out } = await interruptDemo([], /Starting a local Elasticsearch/);
    expect(out).toContain('SIGINT: cleaning up');
    expect(out).toContain('Stopping the Elasticsearch started for the demo');
    expect(out).toContain('Stopping the Kafka started for the demo');
    expect(code).toBe(130);
    expect(servicesStatus()).toBe(3);
  }, 300_000);

  it('with --keep, leaves what it started running', async () => {
    const { code, out } = await interruptDemo(['--keep'], /Starting a local Elasticsearch/);
    expect(code).toBe(130);
    expect(out).not.toContain('Stopping the Kafka');
    const kafka = spawnSync('bash', [`${ROOT}scripts/services.sh`, 'status', 'kafka'], { env, stdio: 'ignore' }).status;
    expect(kafka).toBe(0);
  }, 300_000);
});
