#!/usr/bin/env python3
"""Golden relation outputs from the REFERENCE multitask path (``GLiNERRelationExtractor``).

For every case (texts, entity labels, relation names, thresholds) this runs, on the model's
ONNX file through ``GLiNER.from_pretrained(..., load_onnx_model=True)``:

  pass 1  ``GLiNERRelationExtractor._run_model(texts, entity_labels, threshold=ner_threshold)``
  pass 2  ``GLiNERRelationExtractor(texts, relations=..., relation_labels=..., rel_threshold=...)``
          on an extractor made with ``return_index=True``

unchanged, one text at a time (batch_size 1). The only input we choose is the order of pass 2's
labels: the reference builds them from a Python ``set`` of entity texts, whose order changes with
the process's hash seed, so this passes ``relation_labels`` explicitly in the order our engine
uses (relation-major, distinct entity texts in first-seen order; ``src/relations/multitask.ts``).

One JSON line per case (ASCII JSON; offsets are Python code points, as the reference returns)::

    {"id", "model", "variant", "texts", "entity_labels", "relations_asked", "ner_threshold",
     "rel_threshold", "max_len",
     "entities": [[{"start", "end", "text", "label", "score"}] per text],        # pass 1
     "relation_labels": [[...] per text],                                        # pass 2's labels
     "relations": [[{"source", "relation", "target", "score", "start", "end"}] per text]}

``start``/``end`` of a relation are the tail's offsets shifted back by the prompt, as the
reference computes them (negative when the span starts inside the prompt).

    models/.venv/bin/python models/golden_relations.py --model test/fixtures/models/tiny-span \\
        --cases test/fixtures/parity/relation-cases.jsonl --out test/fixtures/parity/golden-relations-tiny-span.jsonl
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gliner_tools import env  # noqa: E402

env.configure(offline=True)

from gliner import GLiNER  # noqa: E402

# gliner.multitask's __init__ imports every task (classification needs scikit-learn) and its
# modules import Hugging Face `datasets` at module level, for their `evaluate()` methods only
# (Dataset annotations, load_dataset); the relation path run here touches neither, and neither is
# pinned (pyarrow + pandas + scikit-learn for two imports). So the package is registered without
# running its __init__ (its modules load from its folder as usual), and, when `datasets` is
# absent, a placeholder satisfies the import and fails loudly on any real use.
_multitask = types.ModuleType("gliner.multitask")
_multitask.__path__ = [str(Path(importlib.util.find_spec("gliner").origin).parent / "multitask")]
sys.modules["gliner.multitask"] = _multitask
if importlib.util.find_spec("datasets") is None:
    placeholder = types.ModuleType("datasets")

    def _absent(*_a, **_k):
        raise RuntimeError("the `datasets` package is not installed (only needed by gliner.multitask's evaluate())")

    placeholder.Dataset = type("Dataset", (), {"__init__": _absent})
    placeholder.load_dataset = _absent
    sys.modules["datasets"] = placeholder

from gliner.multitask.relation_extraction import GLiNERRelationExtractor  # noqa: E402


def ordered_labels(entities: list[dict], relations: list[str]) -> list[str]:
    distinct = list(dict.fromkeys(e["text"] for e in entities))
    return [f"{t} <> {r}" for r in relations for t in distinct]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="model folder (gliner_config.json, onnx/)")
    ap.add_argument("--variant", default="model.onnx", help="ONNX file under onnx/")
    ap.add_argument("--cases", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    model = GLiNER.from_pretrained(args.model, load_onnx_model=True, load_tokenizer=True, onnx_model_file=f"onnx/{args.variant}", local_files_only=True)
    rex = GLiNERRelationExtractor(model=model, device="cpu", return_index=True)
    lines = []
    for raw in Path(args.cases).read_text(encoding="utf-8").splitlines():
        if not raw.strip():
            continue
        case = json.loads(raw)
        entities, labels, relations = [], [], []
        for text in case["texts"]:
            ner = rex._run_model([text], case["entity_labels"], threshold=case["ner_threshold"], batch_size=1)[0]
            entities.append([{k: e[k] for k in ("start", "end", "text", "label", "score")} for e in ner])
            rel_labels = ordered_labels(ner, case["relations"])
            labels.append(rel_labels)
            if not rel_labels:
                relations.append([])
                continue
            out = rex([text], relations=case["relations"], relation_labels=[rel_labels], rel_threshold=case["rel_threshold"], batch_size=1)[0]
            relations.append(out)
        lines.append(
            json.dumps(
                {
                    "id": case["id"],
                    "model": Path(args.model).name,
                    "variant": args.variant,
                    "texts": case["texts"],
                    "entity_labels": case["entity_labels"],
                    "relations_asked": case["relations"],
                    "ner_threshold": case["ner_threshold"],
                    "rel_threshold": case["rel_threshold"],
                    "max_len": model.config.max_len,
                    "entities": entities,
                    "relation_labels": labels,
                    "relations": relations,
                },
                ensure_ascii=True,
            )
        )
        print(f"[golden-relations] {case['id']}: {sum(len(e) for e in entities)} entities, {sum(len(r) for r in relations)} relations", file=sys.stderr)
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
