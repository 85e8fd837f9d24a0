#!/usr/bin/env python3
"""Check that the factored span head is the reference's: logits, loss and gradients, in training.

Builds the ``tiny-span`` random model (offline, seeded), makes a training batch of texts of
different lengths with different label counts (so words and labels are padded), and runs the
reference forward and the factored one (``gliner_tools/factored_head.py``) in training mode from
the same torch seed: dropout masks are drawn in the same order with the same shapes, so the two
must agree up to float summation order. Also checks the export's other rewrite, DeBERTa's
relative-position indexes shared by all layers (``gliner_tools/deberta_relpos.py``): in eval
mode its logits must be the reference's bit for bit. Exits 1 with the worst differences if not.

    models/.venv/bin/python models/check_factored_head.py [--seed 20240601] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gliner_tools import env  # noqa: E402

LOGIT_TOL = 1e-4
GRAD_REL_TOL = 1e-4
EXAMPLES = [
    {"tokenized_text": "Angela Merkel met Emmanuel Macron in Paris on Monday .".split(),
     "ner": [[0, 1, "person"], [3, 4, "person"], [6, 6, "location"]]},
    {"tokenized_text": "Apple shares fell .".split(), "ner": [[0, 0, "organization"]]},
    {"tokenized_text": ("The European Union and the United Nations said the talks in Geneva would resume "
                        "after the summer , according to officials in Brussels and New York .").split(),
     "ner": [[1, 2, "organization"], [5, 6, "organization"], [11, 11, "location"],
             [24, 24, "location"], [26, 27, "location"], [9, 9, "event"]]},
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    env.configure(offline=True)
    import torch

    from gliner_tools import construct, deberta_relpos, factored_head, presets

    tokenizer = construct.load_tokenizer(env.REPO_ROOT / "test/fixtures/tokenizer")
    model = construct.build_random(presets.PRESETS["tiny-span"], tokenizer, args.seed)
    batch = model._create_data_collator()(EXAMPLES)
    model.train(True)

    def run(factored: bool):
        model.zero_grad(set_to_none=True)
        torch.manual_seed(args.seed)
        if factored:
            factored_head.install(model)
        try:
            out = model.model(**batch)
            out.loss.backward()
        finally:
            factored_head.uninstall(model)
        grads = {n: p.grad.detach().clone() for n, p in model.model.named_parameters() if p.grad is not None}
        return out.logits.detach(), out.loss.detach(), grads

    ref_logits, ref_loss, ref_grads = run(False)
    fac_logits, fac_loss, fac_grads = run(True)
    logit_diff = float((ref_logits - fac_logits).abs().max())
    # Relative to each parameter's gradient norm; those with (near) zero gradient in exact arithmetic
    # (attention key biases: softmax ignores them) are compared against the largest norm instead.
    largest = max(float(g.norm()) for g in ref_grads.values())
    grad_rel = {n: float((ref_grads[n] - fac_grads[n]).norm()) / max(float(ref_grads[n].norm()), 1e-3 * largest)
                for n in ref_grads}
    worst = sorted(grad_rel.items(), key=lambda kv: -kv[1])[:3]
    report = {
        "logits_shape": list(ref_logits.shape),
        "max_abs_logit_diff": logit_diff,
        "loss": [float(ref_loss), float(fac_loss)],
        "parameters_with_grad": [len(ref_grads), len(fac_grads)],
        "worst_grad_rel_diff": worst,
    }
    ok = (ref_logits.shape == fac_logits.shape and logit_diff <= LOGIT_TOL
          and abs(float(ref_loss) - float(fac_loss)) <= 1e-4 * max(1.0, abs(float(ref_loss)))
          and set(ref_grads) == set(fac_grads) and worst[0][1] <= GRAD_REL_TOL)
    # The relative-position rewrite, eval mode: it only reads the same elements another way.
    model.train(False)
    inference = {k: v for k, v in batch.items() if k != "labels"}
    with torch.no_grad():
        plain = model.model(**inference).logits
        with deberta_relpos.installed(model) as rewritten:
            shared = model.model(**inference).logits
    report["relpos_rewritten"] = rewritten
    report["relpos_bit_identical"] = bool(torch.equal(plain, shared))
    ok = ok and rewritten and report["relpos_bit_identical"]
    report["ok"] = ok
    print(json.dumps(report) if args.json else "\n".join(f"{k}: {v}" for k, v in report.items()))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
