#!/usr/bin/env python3
"""Time the reference `gliner` package on a JSONL corpus, for `npm run bench`.

Runs `GLiNER.inference` (the reference's batch API) over every text of the corpus,
`--warmup` times untimed then `--runs` times timed, with the ONNX Runtime path (any
`--onnx-file`) or the torch path, on `--threads` threads. Prints one JSON object:
per-run wall seconds, model load seconds, and the entities of the last run (Python
code-point offsets) so the caller can check both engines found the same entities.

Usage::

    models/.venv/bin/python bench/reference.py --model DIR --corpus texts.jsonl \
        --labels person,organization --threshold 0.5 --engine onnx --onnx-file onnx/model.onnx \
        --batch-size 1 --threads 2 --warmup 1 --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--corpus", required=True, help="JSONL with a 'text' key per line")
    ap.add_argument("--labels", required=True)
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--engine", choices=("onnx", "torch"), required=True)
    ap.add_argument("--onnx-file", default="onnx/model.onnx")
    ap.add_argument("--batch-size", type=int, default=1)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--warmup-texts", type=int, default=0, help="warm up on the first N texts only (0: all)")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()

    # Thread settings before the libraries start their pools.
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import onnxruntime as ort
    import torch
    from gliner import GLiNER

    torch.set_num_threads(args.threads)
    texts = [json.loads(line)["text"] for line in open(args.corpus, encoding="utf-8") if line.strip()]
    labels = args.labels.split(",")

    t0 = time.perf_counter()
    if args.engine == "onnx":
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL  # the reference's default
        so.intra_op_num_threads = args.threads
        so.inter_op_num_threads = 1
        model = GLiNER.from_pretrained(
            args.model, load_onnx_model=True, onnx_model_file=args.onnx_file, session_options=so,
            load_tokenizer=True, local_files_only=True,
        )
    else:
        model = GLiNER.from_pretrained(args.model, load_tokenizer=True, local_files_only=True)
        model.eval()
    load_s = time.perf_counter() - t0

    def once(subset=texts):
        return model.inference(subset, labels, threshold=args.threshold, batch_size=args.batch_size)

    for _ in range(args.warmup):
        once(texts[: args.warmup_texts] if args.warmup_texts > 0 else texts)
    seconds = []
    out = None
    for _ in range(args.runs):
        t = time.perf_counter()
        out = once()
        seconds.append(time.perf_counter() - t)
    json.dump(
        {
            "engine": f"reference-{args.engine}",
            "file": args.onnx_file if args.engine == "onnx" else "pytorch weights",
            "batch_size": args.batch_size,
            "threads": args.threads,
            "load_seconds": load_s,
            "seconds": seconds,
            "entities": out,
            "versions": {"gliner": __import__("gliner").__version__, "onnxruntime": ort.__version__, "torch": torch.__version__},
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
