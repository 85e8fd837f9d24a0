#!/usr/bin/env python3
"""Measure this machine's float32 matrix-multiply peak through ONNX Runtime (1 MatMul node).

Why: on CPU our aim is to waste nothing around ONNX Runtime; achieved GFLOP/s of the
model only means something next to what the same library reaches on a pure GEMM with
the same thread count. Prints JSON: {"gflops": [...], "threads": N, "size": S}.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--size", type=int, default=1536)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    n = args.size
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["a", "b"], ["c"])],
        "peak",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [n, n]), helper.make_tensor_value_info("b", TensorProto.FLOAT, [n, n])],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, [n, n])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    sess.run(None, {"a": a, "b": b})
    out = []
    for _ in range(args.runs):
        t = time.perf_counter()
        sess.run(None, {"a": a, "b": b})
        out.append(2 * n**3 / (time.perf_counter() - t) / 1e9)
    print(json.dumps({"gflops": out, "threads": args.threads, "size": n}))


if __name__ == "__main__":
    main()
