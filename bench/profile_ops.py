#!/usr/bin/env python3
"""Per-operator time of one GLiNER window under the reference's and our session options.

Why (issue 12, item 2): both engines spend nearly all their time inside the same ONNX Runtime
(1.30.0 in both `onnxruntime` and `onnxruntime-node`), so a speed difference must come from the
feeds, the graph, or the session options.  This runs the *same* feeds (the reference's own
`prepare_batch`/`collate_batch` of one text, the window both engines build for a text within
`max_len`) through ORT's profiler twice:

* reference: what `bench/reference.py` gives the reference (`ORT_ENABLE_ALL`, `--threads` intra-op
  threads, ORT's other defaults);
* ours: what `src/gliner/session.ts` sets (`ORT_ENABLE_EXTENDED`, the same intra-op threads, one
  inter-op thread, sequential execution, CPU arena on, spinning on).

and prints, per operator type, the median over runs of the summed kernel time, plus the median
`session.run` wall time.  Node's binding runs the same native kernels, so the table is the ORT side
of each engine; what our process does around `run` is measured by `npm run bench` ("time outside
ONNX Runtime").

    models/.venv/bin/python bench/profile_ops.py --model models/build/gliner_medium_news-v2.1-random \\
        --file onnx/model.onnx --threads 2 --runs 10 [--words 336]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "models"))

from gliner_tools import env  # noqa: E402

env.configure(offline=True)

import onnxruntime as ort  # noqa: E402
from gliner import GLiNER  # noqa: E402

from gliner_tools.onnx_export import reference_feeds  # noqa: E402

LABELS = ["person", "organization", "location", "event"]


def text_of(words: int) -> str:
    """The first ``words`` words of the demo's real Wikinews samples (one window)."""
    out: list[str] = []
    for line in (ROOT / "samples/wikinews.jsonl").read_text(encoding="utf-8").splitlines():
        a = json.loads(line)
        out.extend(f"{a.get('title', '')} {a['body']}".split())
        if len(out) >= words:
            break
    return " ".join(out[:words])


def options(kind: str, threads: int, profile_dir: str) -> ort.SessionOptions:
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    if kind == "reference":
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    else:
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.enable_cpu_mem_arena = True
        so.add_session_config_entry("session.intra_op.allow_spinning", "1")
    so.enable_profiling = True
    so.profile_file_prefix = str(Path(profile_dir) / kind)
    return so


def profile(kind: str, path: Path, feeds: dict, threads: int, runs: int) -> tuple[dict[str, float], float]:
    with tempfile.TemporaryDirectory() as tmp:
        sess = ort.InferenceSession(str(path), options(kind, threads, tmp), providers=["CPUExecutionProvider"])
        sess.run(None, feeds)  # warm-up, dropped below
        walls = []
        for _ in range(runs):
            t0 = time.perf_counter()
            sess.run(None, feeds)
            walls.append((time.perf_counter() - t0) * 1000)
        events = json.loads(Path(sess.end_profiling()).read_text())
    # Kernel events ("cat": "Node", name "<node>_kernel_time") grouped per run by the model_run events.
    runs_spans = [(e["ts"], e["ts"] + e["dur"]) for e in events if e.get("cat") == "Session" and e["name"] == "model_run"][1:]
    per_run: list[dict[str, float]] = [defaultdict(float) for _ in runs_spans]
    for e in events:
        if e.get("cat") != "Node" or not e["name"].endswith("_kernel_time"):
            continue
        for i, (a, b) in enumerate(runs_spans):
            if a <= e["ts"] <= b:
                per_run[i][e["args"]["op_name"]] += e["dur"] / 1000
                break
    ops = {op for r in per_run for op in r}
    return {op: statistics.median(r.get(op, 0.0) for r in per_run) for op in ops}, statistics.median(walls)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--file", default="onnx/model.onnx")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--words", type=int, default=336)
    args = ap.parse_args(argv)
    model = GLiNER.from_pretrained(str(args.model.resolve()), load_onnx_model=True, onnx_model_file=args.file,
                                   load_tokenizer=True, local_files_only=True)
    feeds = reference_feeds(model, [text_of(args.words)], LABELS)
    shapes = {k: list(v.shape) for k, v in feeds.items()}
    results = {kind: profile(kind, args.model / args.file, feeds, args.threads, args.runs) for kind in ("reference", "ours")}
    ref_ops, ref_wall = results["reference"]
    our_ops, our_wall = results["ours"]
    print(f"{args.model.name}/{args.file}, {args.words} words, feeds {shapes}, {args.threads} threads, median of {args.runs} runs")
    print(f"session.run wall ms: reference {ref_wall:.1f}, ours {our_wall:.1f} (ratio ours/reference {our_wall / ref_wall:.2f})")
    print("| op type | reference ms | ours ms |")
    print("|---|---|---|")
    for op in sorted(set(ref_ops) | set(our_ops), key=lambda o: -max(ref_ops.get(o, 0), our_ops.get(o, 0))):
        if max(ref_ops.get(op, 0), our_ops.get(op, 0)) >= 0.05:
            print(f"| {op} | {ref_ops.get(op, 0):.2f} | {our_ops.get(op, 0):.2f} |")
    print(f"| **sum of kernels** | {sum(ref_ops.values()):.1f} | {sum(our_ops.values()):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
