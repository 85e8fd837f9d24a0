"""From an in-memory GLiNER to a finished model folder (shared by build and export)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from gliner.model import BaseGLiNER

from . import deberta_relpos, factored_head, model_folder, onnx_export

VERIFY_TEXTS = [
    "Angela Merkel visited the Volkswagen plant in Wolfsburg on 3 March 2021.",
    "Apple shares fell.",
]
VERIFY_LABELS = ["person", "organization", "location", "date"]

ENGINE_NULL_FIELDS = ("labels_encoder", "labels_decoder", "relations_layer")


def normalize_config(model: BaseGLiNER) -> None:
    """Give uni-encoder configs explicit nulls for the fields an engine checks.

    ``UniEncoderSpanConfig`` and friends do not define ``labels_encoder``,
    ``labels_decoder`` or ``relations_layer``, so a config loaded from a legacy
    checkpoint would be saved without them; an engine then cannot tell "absent"
    from "null".  Setting them to ``None`` is what ``GLiNERConfig`` does.
    """
    for name in ENGINE_NULL_FIELDS:
        if not hasattr(model.config, name):
            setattr(model.config, name, None)


def parse_variants(text: str) -> list[str]:
    variants = [v.strip() for v in text.split(",") if v.strip()]
    unknown = [v for v in variants if v not in onnx_export.VARIANT_FILES]
    if unknown:
        raise ValueError(f"unknown variants {unknown}; choose from {sorted(onnx_export.VARIANT_FILES)}")
    if "fp32" not in variants:
        variants.insert(0, "fp32")  # every other variant is derived from the fp32 graph
    return variants


def clean_outputs(out_dir: Path) -> None:
    """Remove what a previous build wrote, so stale variants never survive a rebuild."""
    shutil.rmtree(out_dir / "onnx", ignore_errors=True)
    for name in ("gliner_config.json", "BUILD_INFO.json"):
        (out_dir / name).unlink(missing_ok=True)


def write_folder(model: BaseGLiNER, out_dir: Path, variants: list[str],
                 tokenizer_source: Path | None, tokenizer_mode: str = "copy",
                 verify: bool = True, int8_per_channel: bool = False) -> dict[str, Any]:
    """Export ``model`` to ``out_dir`` in the Hugging Face layout; returns a report.

    ``tokenizer_source`` None means: keep the tokenizer files gliner's export
    wrote with ``save_pretrained`` (the case for checkpoints that ship none).
    """
    if any(v.startswith("factored") for v in variants) and not factored_head.supports(model):
        raise ValueError(f"variants factored/factored_int8/factored_mixed need a span model with span_mode markerV0; "
                         f"this is {type(model.model).__name__} / {getattr(model.config, 'span_mode', None)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    clean_outputs(out_dir)
    normalize_config(model)
    onnx_dir = out_dir / "onnx"
    fp32_path = onnx_dir / onnx_export.VARIANT_FILES["fp32"]

    workdir = onnx_export.export_fp32(model, fp32_path)
    try:
        config = model_folder.install_config(workdir / "gliner_config.json", out_dir)
        if tokenizer_source is None:
            tokenizer_files = model_folder.install_tokenizer(out_dir, workdir, "copy")
        else:
            tokenizer_files = model_folder.install_tokenizer(out_dir, tokenizer_source, tokenizer_mode)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    report: dict[str, Any] = {"tokenizer_files": tokenizer_files, "tokenizer_mode": tokenizer_mode,
                              "int8_per_channel": int8_per_channel}
    def graph(name: str) -> Path:
        """An fp32 graph derived from the checkpoint ("opt", "factored"), made once for it and its int8."""
        path = onnx_dir / onnx_export.VARIANT_FILES[name]
        if not path.exists():
            if name == "opt":
                report["opt_fused_ops"] = onnx_export.optimize_graph(fp32_path, path, config.get("encoder_config") or {})
            else:
                # Graph rewrites that keep the logits: the span head factored, and on DeBERTa encoders
                # the relative-position indexes expanded once for all layers (deberta_relpos.py).
                with factored_head.installed(model), deberta_relpos.installed(model):
                    shutil.rmtree(onnx_export.export_fp32(model, path), ignore_errors=True)
        return path

    for variant in variants:
        target = onnx_dir / onnx_export.VARIANT_FILES[variant]
        if variant in ("int8", "uint8"):
            onnx_export.quantize_int8(fp32_path, target, signed=variant == "int8", per_channel=int8_per_channel)
        elif variant == "fp16":
            report["fp16_fp32_op_types"] = onnx_export.convert_fp16(fp32_path, target)
        elif variant != "fp32":  # opt, opt_int8, factored, factored_int8, factored_mixed
            base, _, quantised = variant.partition("_")
            path = graph(base)
            if quantised:
                onnx_export.quantize_int8(path, target, signed=True, per_channel=int8_per_channel,
                                          encoder_fp32=quantised == "mixed")
    if verify:
        report["verification"] = onnx_export.verify_variants(
            model, onnx_dir, [v for v in variants if v != "fp32"], VERIFY_TEXTS, VERIFY_LABELS)
    report["config"] = {name: config[name] for name in model_folder.REQUIRED_CONFIG_FIELDS}
    return report
