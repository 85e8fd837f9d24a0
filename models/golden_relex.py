#!/usr/bin/env python3
"""Golden outputs of a NATIVE GLiNER relation model (``UniEncoderSpanRelexGLiNER``) from the reference.

For every case (texts, entity labels, relation names, thresholds, flat or nested) this runs the
reference's own inference steps on the model's PyTorch checkpoint, as ``inference()`` does:
``prepare_batch`` -> ``collate_batch`` -> ``run_batch`` -> ``decode_batch`` (``SpanRelexDecoder``,
which maps the model's entity indices to decoded spans through ``entity_spans``) ->
``map_entities_to_text`` / ``map_relations_to_text``, with all the case's texts in one batch.
The only argument that differs from ``inference(threshold=t)`` is ``run_batch``'s threshold, the
one that picks the candidate entities for pairs: it is the ONNX graph's constant
(``onnx_entity_threshold`` of gliner_config.json, 0.5), because that is what an ONNX file
computes; where ``t >= 0.5`` the result is checked to equal plain ``inference()`` (with an
adjacency layer only at ``t == 0.5``: ``inference()`` also filters pairs at ``adjacency_threshold
= t``, the graph at its constant ``onnx_adjacency_threshold``).

It also checks the committed ONNX file against the same PyTorch forward on every case (logits,
``rel_idx``, ``rel_logits``, ``rel_mask`` on the valid pairs), and records what the reference's
own ONNX path (``load_onnx_model=True``) returns on that file: without ``entity_spans`` its
decoder falls back to reading ``rel_idx`` as indices into the greedy-decoded list, so relations
attach to the wrong entities whenever flat NER drops or reorders a candidate
(``reference_onnx_relations``; the engine does not copy this).

    models/.venv/bin/python models/golden_relex.py --model test/fixtures/models/tiny-span-relex \\
        --checkpoint models/build/tiny-span-relex-torch \\
        --cases test/fixtures/parity/relex-cases.jsonl --out test/fixtures/parity/golden-relex-tiny-span.jsonl

One ASCII JSON line per case: the case's fields (its relation names as ``relations_asked``), ``max_len``, ``graph_entity_threshold``,
``entities`` / ``relations`` per text (relations as the reference returns them: ``head`` /
``tail`` with ``start``, ``end``, ``text``, ``type``, ``entity_idx``; ``relation``; ``score``),
``equals_inference`` (None when ``t < 0.5``), ``reference_onnx_relations``, ``onnx_check``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gliner_tools import env  # noqa: E402

env.configure(offline=True)

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402
from gliner import GLiNER  # noqa: E402

INPUTS = ("input_ids", "attention_mask", "words_mask", "text_lengths", "span_idx", "span_mask")


def reference_steps(model, case: dict, graph_threshold: float):
    """``inference()`` step by step, with the graph's candidate threshold in ``run_batch``."""
    texts, labels, relations = case["texts"], case["entity_labels"], case["relations"]
    prepared = model.prepare_batch(texts, labels, None, relations)
    batch = model.collate_batch(prepared["input_x"], prepared["entity_types"], None, prepared["relation_types"])
    output = model.run_batch(batch, threshold=graph_threshold, adjacency_threshold=graph_threshold)
    entities, rels = model.decode_batch(output, batch, threshold=case["threshold"],
                                        relation_threshold=case["relation_threshold"], flat_ner=case["flat_ner"])
    args = (prepared["valid_texts"], prepared["valid_to_orig_idx"], prepared["start_token_map"],
            prepared["end_token_map"], prepared["num_original"])
    return (model.map_entities_to_text(entities, *args), model.map_relations_to_text(rels, entities, *args),
            batch, output)


def onnx_check(session: ort.InferenceSession, batch: dict, output) -> dict:
    feeds = {name: batch[name].numpy() for name in INPUTS}
    logits, rel_idx, rel_logits, rel_mask = session.run(None, feeds)
    ref_mask = output.rel_mask.numpy()
    same_mask = rel_mask.shape == ref_mask.shape and bool((rel_mask == ref_mask).all())
    report = {
        "logits_max_abs_diff": float(np.abs(logits - output.logits.numpy()).max()),
        "rel_mask_equal": same_mask,
        "valid_pairs": int(ref_mask.sum()),
    }
    if same_mask:
        report["rel_idx_equal"] = bool((rel_idx[ref_mask] == output.rel_idx.numpy()[ref_mask]).all())
        diff = np.abs(rel_logits[ref_mask] - output.rel_logits.numpy()[ref_mask])
        report["rel_logits_max_abs_diff"] = float(diff.max()) if diff.size else 0.0
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="model folder (gliner_config.json, onnx/model.onnx, tokenizer)")
    ap.add_argument("--checkpoint", required=True, help="the same model's PyTorch checkpoint (gliner save_pretrained)")
    ap.add_argument("--cases", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    model = GLiNER.from_pretrained(args.checkpoint, local_files_only=True)
    model.eval()
    onnx_model = GLiNER.from_pretrained(args.model, load_onnx_model=True, load_tokenizer=True,
                                        onnx_model_file="onnx/model.onnx", local_files_only=True)
    session = ort.InferenceSession(str(Path(args.model) / "onnx" / "model.onnx"), providers=["CPUExecutionProvider"])
    config = json.loads((Path(args.model) / "gliner_config.json").read_text(encoding="utf-8"))
    graph_threshold = float(config.get("onnx_entity_threshold", 0.5))

    lines, problems = [], []
    for raw in Path(args.cases).read_text(encoding="utf-8").splitlines():
        if not raw.strip():
            continue
        case = json.loads(raw)
        with torch.no_grad():
            entities, relations, batch, output = reference_steps(model, case, graph_threshold)
            equals = None
            # inference(threshold=t) also filters pairs at adjacency_threshold=t, the graph at its
            # constant: with an adjacency layer the two agree only when t is that constant.
            adjacency = model.config.relations_layer != "none"
            graph_adjacency = float(config.get("onnx_adjacency_threshold", 0.5))
            if case["threshold"] >= graph_threshold and (not adjacency or case["threshold"] == graph_adjacency):
                plain = model.inference(case["texts"], case["entity_labels"], relations=case["relations"],
                                        flat_ner=case["flat_ner"], threshold=case["threshold"],
                                        relation_threshold=case["relation_threshold"], batch_size=len(case["texts"]))
                equals = plain[0] == entities and plain[1] == relations
                if not equals:
                    problems.append(f"{case['id']}: step-by-step result differs from inference()")
        check = onnx_check(session, batch, output)
        if not (check["rel_mask_equal"] and check.get("rel_idx_equal") and check["logits_max_abs_diff"] < 1e-3
                and check.get("rel_logits_max_abs_diff", 1.0) < 1e-3):
            problems.append(f"{case['id']}: ONNX file differs from the PyTorch forward: {check}")
        _, onnx_relations = onnx_model.inference(case["texts"], case["entity_labels"], relations=case["relations"],
                                                 flat_ner=case["flat_ner"], threshold=case["threshold"],
                                                 relation_threshold=case["relation_threshold"],
                                                 batch_size=len(case["texts"]))
        lines.append(json.dumps({
            **{k: v for k, v in case.items() if k != "relations"},
            "relations_asked": case["relations"],
            "model": Path(args.model).name,
            "max_len": model.config.max_len,
            "graph_entity_threshold": graph_threshold,
            "entities": entities,
            "relations": relations,
            "equals_inference": equals,
            "reference_onnx_relations": onnx_relations,
            "onnx_check": check,
        }, ensure_ascii=True))
        wrong = sum(a != b for x, y in zip(relations, onnx_relations) for a, b in zip(x, y)) \
            + sum(abs(len(x) - len(y)) for x, y in zip(relations, onnx_relations))
        print(f"[golden-relex] {case['id']}: {sum(map(len, entities))} entities, {sum(map(len, relations))} relations, "
              f"{check['valid_pairs']} pairs; reference ONNX path differs on {wrong}", file=sys.stderr)
    if problems:
        raise SystemExit("\n".join(problems))
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
