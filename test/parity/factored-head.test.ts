import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const REPO = new URL('../../', import.meta.url).pathname;
const PYTHON = `${REPO}models/.venv/bin/python`;

/**
 * The factored span head (models/gliner_tools/factored_head.py) against the reference's own
 * forward in PyTorch, in training mode: same logits, loss and gradients up to float summation
 * order; and the export's DeBERTa relative-position rewrite (models/gliner_tools/deberta_relpos.py)
 * gives the reference's logits bit for bit. The ONNX side is covered by parity.test.ts (the factored fixture file against the
 * reference's golden); this needs the reference stack (models/setup.sh), so it is skipped without it.
 */
describe.skipIf(!existsSync(PYTHON))('factored span head vs the reference forward (PyTorch, training mode)', () => {
  it('gives the reference logits, loss and gradients on a padded batch (and the relative-position rewrite its exact logits)', () => {
    const out = execFileSync(PYTHON, [`${REPO}models/check_factored_head.py`, '--json'], { encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'ignore'] });
    const report = JSON.parse(out.trim().split('\n').at(-1)!) as { ok: boolean; max_abs_logit_diff: number; loss: [number, number]; worst_grad_rel_diff: [string, number][]; relpos_rewritten: boolean; relpos_bit_identical: boolean };
    expect(report.max_abs_logit_diff).toBeLessThan(1e-4);
    expect(report.loss[1]).toBeCloseTo(report.loss[0], 3);
    expect(report.worst_grad_rel_diff[0]![1]).toBeLessThan(1e-4);
    expect(report.relpos_rewritten).toBe(true);
    expect(report.relpos_bit_identical).toBe(true);
    expect(report.ok).toBe(true);
  }, 150_000);
});
