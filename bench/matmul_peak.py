#!/usr/bin/env python3
"""Measure this machine's float32 matrix-multiply rate through ONNX Runtime (one MatMul node).

Why: on CPU the aim is to waste nothing around ONNX Runtime; the model's achieved
GFLOP/s only means something next to what the same library reaches on a pure GEMM with
the same threads. Measured on square shapes and on the medium model's own shapes
(384 tokens × 768 / 3072), since the rate depends on shape. Prints JSON:
{"shapes": [{"shape": [m, k, n], "gflops": median}], "threads": N}.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper

SHAPES = [(1536, 1536, 1536), (2048, 2048, 2048), (384, 768, 3072), (384, 3072, 768), (384, 768, 768)]


def rate(m: int, k: int, n: int, threads: int, runs: int) -> float:
    b = np.random.default_rng(0).standard_normal((k, n), dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["a", "b"], ["c"])],
        "peak",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [m, k])],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, [m, n])],
        initializer=[helper.make_tensor("b", TensorProto.FLOAT, [k, n], b.tobytes(), raw=True)],
    )
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    sess = ort.InferenceSession(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString(), so,
                                providers=["CPUExecutionProvider"])
    a = np.random.default_rng(1).standard_normal((m, k), dtype=np.float32)
    sess.run(None, {"a": a})
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        sess.run(None, {"a": a})
        times.append(time.perf_counter() - t)
    times.sort()
    return 2 * m * k * n / times[len(times) // 2] / 1e9


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--runs", type=int, default=9)
    args = ap.parse_args()
    print(json.dumps({"threads": args.threads, "shapes": [{"shape": list(s), "gflops": rate(*s, args.threads, args.runs)} for s in SHAPES]}))


if __name__ == "__main__":
    main()
