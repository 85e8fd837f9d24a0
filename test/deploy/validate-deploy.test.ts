import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * The offline checks of every deployment file (compose, Dockerfiles, Kubernetes renders,
 * config wiring, dashboard, ES files), run as part of `npm test` so CI runs them too.
 * First run installs the pinned tools into .cache/ (about 2 minutes), then seconds.
 */
describe('deployment files', () => {
  it('pass scripts/validate-deploy.sh', () => {
    const root = new URL('../../', import.meta.url).pathname;
    const r = spawnSync('bash', ['scripts/validate-deploy.sh'], { cwd: root, encoding: 'utf8', timeout: 15 * 60_000 });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/all \d+ steps passed/);
  }, 16 * 60_000);
});
