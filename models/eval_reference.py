#!/usr/bin/env python3
"""Entities of the REFERENCE ``gliner`` on evaluation texts, as its users call it.

Why: ``npm run eval`` compares our engine with the reference on the same model.  Users
call ``model.predict_entities(text, labels, threshold=...)`` on a whole document; for a
document longer than the model's ``max_len`` words the reference silently keeps only
the first ``max_len`` words (and its tokenizer the first 512 sub-tokens), which is
exactly what this measures.  Nothing here changes the reference's behaviour.

Input: JSON Lines ``{"id", "text", "labels"}``; output: JSON Lines
``{"id", "entities": [{"start", "end", "label", "score"}]}`` with UTF-16 offsets
(JavaScript string indices; the reference returns Python code-point offsets).

    models/.venv/bin/python models/eval_reference.py --model models/gliner-news-minilm-l6 \\
        --threshold 0.3 --in texts.jsonl --out reference.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gliner_tools import env  # noqa: E402

env.configure(offline=True)

from gliner import GLiNER  # noqa: E402


def utf16_index(text: str, i: int) -> int:
    return len(text[:i].encode("utf-16-le")) // 2


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--variant", default="model.onnx", help="ONNX file under onnx/")
    ap.add_argument("--threshold", type=float, required=True)
    ap.add_argument("--in", dest="inp", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--batch-size", type=int, default=8)
    args = ap.parse_args(argv)
    model = GLiNER.from_pretrained(str(args.model.resolve()), load_onnx_model=True,
                                   onnx_model_file=f"onnx/{args.variant}", load_tokenizer=True,
                                   local_files_only=True)
    items = [json.loads(line) for line in args.inp.read_text(encoding="utf-8").splitlines() if line.strip()]
    started = time.perf_counter()
    # predict_entities(text) is inference([text]); consecutive texts with the same labels go through
    # inference() together (batch_size texts per forward pass), which gives the same entities faster.
    found: list[list[dict]] = []
    i = 0
    while i < len(items):
        j = i
        while j < len(items) and j - i < args.batch_size and items[j]["labels"] == items[i]["labels"]:
            j += 1
        texts = [it["text"] for it in items[i:j]]
        found += model.inference(texts, items[i]["labels"], threshold=args.threshold, batch_size=args.batch_size)
        i = j
    with open(args.out, "w", encoding="utf-8") as out:
        for item, ents_raw in zip(items, found, strict=True):
            text = item["text"]
            ents = [{"start": utf16_index(text, e["start"]), "end": utf16_index(text, e["end"]),
                     "label": e["label"], "score": float(e["score"])} for e in ents_raw]
            out.write(json.dumps({"id": item["id"], "entities": ents}, ensure_ascii=True) + "\n")
    print(f"[eval-reference] {len(items)} texts in {time.perf_counter() - started:.1f} s -> {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
