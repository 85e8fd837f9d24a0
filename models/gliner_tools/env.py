"""Process environment for the reference stack (offline switches, paths, versions).

Why a module of its own: ``huggingface_hub`` and ``transformers`` read
``HF_HUB_OFFLINE`` / ``TRANSFORMERS_OFFLINE`` when they are first imported, so
the switches must be set before anything imports ``gliner``.  Every script
calls :func:`configure` first and imports the heavy modules afterwards.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import warnings
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent.parent
"""``models/`` of the repository."""

REPO_ROOT = MODELS_DIR.parent
"""Root of the repository."""

FIXTURE_TOKENIZER_DIR = REPO_ROOT / "test" / "fixtures" / "tokenizer"
"""The real DeBERTa-v3 GLiNER tokenizer (vocab 128,004) committed as a fixture."""

TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "spm.model",
)
"""Files that make up a Hugging Face tokenizer folder for DeBERTa-v3 GLiNER models."""

PINNED_PACKAGES = (
    "gliner",
    "transformers",
    "tokenizers",
    "torch",
    "onnxruntime",
    "onnx",
    "onnxconverter-common",
    "numpy",
)


def configure(offline: bool = True, quiet: bool = True) -> None:
    """Set the offline switches (unless the caller already set them) and tame log noise.

    ``offline=True`` makes any accidental hub access fail fast instead of
    hanging on a network that is not there.
    """
    if offline:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if quiet:
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        # Known, harmless export/conversion chatter (tracer and LSTM batch warnings,
        # float16 clamping notices, the quantizer's "run pre-processing" hints).
        warnings.filterwarnings("ignore", module=r"torch\.onnx.*")
        warnings.filterwarnings("ignore", module=r"gliner\.modeling.*")
        warnings.filterwarnings("ignore", module=r"onnxconverter_common.*")
        warnings.filterwarnings("ignore", message=r".*TracerWarning.*")
        logging.getLogger().setLevel(logging.ERROR)


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that determine weights and golden outputs."""
    versions: dict[str, str] = {}
    for name in PINNED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
