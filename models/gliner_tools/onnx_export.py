"""ONNX export, quantisation and fp16 conversion, the way published GLiNER exports are made.

* fp32: gliner's own ``export_to_onnx`` (TorchScript exporter, opset 19,
  ``dynamo=False``), so the graph has exactly the reference's I/O.
* int8: ``onnxruntime.quantization.quantize_dynamic`` with the settings of
  transformers.js ``scripts/quantize.py`` (the script behind the onnx-community
  exports): ``model_int8`` = QInt8 weights, ``model_uint8`` = QUInt8 weights,
  per-tensor (``per_channel=False``), ``reduce_range=False``, all op types of
  ORT's IntegerOps registry (MatMul, Gather, LSTM, ... so the embedding table
  is quantised too), ``EnableSubgraph`` and ``MatMulConstBOnly``; activations
  are quantised dynamically to uint8 at run time.  (gliner's own
  ``export_to_onnx(quantize=True)`` uses QUInt8 and writes
  ``model_quantized.onnx``; we follow the published file names instead.)
* opt / opt_int8 (BERT-family encoders only): the fp32 graph through ONNX Runtime's offline
  transformer optimiser (``onnxruntime.transformers.optimizer``, ``model_type="bert"``: fused
  EmbedLayerNormalization, Attention, BiasGelu, SkipLayerNormalization), then for ``opt_int8``
  the same dynamic int8 quantisation as ``int8``.  Measured in BENCHMARKS.md ("Offline-optimised
  graph"): same entities as fp32, no speed-up worth shipping on AVX-512, since ORT's
  ``extended`` session optimisation already applies most of these fusions at load.
* factored / factored_int8 (span models with the markerV0 head: the news models and this project's
  trained model): the same checkpoint exported with the span head factored
  (``factored_head.py``: the first layer once per word, the second folded into the labels), same
  inputs and ``logits`` as fp32 up to float summation order; ``factored_int8`` is its dynamic int8.
* fp16: ``onnxconverter_common.float16.convert_float_to_float16`` with
  ``keep_io_types=True`` so the inputs and the ``logits`` output keep the
  fp32 graph's types, then a check that ONNX Runtime can run it.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from gliner.model import BaseGLiNER

from . import model_folder

VARIANT_FILES = model_folder.VARIANT_FILES

OPSET = 19


def export_fp32(model: BaseGLiNER, onnx_path: Path) -> Path:
    """Export with gliner's ``export_to_onnx``; returns the temp folder holding its side files.

    ``export_to_onnx`` also writes ``gliner_config.json`` and the tokenizer
    (``save_pretrained``) next to the graph; the caller decides what to keep
    and must delete the returned folder.
    """
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=".gliner-export-", dir=onnx_path.parent.parent))
    if getattr(model.config, "relations_layer", None) is not None:
        from .relex_export import export_relex  # gliner's own export traces wrong graphs for these (see there)

        export_relex(model, workdir, onnx_filename="model.onnx", opset=OPSET)
    else:
        model.export_to_onnx(workdir, onnx_filename="model.onnx", quantize=False, opset=OPSET)
    shutil.move(str(workdir / "model.onnx"), onnx_path)
    return workdir


def optimize_graph(src: Path, dst: Path, encoder: dict[str, Any]) -> dict[str, int]:
    """ORT's offline transformer fusions on a BERT-family encoder; returns the fused-op counts.

    ``encoder`` is the GLiNER config's ``encoder_config`` (heads and hidden size come from it;
    0 would let the optimiser guess them from the graph).  DeBERTa's disentangled attention has
    no fusion pattern there, so other encoders are refused rather than silently left unfused.
    """
    from onnxruntime.transformers import optimizer

    model_type = encoder.get("model_type")
    if model_type not in ("bert", "roberta", "distilbert"):
        raise ValueError(f"the offline optimiser has no fusions for encoder model_type {model_type!r}; use fp32/int8")
    optimized = optimizer.optimize_model(str(src), model_type="bert", num_heads=int(encoder.get("num_attention_heads", 0)),
                                         hidden_size=int(encoder.get("hidden_size", 0)), opt_level=0, use_gpu=False)
    optimized.save_model_to_file(str(dst))
    return {k: v for k, v in optimized.get_fused_operator_statistics().items() if v}


ENCODER_LAYER_NODES = "/encoder/layer"
"""Node-name part shared by every encoder layer's nodes in gliner's export (BERT and DeBERTa alike)."""


def quantize_int8(src: Path, dst: Path, signed: bool = True, per_channel: bool = False,
                  encoder_fp32: bool = False) -> None:
    """Dynamic 8-bit weight quantisation with transformers.js' settings (see module doc).

    ``per_channel=True`` gives each output channel of a weight its own scale. Measured on the
    trained MiniLM-L6 news model (GUM Wikinews dev, 19 texts of 200 words, 3 labels, threshold
    0.5, reference ONNX path, AVX-512 VNNI CPU): entity agreement with fp32 0.873 F1 per
    channel vs 0.802 per tensor.

    ``encoder_fp32=True`` leaves the encoder layers' MatMuls in fp32 and quantises the rest (word
    embeddings, bi-LSTM, span head, prompt projection). Measured on a rerun of the trained model
    (2026-12-08; entity agreement with fp32 on GUM + UNER EWT dev documents, batch 1): 0.975,
    against 0.924 with everything quantised; the loss of full int8 is spread over all encoder
    layers (any one of them kept fp32: 0.921-0.943), so the encoder is kept whole.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    nodes = None
    if encoder_fp32:
        graph = onnx.load(str(src), load_external_data=False).graph
        nodes = [n.name for n in graph.node if ENCODER_LAYER_NODES not in n.name]
        if len(nodes) == len(graph.node):
            raise ValueError(f"{src}: no node name contains {ENCODER_LAYER_NODES!r}; cannot keep the encoder fp32")
    quantize_dynamic(
        nodes_to_quantize=nodes,
        model_input=str(src),
        model_output=str(dst),
        weight_type=QuantType.QInt8 if signed else QuantType.QUInt8,
        per_channel=per_channel,
        reduce_range=False,
        # DefaultTensorType: the fused ops of an optimised graph (com.microsoft domain) have no
        # shape inference, so their outputs' type is given (float); a no-op on plain graphs.
        extra_options={"EnableSubgraph": True, "MatMulConstBOnly": True, "DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def _toposort(graph: onnx.GraphProto) -> None:
    """Reorder nodes topologically in place (the fp16 converter appends its Cast nodes)."""
    produced_by = {out: node for node in graph.node for out in node.output if out}
    available = {i.name for i in graph.input} | {i.name for i in graph.initializer} | {""}
    ordered: list[onnx.NodeProto] = []
    done: set[int] = set()

    def visit(node: onnx.NodeProto, stack: set[int]) -> None:
        key = id(node)
        if key in done:
            return
        if key in stack:
            raise ValueError(f"cycle at node {node.name}")
        stack.add(key)
        for name in node.input:
            if name not in available and name in produced_by:
                visit(produced_by[name], stack)
        stack.discard(key)
        done.add(key)
        ordered.append(node)

    for node in list(graph.node):
        visit(node, set())
    del graph.node[:]
    graph.node.extend(ordered)


def _retarget_casts(graph: onnx.GraphProto) -> int:
    """Make ``Cast(to=float)`` nodes whose output is typed float16 cast to float16 (recursing into If/Loop bodies)."""
    fp16_values = {v.name for v in list(graph.value_info) + list(graph.output)
                   if v.type.tensor_type.elem_type == onnx.TensorProto.FLOAT16}
    changed = 0
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                changed += _retarget_casts(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                changed += sum(_retarget_casts(g) for g in attr.graphs)
        if node.op_type != "Cast" or node.output[0] not in fp16_values:
            continue
        for attr in node.attribute:
            if attr.name == "to" and attr.i == onnx.TensorProto.FLOAT:
                attr.i = onnx.TensorProto.FLOAT16
                changed += 1
    return changed


def convert_fp16(src: Path, dst: Path, op_block_list: list[str] | None = None) -> list[str]:
    """fp32 -> fp16 weights and activations, fp32 I/O kept; returns the op types left in fp32.

    ``op_block_list`` extends the converter's default block list; ``LSTM``
    always stays in fp32 (ONNX Runtime's CPU LSTM kernel is float32-only).
    onnxconverter-common 1.16 retypes the output of every ``Cast(to=float)``
    node as float16 but leaves its ``to`` attribute alone (older releases
    rewrote it), so ONNX Runtime rejects the graph; :func:`_retarget_casts`
    restores the old behaviour.  (Blocking ``Cast`` instead makes the 1.16
    converter loop forever inserting Casts in front of its own Casts.)
    """
    from onnxconverter_common import float16

    blocked = sorted(set(float16.DEFAULT_OP_BLOCK_LIST) | {"LSTM"} | set(op_block_list or ()))
    model = onnx.load(str(src))
    converted = float16.convert_float_to_float16(model, keep_io_types=True, op_block_list=blocked)
    _retarget_casts(converted.graph)
    _toposort(converted.graph)
    onnx.save(converted, str(dst))
    return blocked


def run_session(path: Path, feeds: dict[str, np.ndarray]) -> np.ndarray:
    """Run an ONNX file on CPU with gliner's session options; returns ``logits``."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # fp16 graphs log harmless "can't constant fold" warnings
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}
    return session.run(["logits"], {k: v for k, v in feeds.items() if k in names})[0]


def reference_feeds(model: BaseGLiNER, texts: list[str], labels: list[str]) -> dict[str, np.ndarray]:
    """The exact ONNX feeds the reference pipeline builds for ``texts`` in one batch."""
    prepared = model.prepare_batch(texts, labels)
    batch = model.collate_batch(prepared["input_x"], prepared["entity_types"], model.create_collator())
    names = model._get_onnx_input_spec()["input_names"]
    return {name: batch[name].cpu().numpy() for name in names}


def verify_variants(model: BaseGLiNER, onnx_dir: Path, variants: list[str],
                    texts: list[str], labels: list[str]) -> dict[str, Any]:
    """Run every variant on the same padded batch; report I/O types and max |diff| to fp32 ORT and torch."""
    import torch

    feeds = reference_feeds(model, texts, labels)
    with torch.no_grad():
        torch_logits = model.model(**{k: torch.from_numpy(v) for k, v in feeds.items()}).logits.float().numpy()
    reference = run_session(onnx_dir / VARIANT_FILES["fp32"], feeds)
    report: dict[str, Any] = {
        "texts": texts,
        "labels": labels,
        "logits_shape": list(reference.shape),
        "fp32_vs_torch_max_abs_diff": float(np.abs(reference - torch_logits).max()),
    }
    for variant in variants:
        path = onnx_dir / VARIANT_FILES[variant]
        logits = run_session(path, feeds)
        output_type = onnx.load(str(path), load_external_data=False).graph.output[0].type.tensor_type.elem_type
        report[variant] = {
            "file": f"onnx/{path.name}",
            "output_type": onnx.TensorProto.DataType.Name(output_type),
            "max_abs_diff_vs_fp32": float(np.abs(logits - reference).max()),
        }
    return report
