"""Writing a Hugging Face style GLiNER model folder and describing it.

Layout (the one of onnx-community/gliner_medium_news-v2.1)::

    gliner_config.json
    tokenizer.json  tokenizer_config.json  special_tokens_map.json  added_tokens.json  spm.model
    onnx/model.onnx  [onnx/model_int8.onnx]  [onnx/model_uint8.onnx]  [onnx/model_fp16.onnx]
    BUILD_INFO.json   (ours: how it was made, sizes, sha256)

The tokenizer files are copied verbatim from a source folder when there is
one (re-saving with ``transformers`` would rewrite ``tokenizer.json`` and drop
fields other runtimes rely on), or relative-symlinked so test fixtures do not
duplicate the 11 MB tokenizer.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .env import TOKENIZER_FILES

VARIANT_FILES: dict[str, str] = {
    "fp32": "model.onnx",
    "int8": "model_int8.onnx",
    "uint8": "model_uint8.onnx",
    "fp16": "model_fp16.onnx",
    "opt": "model_opt.onnx",
    "opt_int8": "model_opt_int8.onnx",
    "factored": "model_factored.onnx",
    "factored_int8": "model_factored_int8.onnx",
    # The factored graph with the encoder's MatMuls left fp32 and the rest dynamic int8 (head,
    # prompt projection, word embeddings): see ``onnx_export.quantize_int8``'s ``encoder_fp32``.
    "factored_mixed": "model_factored_mixed.onnx",
}
"""Variant name -> file name under ``onnx/`` (the onnx-community naming)."""

REQUIRED_CONFIG_FIELDS = (
    "span_mode", "max_width", "max_len", "ent_token", "sep_token", "class_token_index",
    "words_splitter_type", "vocab_size", "model_name", "embed_ent_token", "hidden_size",
    "num_rnn_layers", "subtoken_pooling", "labels_encoder", "labels_decoder", "relations_layer",
)
"""Fields a GLiNER engine reads (or checks) in ``gliner_config.json``."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_config(config_path: Path) -> dict[str, Any]:
    """Load ``gliner_config.json`` and fail if a field the engine needs is missing."""
    config = json.loads(config_path.read_text(encoding="utf-8"))
    missing = [name for name in REQUIRED_CONFIG_FIELDS if name not in config]
    if missing:
        raise ValueError(f"{config_path} lacks {missing}")
    return config


def install_config(written_by_gliner: Path, out_dir: Path) -> dict[str, Any]:
    """Move the config gliner wrote (``config.to_json_file``) into place, checked."""
    target = out_dir / "gliner_config.json"
    shutil.move(str(written_by_gliner), target)
    return check_config(target)


def install_tokenizer(out_dir: Path, source_dir: Path, mode: str = "copy",
                      files: Iterable[str] = TOKENIZER_FILES) -> list[str]:
    """Copy or relative-symlink the tokenizer files of ``source_dir`` into ``out_dir``."""
    installed = []
    for name in files:
        source = source_dir / name
        if not source.is_file():
            continue
        target = out_dir / name
        if target.is_symlink() or target.exists():
            target.unlink()
        if mode == "symlink":
            target.symlink_to(os.path.relpath(source.resolve(), out_dir.resolve()))
        elif mode == "copy":
            shutil.copyfile(source, target)
        else:
            raise ValueError(f"unknown tokenizer mode {mode!r}")
        installed.append(name)
    return installed


def describe_files(out_dir: Path) -> dict[str, dict[str, Any]]:
    """Size and sha256 of every regular file (symlinks recorded with their target)."""
    files: dict[str, dict[str, Any]] = {}
    for path in sorted(p for p in out_dir.rglob("*") if p.name != "BUILD_INFO.json"):
        rel = path.relative_to(out_dir).as_posix()
        if path.is_symlink():
            files[rel] = {"symlink": os.readlink(path), "sha256": sha256_file(path)}
        elif path.is_file():
            files[rel] = {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
    return files


def write_build_info(out_dir: Path, info: dict[str, Any], skip: Iterable[str] = ()) -> Path:
    """Write ``BUILD_INFO.json`` (deterministic: no timestamps or host names); ``skip``: files not listed."""
    info = dict(info)
    files = describe_files(out_dir)
    for name in skip:
        files.pop(name, None)
    info["files"] = files
    path = out_dir / "BUILD_INFO.json"
    path.write_text(json.dumps(info, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")
    return path
