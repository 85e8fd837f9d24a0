"""Shared helpers for the GLiNER model tooling in ``models/``.

The command-line scripts next to this package (``build_random_model.py``,
``export_onnx.py``, ``golden.py``, ``make_cases.py``) are thin argparse
wrappers; everything they have in common lives here so that the random-model
build and the real-checkpoint export write exactly the same folder layout.

Import :mod:`gliner_tools.env` and call :func:`gliner_tools.env.configure`
*before* importing any other module of this package: the Hugging Face
libraries read their offline switches at import time.
"""
