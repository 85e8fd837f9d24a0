#!/usr/bin/env python3
"""Static int8 quantisation of a GLiNER ONNX file, calibrated on news text (an experiment).

Why: issue 12 asks whether static int8 (activation ranges fixed from calibration data) beats
the dynamic int8 the project ships (activation ranges measured per batch at run time).  This
builds the static file so the comparison in BENCHMARKS.md ("Graph-level variants") can be
reproduced; it is not part of the export, because it lost on speed and on quality.

Calibration: chunks of 200 words from the GUM Wikinews *train* documents (never the test
split), with the news labels, fed one text per batch exactly as the reference pipeline builds
its ONNX feeds.  Only MatMul weights are quantised (per channel, int8 weights, uint8
activations); softmax, layer norms and the span head stay fp32.

    models/.venv/bin/python models/quantize_static.py --checkpoint models/build/train-news/stage2/checkpoint \\
        --onnx models/build/train-news/gliner-news-minilm-l6/onnx/model.onnx --out /tmp/model_static_qdq.onnx \\
        [--format qdq|qoperator] [--texts 48] [--data ../shared/data/ner]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gliner_tools import env  # noqa: E402

env.configure(offline=True)

from gliner import GLiNER  # noqa: E402
from onnxruntime.quantization import (  # noqa: E402
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process  # noqa: E402

from gliner_tools.onnx_export import reference_feeds  # noqa: E402

LABELS = ["person", "organization", "location"]


def calibration_texts(data: Path, count: int, words: int = 200) -> list[str]:
    """The first ``words``-word chunks (up to three per document) of the GUM Wikinews train documents."""
    texts: list[str] = []
    for line in (data / "gum_wikinews.train.jsonl").read_text(encoding="utf-8").splitlines():
        w = json.loads(line)["text"].split()
        texts.extend(" ".join(w[s:s + words]) for s in range(0, min(len(w), 3 * words), words))
    return texts[:count]


class Feeds(CalibrationDataReader):
    def __init__(self, feeds: list[dict]) -> None:
        self.it = iter(feeds)

    def get_next(self):  # noqa: ANN201 (onnxruntime's interface)
        return next(self.it, None)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", type=Path, required=True, help="the GLiNER checkpoint the ONNX file was exported from")
    ap.add_argument("--onnx", type=Path, required=True, help="its fp32 ONNX file")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--format", choices=["qdq", "qoperator"], default="qdq")
    ap.add_argument("--texts", type=int, default=48)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parent.parent.parent / "shared/data/ner")
    args = ap.parse_args(argv)
    model = GLiNER.from_pretrained(str(args.checkpoint), local_files_only=True)
    feeds = [reference_feeds(model, [t], LABELS) for t in calibration_texts(args.data, args.texts)]
    print(f"[static] {len(feeds)} calibration texts", flush=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(args.onnx), str(pre), skip_symbolic_shape=True)
        quantize_static(str(pre), str(args.out), Feeds(feeds),
                        quant_format=QuantFormat.QDQ if args.format == "qdq" else QuantFormat.QOperator,
                        op_types_to_quantize=["MatMul"], per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax, extra_options={"MatMulConstBOnly": True})
    print(f"[static] {args.out} ({args.out.stat().st_size:,} bytes) in {time.perf_counter() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
